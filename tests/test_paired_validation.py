"""Paired validation on tiny networks: every pixel of the images both cards held out, the evaluation's noise and
scoring, per-image differences with their error (bench/training/paired_validation.py)."""
import json

import numpy as np
import pytest
import torch

from redbench.core.degradations import make_degradation, noise_seed
from redbench.core.errors import UserError
from redbench.core.metrics import psnr
from redbench.datasets.catalog import get_spec
from redbench.datasets.fetch import dataset_files
from redbench.datasets.images import ground_truth
from redbench.methods import weights
from redbench.methods.red_network import red
from redbench.methods.torch_inference import apply_network
from redbench.training.paired_validation import paired_validation

VAL_SET = "bsds500-train"


def tiny(folder, name, seed, holdout, levels=(30,)):
    """A 4-layer, 4-map RED network with random weights, and the card of a run that held out `holdout` images."""
    torch.manual_seed(seed)
    net = red(4, width=4)
    card = weights.ModelCard(name=name, architecture="red", config=net.config.as_dict(), task="denoise",
                             levels=list(levels), recipe="fast", iterations=1, patches_seen=1, batch_size=1,
                             patch_size=50, train_set="bsd300-train", device="CPU", wall_seconds=1.0, budget="test",
                             val_psnr=None, val_protocol="test", git_commit="", seed=0,
                             extra={"train_config": {"holdout": holdout, "train_set": "bsd300-train"}})
    weights.save(net.state_dict(), card, folder, dtype="float32")
    return str(folder / name), net.eval()


def scored_alone(net, ref, sigma):
    """The PSNR of `net` on the full image, computed here without the harness's runner or tiling."""
    clean = ground_truth(ref.path, get_spec(VAL_SET), "denoise")
    degradation = make_degradation("denoise", sigma)
    noisy = degradation.apply(clean, noise_seed(0, VAL_SET, ref.name, sigma))
    return psnr(clean, apply_network(net, noisy)), clean.size


def test_paired_validation_scores_every_pixel_of_the_shared_held_out_images(mirror, tmp_path):
    candidate, cand_net = tiny(tmp_path / "a", "cand", seed=1, holdout=3)
    installed, inst_net = tiny(tmp_path / "b", "inst", seed=2, holdout=2, levels=(10, 30, 50))
    result = paired_validation(candidate, installed, device="cpu")
    held = dataset_files(VAL_SET)[-2:]                   # both kept out 2 (the candidate 3): never more than both
    assert result.images == tuple(ref.name for ref in held) and result.levels == (30,)
    pixels = 0
    for ref, score in zip(held, result.scores):
        (mine, size), (theirs, _) = scored_alone(cand_net, ref, 30), scored_alone(inst_net, ref, 30)
        assert (score.candidate, score.installed) == pytest.approx((mine, theirs), abs=2e-4)
        pixels += size
    assert result.pixels == pixels                        # full size: every pixel of both images
    diffs = [s.candidate - s.installed for s in result.scores]
    assert result.mean == pytest.approx(np.mean(diffs))
    assert result.standard_error == pytest.approx(np.std(diffs, ddof=1) / np.sqrt(2))
    assert result.half_width == pytest.approx(12.7062 * result.standard_error, rel=1e-4)   # t(0.975, 1 df)
    assert "| " + held[0].name + " |" in result.table()


def test_a_network_against_itself_gains_nothing_and_does_not_ship(mirror, tmp_path):
    from redbench.training.ship_rule import gain_is_resolved
    candidate, _ = tiny(tmp_path / "a", "same", seed=1, holdout=2)
    installed, _ = tiny(tmp_path / "b", "same", seed=1, holdout=2)
    result = paired_validation(candidate, installed, device="cpu")
    assert [s.difference for s in result.scores] == [0.0, 0.0]
    assert result.mean == 0.0 and result.half_width == 0.0 and not gain_is_resolved(result.mean, result.half_width)


def test_networks_that_cannot_be_compared_are_one_line_errors(mirror, tmp_path):
    candidate, _ = tiny(tmp_path / "a", "cand", seed=1, holdout=2, levels=(30, 50))
    installed, _ = tiny(tmp_path / "b", "inst", seed=2, holdout=2)
    with pytest.raises(UserError, match="level.s. 50 are not served by both"):
        paired_validation(candidate, installed)
    nothing_held, _ = tiny(tmp_path / "c", "none", seed=2, holdout=0, levels=(30, 50))
    with pytest.raises(UserError, match="kept no image out of training in common"):
        paired_validation(candidate, nothing_held)


