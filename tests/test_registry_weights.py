import numpy as np
import pytest
import torch

from redbench.degradations import GaussianNoise
from redbench.errors import UserError
from redbench.methods import weights
from redbench.methods.rednet import red
from redbench.methods.registry import check_method, get_method, registered


def test_unknown_method_did_you_mean():
    with pytest.raises(UserError, match="Did you mean 'bm3d'"):
        check_method("bm4d", "denoise")


def test_reported_only_and_task_mismatch():
    assert registered()["wnnm"].reported_only
    with pytest.raises(UserError, match="published numbers only"):
        check_method("wnnm", "denoise")
    with pytest.raises(UserError, match="cannot do task 'sr'"):
        check_method("bm3d", "sr")
    with pytest.raises(UserError, match="no self-ensemble"):
        check_method("bm3d+", "denoise")


def test_classical_methods_restore():
    rng = np.random.default_rng(0)
    clean = np.tile(np.linspace(40, 200, 48), (48, 1))
    d = GaussianNoise(30)
    noisy = d.apply(clean, 1)
    for name in ("tv", "bm3d"):
        out = get_method(name, "denoise").restore(noisy, d)
        assert out.shape == clean.shape
        assert np.mean((out - clean) ** 2) < 0.3 * np.mean((noisy - clean) ** 2), name


def _card(name):
    return weights.ModelCard(name=name, architecture="red", config=red(10).config.as_dict(), task="denoise",
                             levels=[30], recipe="fast", iterations=1, patches_seen=1, batch_size=1, patch_size=50,
                             train_set="x", device="cpu", wall_seconds=0.0, budget="test", val_psnr=None,
                             val_protocol="", git_commit="", seed=0)


def test_weights_roundtrip_and_checksum(tmp_path):
    net = red(10)
    weights.save(net.state_dict(), _card("t"), tmp_path)
    state, card = weights.load("t", tmp_path)
    assert card.sha256 and all(torch.equal(state[k], v) for k, v in net.state_dict().items())
    path = tmp_path / "t.safetensors"
    data = bytearray(path.read_bytes()); data[-1] ^= 1; path.write_bytes(bytes(data))
    with pytest.raises(UserError, match="checksum mismatch"):
        weights.load("t", tmp_path)
    with pytest.raises(UserError, match="no trained weights 'nope'"):
        weights.load("nope", tmp_path)


def test_committed_weights_load_and_match_cards():
    for card_path in sorted(weights.WEIGHTS_DIR.glob("*.json")):
        state, card = weights.load(card_path.stem)
        assert card.task in ("denoise", "sr") and card.iterations > 0 and card.budget
