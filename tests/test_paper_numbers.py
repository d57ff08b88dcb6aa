"""methods/paper_numbers.py against the paper's text: every cell, parsed from the file when present.

The parser reads the tab-separated tables of ../shared/paper/mao2016-red-net.md. The
pinned cells below run without the file too, so a slip is caught either way.
"""
import os
import re
from pathlib import Path

import pytest

from redbench.methods.paper_numbers import (
    FIGURE_3C,
    PUBLISHED,
    SECTION_2_2,
    TABLE_TITLES,
    lookup,
    method_key,
    table_levels,
)

ROOT = Path(__file__).resolve().parent.parent
PAPER = Path(os.environ.get("REDBENCH_PAPER", ROOT.parent / "shared" / "paper" / "mao2016-red-net.md"))
# Table 1-5 dataset, and the dataset of each column group of Tables 6/7, as the paper names them.
_DATASET = {1: "fourteen", 2: "bsd200", 3: "set5", 4: "set14", 5: "bsd100"}
_GROUP = {"14 images": "fourteen", "BSD200": "bsd200", "Set5": "set5", "Set14": "set14", "BSD100": "bsd100"}

# At least two cells of every table, PSNR and SSIM, typed in from the paper by hand.
PINNED = [
    (1, "fourteen", "wnnm", 30, 28.74, 0.8273), (1, "fourteen", "red30", 10, 34.81, 0.9402),
    (2, "bsd200", "epll", 50, 25.17, 0.6870), (2, "bsd200", "red30", 70, 24.37, 0.6551),
    (3, "set5", "cscn", 3, 33.26, 0.9167), (3, "set5", "arflplus", 4, 30.35, 0.8583),
    (4, "set14", "nbsrf", 2, 32.45, 0.9071), (4, "set14", "red30", 3, 29.61, 0.8341),
    (5, "bsd100", "srcnn", 2, 31.36, 0.8879), (5, "bsd100", "tse", 4, 26.85, 0.7108),
    (6, "fourteen", "red30-single", 10, 34.49, 0.9368), (6, "bsd200", "red30-single", 70, 24.36, 0.6544),
    (7, "set5", "red30-single", 2, 37.56, 0.9595), (7, "bsd100", "red30-single", 4, 27.35, 0.7276),
]


def _paper_text() -> str:
    if not PAPER.is_file():
        pytest.skip(f"paper text not found at {PAPER}; set REDBENCH_PAPER")
    return PAPER.read_text(encoding="utf-8")


def _tables(text: str) -> dict[int, tuple[str, list[list[str]]]]:
    """{table number: (caption, tab-split lines of its body)}; the body is the tab lines after the caption."""
    out, lines = {}, text.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"\*\*Table (\d):\*\*\s*(.*)$", line)
        if not m:
            continue
        body, j = [], i + 1
        while j < len(lines) and (not lines[j].strip() or "\t" in lines[j]):
            if "\t" in lines[j]:
                body.append([c.strip() for c in lines[j].split("\t")])
            elif body:
                break
            j += 1
        out[int(m.group(1))] = (m.group(2), body)
    return out


def _level(label: str):
    m = re.fullmatch(r"\$(?:\\sigma|s) = (\d+)\$", label)
    return int(m.group(1)) if m else None


def _number(cell: str) -> float:
    return float(re.sub(r"</?b>", "", cell))   # bold is the paper's highlight, not data


def _method_table(body):
    """Tables 1-5: a 'PSNR' line, the header, level rows, an 'SSIM' line, level rows."""
    assert body[0][1] == "PSNR" and body[1][0] == ""
    headers = body[1][1:]
    cells, metric, labels = {}, "PSNR", {}
    for row in body[2:]:
        if row[1] in ("PSNR", "SSIM") and not any(row[2:]):
            metric = row[1]
            continue
        level = _level(row[0])      # None: the text lost this row's label; resolved below
        assert level is not None or row[0] == "", f"unreadable row label {row[0]!r}"
        labels.setdefault(metric, []).append(level)
        for header, value in zip(headers, row[1:]):
            cells[(metric, len(labels[metric]) - 1, header)] = _number(value)
    psnr_levels = labels["PSNR"]
    assert None not in psnr_levels and psnr_levels == sorted(psnr_levels)
    resolved = {}
    for metric, found in labels.items():
        missing = [lvl for lvl in psnr_levels if lvl not in found]
        # at most one label lost, and the labelled rows keep the PSNR order around the gap
        assert found.count(None) == len(missing) <= 1
        resolved[metric] = [lvl if lvl is not None else missing[0] for lvl in found]
        assert resolved[metric] == psnr_levels
    return headers, {(m, resolved[m][i], h): v for (m, i, h), v in cells.items()}


