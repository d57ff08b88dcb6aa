"""Figure 3's verdicts from stored runs, and the archive that brings the 20,000-update runs back from a GPU call."""
import io
import json
import subprocess
import sys
import tarfile

import pytest

from redbench.reporting.experiments import figure3
from redbench.reporting.figure3 import panel_runs, panel_verdict, standing, verdict_lines
from tests.conftest import ROOT


def _run(folder, name, final, column="val_psnr", iters=20000, device="NVIDIA H200"):
    """A tiny stored run: 20 log rows ending at `final`, and a card with the fields the report reads."""
    (folder / name).mkdir(parents=True, exist_ok=True)
    rows = ["step,patches,seconds,lr,loss,val_psnr"]
    for step in range(1, 21):   # the verdict averages the last 10% of rows: make them all `final`
        value = final if step > 10 else final / 2
        rows.append(f"{step},{step * 16},{step},0.0001,{value if column == 'loss' else 0.01},"
                    f"{value if column == 'val_psnr' else ''}")
    (folder / name / "log.csv").write_text("\n".join(rows) + "\n")
    (folder / name / f"{name}.json").write_text(json.dumps({
        "iterations": iters, "batch_size": 16, "patch_size": 40, "recipe": "paper", "device": device,
        "budget": f"{iters} iterations on {device}", "val_protocol": "4 crops",
        "extra": {"train_config": {"lr": 1e-4, "levels": "30"}}}))


def test_each_panel_is_judged_on_its_runs_and_names_the_budget(tmp_path):
    decisive, short = tmp_path / "20k", tmp_path / "short"
    _run(decisive, "fig3a-skip", 24.0)
    _run(decisive, "fig3a-noskip", 20.0)
    for depth, loss in ((10, 0.004), (20, 0.010), (30, 0.0100005)):   # 20 and 30 both stuck: equal within 1%
        _run(decisive, f"fig3b-red{depth}-noskip", loss, column="loss")
    _run(decisive, "fig3b-red20-skip", 0.0030, column="loss")
    _run(decisive, "fig3b-red30-skip", 0.0028, column="loss")
    a, b = panel_verdict("3a", decisive, short), panel_verdict("3b", decisive, short)
    assert a.supports and a.decisive and "with skips 24.00 dB, without 20.00 dB" in a.measured
    assert a.budget == "20,000 updates of batch 16, Adam lr 0.0001, NVIDIA H200"
    assert b.supports and "no skips 10/20/30 layers 0.00400 / 0.01000 / 0.01000" in b.measured
    # 3(c) has no 20,000-update runs (its block-2 RED net is 3(b)'s, the others are missing): the short runs decide
    for name, psnr in (("fig3b-red20-skip", 27.0), ("fig3c-he-span2", 27.2), ("fig3c-red-span4", 27.1),
                       ("fig3c-he-span4", 26.9)):
        _run(short, name, psnr, iters=120, device="CPU, 2 threads")
    c = panel_verdict("3c", decisive, short)
    assert not c.supports and not c.decisive and "block 2 -0.20 dB; block 4 +0.20 dB" in c.measured
    lines = verdict_lines(decisive, short)
    assert lines[0].startswith("- Figure 3(a), the claim that") and ": our runs support it (" in lines[0]
    assert "our runs do not support it" in lines[2] and "Provisional" in lines[2] and "Provisional" not in lines[0]
    assert panel_verdict("3a", tmp_path / "none", tmp_path / "none") is None
    assert verdict_lines(tmp_path / "none", tmp_path / "none")[1] == "- Figure 3(b): no complete runs yet."



def test_figure3c_judges_each_block_size_on_its_longest_complete_pair(tmp_path):
    """Block 2's pair at 20,000 updates decides block 2 while block 4 still rests on the short runs."""
    decisive, short = tmp_path / "20k", tmp_path / "short"
    for name, psnr in (("fig3b-red20-skip", 27.0), ("fig3c-he-span2", 27.2), ("fig3c-red-span4", 27.1),
                       ("fig3c-he-span4", 26.9)):
        _run(short, name, psnr, iters=120, device="CPU, 2 threads")
    _run(decisive, "fig3b-red20-skip", 28.3, device="CPU, 2 threads")
    _run(decisive, "fig3c-he-span2", 28.1, device="CPU, 2 threads")
    c = panel_verdict("3c", decisive, short)
    assert c.supports and not c.decisive and "block 2 +0.20 dB; block 4 +0.20 dB" in c.measured
    assert c.budget == ("block 2: 20,000 updates of batch 16, Adam lr 0.0001, CPU, 2 threads; "
                        "block 4: 120 updates of batch 16, Adam lr 0.0001, CPU, 2 threads")
    # one of block 4's pair at 20,000 updates: block 4 still rests on the short pair, and says who is missing
    _run(decisive, "fig3c-red-span4", 28.0)
    c = panel_verdict("3c", decisive, short)
    assert [g.runs["fig3c-red-span4" if g.label == "block 4" else "fig3b-red20-skip"].folder.parent
            for g in c.groups] == [decisive, short]
    assert standing(c).endswith("Block 2 is decided at 20,000 updates. Block 4 rests on the 120-update runs "
                                "(20,000-update runs so far: fig3c-red-span4; still to train: fig3c-he-span4).")
    _run(decisive, "fig3c-he-span4", 28.2)
    c = panel_verdict("3c", decisive, short)
    assert not c.supports and c.decisive and "block 4 -0.20 dB" in c.measured and standing(c) == ""
    assert "Provisional" not in verdict_lines(decisive, short)[2]
    _run(decisive, "fig3c-red-span4", 28.202)   # +0.002 dB prints as +0.00: a tie does not support "beats"
    c = panel_verdict("3c", decisive, short)
    assert not c.supports and "block 4 +0.00 dB" in c.measured


