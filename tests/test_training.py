import pytest
from safetensors.torch import load_file

from redbench.training.config import lr_at
from redbench.training.train import TrainConfig, train


def _config(tmp_path, iters, **kw):
    base = dict(model="red10", task="denoise", levels="30", iters=iters, batch_size=4, patch=24,
                train_set="set12", out=str(tmp_path), val_every=2, log_every=1, checkpoint_seconds=0.0)
    base.update(kw)
    return TrainConfig(**base)


def test_resumed_training_equals_uninterrupted(mirror, tmp_path):
    train(_config(tmp_path / "a", 4))
    assert train(_config(tmp_path / "b", 4, stop_after=2)) is None   # interrupted after 2 steps
    train(_config(tmp_path / "b", 4))                                 # resumes from the checkpoint
    a = load_file(str(tmp_path / "a" / "red10-denoise.safetensors"))
    b = load_file(str(tmp_path / "b" / "red10-denoise.safetensors"))
    assert all((a[k] == b[k]).all() for k in a)
    log = (tmp_path / "b" / "log.csv").read_text().splitlines()
    assert log[0].startswith("step,patches") and log[-1].startswith("4,16,")
    assert (tmp_path / "a" / "red10-denoise.json").is_file() and (tmp_path / "a" / "curves.png").is_file()


def test_sr_and_srcnn_train(mirror, tmp_path):
    path = train(_config(tmp_path, 2, model="srcnn", task="sr", levels="2,3", train_set="set5"))
    assert path.name == "srcnn-sr.safetensors"


def test_fast_recipe_schedule():
    c = TrainConfig(recipe="fast", iters=100)
    assert lr_at(c, 0.5) < lr_at(c, 0.1) <= 1e-3 and lr_at(c, 1.0) == pytest.approx(1e-5)
    assert lr_at(TrainConfig(recipe="paper"), 0.7) == 1e-4


def _kept(out):
    return sorted(p.stem for p in (out / "snapshots").glob("*.json"))


def test_keep_every_keeps_the_network_at_each_multiple_once(mirror, tmp_path, capsys):
    """--keep-every 6 at 4 patches a step: the steps that pass 6, 12 and 18 patches keep the network as it is; a
    run resumed from a checkpoint before two of them passes them again and rewrites neither."""
    import shutil

    from redbench.methods import weights
    out = tmp_path / "run"
    config = dict(width=4, keep_every=6, checkpoint_seconds=1e9)   # checkpoints only where an invocation ends
    assert train(_config(out, 5, stop_after=1, **config)) is None
    shutil.copyfile(out / "checkpoint.safetensors", tmp_path / "step1.safetensors")
    assert train(_config(out, 5, stop_after=2, **config)) is None
    assert _kept(out) == ["red10-denoise-p0.006k", "red10-denoise-p0.012k"]
    written = {p.name: p.stat().st_mtime_ns for p in (out / "snapshots").iterdir()}
    card = weights.read_card("red10-denoise-p0.006k", out / "snapshots")
    assert (card.patches_seen, card.iterations, card.complete) == (8, 2, False) and card.val_psnr is not None
    capsys.readouterr()
    shutil.copyfile(tmp_path / "step1.safetensors", out / "checkpoint.safetensors")   # as if it died at step 3
    train(_config(out, 5, **config))
    printed = capsys.readouterr().out
    assert "kept red10-denoise-p0.018k (20 patches in all)" in printed and printed.count("kept ") == 1
    assert _kept(out) == ["red10-denoise-p0.006k", "red10-denoise-p0.012k", "red10-denoise-p0.018k"]
    assert all((out / "snapshots" / name).stat().st_mtime_ns == ns for name, ns in written.items())

    # a continuation of the network of its name counts the patches of the runs before it (20 here)
    more = tmp_path / "more"
    train(_config(more, 2, init=str(out / "red10-denoise"), **config))
    assert _kept(more) == ["red10-denoise-p0.024k"]
    card = weights.read_card("red10-denoise-p0.024k", more / "snapshots")
    assert (card.earlier_patches, card.patches_seen, card.total_patches) == (20, 4, 24)


def test_keep_every_is_checked_with_the_other_numbers():
    from redbench.core.errors import UserError
    from redbench.training.config import check_config
    for bad in (0, -100, 2.5):
        with pytest.raises(UserError, match="--keep-every must be positive"):
            check_config(TrainConfig(iters=1, keep_every=bad))


@pytest.mark.parametrize("model, side", [("strided5", 243), ("strided5-noskip", 243), ("red10", 128)])
def test_card_names_the_crops_the_validation_used(model, side):
    """Figure 3(a)'s strided networks validate on 243x243 crops (their one input size), the others on VAL_CROP:
    the card's val_protocol says the side validation_crop chose, which it once gave as 128x128 for all."""
    from redbench.methods.architectures import training_network
    from redbench.training.publishing import make_card
    from redbench.training.validation import validation_crop
    _, network = training_network(model, width=4)
    assert validation_crop(network) == side
    card = make_card(TrainConfig(model=model, levels="70", holdout=4), network,
                     {"step": 1, "patches": 4, "seconds": 1.0}, [70], 4, 1, "cpu", "fp32", model, 30.0)
    assert f" on {side}x{side} centre crops of the last 4 " in card.val_protocol, card.val_protocol


def _dead_writers_temp(folder, name):
    """A temp file as a SIGKILLed writer leaves it: this host's tag, a pid no process has now."""
    import subprocess
    import sys

    from redbench.core.atomic import temp_prefix
    dead = subprocess.Popen([sys.executable, "-c", ""])
    dead.wait()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{temp_prefix(name, dead.pid)}k2j3h4g5.tmp"
    path.write_text("partial")
    return path


def test_a_refused_run_changes_nothing_and_a_run_cleans_its_snapshots_too(mirror, tmp_path):
    from redbench.core.errors import UserError
    out = tmp_path / "run"
    stale = [_dead_writers_temp(out, "checkpoint.safetensors"),
             _dead_writers_temp(out / "snapshots", "red10-denoise-p0.004k.safetensors")]
    with pytest.raises(UserError, match="no trained weights"):   # init weights not found: refused before any write
        train(_config(out, 1, width=4, init=str(tmp_path / "nothing")))
    with pytest.raises(UserError, match="--holdout"):   # more held out than the validation set has: refused too
        train(_config(out, 1, width=4, holdout=10**6))
    assert all(path.exists() for path in stale)
    train(_config(out, 1, width=4))
    assert not any(path.exists() for path in stale)