def _group_table(body):
    """Tables 6/7: group line, level line, then one PSNR and one SSIM row."""
    groups, current = [], None
    for cell in body[0][1:]:
        current = cell or current
        groups.append(current)
    levels = [_level(c) for c in body[1][1:]]
    rows = {row[0]: [_number(c) for c in row[1:]] for row in body[2:]}
    assert set(rows) == {"PSNR", "SSIM"} and None not in levels
    return [(g, lvl, rows["PSNR"][i], rows["SSIM"][i]) for i, (g, lvl) in enumerate(zip(groups, levels))]


def _parsed() -> dict[tuple, tuple[float, float, str]]:
    """{(table, dataset, method, level): (psnr, ssim, column header)} for every cell in the text."""
    tables, out = _tables(_paper_text()), {}
    assert sorted(tables) == list(range(1, 8))
    for number in range(1, 6):
        headers, cells = _method_table(tables[number][1])
        for (metric, level, header), value in cells.items():
            if metric == "PSNR":
                out[(number, _DATASET[number], method_key(header), level)] = (
                    value, cells[("SSIM", level, header)], header)
    for number in (6, 7):
        for group, level, psnr, ssim in _group_table(tables[number][1]):
            out[(number, _GROUP[group], "red30-single", level)] = (psnr, ssim, group)
    return out


def test_every_cell_matches_the_text():
    parsed = _parsed()
    ours = {(p.table, p.dataset, p.method, p.level): (p.psnr, p.ssim, p.column) for p in PUBLISHED}
    assert set(ours) == set(parsed), f"missing {set(parsed) - set(ours)}, extra {set(ours) - set(parsed)}"
    wrong = {k: (ours[k], parsed[k]) for k in parsed if ours[k] != parsed[k]}
    assert not wrong
    assert len(parsed) == 2 * 4 * 9 + 3 * 3 * 9 + 8 + 9     # 72 + 81 + 17 cells, each with PSNR and SSIM


def test_unlabelled_ssim_rows_are_the_first_level():
    # Tables 1 and 5 lose the label of their first SSIM row in the text; the parser resolves it by elimination.
    tables = _tables(_paper_text())
    for number, first in ((1, ("0.9339", 10)), (5, ("0.8879", 2))):
        body = tables[number][1]
        ssim_at = next(i for i, row in enumerate(body) if row[1] == "SSIM")
        assert body[ssim_at + 1][0] == "" and body[ssim_at + 1][1] == first[0]
        assert lookup(number, _DATASET[number], method_key(body[1][1]), first[1]).ssim == float(first[0])


def test_titles_are_the_paper_captions():
    tables = _tables(_paper_text())
    for number, (caption, _) in tables.items():
        text = re.sub(r"\s+", " ", caption.replace(r"$\sigma$", "σ").replace(r"$\sigma ", "σ ").replace("$", ""))
        assert TABLE_TITLES[number] == text.strip()


def test_figure_3c_and_section_2_2_numbers_are_in_the_text():
    text = re.sub(r"\s+", " ", _paper_text())
    values = ", ".join(f"{v:.2f}" for _, v in FIGURE_3C[:-1]) + f" and {FIGURE_3C[-1][1]:.2f}"
    assert f"PSNR values at the last iteration for the curves are: {values}." in text
    quoted = ", ".join(f"{SECTION_2_2[s]:.2f}dB" for s in (10, 30, 50)) + f" and {SECTION_2_2[70]:.2f}dB"
    assert f"average PSNR on the 14 images are {quoted}" in text


@pytest.mark.parametrize("table,dataset,method,level,psnr,ssim", PINNED)
def test_pinned_cells(table, dataset, method, level, psnr, ssim):
    entry = lookup(table, dataset, method, level)
    assert (entry.psnr, entry.ssim) == (psnr, ssim)


def test_every_table_is_complete():
    for table in range(1, 8):
        cells = [p for p in PUBLISHED if p.table == table]
        assert all(p.psnr is not None and p.ssim is not None for p in cells)
        assert sum(pin[0] == table for pin in PINNED) >= 2
    assert table_levels(2, "bsd200") == [10, 30, 50, 70] and table_levels(7, "set14") == [2, 3, 4]
    assert not [p for p in PUBLISHED if p.method == "bicubic"]   # the paper's SR tables have no bicubic column


def test_text_claims_agree_with_the_transcription():
    """Differences the paper states in its prose, recomputed from the transcribed tables."""
    def gap(table, dataset, a, b, levels):
        return [round(lookup(table, dataset, a, lvl).psnr - lookup(table, dataset, b, lvl).psnr, 2) for lvl in levels]
    sigmas, scales = (10, 30, 50, 70), (2, 3, 4)
    assert gap(1, "fourteen", "red30", "wnnm", sigmas) == [0.32, 0.43, 0.49, 0.51]
    assert gap(1, "fourteen", "wnnm", "pclr", sigmas) == [0.01, 0.06, 0.03, 0.01]
    assert gap(2, "bsd200", "red30", "wnnm", sigmas) == [0.38, 0.47, 0.49, 0.42]
    assert gap(3, "set5", "red30", "cscn", scales) == [0.52, 0.56, 0.47]
    assert gap(4, "set14", "red30", "cscn", scales) == [0.23, 0.06, 0.10]
