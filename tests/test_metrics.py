import numpy as np
from scipy.signal import convolve2d

from redbench.core.color import rgb2gray, rgb2y
from redbench.core.metrics import psnr, ssim
from redbench.core.resize import imresize, modcrop, to_uint8


def wang_ssim(a, b):
    """Independent transcription of ssim_index.m: 11x11 Gaussian (1.5), filter2 'valid'."""
    x = np.arange(11) - 5
    g = np.exp(-(x[:, None] ** 2 + x[None, :] ** 2) / (2 * 1.5 ** 2))
    w = g / g.sum()
    f = lambda im: convolve2d(im, w[::-1, ::-1], mode="valid")
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mu1, mu2 = f(a), f(b)
    s1, s2, s12 = f(a * a) - mu1 ** 2, f(b * b) - mu2 ** 2, f(a * b) - mu1 * mu2
    return np.mean(((2 * mu1 * mu2 + c1) * (2 * s12 + c2)) / ((mu1 ** 2 + mu2 ** 2 + c1) * (s1 + s2 + c2)))


def test_psnr_known_value():
    ref = np.full((8, 8), 100.0)
    out = ref + 5.0   # MSE 25
    assert abs(psnr(ref, out) - 10 * np.log10(255 ** 2 / 25)) < 1e-12


def test_output_is_clipped_and_rounded_before_scoring():
    ref = np.full((4, 4), 255.0)
    assert psnr(ref, ref + 40.3) == float("inf")       # clipped to 255
    assert psnr(ref - 10, ref - 10.4) == float("inf")  # rounded to the same 8-bit value


def test_shave_ignores_border():
    ref = np.zeros((10, 10))
    out = ref.copy()
    out[0, :] = 255
    assert psnr(ref, out, shave=2) == float("inf")
    assert psnr(ref, out) < 20


def test_ssim_matches_wang_matlab_formula():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (40, 37)).astype(float)
    b = np.clip(a + rng.normal(0, 20, a.shape), 0, 255).round()
    assert abs(ssim(a, b) - wang_ssim(a, b)) < 1e-10
    assert ssim(a, a) == 1.0


def test_matlab_colour_conversions():
    rgb = np.array([[[0, 0, 0], [255, 255, 255], [255, 0, 0]]], dtype=np.uint8)
    assert rgb2y(rgb).tolist() == [[16, 235, 81]]       # MATLAB rgb2ycbcr Y
    assert rgb2gray(rgb).tolist() == [[0, 255, 76]]     # MATLAB rgb2gray
    gray = np.array([[7, 9]], dtype=np.uint8)
    assert rgb2y(gray) is gray


def test_imresize_sizes_and_constants():
    image = np.full((33, 20), 77.0)
    half = imresize(image, 0.5)
    assert half.shape == (17, 10)                     # ceil, as MATLAB
    assert np.allclose(half, 77.0)
    assert np.allclose(imresize(half, 2, out_shape=(34, 20)), 77.0)
    assert modcrop(np.zeros((13, 14)), 4).shape == (12, 12)
    assert to_uint8(np.array([-3.0, 2.5, 3.5, 300])).tolist() == [0, 3, 4, 255]   # halves away from zero, as MATLAB


def test_imresize_downscale_is_antialiased():
    # MATLAB shrinks with a widened kernel: a 1-pixel checkerboard averages out instead of aliasing
    board = (np.indices((64, 64)).sum(0) % 2) * 255.0
    assert np.abs(imresize(board, 0.5)[4:-4, 4:-4] - 127.5).max() < 1.0
