"""The second training phase: a plan entry that continues the installed network of its name ships only if the
ship rule says so (tests/test_ship_rule.py); the authors' 128-map RED30 trains from a plan and loads from its card."""

import pytest
import torch

from redbench.core.errors import UserError
from redbench.methods import weights
from redbench.methods.architectures import network_for_card
from redbench.methods.red_network import red
from redbench.training.campaign import load_plan, run_plan, seed_finished

PROTOCOL = ("mean PSNR over levels [30] on 128x128 centre crops of the last 4 bsds500-train images, "
            "held out of training")
PHASE2 = """
[campaign]
work_dir = "work2"
log_dir = "logs2"
train_set = "bsds500-train"
[defaults]
continues = true
batch_size = 4
lr = 1e-4
[[network]]
name = "red10-denoise-s30"
model = "red10"
task = "denoise"
levels = "30"
priority = 1
cpu_patches = 8
gpu_patches = 8
"""


def _install(folder, val_psnr):
    torch.manual_seed(1)
    card = weights.ModelCard(name="red10-denoise-s30", architecture="red", config=red(10).config.as_dict(),
                             task="denoise", levels=[30], recipe="fast", iterations=7, patches_seen=700,
                             batch_size=100, patch_size=50, train_set="bsds500-train", device="GPU",
                             wall_seconds=1.0, budget="test", val_psnr=val_psnr, val_protocol=PROTOCOL,
                             git_commit="", seed=0)
    weights.save(red(10).state_dict(), card, folder)
    return weights.read_card("red10-denoise-s30", folder)


def fake_validation(gains: list[float]):
    """A paired validation that reports the per-image gains `gains` (the real one: tests/test_paired_validation.py),
    and the (candidate, installed) it was asked to compare."""
    from redbench.training.paired_validation import PairedScore, PairedValidation
    calls = []

    def validate(candidate, installed, data_dir=None, device="cpu"):
        calls.append((candidate, installed))
        return PairedValidation("c@1", "i@2", "bsds500-train", (30,),
                                tuple(PairedScore(f"im{i}", 30.0, 25.0 + g, 25.0) for i, g in enumerate(gains)))
    return validate, calls


def test_a_continuation_ships_only_when_it_validates_higher(mirror, tmp_path, capsys, monkeypatch):
    from redbench.training import ship_rule
    plan = tmp_path / "phase2.toml"
    plan.write_text(PHASE2)
    publish = tmp_path / "weights"
    before = _install(publish, val_psnr=99.0)
    unresolved, calls = fake_validation([0.05, -0.01, 0.04, -0.02])   # a gain the images disagree on
    monkeypatch.setattr(ship_rule, "paired_validation", unresolved)
    run_plan(plan, niceness=0, publish_dir=str(publish))
    out = capsys.readouterr().out
    assert "init its installed weights" in out
    assert "not shipped: red10-denoise-s30: paired gain +0.0150 dB over 4 held-out images" in out
    assert calls == [(str(tmp_path / "work2" / "red10-denoise-s30" / "red10-denoise-s30"),
                      str(publish / "red10-denoise-s30"))]
    assert weights.read_card("red10-denoise-s30", publish).sha256 == before.sha256
    assert (tmp_path / "logs2" / "red10-denoise-s30.csv").exists()
    assert not (tmp_path / "work2" / "red10-denoise-s30").exists()
    run_plan(plan, status_only=True, publish_dir=str(publish))
    assert "| 1 | red10-denoise-s30 | its installed weights | 8 / 8 | 100% |" in capsys.readouterr().out
    assert "done, installed network kept" in run_plan_status(plan, publish, capsys)
    run_plan(plan, niceness=0, publish_dir=str(publish))                     # finished: nothing to train
    assert "== red10-denoise-s30" not in capsys.readouterr().out

    # a larger budget and a gain the validation resolves: the continuation ships, and its card counts the
    # patches of the network it continued
    plan.write_text(PHASE2.replace("cpu_patches = 8", "cpu_patches = 16"))
    resolved, _ = fake_validation([0.020, 0.030, 0.025, 0.035])
    monkeypatch.setattr(ship_rule, "paired_validation", resolved)
    run_plan(plan, niceness=0, publish_dir=str(publish))
    out = capsys.readouterr().out
    assert "shipped: red10-denoise-s30: paired gain +0.0275 dB" in out and "published red10-denoise-s30" in out
    shipped = weights.read_card("red10-denoise-s30", publish)
    assert shipped.init == f"red10-denoise-s30@{before.sha256}" and shipped.patches_seen == 16
    assert shipped.earlier_patches == 700 and shipped.total_patches == 716 and shipped.total_iterations == 11
    assert "done, shipped" in run_plan_status(plan, publish, capsys)


