"""Checkpoints: the complete state of a run on disk, written atomically, read without running code.

A checkpoint holds tensors, numbers, strings and the lists, tuples and dicts of them: the
network's parameters, the optimiser's moments, the learning-rate schedule, the weights lambda_i,
the point samplers' generator states and the history. ``load`` reads it with
``torch.load(weights_only=True)``, which rebuilds exactly those types and refuses anything
else, so a checkpoint someone shares cannot execute code when it is opened.

Every checkpoint carries a ``run`` key that describes the run it belongs to (problem, network,
weighting, budget, steps, seeds); ``load`` refuses a file written for another run.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch


class CheckpointError(ValueError):
    """A checkpoint cannot be used: unreadable, not written by this library, or of another run."""


def save(path: Path, state: dict) -> None:
    """Write ``state`` to ``path`` atomically: a crash mid-write leaves the previous file intact."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load(path: Path, run: dict, device: torch.device | str = "cpu") -> dict:
    """The state saved in ``path`` for the run described by ``run``.

    Raises ``CheckpointError``, with what to do, if the file is corrupt, holds anything but
    tensors and plain data (e.g. a pickled callable), or belongs to another run.
    """
    remedy = "delete it, or run again with --fresh (resume=False) to start over"
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except Exception as error:  # noqa: BLE001 - torch's unpickler fails on corrupt bytes in many ways (struct, index)
        if "GLOBAL" in str(error):  # a pickled class or function: exactly what weights_only refuses to run
            what = f"holds code or objects other than tensors and plain data ({_reason(error)}), so it was not loaded"
        else:
            what = f"is corrupt or not a checkpoint ({_reason(error)})"
        raise CheckpointError(f"checkpoint {path} {what}; {remedy}") from None
    if not isinstance(state, dict) or "run" not in state or "step" not in state:
        raise CheckpointError(f"checkpoint {path} was not written by pinn_tutorial; {remedy}")
    if state["run"] != run:
        raise CheckpointError(f"checkpoint {path} belongs to another run ({state['run']}), not this one ({run}); "
                              f"{remedy}")
    return state


def _reason(error: Exception) -> str:
    """The informative line of a loading error (torch's own text begins with general advice)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    useful = [line for line in lines if "GLOBAL" in line or "Unsupported" in line]
    return (useful or lines or [type(error).__name__])[0]


def saved_step(path: Path) -> int | None:
    """The step a readable checkpoint was written at, or None."""
    try:
        return int(torch.load(path, map_location="cpu", weights_only=True)["step"])
    except Exception:  # noqa: BLE001 - only used to word an error message about another failure
        return None
