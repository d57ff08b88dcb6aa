"""`redbench restore` and `eval --save-images` (issue 23): a colour JPEG and a gray PNG give the expected files,
--add-noise / --downscale give exactly eval's rows and images, tiling changes nothing, every bad input is one line."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from redbench.cli import main
from redbench.core.names import file_label


@pytest.fixture
def inputs(mirror, tmp_path) -> Path:
    """A folder with a colour JPEG and a gray PNG (small crops of the test sets)."""
    folder = tmp_path / "in"
    folder.mkdir()
    colour = next(p for p in sorted((mirror / "set5").iterdir()) if p.suffix == ".png")
    Image.open(colour).convert("RGB").crop((20, 30, 84, 82)).save(folder / "photo.jpg", quality=92)
    Image.open(mirror / "set12" / "01.png").crop((100, 60, 148, 100)).save(folder / "gray.png")
    return folder


def _run(*args) -> int:
    return main(["restore", *map(str, args), "--quiet"], prog="redbench")


def _png(path: Path) -> Image.Image:
    with Image.open(path) as im:
        im.load()
        return im


def test_colour_jpeg_and_gray_png_are_restored_into_pngs(inputs, tmp_path, capsys):
    out = tmp_path / "gray-denoised"
    assert _run(inputs, "--method", "red10", "--sigma", 30, "--out", out) == 0
    assert sorted(p.name for p in out.iterdir()) == ["gray.png", "photo.png"]
    assert _png(out / "photo.png").mode == "L" and _png(out / "photo.png").size == (64, 52)   # gray by default
    assert _png(out / "gray.png").mode == "L" and _png(out / "gray.png").size == (48, 40)
    assert "2 PNG files written" in capsys.readouterr().out
    colour = tmp_path / "colour-denoised"
    assert _run(inputs / "photo.jpg", "--method", "red10", "--sigma", 30, "--color", "channels", "--out", colour) == 0
    assert _png(colour / "photo.png").mode == "RGB" and _png(colour / "photo.png").size == (64, 52)
    big = tmp_path / "sr"
    assert _run(inputs, "--method", "red10+", "--scale", 2, "--out", big) == 0
    assert _png(big / "photo.png").mode == "RGB" and _png(big / "photo.png").size == (128, 104)
    assert _png(big / "gray.png").mode == "L" and _png(big / "gray.png").size == (96, 80)
    # classical methods and net:PATH run the same way
    assert _run(inputs / "gray.png", "--method", "bicubic", "--scale", 3, "--out", tmp_path / "b") == 0
    assert _png(tmp_path / "b" / "gray.png").size == (144, 120)
    assert _run(inputs / "gray.png", "--method", "net:red10-denoise-s30", "--sigma", 30, "--out", tmp_path / "n") == 0
    assert np.array_equal(np.asarray(_png(tmp_path / "n" / "gray.png")), np.asarray(_png(out / "gray.png")))


def test_restored_colour_is_the_networks_y_with_bicubic_chroma(inputs, tmp_path):
    """SR of a colour image: the Y of the output is the network's output on Y (rounded), as the evaluation scores."""
    import redbench
    from redbench.core.color import rgb2ycbcr
    from redbench.core.resize import to_uint8
    from redbench.datasets.images import read_image
    rgb = read_image(str(inputs / "photo.jpg"))
    out = redbench.restore(rgb, "red10", scale=2)
    y = to_uint8(rgb2ycbcr(rgb)[..., 0]).astype(float)
    assert np.abs(rgb2ycbcr(out)[..., 0] - redbench.restore(y, "red10", scale=2)).max() < 1e-9


def test_add_noise_and_downscale_are_evals_rows_and_images(inputs, tmp_path, capsys):
    out = tmp_path / "noise"
    assert _run(inputs, "--method", "red10", "--add-noise", 30, "--seed", 7, "--out", out) == 0
    printed = capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["gray-noisy.png", "gray.png", "photo-noisy.png", "photo.png"]
    ev, saved = tmp_path / "eval", tmp_path / "saved"
    assert main(["eval", "--task", "denoise", "--sigma", "30", "--datasets", f"dir:{inputs}", "--methods", "red10",
                 "--seed", "7", "--out", str(ev), "--save-images", str(saved), "--jobs", "1", "--quiet"]) == 0
    rows = pd.read_csv(ev / "rows.csv")
    for row in rows.itertuples():
        name = row.image.split("@")[0]
        assert f"{name}.{'jpg' if name == 'photo' else 'png'}: noisy input" in printed
        assert f"restored {row.psnr:.2f} / {row.ssim:.4f}" in printed
        made = saved / file_label(f"dir:{inputs}") / "red10" / "sigma30" / f"{name}.png"
        assert np.array_equal(np.asarray(_png(made)), np.asarray(_png(out / f"{name}.png")))
    capsys.readouterr()
    low = tmp_path / "low"
    assert _run(inputs, "--method", "red10", "--downscale", 2, "--out", low) == 0
    printed = capsys.readouterr().out
    assert _png(low / "photo-lowres-x2.png").size == (32, 26) and _png(low / "photo.png").mode == "RGB"
    assert main(["eval", "--task", "sr", "--scale", "2", "--datasets", f"dir:{inputs}", "--methods", "red10",
                 "--out", str(tmp_path / "ev2"), "--jobs", "1", "--quiet"]) == 0
    for row in pd.read_csv(tmp_path / "ev2" / "rows.csv").itertuples():
        assert f"restored {row.psnr:.2f} / {row.ssim:.4f}" in printed


