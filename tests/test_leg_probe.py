"""scripts/leg_probe.py: continuations of the installed network at equal patches, one per BATCH:LR of the grid, each
trained once and scored once against the installed network, resumable, with a verdict (tiny networks and budgets;
the training itself: test_training.py, the paired validation: test_paired_validation.py)."""
import csv
from dataclasses import replace

import pytest

from redbench.evaluation import runner
from redbench.methods.weights import read_card
from redbench.training.train import TrainConfig, train
from tests.conftest import load_script


@pytest.fixture
def script():
    return load_script("leg_probe")


@pytest.fixture
def installed(mirror, tmp_path):
    """A tiny trained network with its card's training config (what a continuation keeps), 2 images held out."""
    train(TrainConfig(model="red10", width=4, task="denoise", levels="30", iters=2, batch_size=4, patch=24,
                      train_set="set12", holdout=2, out=str(tmp_path / "installed"), name="tiny", log_every=1))
    return str(tmp_path / "installed" / "tiny")


@pytest.fixture
def counted(script, monkeypatch):
    """The trainings the probe started (its configs) and the images the networks restored."""
    calls = {"train": [], "restore": []}
    real_train, real_restore = script.train, runner.restore_and_score

    def training(config):
        calls["train"].append(config)
        return real_train(config)

    def restoring(method, item):
        calls["restore"].append(item.image)
        return real_restore(method, item)
    monkeypatch.setattr(script, "train", training)
    monkeypatch.setattr(runner, "restore_and_score", restoring)
    return calls


