"""One place for the settings every chapter and command shares: budget, device, seed, threads.

A *budget* says how much work a run does. Three exist:

- ``quick``: seconds; the tests and CI use it.
- ``default``: what a learner runs; a chapter takes a few minutes on a laptop CPU and the
  phenomenon still shows (M1 visibly fails where M2 and M4 succeed).
- ``paper``: the protocol of Wang, Teng & Perdikaris (2021), section 3: 40,000 Adam steps,
  a fresh batch of 128 points per loss term every step, learning rate
  ``1e-3 * 0.9 ** (step / 1000)``, relative L2 error on a 100 x 100 grid.

The budget comes from the ``budget`` argument when one is given, otherwise from the
environment variable ``PINN_TUTORIAL_BUDGET``, otherwise ``default``.
"""

from __future__ import annotations

import contextlib
import difflib
import math
import numbers
import os
from collections.abc import Iterator
from dataclasses import dataclass

import torch

BUDGET_ENV = "PINN_TUTORIAL_BUDGET"
DEVICE_ENV = "PINN_TUTORIAL_DEVICE"
THREADS_ENV = "PINN_TUTORIAL_THREADS"
MAX_THREADS = 1024  # more than any one machine's cores; torch fails on counts past a C int


@dataclass(frozen=True)
class Budget:
    """How much work one training run does.

    ``steps`` Adam steps with learning rate ``lr * decay_rate ** (step / decay_steps)``;
    ``batch_size`` fresh points per loss term each step; the history is logged every
    ``log_every`` steps, the relative L2 error evaluated every ``eval_every`` steps on a
    ``grid_size`` x ``grid_size`` grid, and a checkpoint written every ``checkpoint_every``.
    """

    name: str
    steps: int
    batch_size: int
    log_every: int
    eval_every: int
    checkpoint_every: int
    grid_size: int
    lr: float = 1e-3
    decay_rate: float = 0.9
    decay_steps: int = 1000


BUDGETS: dict[str, Budget] = {
    "quick": Budget("quick", steps=300, batch_size=64, log_every=10, eval_every=100,
                    checkpoint_every=100, grid_size=50),
    "default": Budget("default", steps=6000, batch_size=128, log_every=20, eval_every=500,
                      checkpoint_every=1000, grid_size=100),
    "paper": Budget("paper", steps=40000, batch_size=128, log_every=100, eval_every=1000,
                    checkpoint_every=2000, grid_size=100),
}
MAX_STEPS = 10**7  # steps of one run at most: the paper's runs take 40,000, and 10^7 would take days


class ConfigError(ValueError):
    """A setting names something that does not exist; the message lists what does."""


def choose(kind: str, name: str, valid: dict | list | tuple) -> str:
    """Return ``name`` if it is one of ``valid``; otherwise raise a ConfigError listing them, with the nearest
    one first when the name looks like a slip of it ('helmholz', 'm4', 'helmholtz_architectures')."""
    if name not in valid:
        names = [str(v) for v in valid]
        folded = {v.lower().replace("_", "-"): v for v in names}
        near = folded.get(str(name).lower().replace("_", "-")) or next(
            iter(difflib.get_close_matches(str(name), names, n=1, cutoff=0.75)), None)
        hint = f"did you mean {near!r}? " if near else ""
        raise ConfigError(f"unknown {kind} {name!r}; {hint}choose one of: {', '.join(names)}")
    return name


