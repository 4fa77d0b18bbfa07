"""Checkpoints: the complete state of a run on disk, written atomically, read without running code.

A checkpoint holds tensors, numbers, strings and the lists, tuples and dicts of them: the
network's parameters, the optimiser's moments, the learning-rate schedule, the weights lambda_i,
the point samplers' generator states and the history. ``load`` reads it with
``torch.load(weights_only=True)``, which rebuilds exactly those types and refuses anything
else, so a checkpoint someone shares cannot execute code when it is opened.

Every checkpoint carries a ``run`` key that describes the run it belongs to (problem, network,
weighting, budget, steps, seeds); ``load`` refuses a file written for another run.

Two processes may meet on one run (two identical commands, a worker left over from a stopped sweep). Every file
is written through a temporary file of its own (``atomic_write``), so writers never truncate each other and a
reader sees the old file or the new one, never half of one; and a run in training holds a lock (``run_lock``), so
that a second process on the same run says which process has it instead of training it again.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import torch

from .config import is_finite

try:  # POSIX; elsewhere runs are not locked (two commands on one run then each write whole files)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None


# What to do about a checkpoint that cannot be resumed, in words every command can follow (reproduce and sweep have
# no --fresh: they resume every run they find).
START_OVER = "delete it to start that run over (train also takes --fresh; the API, resume=False)"


class CheckpointError(ValueError):
    """A checkpoint cannot be used: unreadable, not written by this library, or of another run."""


class RunInUseError(CheckpointError):
    """Another process is training this run (it holds the run's lock)."""


def atomic_write(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write a file through ``write(handle)`` into a temporary file of its own beside ``path``, then put it in
    place with one rename: a reader sees the old file or the new one, two writers never share a temporary file,
    and a failed write (a full disk) leaves the previous file as it was and no temporary file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False)
    try:
        with handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(handle.name, 0o644)  # NamedTemporaryFile makes it 0600: a result is for every reader
        os.replace(handle.name, path)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(handle.name)
        if _disk_full(error, path.parent):
            raise DiskFullError(f"no space left on the device of {path.parent} to write {path.name}; the previous "
                                "file is as it was: free some space and run the same command again") from None
        raise


class DiskFullError(OSError):
    """A file could not be written for want of space; nothing earlier was lost."""


def _disk_full(error: BaseException, folder: Path) -> bool:
    """Whether ``error`` is a full disk: ENOSPC, or torch's own writer failing (it reports a full disk as a
    RuntimeError about file positions) where under a megabyte is free."""
    if isinstance(error, OSError):
        return error.errno == errno.ENOSPC
    if isinstance(error, RuntimeError):
        with contextlib.suppress(OSError):
            return shutil.disk_usage(folder).free < 2**20
    return False


def save(path: Path, state: dict) -> None:
    """Write ``state`` to ``path`` atomically: a crash mid-write leaves the previous file intact."""
    atomic_write(path, lambda handle: torch.save(state, handle))


@contextlib.contextmanager
def run_lock(checkpoint: Path) -> Iterator[None]:
    """Hold the lock of the run whose checkpoint is ``checkpoint`` (``<checkpoint>.lock``, with the holder's PID).

    A ``RunInUseError`` that names the holding process if another process has it. The lock is the operating
    system's (``flock``): it goes with the process that holds it, so a killed run leaves no stale lock.
    """
    if fcntl is None:
        yield
        return
    lock = checkpoint.with_name(checkpoint.name + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise RunInUseError(f"this run is being trained by process {holder} (it holds {lock}); wait for it to "
                                "finish, or stop it, then run the command again") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


def wait_while_in_use(checkpoint: Path, waiting: Callable[[str], None]) -> None:
    """Return once no other process trains the run whose checkpoint is ``checkpoint``: at once if none does, else
    after ``waiting(holder)`` when that process has finished or stopped (a blocking ``flock``, no polling)."""
    if fcntl is None:
        return
    lock = checkpoint.with_name(checkpoint.name + ".lock")
    if not lock.exists():
        return
    with open(lock, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            waiting(handle.read().strip() or "another process")
            fcntl.flock(handle, fcntl.LOCK_EX)
        fcntl.flock(handle, fcntl.LOCK_UN)


def load(path: Path, run: dict, device: torch.device | str = "cpu") -> dict:
    """The state saved in ``path`` for the run described by ``run``.

    Raises ``CheckpointError``, with what to do, if the file is corrupt, holds anything but
    tensors and plain data (e.g. a pickled callable), or belongs to another run.
    """
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except PermissionError:
        raise CheckpointError(f"checkpoint {path} cannot be read by this user (permission denied); give it read "
                              "access, or train as its owner: the file is left as it is") from None
    except Exception as error:  # noqa: BLE001 - torch's unpickler fails on corrupt bytes in many ways (struct, index)
        if "GLOBAL" in str(error):  # a pickled class or function: exactly what weights_only refuses to run
            what = f"holds code or objects other than tensors and plain data ({_reason(error)}), so it was not loaded"
        else:
            what = f"is corrupt or not a checkpoint ({_reason(error)})"
        raise CheckpointError(f"checkpoint {path} {what}; {START_OVER}") from None
    if not isinstance(state, dict) or "run" not in state or "step" not in state:
        raise CheckpointError(f"checkpoint {path} was not written by pinn_tutorial; {START_OVER}")
    if state["run"] != run:
        raise CheckpointError(f"checkpoint {path} belongs to another run: {run_differences(state['run'], run)}; "
                              f"{START_OVER}")
    return state


def run_differences(saved: object, run: dict) -> str:
    """What tells a checkpoint's run key from this run's, in words: the code that wrote it (the identity's code
    fingerprint, when nothing else differs), or each entry that differs."""
    if not isinstance(saved, dict):
        return f"its run key is {saved!r}"
    ours, theirs = run.get("identity"), saved.get("identity")
    if isinstance(ours, dict) and isinstance(theirs, dict) and ours.get("code") != theirs.get("code"):
        if {**saved, "identity": {**theirs, "code": None}} == {**run, "identity": {**ours, "code": None}}:
            return (f"it was written by other code of the library (code fingerprint {str(theirs.get('code'))[:12]}, "
                    f"this code's {str(ours.get('code'))[:12]}), so resuming would mix the two")
    differing = [key for key in {**saved, **run} if saved.get(key) != run.get(key)]
    return "; ".join(f"{key} {saved.get(key)!r} there, {run.get(key)!r} here" for key in differing)


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


def check_history(history: Any) -> Any:
    """``history`` (a ``training.History`` read back from a file) if every entry fits: each logged series a list of
    numbers, one per logged step, the errors one per evaluation, the wall time a time in seconds; else a
    ``TypeError`` or ``ValueError`` naming the entry that does not."""
    series = [("steps", history.steps), ("lr", history.lr), ("eval_steps", history.eval_steps),
              ("rel_l2", history.rel_l2)]
    for name in ("losses", "weights"):
        if not isinstance(getattr(history, name), dict):
            raise TypeError(f"history {name} is not a mapping of terms to lists")
        series += [(f"{name}[{term!r}]", values) for term, values in getattr(history, name).items()]
    for name, values in series:
        if not (isinstance(values, list) and all(isinstance(v, (int, float)) for v in values)):
            raise TypeError(f"history {name} is not a list of numbers")
    if not isinstance(history.diagnostics, list):
        raise TypeError("history diagnostics is not a list")
    wall_s = history.wall_s
    if not (is_finite(wall_s) and wall_s >= 0):
        raise ValueError(f"history wall_s is {wall_s!r}, not a time in seconds")
    # One entry per logged step in every logged series, one per evaluation in the errors: a history with an
    # entry missing (an edited or older file) would resume into series that no longer line up.
    logged = [(name, values) for name, values in series if name not in ("eval_steps", "rel_l2")]
    for name, values in logged + [("rel_l2", history.rel_l2)]:
        expected = len(history.eval_steps) if name == "rel_l2" else len(history.steps)
        if len(values) != expected:
            raise ValueError(f"history {name} has {len(values)} entries for {expected} "
                             f"{'evaluations' if name == 'rel_l2' else 'logged steps'}")
    return history


def input_statistics_key(net: torch.nn.Module, problem: Any) -> dict:
    """The gated network's variant and input statistics other than the exact ones (``problem.input_scaling()``), for
    a run key: both leave the parameters' shapes alike, so restoring the state would not notice them."""
    key = {}
    if getattr(net, "variant", "code") != "code":
        key["variant"] = net.variant
    scaling = [net.input_mean.tolist(), net.input_std.tolist()] if hasattr(net, "input_mean") else None
    exact = [torch.tensor(v, dtype=torch.float32).tolist() for v in problem.input_scaling()]
    if scaling is not None and scaling != exact:
        key["input_statistics"] = scaling
    return key
