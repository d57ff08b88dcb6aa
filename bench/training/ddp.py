"""DistributedDataParallel: what every rank must agree on."""
from __future__ import annotations

import torch

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
