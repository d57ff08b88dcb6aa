"""The ship rule: a newly trained network replaces the installed one only when its mean paired gain on the held-out
images exceeds the half-width of the gain's 95% interval (bench/training/ship_rule.py)."""
import math

import pytest
import torch
from scipy import stats

from redbench.core.errors import UserError
from redbench.methods import weights
from redbench.methods.red_network import red
from redbench.training.paired_validation import PairedScore, PairedValidation
from redbench.training.ship_rule import decide, gain_is_resolved


@pytest.mark.parametrize("mean, half_width, ships", [
    (0.020, 0.010, True),        # the interval lies above zero
    (0.0011, 0.0010, True),      # a gain far below the old 0.01 dB crop margin ships once it is resolved
    (0.010, 0.010, False),       # the interval touches zero
    (0.005, 0.020, False),       # a gain the validation cannot tell from noise
    (0.500, 0.600, False),
    (-0.030, 0.010, False),      # a resolved loss
    (0.0, 0.0, False),           # identical networks
    (0.300, math.inf, False),    # one image: no error to compare with
    (math.nan, 0.010, False),
])
def test_a_gain_ships_only_when_it_exceeds_the_half_width(mean, half_width, ships):
    assert gain_is_resolved(mean, half_width) is ships


def validation(differences: list[float], levels=(30,)) -> PairedValidation:
    """A paired validation whose per-image differences (the same at each level) are `differences`."""
    scores = tuple(PairedScore(f"img{i}", float(level), 25.0 + d, 25.0)
                   for i, d in enumerate(differences) for level in levels)
    return PairedValidation("cand@1", "inst@2", "bsds500-train", tuple(levels), scores)


@pytest.mark.parametrize("differences, ships", [
    ([0.020, 0.030, 0.025, 0.035], True),       # small but consistent over images
    ([0.050, -0.010, 0.040, -0.020], False),    # larger on average, but the images disagree
    ([0.004, 0.006, 0.005, 0.005], True),
    ([-0.010, -0.020, -0.015, -0.012], False),
    ([0.2], False),                             # one image
])
def test_the_interval_is_the_paired_t_interval_over_images(differences, ships):
    result = validation(differences, levels=(30, 50))
    assert result.mean == pytest.approx(sum(differences) / len(differences))
    assert list(result.differences().values()) == pytest.approx(differences)   # levels averaged per image
    if len(differences) > 1:
        reference = stats.ttest_1samp(differences, 0.0).confidence_interval(0.95)
        assert result.interval == pytest.approx((reference.low, reference.high))
        assert result.standard_error == pytest.approx(stats.sem(differences))
    else:
        assert math.isinf(result.half_width)
    assert gain_is_resolved(result.mean, result.half_width) is ships


def _card(folder, complete=True, seed=0):
    torch.manual_seed(seed)
    card = weights.ModelCard(name="red4-denoise-s30", architecture="red", config=red(4, width=4).config.as_dict(),
                             task="denoise", levels=[30], recipe="fast", iterations=1, patches_seen=1, batch_size=1,
                             patch_size=50, train_set="bsd300-train", device="CPU", wall_seconds=1.0, budget="test",
                             val_psnr=None, val_protocol="test", git_commit="", seed=0, complete=complete)
    weights.save(red(4, width=4).state_dict(), card, folder)
    return str(folder / card.name)


@pytest.mark.parametrize("installed_complete, arrived_complete, outcome, ships, says", [
    (False, True, None, True, "installed red4-denoise-s30 is itself an unfinished snapshot"),
    (True, False, None, False, "new red4-denoise-s30 is an unfinished snapshot"),
    (True, True, [0.02, 0.03, 0.025, 0.035], True, "exceeds the interval's half-width"),
    (True, True, [0.05, -0.01, 0.04, -0.02], False, "does not exceed the interval's half-width"),
    (True, True, UserError("kept no image out of training in common"), False, "cannot be compared"),
    (True, True, "same", False, "its weights are the installed ones"),
])
def test_decide_compares_finished_networks_on_the_paired_validation(tmp_path, installed_complete, arrived_complete,
                                                                    outcome, ships, says):
    installed = _card(tmp_path / "installed", installed_complete)
    arrived = _card(tmp_path / "arrived", arrived_complete, seed=0 if outcome == "same" else 1)
    calls = []

    def validate(candidate, reference, data_dir=None, device="cpu"):
        calls.append((candidate, reference))
        if isinstance(outcome, Exception):
            raise outcome
        return validation(outcome)

    decision = decide(installed, arrived, validate=validate)
    assert decision.ships is ships and says in decision.reason
    # snapshots and identical weights are decided by their cards
    assert calls == ([] if outcome in (None, "same") else [(arrived, installed)])


def test_the_measurement_in_docs_follows_from_its_per_image_rows():
    """docs/training.md's paired-validation summary (mean, error, interval, verdict) is what this module computes
    from the per-image PSNRs printed above it."""
    from tests.conftest import ROOT
    section = (ROOT / "docs" / "training.md").read_text().split("## Paired validation: what ships", 1)[1]
    rows = [line.split("|")[1:-1] for line in section.splitlines() if line.startswith("| 9")]
    result = PairedValidation("c@1", "i@2", "bsds500-train", (50,), tuple(
        PairedScore(image.strip(), 50.0, float(mine), float(theirs)) for image, mine, theirs, _ in rows))
    for image, _, _, printed in rows:
        assert result.differences()[image.strip()] == pytest.approx(float(printed), abs=1e-4)
    low, high = result.interval
    summary = (f"| {len(rows)} | 617,604 | {result.mean:+.4f} dB | {result.standard_error:.4f} dB | "
               f"[{low:+.4f}, {high:+.4f}] | {result.half_width:.4f} dB | "
               f"{'ships' if gain_is_resolved(result.mean, result.half_width) else 'does not ship'} |")
    assert summary in section