def run_plan_status(plan, publish, capsys):
    run_plan(plan, status_only=True, publish_dir=str(publish))
    return capsys.readouterr().out


def test_continuation_entries_are_seeded_and_checked(mirror, tmp_path):
    plan = tmp_path / "phase2.toml"
    plan.write_text(PHASE2)
    installed = tmp_path / "installed"
    _install(installed, val_psnr=20.0)
    assert seed_finished(load_plan(plan), "gpu", installed, tmp_path / "gpu") == ["red10-denoise-s30"]
    # a GPU continuation already run to its budget, whose network stayed out (its log under gpu/runs/): the next
    # call gets its log, so it does not run it again; a log short of the budget is not seeded
    runs = tmp_path / "logs2" / "gpu" / "runs"
    runs.mkdir(parents=True)
    (runs / "20261202T1200Z-red10-denoise-s30.csv").write_text("step,patches\n1,4\n2,8\n")
    device_logs = tmp_path / "device" / "logs"
    seed_finished(load_plan(plan), "gpu", installed, tmp_path / "device" / "weights", logs_dest=device_logs)
    assert (device_logs / "red10-denoise-s30.csv").read_text().endswith("2,8\n")
    plan.write_text(PHASE2.replace("gpu_patches = 8", "gpu_patches = 16"))
    seed_finished(load_plan(plan), "gpu", installed, tmp_path / "device2" / "weights", logs_dest=tmp_path / "l2")
    assert not (tmp_path / "l2").exists()
    plan.write_text(PHASE2.replace('priority = 1', 'priority = 1\ninit = "red10-denoise-single"'))
    with pytest.raises(UserError, match="continues its installed weights, so it cannot also start from"):
        load_plan(plan)
    plan.write_text(PHASE2)
    with pytest.raises(UserError, match="continues the installed network of that name, but .* has none"):
        run_plan(plan, niceness=0, publish_dir=str(tmp_path / "empty"))


C128 = """
[campaign]
train_set = "bsds500-train"
snapshot_minutes = 0
[defaults]
batch_size = 2
[[network]]
name = "red30-c128-denoise-single"
model = "red30-c128"
task = "denoise"
levels = "50"
priority = 1
cpu_patches = 2
gpu_patches = 2
"""


def test_the_released_architecture_trains_from_a_plan_and_loads_from_its_card(mirror, tmp_path):
    from redbench.methods.registry import get_method, registered
    assert {"red30-c128", "red30-c128-single"} <= set(registered())
    (tmp_path / "plan.toml").write_text(C128)
    publish = tmp_path / "weights"
    run_plan(tmp_path / "plan.toml", niceness=0, publish_dir=str(publish))
    card = weights.read_card("red30-c128-denoise-single", publish)
    assert card.complete and card.config["width"] == 128 and card.config["depth"] == 30 and card.config["skip"] == "red"
    net = network_for_card(card)
    assert sum(p.numel() for p in net.parameters()) == 4_134_785      # 4x the 64-map RED30's 1,035,201
    method = get_method(f"net:{publish / 'red30-c128-denoise-single'}", "denoise")
    assert method.weights_id(None) == f"red30-c128-denoise-single@{card.sha256}"
