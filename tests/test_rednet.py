import numpy as np
import pytest
import torch

from redbench.core.dihedral import dihedral, undo_dihedral
from redbench.methods.ensemble import SelfEnsemble
from redbench.methods.red_network import REDConfig, Deconvolution, REDNet, red, skip_pairs
from redbench.methods.srcnn_net import SRCNN
from redbench.methods.torch_inference import apply_network

CONV = 64 * 64 * 9 + 64      # one 64->64 3x3 layer with bias


@pytest.mark.parametrize("depth", [10, 20, 30])
def test_layer_and_parameter_counts(depth):
    net = red(depth)
    assert len(net.encoder) == len(net.decoder) == depth // 2
    assert all(isinstance(m, torch.nn.Conv2d) for m in net.encoder)
    assert all(isinstance(m, torch.nn.ConvTranspose2d) for m in net.decoder)
    assert all(m.kernel_size == (3, 3) and m.stride == (1, 1) and m.padding == (1, 1) for m in net.layers)
    expected = (9 * 64 + 64) + (depth - 2) * CONV + (64 * 9 + 1)
    assert sum(p.numel() for p in net.parameters()) == expected


@pytest.mark.parametrize("padding", [0, 1, 2])
def test_deconvolve_equals_the_transposed_convolution(padding):
    """The CPU fast path (a flipped convolution) gives the transposed convolution's output and gradients."""
    torch.manual_seed(0)
    fast = Deconvolution(5, 4, 3, padding=padding).double()
    plain = torch.nn.ConvTranspose2d(5, 4, 3, padding=padding).double()
    plain.load_state_dict(fast.state_dict())
    x = torch.randn(2, 5, 9, 11, dtype=torch.float64, requires_grad=True)
    grads = []
    for layer in (plain, fast):
        x.grad = None
        out = layer(x)
        out.pow(2).sum().backward()
        grads.append((out.detach(), x.grad.clone(), layer.weight.grad.clone(), layer.bias.grad.clone()))
    assert grads[0][0].shape == grads[1][0].shape
    for a, b in zip(*grads):
        assert torch.allclose(a, b, atol=1e-10)
    strided = Deconvolution(5, 4, 3, stride=2).double()          # not a convolution: PyTorch's own kernel
    assert torch.equal(strided(x.detach()), torch.nn.ConvTranspose2d.forward(strided, x.detach()))


def test_skip_placement():
    assert skip_pairs(red(10).config) == []                       # RED10: no skips
    assert skip_pairs(red(20).config) == [(2, 18), (4, 16), (6, 14), (8, 12)]
    pairs = skip_pairs(red(30).config)
    assert len(pairs) == 7 and all(src + dst == 30 for src, dst in pairs)   # mirrored layers
    assert all(src <= 15 < dst for src, dst in pairs)                      # encoder -> decoder
    assert skip_pairs(REDConfig(depth=20, skip="he", span=4)) == [(4, 8), (8, 12), (12, 16)]
    assert skip_pairs(REDConfig(depth=20, skip="red", span=4)) == [(4, 16), (8, 12)]


def test_skip_adds_encoder_map_before_relu():
    # with the decoder weights zeroed, a decoder layer that receives a skip outputs relu(encoder map)
    net = REDNet(REDConfig(depth=4, skip="red", span=1))
    assert skip_pairs(net.config) == [(1, 3)]
    for m in net.decoder:
        torch.nn.init.zeros_(m.weight); torch.nn.init.zeros_(m.bias)
    captured = {}
    net.decoder[0].register_forward_hook(lambda m, i, o: captured.setdefault("d1", o))
    x = torch.randn(1, 1, 8, 8)
    enc1 = torch.relu(net.encoder[0](x))
    hooked = {}
    net.decoder[1].register_forward_pre_hook(lambda m, i: hooked.setdefault("in", i[0]))
    net(x)
    assert torch.allclose(hooked["in"], torch.relu(captured["d1"] + enc1))


def test_residual_learning_zero_net_is_identity():
    net = red(20)
    torch.nn.init.zeros_(net.decoder[-1].weight); torch.nn.init.zeros_(net.decoder[-1].bias)
    x = torch.rand(1, 1, 17, 23)
    assert torch.equal(net(x), x)


def test_invalid_depth():
    with pytest.raises(ValueError):
        REDNet(REDConfig(depth=7))


def _identity_like():
    net = red(10)
    torch.nn.init.zeros_(net.decoder[-1].weight); torch.nn.init.zeros_(net.decoder[-1].bias)
    return net.eval()


class _NetMethod:
    name, tasks, uses_torch = "n", ("denoise",), True

    def __init__(self, net):
        self.net = net

    def restore(self, degraded, degradation):
        return apply_network(self.net, degraded)


def test_ensemble_of_identity_like_network_returns_input():
    image = np.random.default_rng(0).uniform(0, 255, (21, 30))
    out = SelfEnsemble(_NetMethod(_identity_like())).restore(image, None)
    assert np.allclose(out, image, atol=1e-3)


def test_ensemble_averages_the_eight_transforms():
    for t in range(8):
        a = np.arange(12.0).reshape(3, 4)
        assert np.array_equal(undo_dihedral(dihedral(a, t), t), a)

    class Asymmetric:
        name, tasks, uses_torch = "a", ("denoise",), False

        def restore(self, degraded, degradation):
            out = degraded.copy()
            out[0, :] += 8.0           # only the current top row: differs per orientation
            return out
    image = np.zeros((6, 6))
    out = SelfEnsemble(Asymmetric()).restore(image, None)
    assert out.sum() == pytest.approx(8.0 * 6)      # eight top rows, each 1/8 of the weight, on four borders
    assert out[0, 2] == pytest.approx(2.0) and out[3, 3] == 0.0


@pytest.mark.parametrize("net", [red(30), SRCNN()], ids=["red30", "srcnn"])
def test_tiled_inference_equals_untiled(net):
    net.eval()
    image = np.random.default_rng(1).uniform(0, 255, (70, 53))
    whole = apply_network(net, image, tile=0)
    tiled = apply_network(net, image, tile=24, margin=32)
    assert np.abs(whole - tiled).max() < 1e-3
