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