def test_an_old_card_names_its_held_out_images_in_its_protocol(mirror, tmp_path):
    """A card without a training config: the validation protocol says how many images were held out."""
    from redbench.training.paired_validation import held_out_names
    _, _ = tiny(tmp_path, "old", seed=1, holdout=2)
    data = json.loads((tmp_path / "old.json").read_text())
    data.update(extra={}, val_protocol="mean PSNR over levels [30] on 128x128 centre crops of the last 3 "
                                       "bsds500-train images, held out of training")
    card = weights.card_from_dict(data, "test")
    assert held_out_names(card) == (VAL_SET, frozenset(ref.name for ref in dataset_files(VAL_SET)[-3:]))
    assert held_out_names(weights.card_from_dict(dict(data, val_protocol="other"), "test")) == (VAL_SET, frozenset())


def test_the_script_prints_the_comparison_and_refuses_bad_input_in_one_line(mirror, tmp_path, capsys):
    from tests.conftest import load_script
    script = load_script("paired_validation")
    candidate, _ = tiny(tmp_path / "a", "cand", seed=1, holdout=2)
    installed, _ = tiny(tmp_path / "b", "inst", seed=2, holdout=2)
    assert script.main([candidate, installed, "--device", "cpu", "--out", str(tmp_path / "paired.md")]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("| image |") and "\nverdict: " in printed
    assert (tmp_path / "paired.md").read_text() == printed
    for bad, says in (([str(tmp_path / "nothing"), installed], "no trained weights 'nothing'"),
                      ([candidate, installed, "--levels", "abc"], "invalid sigma 'abc'"),
                      ([candidate, installed, "--threads", "0"], "--threads")):
        assert script.main(bad) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and says in err and len(err.strip().splitlines()) == 1


def test_cached_scores_of_both_networks_restore_nothing_and_let_two_candidates_meet(mirror, tmp_path, monkeypatch):
    from redbench.evaluation import runner
    from redbench.training.paired_validation import ScoreCache
    first_ref, _ = tiny(tmp_path / "a", "first", seed=1, holdout=2)
    second_ref, _ = tiny(tmp_path / "b", "second", seed=3, holdout=2)
    installed, _ = tiny(tmp_path / "c", "inst", seed=2, holdout=2)
    cache = ScoreCache(tmp_path / "scores.json")          # one cache for every network: its keys name the weights
    first, second = (paired_validation(ref, installed, installed_scores=cache, candidate_scores=cache)
                     for ref in (first_ref, second_ref))
    calls = []
    real = runner.restore_and_score
    monkeypatch.setattr(runner, "restore_and_score", lambda method, item: calls.append(item) or real(method, item))
    on_disk = ScoreCache(tmp_path / "scores.json")
    again = paired_validation(first_ref, installed, installed_scores=on_disk, candidate_scores=on_disk)
    lead = paired_validation(first_ref, second_ref, installed_scores=cache, candidate_scores=cache)
    assert calls == []                                    # every score of all three networks came from the caches
    assert again.scores == first.scores
    assert [s.difference for s in lead.scores] == pytest.approx(
        [a.candidate - b.candidate for a, b in zip(first.scores, second.scores)])
    assert lead.mean == pytest.approx(first.mean - second.mean)


def test_a_score_from_another_device_is_not_reused(mirror, tmp_path, monkeypatch):
    from redbench.evaluation import runner
    from redbench.training.paired_validation import ScoreCache
    candidate, _ = tiny(tmp_path / "a", "first", seed=1, holdout=2)
    installed, _ = tiny(tmp_path / "c", "inst", seed=2, holdout=2)
    path = tmp_path / "scores.json"
    written = ScoreCache(path)
    first = paired_validation(candidate, installed, device="cpu", installed_scores=written, candidate_scores=written)
    records = json.loads(path.read_text())
    assert records and {r["device"] for r in records} == {"cpu"}
    # the same scores as if a CUDA run had written them: a CPU comparison restores every image again
    path.write_text(json.dumps([{**r, "device": "cuda"} for r in records]))
    calls = []
    real = runner.restore_and_score
    monkeypatch.setattr(runner, "restore_and_score", lambda method, item: calls.append(item) or real(method, item))
    cache = ScoreCache(path)
    again = paired_validation(candidate, installed, device="cpu", installed_scores=cache, candidate_scores=cache)
    assert len(calls) == 2 * len(first.scores) and again.scores == first.scores
    assert cache.get(first.candidate, first.scores[0].image, first.scores[0].level, 0, "cuda") is not None
    # a record written before the key had a device says nothing of where it ran: recomputed, not an error
    path.write_text(json.dumps([{k: v for k, v in r.items() if k != "device"} for r in records]))
    assert ScoreCache(path).scores == {}