def test_save_images_recomputes_rows_whose_image_is_missing(mirror, tmp_path, capsys):
    out, saved = tmp_path / "out", tmp_path / "saved"
    args = ["eval", "--task", "denoise", "--sigma", "30", "--datasets", "set12", "--methods", "noisy",
            "--out", str(out), "--jobs", "1", "--quiet"]
    assert main(args) == 0
    assert main(args + ["--save-images", str(saved)]) == 0     # the rows exist: computed again for their images
    files = sorted(p.name for p in (saved / "set12" / "noisy" / "sigma30").iterdir())
    assert files == [f"{i:02d}.png" for i in range(1, 13)]
    assert "(12 computed, 0 reused" in capsys.readouterr().out
    assert main(args + ["--save-images", str(saved)]) == 0
    assert "(0 computed, 12 reused" in capsys.readouterr().out


def test_tiled_restoration_equals_untiled(inputs, monkeypatch):
    from redbench.evaluation.restoration import restore_image
    from redbench.methods.registry import get_method
    image = np.asarray(_png(inputs / "gray.png"), dtype=float)
    whole = restore_image(get_method("red10", "denoise"), image, "denoise", 30)
    monkeypatch.setenv("REDBENCH_TILE", "16")                  # 6 tiles of a 48x40 image
    tiled = restore_image(get_method("red10", "denoise"), image, "denoise", 30)
    assert np.abs(tiled - whole).max() < 1e-3


def test_help_states_colour_handling_and_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["restore", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: auto)" in text and "(default: gray)" in text and "(default: 0)" in text
    assert "SR of colour is always on Y, with Cb and Cr enlarged by bicubic" in text
    from redbench.datasets.images import MAX_PIXELS_DEFAULT
    assert f"{MAX_PIXELS_DEFAULT:,}" in text


def _one_line_error(capsys, message):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0], err


@pytest.mark.parametrize("case, message", [
    ("missing", "no such file or folder"),
    ("unreadable", "cannot read image"),
    ("no-network", "has no network for sigma 25"),
    ("out-holds-inputs", "holds the input"),
    ("huge", "over the bound of 1,000"),
    ("same-stem", "two inputs are named 'gray'"),
    ("no-level", "give the degradation"),
    ("both-levels", "not allowed with argument"),
    ("mismatch", "--sigma 30 and --add-noise 50 differ"),
    ("empty-folder", "holds no PNG, BMP, TIFF or JPEG"),
    ("unknown-method", "unknown method 'red31'"),
    ("missing-weights", "no trained weights 'nothing'"),
    ("too-small-to-score", "needs at least 11x11"),
    ("wrong-task", "cannot do task 'sr'"),
    ("no-cuda", "--device cuda, but torch sees no CUDA GPU"),
    ("too-precise", "give at most 6 significant digits"),       # as eval parses it
])
def test_bad_restore_input_is_one_line_and_writes_nothing(inputs, tmp_path, monkeypatch, capsys, case, message):
    out = tmp_path / "out"
    args = [inputs, "--method", "red10", "--sigma", 30, "--out", out]
    if case == "missing":
        args[0] = tmp_path / "nope.png"
    elif case == "unreadable":
        (inputs / "broken.png").write_text("not an image")
    elif case == "no-network":
        args[4] = 25
    elif case == "out-holds-inputs":
        args[-1] = inputs
    elif case == "huge":
        monkeypatch.setenv("REDBENCH_MAX_PIXELS", "1000")
    elif case == "same-stem":
        (tmp_path / "other").mkdir()
        Image.open(inputs / "gray.png").save(tmp_path / "other" / "gray.bmp")
        args.insert(1, tmp_path / "other")
    elif case == "no-level":
        args = [inputs, "--method", "red10", "--out", out]
    elif case == "both-levels":
        args += ["--scale", 2]
    elif case == "mismatch":
        args += ["--add-noise", 50]
    elif case == "empty-folder":
        (tmp_path / "empty").mkdir()
        args[0] = tmp_path / "empty"
    elif case == "unknown-method":
        args[2] = "red31"
    elif case == "missing-weights":
        args[2] = "net:nothing"
    elif case == "too-small-to-score":
        Image.new("L", (8, 8)).save(tmp_path / "tiny.png")
        args = [tmp_path / "tiny.png", "--method", "red10", "--add-noise", 30, "--out", out]
    elif case == "no-cuda":
        import torch
        if torch.cuda.is_available():
            pytest.skip("a CUDA GPU is here")
        args += ["--device", "cuda"]
    elif case == "wrong-task":
        args = [inputs, "--method", "bm3d", "--scale", 2, "--out", out]
    elif case == "too-precise":
        args = [inputs, "--method", "red10", "--add-noise", "30.1234567", "--out", out]
    before = {p.name: p.read_bytes() for p in inputs.iterdir()}
    assert _run(*args) == 2
    _one_line_error(capsys, message)
    assert not out.exists() or not any(out.iterdir())
    assert {p.name: p.read_bytes() for p in inputs.iterdir()} == before     # no input touched


