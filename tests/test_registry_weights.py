import numpy as np
import pytest
import torch

from redbench.core.degradations import GaussianNoise
from redbench.core.errors import UserError
from redbench.methods import weights
from redbench.methods.red_network import red
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


def test_missing_bm3d_says_how_to_install(monkeypatch):
    import builtins
    import importlib.metadata
    real_import = builtins.__import__

    def no_bm3d(name, *args, **kwargs):
        if name == "bm3d":
            raise ModuleNotFoundError("No module named 'bm3d'", name="bm3d")
        return real_import(name, *args, **kwargs)

    def not_installed(name):
        raise importlib.metadata.PackageNotFoundError(name)
    method = get_method("bm3d", "denoise")
    monkeypatch.setattr(builtins, "__import__", no_bm3d)
    with pytest.raises(UserError, match="needs the package 'bm3d'.*pip install bm3d"):
        method.restore(np.zeros((8, 8)), GaussianNoise(30))
    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    with pytest.raises(UserError, match="pip install bm3d"):
        method.weights_id(GaussianNoise(30))


def test_networks_are_built_by_the_architecture_registry(tmp_path):
    from redbench.methods.architectures import ARCHITECTURES, architecture_of, build_network, training_network
    from redbench.methods.red_family import load_network
    for model, name in (("red20", "red"), ("srcnn", "srcnn"), ("strided5-noskip", "strided5")):
        arch, net = training_network(model, width=8)
        assert arch == name == architecture_of(net) and isinstance(net, ARCHITECTURES[name].network)
    weights.save(red(10).state_dict(), _card("r"), tmp_path)
    net, card = load_network(str(tmp_path / "r"))
    assert architecture_of(net) == "red" and card.config == dict(red(10).config.as_dict())
    with pytest.raises(UserError, match="unknown network architecture 'unet'"):
        build_network("unet", {})
    with pytest.raises(UserError, match="the red config .* does not fit"):
        build_network("red", {"depth": 10, "kernel": 5})
    with pytest.raises(UserError, match="unknown model 'unet3'"):
        training_network("unet3")


def test_srcnn_is_one_network_per_scale_and_srcnn_single_one_for_all():
    """Tables 3-5 quote SRCNN per scale (Dong et al.); the all-scale network is srcnn-single."""
    from redbench.core.degradations import BicubicSR
    per_scale, single = get_method("srcnn", "sr"), get_method("srcnn-single", "sr")
    assert per_scale.trained_levels() == (2, 3, 4)
    for scale in (2, 3, 4):
        card = weights.read_card(f"srcnn-sr-x{scale}")
        assert per_scale.weights_id(BicubicSR(scale)) == f"srcnn-sr-x{scale}@{card.sha256}" and card.levels == [scale]
    assert single.weights_id(BicubicSR(3)) == f"srcnn-sr@{weights.read_card('srcnn-sr').sha256}"


def test_weights_ids_from_cards_match_the_built_methods_and_load_no_network(monkeypatch):
    """registry.installed_weights_id reads the model cards alone (the report asks it for every row) and gives the
    id the method itself keys its rows by."""
    from redbench.core.degradations import make_degradation
    from redbench.methods import red_family
    from redbench.methods.registry import get_method, installed_weights_id, trained_at, untrained_levels
    cases = [("red30", "denoise", 30), ("red30+", "sr", 3), ("red30-single", "denoise", 50), ("srcnn", "sr", 2),
             ("srcnn-single", "sr", 4)]
    built = {case: get_method(case[0], case[1]).weights_id(make_degradation(case[1], case[2])) for case in cases}

    def no_network(*args, **kwargs):
        raise AssertionError("a network was loaded")
    monkeypatch.setattr(red_family, "load_network", no_network)
    for case in cases:
        assert installed_weights_id(*case) == built[case]
    with pytest.raises(UserError, match="no network for sigma 25"):
        installed_weights_id("red30", "denoise", 25)
    per_level = get_method("red30", "denoise")
    assert trained_at(per_level, 30) and not trained_at(per_level, 25) and trained_at(get_method("bm3d", "denoise"), 25)
    assert untrained_levels(per_level, [10, 25, 30.0, 45]) == [25, 45]