def test_a_panel_is_provisional_until_every_run_is_at_the_deciding_budget(tmp_path):
    """3(b) compares all five networks, so it rests on one budget: the short runs until the last of the five
    has its 20,000-update run; a run in the 20,000-update folder that trained for fewer updates does not count."""
    decisive, short = tmp_path / "20k", tmp_path / "short"
    names = [exp.name for exp in figure3("3b")]
    for i, name in enumerate(names):
        _run(short, name, 0.01 - i / 1000, column="loss", iters=120, device="CPU, 1 threads")
    _run(decisive, "fig3b-red20-skip", 0.002, column="loss")
    b = panel_verdict("3b", decisive, short)
    assert not b.decisive and {run.folder.parent for run in b.groups[0].runs.values()} == {short}
    assert b.budget.startswith("120 updates") and standing(b).endswith(
        "It rests on the 120-update runs (20,000-update runs so far: fig3b-red20-skip; still to train: "
        "fig3b-red10-noskip, fig3b-red20-noskip, fig3b-red30-noskip, fig3b-red30-skip).")
    for name in names:
        _run(decisive, name, 0.003, column="loss", iters=50 if name == "fig3b-red30-skip" else 20000)
    b = panel_verdict("3b", decisive, short)
    assert not b.decisive and b.budget.startswith("50/20,000 updates") and "still to train: fig3b-red30-skip)" in \
        standing(b)
    _run(decisive, "fig3b-red30-skip", 0.003, column="loss")
    b = panel_verdict("3b", decisive, short)
    assert b.decisive and standing(b) == "" and "Provisional" not in verdict_lines(decisive, short)[1]
    assert panel_runs("3b", decisive, short)[0].runs.keys() == b.groups[0].runs.keys()


def test_figure3_archive_round_trip_and_an_unexpected_member_refuses_it_whole(tmp_path):
    runs = tmp_path / "device"
    for exp in figure3("3c"):
        _run(runs, exp.name, 27.0)
    script = [sys.executable, str(ROOT / "scripts" / "figure3.py")]
    sys.path.insert(0, str(ROOT / "scripts"))
    from figure3 import pack
    archive = pack(runs, tmp_path / "out")
    here = tmp_path / "here"
    done = subprocess.run(script + ["--unpack", str(archive), "--results", str(here)], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == (
        "unpacked: fig3b-red20-skip, fig3c-he-span2, fig3c-he-span4, fig3c-red-span4")
    assert (here / "fig3c-he-span2" / "log.csv").read_text() == (runs / "fig3c-he-span2" / "log.csv").read_text()
    bad = tmp_path / "bad.tar.gz"
    with tarfile.open(bad, "w:gz") as tar:
        for name, data in (("fig3c-he-span2/log.csv", b"x"), ("fig3c-he-span2/../../evil", b"x")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    refused = subprocess.run(script + ["--unpack", str(bad), "--results", str(tmp_path / "clean")],
                             capture_output=True, text=True)
    assert refused.returncode == 2 and "unexpected member 'fig3c-he-span2/../../evil'" in refused.stderr
    assert not (tmp_path / "clean").exists()


@pytest.mark.parametrize("args, message", [
    (["--iters", "0"], "--iters must be at least 1"),
    (["--panel", "3c", "--only", "fig3a-skip"], "fig3a-skip is not an experiment of panel 3c; choose from"),
    (["--only", ","], "--only: names no experiment of Figure 3; choose from"),
])
def test_bad_budget_is_one_line(args, message):
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "figure3.py"), *args], capture_output=True,
                            text=True)
    assert result.returncode == 2 and message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_only_runs_the_named_experiments_in_the_order_given():
    """3(c)'s block-2 pair first, so a CPU run that is cut off has decided one block size rather than none."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from figure3 import chosen
    assert [e.name for e in chosen("3c", "fig3c-he-span2, fig3b-red20-skip,fig3c-he-span2")] == \
        ["fig3c-he-span2", "fig3b-red20-skip"]
    assert [e.name for e in chosen("3c", None)] == [e.name for e in figure3("3c")]