def test_an_untrained_level_is_one_sentence_in_eval_restore_and_the_api(inputs, tmp_path, capsys):
    """One home for the words (registry.check_trained_pairs): eval and restore refuse red10 at sigma 25 with the
    same line; the Python API says the same sentence with its own way to allow it."""
    import redbench
    from redbench.core.errors import UserError
    assert _run(inputs, "--method", "red10", "--sigma", 25, "--out", tmp_path / "restored") == 2
    restore_line = capsys.readouterr().err.strip()
    assert main(["eval", "--task", "denoise", "--sigma", "25", "--datasets", "set12", "--methods", "red10",
                 "--jobs", "1", "--quiet", "--out", str(tmp_path / "evaluated")], prog="redbench") == 2
    eval_line = capsys.readouterr().err.strip()
    assert eval_line == restore_line
    assert restore_line.startswith("error: red10 has no network for sigma 25 (trained: ") and \
        restore_line.endswith("): use a trained level, or pass --allow-untrained-levels to run it anyway."), restore_line
    with pytest.raises(UserError) as info:
        redbench.restore(np.zeros((16, 16)), "red10", sigma=25)
    assert f"error: {info.value}" == restore_line.replace("--allow-untrained-levels", "allow_untrained=True")


def test_readme_states_the_bounds_and_tolerances_of_the_code():
    from redbench.datasets.images import MAX_PIXELS_DEFAULT, MAX_PIXELS_ENV
    from redbench.evaluation.verify import PSNR_TOLERANCE, SSIM_TOLERANCE
    from redbench.methods.red_family import TILE_DEFAULT, TILE_ENV
    from tests.conftest import ROOT
    section = (ROOT / "README.md").read_text().split("## Use the networks", 1)[1].split("\n## ", 1)[0]
    section = " ".join(section.split())
    assert f"`${MAX_PIXELS_ENV}` (default {MAX_PIXELS_DEFAULT:,})" in section
    assert f"`${TILE_ENV}`, default {TILE_DEFAULT} pixels" in section
    assert f"within {PSNR_TOLERANCE} dB and every SSIM within {SSIM_TOLERANCE:.5f}" in section


def test_add_noise_through_a_linked_folder_and_on_a_name_that_is_not_utf8_is_evals(inputs, tmp_path, capsys):
    """The noise of --add-noise is eval's for the same file: eval names a dir: set by its absolute (not resolved)
    path and escapes a file name that is not UTF-8, so restore does too (one path, runner.degrade)."""
    import os
    link = tmp_path / "link"
    link.symlink_to(inputs, target_is_directory=True)
    odd = os.fsdecode(b"caf\xe9.png")
    Image.open(inputs / "gray.png").save(inputs / odd)
    (inputs / "photo.jpg").unlink()
    (inputs / "gray.png").unlink()
    out = tmp_path / "out"
    assert _run(link, "--method", "bm3d", "--add-noise", 25, "--seed", 3, "--out", out) == 0
    printed = capsys.readouterr().out
    restored = float(printed.split("-> restored ")[1].split(" / ")[0])
    assert main(["eval", "--task", "denoise", "--sigma", "25", "--seed", "3", "--methods", "bm3d", "--datasets",
                 f"dir:{link}", "--out", str(tmp_path / "eval"), "--quiet", "--jobs", "1"]) == 0
    rows = pd.read_csv(tmp_path / "eval" / "rows.csv")
    assert rows.loc[0, "image"].startswith("caf\\xe9@")
    assert round(rows.loc[0, "psnr"], 2) == restored


def test_saved_images_of_two_folders_of_one_name_and_of_a_network_path_stay_apart(tmp_path):
    """--save-images files a dir: set under the tables' file label (a digest of its whole path), a method under
    its file label (a net:PATH never climbs out of DIR) and an image under its name before the last '@'."""
    from redbench.evaluation.runner import WorkItem
    from redbench.evaluation.saved_images import saved_path

    def where(dataset, image, method="bm3d"):
        return saved_path(tmp_path, WorkItem("denoise", dataset, image, "", method, 25.0, 0, False))
    a, b = where("dir:/a/photos", "x@0123456789ab"), where("dir:/b/photos", "x@0123456789ab")
    assert a != b and a.name == b.name == "x.png"
    assert where("dir:/a/photos", "a@b@0123456789ab").name == "a@b.png"
    climbing = where("set12", "01", method="net:../../outside")
    assert climbing.resolve().is_relative_to(tmp_path.resolve()) and len(climbing.relative_to(tmp_path).parts) == 4
