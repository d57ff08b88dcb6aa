"""Resumable training state in one safetensors file (model, Adam moments, RNG, counters)."""
from __future__ import annotations

import json
from pathlib import Path

import torch


def save_checkpoint(path: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                    rng: dict[str, torch.Tensor], counters: dict) -> None:
    from safetensors.torch import save_file
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    params = [p for group in optimizer.param_groups for p in group["params"]]
    for index, param in enumerate(params):
        state = optimizer.state.get(param, {})
        for key, value in state.items():
            if torch.is_tensor(value):
                tensors[f"adam.{index}.{key}"] = value.detach().cpu().contiguous()
    tensors.update({k: v.cpu().contiguous() for k, v in rng.items()})
    from redbench.core.atomic import atomic_path
    with atomic_path(path) as tmp:   # a crash mid-write leaves the previous checkpoint intact
        save_file(tensors, str(tmp), metadata={"counters": json.dumps(counters)})


def load_checkpoint(path: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> tuple[dict, dict]:
    """Restores model and optimizer in place; returns (rng tensors, counters)."""
    from safetensors import safe_open
    tensors, counters = {}, {}
    with safe_open(str(path), framework="pt") as fh:
        counters = json.loads(fh.metadata()["counters"])
        for key in fh.keys():
            tensors[key] = fh.get_tensor(key)
    device = next(model.parameters()).device
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    params = [p for group in optimizer.param_groups for p in group["params"]]
    for index, param in enumerate(params):
        state = {key.split(".", 2)[2]: v for key, v in tensors.items() if key.startswith(f"adam.{index}.")}
        if state:
            optimizer.state[param] = {k: (v if k == "step" else v.to(device)) for k, v in state.items()}
    rng = {k: v for k, v in tensors.items() if not k.startswith(("model.", "adam."))}
    return rng, counters
