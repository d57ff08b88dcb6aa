"""Training under torchrun (2 CPU ranks, gloo): one writer, identical replicas, a patch stream per rank."""
import os
import subprocess
import sys

import torch
from safetensors.torch import load_file

from redbench.training.ddp import weights_digest
from tests.conftest import ROOT

ITERS, BATCH, PATCH = 3, 2, 24


def test_torchrun_two_ranks(mirror, tmp_path):
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           str(ROOT / "run_bench.py"), "train", "--model", "red10", "--task", "denoise", "--levels", "30",
           "--iters", str(ITERS), "--batch-size", str(BATCH), "--patch", str(PATCH), "--train-set", "set12",
           "--out", str(out), "--device", "cpu", "--threads", "1", "--val-every", "3", "--log-every", "1",
           "--weights-dtype", "float32"]
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    # every rank ended with bitwise-identical weights, and they are the ones rank 0 published
    agree = [line for line in result.stdout.splitlines() if line.startswith("ddp: weights identical")]
    assert len(agree) == 1 and f"on all 2 ranks at step {ITERS}" in agree[0], result.stdout
    weights = load_file(str(out / "red10-denoise.safetensors"))
    assert agree[0].endswith(f"(sha256 {weights_digest(weights)})")

    # rank 0 alone wrote: one log with one line per step, one 'done', one set of outputs
    log = (out / "log.csv").read_text().splitlines()
    assert log[0].startswith("step,patches") and len(log) == 1 + ITERS
    assert log[-1].startswith(f"{ITERS},{ITERS * BATCH * 2},")          # patches counted over both ranks
    assert sum(line.startswith("done: ") for line in result.stdout.splitlines()) == 1
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint.safetensors", "curves.png", "log.csv",
                                                     "red10-denoise.json", "red10-denoise.safetensors"]

    # each rank drew its own patches: its stream is PatchSource(seed*1000 + rank), advanced ITERS batches
    from redbench.datasets.catalog import get_spec
    from redbench.datasets.fetch import dataset_files
    from redbench.training.patches import PatchSource
    checkpoint = load_file(str(out / "checkpoint.safetensors"))
    refs, spec = dataset_files("set12"), get_spec("set12")
    first = []
    for rank in (0, 1):
        source = PatchSource("denoise", [30], refs, spec, PATCH, "cpu", seed=0, rank=rank)
        batches = [source.batch(BATCH) for _ in range(ITERS)]
        first.append(batches[0][1])
        assert torch.equal(source.state()["rng.patches"], checkpoint[f"rank{rank}.rng.patches"])
        assert torch.equal(source.state()["rng.noise"], checkpoint[f"rank{rank}.rng.noise"])
    assert not torch.equal(first[0], first[1])


def _replica_worker(rank, init_file, diverge, results):
    import torch.distributed as dist

    from redbench.training.ddp import check_replicas
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=2)
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    if diverge and rank == 1:
        with torch.no_grad():
            model.bias[0] += 1e-7
    try:
        check_replicas(model, rank, 2, step=5)
        results.put((rank, "ok"))
    except RuntimeError as exc:
        results.put((rank, str(exc)))
    finally:
        dist.destroy_process_group()


def test_replica_check_catches_divergence(tmp_path):
    import multiprocessing as mp
    context = mp.get_context("spawn")
    for diverge in (False, True):
        results = context.Queue()
        init = tmp_path / f"init{diverge}"
        procs = [context.Process(target=_replica_worker, args=(r, str(init), diverge, results)) for r in (0, 1)]
        for p in procs:
            p.start()
        outcome = dict(results.get(timeout=120) for _ in procs)
        for p in procs:
            p.join(60)
        if diverge:
            assert all("DDP replicas diverged at step 5" in outcome[r] for r in (0, 1)), outcome
        else:
            assert outcome == {0: "ok", 1: "ok"}
