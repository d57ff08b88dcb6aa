"""scripts/leg_curve.py: the snapshots of a `train --keep-every` run against the installed network, resumable, the
installed network's scores computed once (tiny networks; the paired validation itself: test_paired_validation.py)."""
import csv

import pytest

from redbench.evaluation import runner
from redbench.training.train import TrainConfig, train
from tests.conftest import load_script
from tests.test_paired_validation import tiny


@pytest.fixture
def script():
    return load_script("leg_curve")


@pytest.fixture
def restores(monkeypatch):
    """How many images the networks restored (each call of the evaluation's restore_and_score)."""
    calls = []
    real = runner.restore_and_score

    def counted(method, item):
        calls.append(item.image)
        return real(method, item)
    monkeypatch.setattr(runner, "restore_and_score", counted)
    return calls


def test_the_curve_of_two_snapshots_and_a_rerun_that_computes_nothing(mirror, tmp_path, script, restores, capsys):
    run = tmp_path / "run"
    # 4 steps of 4 patches, kept at 8 and 16; the final weights are the 16-patch snapshot's, validated once
    train(TrainConfig(model="red10", width=4, task="denoise", levels="30", iters=4, batch_size=4, patch=24,
                      train_set="set12", holdout=2, out=str(run), val_every=2, log_every=1, keep_every=8))
    installed, _ = tiny(tmp_path / "installed", "inst", seed=2, holdout=2)
    args = ["--run", str(run), "--installed", installed, "--device", "cpu"]
    assert script.main(args) == 0
    # 2 networks x 2 held-out images, and the installed network's 2 once, not once per snapshot
    assert len(restores) == 2 * 2 + 2
    with open(run / "leg_curve.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["patches"]) for r in rows] == [8, 16]
    assert [r["weights"].split("@")[0] for r in rows] == ["red10-denoise-p0.008k", "red10-denoise"]
    assert all(r["images"] == "2" and r["pairs"] == "2" and r["levels"] == "30" and r["resolved"] in ("yes", "no")
               for r in rows)
    assert len({r["installed_psnr"] for r in rows}) == 1
    table = (run / "leg_curve.md").read_text()
    assert "| patches seen |" in table and "| 16 |" in table and (run / "leg_curve.png").stat().st_size > 0

    restores.clear()
    capsys.readouterr()
    assert script.main(args) == 0                       # a rerun: both networks are in the CSV already
    assert restores == [] and capsys.readouterr().out.count("already") == 2
    (run / "leg_curve.csv").unlink()                    # a new CSV: the installed scores still come from disk
    assert script.main(args) == 0
    assert len(restores) == 2 * 2
    with open(run / "leg_curve.csv", newline="") as fh:
        assert [r["psnr"] for r in csv.DictReader(fh)] == [r["psnr"] for r in rows]

    assert script.main(args + ["--seed", "1"]) == 2     # the CSV's rows are at seed 0
    assert "holds rows with seed 0, not 1" in capsys.readouterr().err


def test_bad_runs_and_files_are_one_line(mirror, tmp_path, script, restores, capsys):
    installed, _ = tiny(tmp_path / "installed", "inst", seed=2, holdout=2)
    (tmp_path / "empty").mkdir()
    run = tmp_path / "run"
    tiny(run / "snapshots", "snap", seed=1, holdout=2)
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    (tmp_path / "header.csv").write_text("a,b\n")                 # another kind's CSV with no row yet
    (tmp_path / "binary.csv").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00\x01")
    (tmp_path / "afile").write_text("")
    (run / "leg_curve.installed.json").write_text("[{")
    for args, says in ((["--run", str(tmp_path / "nothing")], "is not a folder"),
                       (["--run", str(tmp_path / "empty")], "holds no kept snapshot"),
                       (["--run", str(run), "--csv", str(tmp_path / "other.csv")], "is not a leg-curve CSV"),
                       (["--run", str(run), "--csv", str(tmp_path / "header.csv")], "is not a leg-curve CSV"),
                       (["--run", str(run), "--csv", str(tmp_path / "binary.csv")], "is not a leg-curve CSV"),
                       (["--run", str(run), "--md", str(tmp_path / "afile" / "x.md")], "--md "),
                       (["--run", str(run), "--png", str(tmp_path / "afile" / "x.png")], "--png "),
                       (["--run", str(run), "--csv", str(tmp_path)], "is a folder"),
                       (["--run", str(run)], "leg_curve.installed.json is damaged")):
        assert script.main(args + ["--installed", installed]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and says in err and len(err.strip().splitlines()) == 1, err
    assert restores == [] and (tmp_path / "header.csv").read_text() == "a,b\n"   # refused before any validation


def test_the_final_weights_of_a_scored_snapshot_get_no_second_row(mirror, tmp_path, script, restores, capsys,
                                                                  monkeypatch):
    """Scored while the run was still going, the 16-patch snapshot has a row; the final weights published after are
    the same file under the run's name: skipped by digest, not validated and written again."""
    run = tmp_path / "run"
    train(TrainConfig(model="red10", width=4, task="denoise", levels="30", iters=4, batch_size=4, patch=24,
                      train_set="set12", holdout=2, out=str(run), keep_every=8))
    installed, _ = tiny(tmp_path / "installed", "inst", seed=2, holdout=2)
    final = [run / "red10-denoise.safetensors", run / "red10-denoise.json"]
    for path in final:                                  # as before the run published its final weights
        path.rename(tmp_path / path.name)
    args = ["--run", str(run), "--installed", installed, "--device", "cpu", "--png", str(tmp_path / "new" / "c.png")]
    assert script.main(args) == 0                       # the plot's folder did not exist: made, not a traceback
    assert (tmp_path / "new" / "c.png").stat().st_size > 0
    with open(run / "leg_curve.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["weights"].split("@")[0] for r in rows] == ["red10-denoise-p0.008k", "red10-denoise-p0.016k"]
    for path in final:
        (tmp_path / path.name).rename(path)
    restores.clear()
    capsys.readouterr()
    assert script.main(args) == 0
    assert restores == [] and capsys.readouterr().out.count("already") == 2
    with open(run / "leg_curve.csv", newline="") as fh:
        assert list(csv.DictReader(fh)) == rows

    def interrupted(*_, **__):
        raise KeyboardInterrupt
    monkeypatch.setattr(script, "paired_validation", interrupted)
    (run / "leg_curve.csv").unlink()
    assert script.main(args) == 130                     # Ctrl-C: one line, what to do, no traceback
    err = capsys.readouterr().err
    assert err.startswith("interrupted: rerun the same command") and len(err.strip().splitlines()) == 1


def test_levels_are_one_cell():
    from redbench.core.defaults import levels_slashed
    assert levels_slashed([10, 30.0, "50", 2.5]) == "10/30/50/2.5"
