"""`redbench list networks` (the model zoo) and `redbench verify` (issue 23)."""
import csv
import io
import json

import pandas as pd
import pytest
from PIL import Image

from redbench.cli import main
from tests.conftest import ROOT

WEIGHTS = ROOT / "methods" / "weights"


def _listed(fmt, capsys, *extra):
    assert main(["list", "networks", "--format", fmt, "--results", str(ROOT / "results"), *extra]) == 0
    return capsys.readouterr().out


def test_list_networks_shows_every_installed_network_in_three_formats(capsys):
    cards = sorted(p.stem for p in WEIGHTS.glob("*.json"))
    rows = json.loads(_listed("json", capsys))
    assert [r["name"] for r in rows] == cards
    red30 = next(r for r in rows if r["name"] == "red30-denoise-s50")
    card = json.loads((WEIGHTS / "red30-denoise-s50.json").read_text())
    assert red30["parameters"] == 1_035_201 and red30["architecture"] == "red30" and red30["feature_maps"] == "64"
    assert red30["levels"] == "50" and red30["val_psnr"] == card["val_psnr"] and red30["device"] == card["device"]
    assert red30["patches"] == card["patches_seen"] + card.get("earlier_patches", 0)
    assert red30["updates"] == card["iterations"] + card.get("earlier_iterations", 0)
    # the test PSNR: the mean of the committed set12 rows of red30 at sigma 50 made by exactly these weights
    committed = pd.read_csv(ROOT / "results" / "reproduce" / "denoise" / "rows.csv", dtype={"image": str})
    mine = committed[(committed.dataset == "set12") & (committed.method == "red30") & (committed.level == 50)
                     & (committed.weights == f"red30-denoise-s50@{card['sha256']}")].drop_duplicates("image")
    assert len(mine) == 12 and red30["test_psnr"] == round(mine.psnr.mean(), 2)
    assert red30["test_cell"] == "set12 red30 sigma 50 (12 images)"
    table = _listed("md", capsys).splitlines()
    assert table[0].startswith("| network | architecture | feature maps | parameters") and len(table) == 2 + len(cards)
    assert any(line.startswith("| red30-denoise-s50 | red30 | 64 | 1,035,201 |") for line in table)
    parsed = list(csv.reader(io.StringIO(_listed("csv", capsys))))
    assert len(parsed) == 1 + len(cards) and parsed[0][0] == "network"


def test_zoo_csv_is_spreadsheet_safe(tmp_path):
    from redbench.evaluation.zoo import networks, render
    card = json.loads((WEIGHTS / "red10-denoise-s30.json").read_text())
    card["device"] = "=HYPERLINK(\"http://x\")"
    (tmp_path / "red10-denoise-s30.json").write_text(json.dumps(card))
    rows = networks(tmp_path / "no-results", weights_dir=tmp_path)
    assert rows[0]["test_psnr"] is None
    parsed = list(csv.reader(io.StringIO(render(rows, "csv"))))
    assert parsed[1][8] == "'=HYPERLINK(\"http://x\")" and parsed[1][10] == ""   # text, and an empty cell


def test_list_flags_of_networks_only(capsys):
    assert main(["list", "methods", "--format", "csv"]) == 2
    assert capsys.readouterr().err.startswith("error: --format and --results apply to `list networks`")


@pytest.fixture
def results(mirror, tmp_path):
    """A small results folder made by eval: red10 and noisy on two images of one's own, at sigma 30."""
    folder = tmp_path / "images"
    folder.mkdir()
    for name, box in (("a", (0, 0, 40, 36)), ("b", (50, 60, 90, 100))):
        Image.open(mirror / "set12" / "02.png").crop(box).save(folder / f"{name}.png")
    out = tmp_path / "results"
    assert main(["eval", "--task", "denoise", "--sigma", "30", "--datasets", f"dir:{folder}", "--methods",
                 "red10,noisy", "--out", str(out), "--jobs", "1", "--quiet"]) == 0
    (out / "rows.sqlite").unlink()      # verify reads the committed form, rows.csv
    return out


def test_verify_passes_on_honest_rows_and_fails_on_changed_ones(results, capsys):
    capsys.readouterr()
    assert main(["verify", str(results), "--sample", "3", "--seed", "1", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "recomputed 3 rows" in out and "largest PSNR difference 0.0000 dB" in out and "verify: PASS" in out
    rows = pd.read_csv(results / "rows.csv", dtype={"image": str})
    rows.loc[rows.method == "red10", "psnr"] += 0.01          # above the 0.005 dB tolerance
    rows.to_csv(results / "rows.csv", index=False)
    assert main(["verify", str(results), "--sample", "4", "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "largest PSNR difference 0.0100 dB" in out and "verify: FAIL" in out


def test_verify_refuses_rows_of_weights_not_installed(results, capsys):
    rows = pd.read_csv(results / "rows.csv", dtype={"image": str})
    rows.loc[rows.method == "red10", "weights"] = "red10-denoise-s30@" + "0" * 64
    rows[rows.method == "red10"].to_csv(results / "rows.csv", index=False)
    capsys.readouterr()
    assert main(["verify", str(results), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "made by weights that are not installed here" in err[0] and "red10-denoise-s30@000" in err[0]


@pytest.mark.parametrize("args, message", [
    (["verify", "no/such/folder"], "no folder no/such/folder"),
    (["verify", "--sample", "0"], "--sample must be an integer >= 1"),
    (["verify", str(ROOT / "docs")], "no rows with recorded weights"),
])
def test_bad_verify_input_is_one_line(args, message, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0], err


def test_verify_samples_the_committed_rows_of_the_installed_weights(mirror):
    """The committed results have rows of the installed weights to recompute (the measured run: README)."""
    from redbench.evaluation.verify import candidates
    current, left_out = candidates(ROOT / "results" / "reproduce")
    assert len(current) > 100 and left_out > 0
    assert not current.weights.astype(str).eq("unrecorded").any()
