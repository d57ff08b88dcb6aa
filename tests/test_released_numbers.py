"""The second yardstick: the authors' released RED30 as later papers measured it, kept apart from the paper's
own numbers, and the report section that holds our networks to it."""
import pandas as pd
import pytest

from redbench.methods import paper_numbers
from redbench.methods import released_numbers as rel
from redbench.evaluation.tables import covered_summary
from redbench.reporting.released import expected_images, released_cells, section, standing

# Typed in by hand from the sources named (issue 16 of this project quotes them):
# MWCNN (Liu et al., CVPRW 2018) Table 1, Set12 sigma 50: RED30 27.34 / 0.7897, BM3D 26.72;
# RNAN (Zhang et al., ICLR 2019) Table 3, BSD68 sigma 10/30/50/70: RED 33.99/28.50/26.37/25.10,
# BM3D 33.31/27.76/25.62/24.44.
PINNED = [("set12", "red30", 50, 27.34, 0.7897, "MWCNN"), ("set12", "bm3d", 50, 26.72, None, "MWCNN"),
          ("bsd68", "red30", 10, 33.99, None, "RNAN"), ("bsd68", "red30", 30, 28.50, None, "RNAN"),
          ("bsd68", "red30", 50, 26.37, None, "RNAN"), ("bsd68", "red30", 70, 25.10, None, "RNAN"),
          ("bsd68", "bm3d", 10, 33.31, None, "RNAN"), ("bsd68", "bm3d", 30, 27.76, None, "RNAN"),
          ("bsd68", "bm3d", 50, 25.62, None, "RNAN"), ("bsd68", "bm3d", 70, 24.44, None, "RNAN")]


@pytest.mark.parametrize("dataset, method, level, psnr, ssim, paper", PINNED)
def test_every_released_value_is_pinned_with_its_source(dataset, method, level, psnr, ssim, paper):
    found = rel.released(dataset, method, level)
    assert found is not None and found.psnr == psnr and found.ssim == ssim
    assert paper in found.source.paper and found.source.table.startswith("Table")


def test_the_yardstick_holds_nothing_else_and_stays_apart_from_the_papers_numbers():
    assert len(rel.RELEASED) == len(PINNED)
    # no released value is filed under a dataset of the paper's tables, and no paper value under BSD68
    assert not {r.dataset for r in rel.RELEASED} & {p.dataset for p in paper_numbers.PUBLISHED}
    assert rel.released("bsd68", "red30+", 50) == rel.released("bsd68", "red30", 50)     # x8 against the release
    assert rel.released("bsd68", "red30-c128+", 10).psnr == 33.99
    assert rel.released("bsd68", "tv", 10) is None and rel.released("set12", "red30", 30) is None
    assert rel.RELEASED_NETWORK["feature maps"] == 128 and rel.RELEASED_NETWORK["ensemble"] == 8


def _rows(method, dataset, level, values, images=None):
    images = images or [f"{i:02d}" for i in range(len(values))]
    return pd.DataFrame({"task": "denoise", "dataset": dataset, "image": images, "method": method, "level": level,
                         "psnr": values, "ssim": 0.8, "seconds": 1.0, "weights": "w"})


def test_section_compares_complete_cells_and_marks_partial_ones(mirror):
    assert expected_images("set12") == 12 and expected_images("bsd68") == 68
    rows = pd.concat([_rows("red30", "set12", 50, [27.0] * 12), _rows("red30+", "set12", 50, [27.5] * 6),
                      _rows("bm3d", "set12", 50, [26.70] * 12)])
    cells = {(c.dataset, c.level, c.method): c for c in released_cells(covered_summary(rows))}
    assert cells[("set12", 50, "red30")].gap() == pytest.approx(27.0 - 27.34)
    assert not cells[("set12", 50, "red30+")].complete and cells[("set12", 50, "red30+")].gap() is None
    assert cells[("bsd68", 10, "red30")].psnr is None                   # not run: shown, never compared
    assert ("set12", 50, "red30-c128") not in cells                     # no rows, no column
    text = section(covered_summary(rows), [])
    assert "| set12 | 50 | red30 | 27.00 | 27.34 | -0.34 |" in text
    assert "| set12 | 50 | red30+ | 27.50 (partial, 6/12) | 27.34 | – |" in text
    assert "| set12 | 50 | bm3d | 26.70 | 26.72 | -0.02 |" in text
    assert "Liu et al., MWCNN, CVPRW 2018, Table 1" in text and "Zhang et al., RNAN, ICLR 2019, Table 3" in text
    assert "--datasets bsd68 --methods red30+ --out results/reproduce/released" in text
    assert standing(list(cells.values())) == (
        "Against the authors' released RED30 networks, as later papers measured them on BSD68 and Set12: red30 "
        "(single pass) is 0.34 dB below them in 1 of 5 cells; red30+ (x8 ensemble): not measured yet.")


def test_readme_states_where_the_shipped_networks_stand_as_the_rows_say(mirror):
    """README's sentence on the released networks is the one the report computes from the committed rows."""
    from pathlib import Path

    from redbench.reporting.report_data import load_rows
    root = Path(__file__).resolve().parent.parent
    rows, _ = load_rows(root / "results" / "reproduce")
    assert standing(released_cells(covered_summary(rows))) in (root / "README.md").read_text()
    from redbench.methods.weights import read_card
    widths = {read_card(f"red30-denoise-s{sigma}").config["width"] for sigma in (10, 30, 50, 70)}
    stated = (f"{rel.RELEASED_NETWORK['feature maps']} feature maps on every hidden layer where ours have "
              f"{'/'.join(map(str, sorted(widths)))}")
    assert stated in " ".join((root / "README.md").read_text().split())
