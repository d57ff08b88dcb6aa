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


def test_bad_runs_and_files_are_one_line(mirror, tmp_path, script, capsys):
    installed, _ = tiny(tmp_path / "installed", "inst", seed=2, holdout=2)
    (tmp_path / "empty").mkdir()
    run = tmp_path / "run"
    tiny(run / "snapshots", "snap", seed=1, holdout=2)
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    (run / "leg_curve.installed.json").write_text("[{")
    for args, says in ((["--run", str(tmp_path / "nothing")], "is not a folder"),
                       (["--run", str(tmp_path / "empty")], "holds no kept snapshot"),
                       (["--run", str(run), "--csv", str(tmp_path / "other.csv")], "is not a leg-curve CSV"),
                       (["--run", str(run)], "leg_curve.installed.json is damaged")):
        assert script.main(args + ["--installed", installed]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and says in err and len(err.strip().splitlines()) == 1
