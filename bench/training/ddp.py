"""DistributedDataParallel (torchrun sets WORLD_SIZE, RANK, LOCAL_RANK): joining the group, and what every rank
must agree on (when to stop, the RNG state a checkpoint keeps, identical weights at the end)."""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Ranks:
    world: int = 1
    rank: int = 0

    @property
    def is_main(self) -> bool:   # rank 0 validates, logs, checkpoints and publishes
        return self.rank == 0


def ranks_from_env() -> Ranks:
    return Ranks(int(os.environ.get("WORLD_SIZE", "1")), int(os.environ.get("RANK", "0")))


def join(ranks: Ranks, device: str) -> str:
    """Joins the process group when there are several ranks; returns this rank's device."""
    if ranks.world == 1:
        return device
    import torch.distributed as dist
    dist.init_process_group("nccl" if device == "cuda" else "gloo")
    if device != "cuda":
        return device
    local = int(os.environ.get("LOCAL_RANK", "0"))
    torch.cuda.set_device(local)
    return f"cuda:{local}"


def wrap(model: torch.nn.Module, ranks: Ranks, device: str) -> torch.nn.Module:
    """What the training step calls: the model, or with several ranks its DDP wrapper (which averages gradients)."""
    if ranks.world == 1:
        return model
    from torch.nn.parallel import DistributedDataParallel
    return DistributedDataParallel(model, device_ids=[torch.device(device).index] if "cuda" in device else None)


def slowest(ranks: Ranks, seconds: float, device: str) -> float:
    """The longest of the ranks' step times: every rank must stop at the same step, so they agree on time."""
    if ranks.world == 1:
        return seconds
    import torch.distributed as dist
    t = torch.tensor([seconds], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return float(t)


def gather(ranks: Ranks, part: dict) -> dict:
    """The union of every rank's dict (the patch sources' RNG states a checkpoint keeps)."""
    if ranks.world == 1:
        return part
    import torch.distributed as dist
    gathered = [None] * ranks.world
    dist.all_gather_object(gathered, part)
    return {k: v for each in gathered for k, v in each.items()}

def weights_digest(state_dict: dict) -> str:
    """sha256 over the names and exact bytes of a state dict (as weights_io.save stores it)."""
    import hashlib
    digest = hashlib.sha256()
    for key in sorted(state_dict):
        digest.update(key.encode())
        digest.update(state_dict[key].detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def check_replicas(model: torch.nn.Module, rank: int, world: int, step: int) -> None:
    """DDP keeps one model on every rank: raise unless all ranks hold bitwise-identical weights."""
    import torch.distributed as dist
    digests = [None] * world
    dist.all_gather_object(digests, weights_digest(model.state_dict()))
    if len(set(digests)) != 1:
        raise RuntimeError(f"DDP replicas diverged at step {step}: weight sha256 per rank "
                           + ", ".join(f"{r}: {d[:12]}" for r, d in enumerate(digests)))
    if rank == 0:
        print(f"ddp: weights identical on all {world} ranks at step {step} (sha256 {digests[0]})", flush=True)