def rows_of(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_each_candidate_is_trained_and_scored_once_and_a_rerun_does_nothing(installed, tmp_path, script, counted,
                                                                            capsys):
    work = tmp_path / "probe"
    # 2.0000004e-3 has more digits than the lr cell keeps (0.002): its row must still be found as its own
    args = ["--installed", installed, "--patches", "16", "--grid", "4:1e-3,8:2.0000004e-3", "--work", str(work),
            "--device", "cpu"]
    # a candidate stopped half-way (as by SIGTERM) before the probe starts: the probe resumes it
    first = script.candidate_config(read_card("tiny", tmp_path / "installed"), installed, 4, 1e-3,
                                    work / "b4-lr0.001", script.parse_args(args))
    train(replace(first, stop_after=2))
    capsys.readouterr()
    assert script.main(args) == 0
    out = capsys.readouterr().out
    assert "resuming tiny from step 2" in out
    assert [(c.batch_size, c.lr, c.patches, c.init, c.name, c.model, c.width, c.holdout, c.train_set)
            for c in counted["train"]] == [(4, 1e-3, 16, installed, "tiny", "red10", 4, 2, "set12"),
                                           (8, 2.0000004e-3, 16, installed, "tiny", "red10", 4, 2, "set12")]
    # 2 candidates x 2 held-out images, the installed network's 2 once; the best against the runner-up: cached
    assert len(counted["restore"]) == 2 * 2 + 2
    rows = rows_of(work / "probe.csv")
    assert [(r["batch"], r["lr"], r["patches"], r["updates"]) for r in rows] == [("4", "0.001", "16", "4"),
                                                                                ("8", "0.002", "16", "2")]
    assert all(r["images"] == "2" and r["levels"] == "30" and r["resolved"] in ("yes", "no") for r in rows)
    best = max(rows, key=lambda r: float(r["mean_gain_db"]))
    runner_up = min(rows, key=lambda r: float(r["mean_gain_db"]))
    verdict = [line for line in out.splitlines() if line.startswith("best: ")]
    assert len(verdict) == 1 and verdict[0].startswith(f"best: batch {best['batch']}, lr {best['lr']} ")
    assert f"its lead over batch {runner_up['batch']}, lr {runner_up['lr']} is " in verdict[0]
    # 2 held-out images at one level are 2 pairs: the 95% half-width is 12.7 standard errors (t, 1 degree of
    # freedom), so neither a gain nor a lead of these tiny networks over 4 updates is resolved
    assert f"over the installed network, {'resolved' if best['resolved'] == 'yes' else 'not resolved'})" in verdict[0]
    assert best["resolved"] == "no" and verdict[0].endswith("not resolved: this probe cannot tell the two apart.")
    table = (work / "probe.md").read_text()
    assert verdict[0] in table and "| paired gain (dB) |" in table and f"| {best['batch']} | {best['lr']} |" in table
    for folder in ("b4-lr0.001", "b8-lr0.002"):    # each a continuation: its card counts the installed's patches
        card = read_card("tiny", work / folder)
        assert card.complete and card.patches_seen == 16 and card.earlier_patches == 8

    counted["train"].clear()
    counted["restore"].clear()
    assert script.main(args) == 0                   # a rerun: both trained and scored already
    out = capsys.readouterr().out
    assert counted == {"train": [], "restore": []}
    assert out.count("trained already") == 2 and out.count("already") == 4 and verdict[0] in out
    assert rows_of(work / "probe.csv") == rows

    # a fresh clone: git keeps out each candidate's checkpoint and plot, nothing else of it; the rerun finds both
    # candidates complete from their committed card, weights and log: nothing trained, nothing restored
    for folder in ("b4-lr0.001", "b8-lr0.002"):
        (work / folder / "checkpoint.safetensors").unlink()
        (work / folder / "curves.png").unlink()
    assert script.main(args) == 0
    out = capsys.readouterr().out
    assert counted == {"train": [], "restore": []}
    assert out.count("trained already") == 2 and verdict[0] in out and rows_of(work / "probe.csv") == rows

    # a candidate retrained into other weights (as on another machine): its old row goes, whatever digits its lr has
    stale = [{**r, "weights": "tiny@" + "0" * 64} if r["batch"] == "8" else r for r in rows]
    with open(work / "probe.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(stale)
    assert script.main(args) == 0
    capsys.readouterr()
    assert [(r["batch"], r["lr"], r["weights"], r["mean_gain_db"]) for r in rows_of(work / "probe.csv")] == \
        [(r["batch"], r["lr"], r["weights"], r["mean_gain_db"]) for r in rows]

    assert script.main([*args[:2], "--patches", "32", *args[4:]]) == 2   # the folder holds a 16-patch probe
    assert "holds a probe with patches 16, not 32" in capsys.readouterr().err
    assert counted == {"train": [], "restore": []}


@pytest.mark.parametrize("grid, says", [
    ("16", "is not BATCH:LR"), ("16:", "is not BATCH:LR"), (":1e-4", "is not BATCH:LR"),
    ("0:1e-4", "is not BATCH:LR"), ("-4:1e-4", "is not BATCH:LR"), ("4.5:1e-4", "is not BATCH:LR"),
    ("x:1e-4", "is not BATCH:LR"), ("4:0", "is not BATCH:LR"), ("4:-1e-4", "is not BATCH:LR"),
    ("4:nan", "is not BATCH:LR"), ("4:inf", "is not BATCH:LR"), ("4:1e-4:2", "is not BATCH:LR"),
    ("8192:1e-4", "is not BATCH:LR"), (",", "names nothing"), ("4:1e-4,4:0.0001", "lists b4-lr0.0001 twice"),
    ("4:1e-4,3:1e-4", "not a multiple of batch 3")])
def test_a_bad_grid_is_one_line_before_any_work(tmp_path, script, counted, capsys, grid, says):
    work = tmp_path / "probe"     # the grid is read first: not even the installed network is looked for
    args = ["--installed", str(tmp_path / "none"), "--patches", "16", f"--grid={grid}", "--work", str(work)]
    assert script.main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and says in err and len(err.strip().splitlines()) == 1
    assert not work.exists() and counted == {"train": [], "restore": []}


def test_git_keeps_a_probe_candidate_but_its_checkpoint_and_plot(tmp_path):
    """What a fresh clone needs to find a finished candidate complete (docs/training.md, Leg 1): its final weights,
    card and log are not ignored; its checkpoint and plot are."""
    import shutil
    import subprocess

    from tests.conftest import ROOT
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git work tree: .gitignore does not apply")
    folder = "campaign/work-leg1-probe/b16-lr0.0001/"
    names = ["checkpoint.safetensors", "curves.png", "red30-denoise-single.safetensors", "red30-denoise-single.json",
             "log.csv"]
    ignored = subprocess.run(["git", "check-ignore", "--no-index", *[folder + n for n in names]], cwd=ROOT,
                             capture_output=True, text=True).stdout.split()
    assert ignored == [folder + "checkpoint.safetensors", folder + "curves.png"]