def is_whole(value: object) -> bool:
    """Whether ``value`` is a whole number: an integer of any kind (``int``, NumPy's), and not a ``bool`` (JSON's
    ``true`` is one to Python)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_finite(value: object) -> bool:
    """Whether ``value`` is a finite real number of any kind (``int``, ``float``, NumPy's), not a ``bool``, not NaN or
    infinite."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def get_budget(budget: str | Budget | None = None) -> Budget:
    """The budget named by the argument, else by ``$PINN_TUTORIAL_BUDGET``, else ``default``."""
    if isinstance(budget, Budget):
        return budget
    if budget is None and os.environ.get(BUDGET_ENV):
        return BUDGETS[choose(f"budget (from ${BUDGET_ENV})", os.environ[BUDGET_ENV], BUDGETS)]
    return BUDGETS[choose("budget", budget or "default", BUDGETS)]


def get_device(device: str | torch.device | None = None) -> torch.device:
    """CUDA when a GPU is present, otherwise the CPU; ``$PINN_TUTORIAL_DEVICE`` overrides.

    A ConfigError for anything but the CPU and CUDA (the two the library is built and tested for), or
    for CUDA on a machine without it."""
    if device is None:
        device = os.environ.get(DEVICE_ENV) or ("cuda" if torch.cuda.is_available() else "cpu")
    name = str(device)
    try:
        device = torch.device(device)
    except RuntimeError:
        device = None
    if device is None or device.type not in ("cpu", "cuda"):
        raise ConfigError(f"unknown device {name!r}; choose cpu or cuda (or cuda:N)")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {str(device)!r} asked for, but this machine has no CUDA GPU that torch can use")
    return device


def set_threads(n: int | None = None) -> int:
    """Set PyTorch's CPU threads (``$PINN_TUTORIAL_THREADS``, else 1) and return the count.

    The networks here are small (a few thousand weights, 128 points per term), so a second
    thread barely shortens a training step, while several threads per run slow down runs that
    share the cores (two test workers, a book build beside a reproduction) many times over. One
    thread per run is the robust choice; run several runs side by side to use more cores. To
    measure it on a machine, compare ``python -m pinn_tutorial bench`` run as it is and with
    ``PINN_TUTORIAL_THREADS=2``.
    """
    if not n:
        text = os.environ.get(THREADS_ENV) or "1"
        n = int(text) if text.isascii() and text.isdigit() else 0
        if not 1 <= n <= MAX_THREADS:
            raise ConfigError(f"${THREADS_ENV} must be a whole number from 1 to {MAX_THREADS}, got {text!r}")
    torch.set_num_threads(n)
    return n


@contextlib.contextmanager
def threads(n: int | None = None) -> Iterator[int]:
    """``set_threads(n)`` for the duration of a ``with`` block (a run), then the process's count as it was."""
    before = torch.get_num_threads()
    try:
        yield set_threads(n)
    finally:
        torch.set_num_threads(before)


def idle_cores() -> int:
    """The CPU cores that other work leaves free: the core count less the 1-minute load average, at least 1.

    For one process that wants several threads (an ensemble on the CPU): threads that share busy cores
    wait on each other at every operation, which makes a step many times slower than one thread would.
    Where the load average is not known (Windows), every core counts as free.
    """
    cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return cores
    return max(1, min(cores, cores - round(load)))


def sampler_generator(seed: int) -> torch.Generator:
    """The point samplers' own generator for a run of seed ``seed``, seeded ``seed + 1``.

    One construction for single runs and ensemble members, so that a member draws exactly the
    points of the single run with its seed.
    """
    generator = torch.Generator()
    generator.manual_seed(seed + 1)
    return generator


def weighting_generator(seed: int) -> torch.Generator:
    """The weighting scheme's own generator for a run of seed ``seed``, seeded ``seed + 2`` (the samplers
    have ``seed + 1``), so that a scheme's random draws leave the points that are drawn unchanged."""
    generator = torch.Generator()
    generator.manual_seed(seed + 2)
    return generator


MAX_SEED = 2**32 - 2  # a seed the original code (NumPy, below 2^32) takes too, with the samplers at seed + 1


def check_seed(seed: int) -> int:
    """``seed`` if it is a whole number in [0, 2^32 - 2]; otherwise a ConfigError saying so."""
    if not (is_whole(seed) and 0 <= seed <= MAX_SEED):
        raise ConfigError(f"a seed must be a whole number from 0 to {MAX_SEED}, got {seed!r}")
    return seed
