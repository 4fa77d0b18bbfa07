"""Many runs at once: runs grouped into ensembles, the groups trained concurrently.

A sweep is a list of ``Experiment``s. ``plan`` groups the runs that can share an ensemble
(``experiments.ensemble_key``: one problem, network and budget; seeds and weightings differ) into
jobs of at most ``ensemble_size`` members, split evenly, and leaves out runs whose result file
exists. ``run_sweep`` trains the jobs

- in local worker processes, ``jobs`` at a time (one per core by default), or
- as tasks on a Ray cluster (``ray_address``; with an empty address, a local Ray started for the
  sweep and stopped after it), Ray being the optional extra ``pinn_tutorial[cluster]``.

Each job writes its result files as soon as it finishes, and a checkpoint while it trains, so a
re-run skips finished runs and resumes checkpointed ones: a killed worker loses only its progress
since its last checkpoint. A run whose loss went non-finite leaves a record in ``out/failed/``,
and a re-run skips it (delete the record to try again).

The named sweeps (``SWEEPS``) are the paper's studies, e.g. Table 2's architecture grid.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import multiprocessing
import multiprocessing.connection
import os
import signal
import socket
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from tqdm.auto import tqdm

from ..checkpoints import CheckpointError, DiskFullError
from ..config import ConfigError, choose, get_budget, get_device, set_threads
from ..methods import METHODS, PAPER_METHODS, get_method
from ..weighting import ANNEALING_FORMS
from .experiments import (
    UNREADABLE_JSON,
    Experiment,
    check_writable,
    ensemble_key,
    identity_key,
    read_result,
    read_result_of,
    run_ensemble,
    run_experiment,
    settings,
    write_json,
    write_result,
)
from .paper import HELMHOLTZ_TABLE2

# Members per ensemble at most: enough to amortise the per-operation cost on a CPU.
ENSEMBLE_SIZE = 16


@dataclass
class Job:
    """Runs trained together in one worker: one run, or an ensemble of runs sharing a network."""

    experiments: list[Experiment]

    def __len__(self) -> int:
        return len(self.experiments)

    @property
    def name(self) -> str:
        """A name that depends on the members only, so that a re-run finds the job's checkpoint."""
        first = self.experiments[0].stem()
        if len(self) == 1:
            return first
        digest = hashlib.sha1(" ".join(e.stem() for e in self.experiments).encode()).hexdigest()[:8]
        return f"{first}_ensemble{len(self)}-{digest}"

    def run(self, out: str | Path, device: str | None = None,
            callback: Callable[[object, int], None] | None = None) -> list[dict]:
        """Train the job (resuming from its checkpoint) and write its result files."""
        if len(self) == 1:
            return [run_experiment(self.experiments[0], out, resume=True, progress=False, device=device,
                                   callback=callback)]
        return run_ensemble(self.experiments, out, resume=True, progress=False, device=device, name=self.name,
                            callback=callback)


MAX_SEEDS = 10_000  # per command: far more than any table needs, and a list that fits in memory


def check_seed_count(count: int) -> int:
    """``count`` if a command may train that many seeds (1 to ``MAX_SEEDS``); otherwise a ConfigError."""
    if not 1 <= count <= MAX_SEEDS:
        raise ConfigError(f"a command trains 1 to {MAX_SEEDS:,} seeds, got {count:,}")
    return count


def parse_seeds(text: str) -> list[int]:
    """Seeds from ``"10"`` (a count: seeds 0-9), ``"5-9"`` (a range, both ends included), ``"0,3,5"`` (a list),
    or a mix (``"0-2,7"``); at most ``MAX_SEEDS`` of them. The one meaning of ``--seeds`` in every command (a
    single seed is ``--seed 3``, or the range ``3-3``)."""
    if text.strip().isdigit():
        return list(range(check_seed_count(int(text))))
    seeds: list[int] = []
    for part in text.split(","):
        first, dash, last = part.strip().partition("-")
        try:
            low, high = int(first), int(last) if dash else int(first)
        except ValueError:
            raise ConfigError(f"seeds are a count (10: seeds 0-9), a range 5-9 or a list 0,3,5; got {text!r}"
                              ) from None
        if high < low:
            raise ConfigError(f"a seed range runs upwards, e.g. 0-9; got {part.strip()!r}")
        check_seed_count(len(seeds) + high - low + 1)  # before the list is built
        seeds.extend(range(low, high + 1))
    if len(set(seeds)) != len(seeds):
        raise ConfigError(f"a seed is listed twice in {text!r}")
    return seeds


def is_finished(exp: Experiment, out: Path) -> bool:
    """Whether the run's result file, or its failure record, exists."""
    return (out / f"{exp.stem()}.json").exists() or (out / "failed" / f"{exp.stem()}.json").exists()


def plan(experiments: list[Experiment], out: str | Path = "results", ensemble_size: int = ENSEMBLE_SIZE) -> list[Job]:
    """The jobs that train the unfinished ``experiments``: ensembles where runs can share one.

    A group of n runs is split into ceil(n / ensemble_size) jobs whose sizes differ by one at most. The split depends
    on the whole list, finished runs included, so that a re-run makes the same jobs and finds
    their checkpoints; a job keeps only its unfinished runs. Jobs with lower seeds come first.
    """
    if ensemble_size < 1:
        raise ConfigError(f"the ensemble size must be at least 1, got {ensemble_size}")
    out = Path(out)
    groups: dict[tuple, list[Experiment]] = defaultdict(list)
    alone = []
    for exp in experiments:
        key = ensemble_key(exp)
        if key is None:
            alone.append(Job([exp]))
        else:
            groups[key].append(exp)
    jobs = []
    for members in groups.values():
        base, extra = divmod(len(members), math.ceil(len(members) / ensemble_size))
        start = 0
        for k in range(math.ceil(len(members) / ensemble_size)):
            size = base + (k < extra)
            jobs.append(Job(members[start:start + size]))
            start += size
    jobs += alone
    # A job some of whose runs have finished (earlier results, or members stopped by a non-finite
    # loss) trains the rest as one smaller job: named after its members, so still found on a re-run.
    todo = [Job(left) for job in jobs if (left := [exp for exp in job.experiments if not is_finished(exp, out)])]
    # Lowest seeds first, across settings: a sweep stopped part-way leaves every setting a few seeds
    # rather than some settings all of theirs and others none (a stable sort keeps the rest of the order).
    return sorted(todo, key=lambda job: min(exp.seed for exp in job.experiments))


# -- local worker processes ------------------------------------------------------------------

BAD_INPUT = 2  # a worker's exit status when its job cannot run as given (a bad checkpoint, device, ...)
DISK_FULL = 3  # a worker's exit status when its disk is full (its error in the shared message)
INTERRUPTED = 130  # a worker's exit status when it was stopped (its run saved at its checkpoint)
STOP_WAIT_S = 60.0  # how long a stopped sweep waits for its workers to save, before it terminates them


def _watch_parent(parent: int) -> None:
    """Stop this worker as Ctrl-C would (finish the step, save, exit) once the process that started it is gone: a
    sweep killed outright (SIGKILL) leaves no worker training on, to collide with the next sweep on its run."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os.kill(os.getpid(), signal.SIGINT)


def _work(job: Job, out: str, device: str | None, progress, message, parent: int) -> None:
    """The body of one worker process: one thread, one job, and its step count shared with the parent.

    Bad input (``ConfigError``, ``CheckpointError``) ends the worker with status ``BAD_INPUT``, its error in
    ``message`` (shared bytes), for the parent to report in one line; a stop (SIGINT or SIGTERM, or the parent
    gone) saves the run at its checkpoint and ends it with status ``INTERRUPTED``, without a traceback."""
    set_threads(1)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()

    def report(trainer, step: int) -> None:
        if step % 50 == 0:
            progress.value = step / trainer.steps

    try:
        results = job.run(out, device, report)
    except (ConfigError, CheckpointError, DiskFullError) as error:
        message.value = str(error).encode()[:len(message) - 1]
        sys.exit(DISK_FULL if isinstance(error, DiskFullError) else BAD_INPUT)
    except KeyboardInterrupt:
        sys.exit(INTERRUPTED)
    _record_failures(job, results, Path(out))


def _stop_workers(running: dict) -> int:
    """Stop the running workers as Ctrl-C stops a run (each finishes its step, saves and exits), wait up to
    ``STOP_WAIT_S`` for them, and terminate any still running; the number of jobs stopped."""
    processes = [process for process, *_ in running.values()]
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGINT)
    deadline = time.monotonic() + STOP_WAIT_S
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.terminate()
            process.join()
    return len(processes)


def _record_failures(job: Job, results: list[dict], out: Path) -> None:
    for exp, result in zip(job.experiments, results):
        if "failed" in result:
            write_json(out / "failed" / f"{exp.stem()}.json", result["failed"])


def _check_failure_record(path: Path, run: str) -> None:
    """A ConfigError naming ``path`` unless it is the failure record ``_record_failures`` wrote for ``run``."""
    try:
        record = json.loads(path.read_text())
    except UNREADABLE_JSON:
        record = None
    if not (isinstance(record, dict) and record.get("run") == run):
        raise ConfigError(f"{path} is not the failure record of run {run}; move it away and run again")


def _run_local(jobs: list[Job], out: Path, workers: int, bar: tqdm, device: str | None,
               finished: Callable[[Job], None]) -> list[tuple[str, bool]]:
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no torch state inherited
    pending, running, failures = list(jobs), {}, []
    done = 0.0
    try:
        while pending or running:
            while pending and len(running) < workers:
                job = pending.pop(0)
                progress, message = context.Value("d", 0.0), context.Array("c", 2000)
                process = context.Process(target=_work, args=(job, str(out), device, progress, message, os.getpid()),
                                          name=job.name)
                process.start()
                running[process.sentinel] = (process, job, progress, message)
            done = _collect(running, failures, finished, done)
            bar.n = round(done + sum(len(job) * p.value for _, job, p, _ in running.values()), 2)
            bar.refresh()
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM to the sweep: its workers save and stop too, none is left behind
        stopped = _stop_workers(running)
        raise KeyboardInterrupt(f"interrupted: {stopped} running jobs saved at their checkpoints, {len(pending)} not "
                                "started; run the same command again to resume") from None
    return failures


def _collect(running: dict, failures: list[tuple[str, bool]], finished: Callable[[Job], None], done: float) -> float:
    """Wait up to a second for workers to end, and take in those that did: ``done`` plus their runs."""
    ready = multiprocessing.connection.wait(list(running), timeout=1.0)
    for sentinel in ready:
        process, job, _, message = running.pop(sentinel)
        process.join()
        if process.exitcode == 0:
            done += len(job)
            finished(job)
        elif process.exitcode in (BAD_INPUT, DISK_FULL):
            failures.append((f"{job.name}: {message.value.decode(errors='replace')}", process.exitcode == BAD_INPUT))
        else:
            failures.append((f"the worker for {job.name} stopped with exit code {process.exitcode}; "
                             "its checkpoint keeps its progress: run the same command again to resume", False))
    return done


# -- Ray ---------------------------------------------------------------------------------------

def _ray_work(job: Job, out: str, device: str | None) -> list[dict]:
    set_threads(1)
    return job.run(out, device)


def _run_ray(jobs: list[Job], out: Path, address: str | None, bar: tqdm, device: str | None,
             finished: Callable[[Job], None]) -> list[tuple[str, bool]]:
    try:
        import ray
    except ImportError:
        raise ConfigError("Ray is not installed: pip install 'pinn_tutorial[cluster]'") from None
    started = not ray.is_initialized()
    if started and address not in (None, "", "auto"):
        check_reachable(address)
    if started:
        # No address: a local Ray for this sweep. The workers import pinn_tutorial from this folder.
        try:
            ray.init(address=address or None, include_dashboard=False, log_to_driver=False,
                     runtime_env={"env_vars": {"PINN_TUTORIAL_THREADS": "1"}})
        except ConnectionError:  # --ray auto with no cluster on this machine
            raise ConfigError(f"no running Ray cluster found for --ray {address} (start one with `ray start --head`, "
                              "or give --ray with no address for a local Ray started for the sweep)") from None
    # No automatic retry: a failed job is reported, and a re-run resumes it from its checkpoint.
    task = ray.remote(num_cpus=1, max_retries=0)(_ray_work)
    refs = {task.remote(job, str(out.resolve()), device): job for job in jobs}
    failures = []
    try:
        while refs:
            ready, _ = ray.wait(list(refs), num_returns=1)
            job = refs.pop(ready[0])
            try:
                results = ray.get(ready[0])
            except ray.exceptions.RayError as error:
                failures.append((f"the Ray task for {job.name} failed ({type(error).__name__}); its checkpoint "
                                 "keeps its progress: run the same command again to resume", False))
                continue
            # On a cluster the worker wrote to its own disk: write the result files here too.
            for exp, result in zip(job.experiments, results):
                if "failed" not in result:
                    write_result(out, exp, result)
            _record_failures(job, results, out)
            bar.update(len(job))
            finished(job)
    finally:
        if started:
            ray.shutdown()
    return failures


# The opening of an HTTP/2 connection (RFC 9113, section 3.4): the client's preface, then an empty SETTINGS frame.
HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])
HTTP2_SETTINGS = 4  # the type of the frame an HTTP/2 server sends first


def check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """A ConfigError unless a Ray head node answers at ``address`` (``host:port`` or ``ray://host:port``) within
    ``timeout_s``: Ray itself would keep retrying for minutes. Ray's ports speak gRPC, so the check opens an
    HTTP/2 connection and wants the server's SETTINGS frame back: a web server, or anything else, is refused."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout_s) as connection:
            connection.settimeout(timeout_s)
            connection.sendall(HTTP2_PREFACE)
            header = connection.recv(9)
    except (OSError, ValueError):
        raise ConfigError(f"no Ray cluster answers at {address} (expected host:port or ray://host:port of a "
                          "running head node; or --ray with no address for a local Ray)") from None
    if len(header) < 4 or header[3] != HTTP2_SETTINGS:
        raise ConfigError(f"something answers at {address}, but not a Ray head node (it does not speak gRPC): check "
                          "the host and port (`ray status` on the head node prints its address)")


class SweepError(RuntimeError):
    """Some jobs of a sweep did not finish; the message says which and how to resume."""


def run_sweep(experiments: list[Experiment], out: str | Path, jobs: int | None = None,
              ray_address: str | None = None, use_ray: bool = False, ensemble_size: int = ENSEMBLE_SIZE,
              progress: bool = True, device: str | None = None) -> list[dict]:
    """Train every unfinished run of ``experiments`` and return the results of all of them.

    ``jobs`` local worker processes (default: one per core), or Ray tasks when ``use_ray``
    (``ray_address`` None: a local Ray for the sweep). Prints one line per finished run; raises
    ``SweepError`` naming what did not finish, or ``ConfigError`` when every job that failed could not run as
    given (bad input: rerunning would not help). Runs stopped by a non-finite loss are listed
    after the sweep, and have no result.
    """
    get_device(device)  # a bad device name, or CUDA where there is none: one error here, not one per worker
    out = Path(out)
    check_writable(out)
    for exp in experiments:  # a finished run's file must be its own: a foreign or broken file would count as done
        if (out / f"{exp.stem()}.json").exists():
            read_result_of(exp, out / f"{exp.stem()}.json")
        elif (out / "failed" / f"{exp.stem()}.json").exists():
            _check_failure_record(out / "failed" / f"{exp.stem()}.json", exp.stem())
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    if workers < 1:
        raise ConfigError(f"--jobs must be at least 1, got {workers}")
    todo = plan(experiments, out, ensemble_size)
    total = sum(len(job) for job in todo)
    where = ("Ray" if use_ray else f"{min(workers, max(len(todo), 1))} worker processes")
    print(f"{len(experiments)} runs: {len(experiments) - total} done before, {total} to train as {len(todo)} jobs "
          f"({', '.join(str(len(j)) for j in todo) or 'none'} runs each) on {where}")
    start = time.perf_counter()

    reporting = True

    def finished(job: Job) -> None:
        nonlocal reporting
        for exp in job.experiments:
            path = out / f"{exp.stem()}.json"
            if path.exists() and reporting:
                result = read_result(path)
                try:
                    tqdm.write(f"{exp.stem()}: relative L2 error {result['rel_l2']:.2e} "
                               f"({time.perf_counter() - start:.0f} s into the sweep)")
                except BrokenPipeError:  # nobody reads the output any more (`| head -1`): the sweep trains on
                    reporting = False

    with tqdm(total=total, disable=not progress or not todo, unit="run", desc="sweep",
              bar_format="{l_bar}{bar}| {n:.1f}/{total} runs [{elapsed}<{remaining}]") as bar:
        if use_ray:
            failures = _run_ray(todo, out, ray_address, bar, device, finished)
        else:
            failures = _run_local(todo, out, workers, bar, device, finished)
    if failures:
        message = "; ".join(text for text, _ in failures)
        raise (ConfigError if all(bad_input for _, bad_input in failures) else SweepError)(message)
    results, stopped = [], []
    for exp in experiments:
        path = out / f"{exp.stem()}.json"
        if path.exists():
            results.append(read_result_of(exp, path))
        else:
            stopped.append(exp.stem())
    if stopped:
        print(f"{len(stopped)} runs stopped on a non-finite loss (records in {out / 'failed'}): {', '.join(stopped)}")
    return results


# -- the paper's sweeps ------------------------------------------------------------------------

def helmholtz_architectures(budget: str, seeds: list[int], methods: tuple[str, ...] = PAPER_METHODS,
                            ) -> list[Experiment]:
    """Table 2: Helmholtz for every width (30, 50, 100) and depth (3, 5, 7 hidden layers), M1-M4."""
    return [Experiment("helmholtz", method, budget, seed, width=width, depth=depth)
            for (depth, width) in HELMHOLTZ_TABLE2 for method in methods for seed in seeds]


# The details in which the original code differs from the library's defaults (see ``Experiment``).
CODE_DETAILS: tuple[dict[str, str], ...] = (
    {"lambda_update": "after_step"},
    {"input_scaling": "sampled"},
    {"adam": "tf1"},
    {"lambda_update": "after_step", "input_scaling": "sampled", "adam": "tf1"},
)


def helmholtz_code_details(budget: str, seeds: list[int], methods: tuple[str, ...] = ("M4",)) -> list[Experiment]:
    """The Helmholtz gap: the paper's network (3 x 50) with each of ``CODE_DETAILS``, M4 by default.

    The runs with the library's defaults, to compare with, are those of ``reproduce helmholtz``.
    """
    return _study("helmholtz", CODE_DETAILS, budget, seeds, methods)


# The settings of Algorithm 1 (the cavity's params are its wall weights): a method with fixed weights (M1, M3) has
# none of them.
ANNEALING_SETTINGS = ("lambda_update", "pooling", "form", "params")


def _study(problem: str, settings: tuple[dict, ...], budget: str, seeds: list[int],
           methods: tuple[str, ...]) -> list[Experiment]:
    """The runs of a study of ``settings``: each method with each setting, as far as it changes how that method
    trains (a method with fixed weights skips Algorithm 1's settings, and a setting left empty by that is the
    method's default run, not part of the study); one run per file name."""
    runs: dict[str, Experiment] = {}
    for setting in settings:
        for method in methods:
            applies = setting if get_method(method).annealing else {k: v for k, v in setting.items()
                                                                    if k not in ANNEALING_SETTINGS}
            for seed in seeds if applies else ():
                exp = Experiment(problem, method, budget, seed, **applies)
                runs.setdefault(exp.stem(), exp)
    return list(runs.values())


# Settings that might explain why the paper finds every method failing on the velocity-pressure cavity.
VELOCITY_STUDY: tuple[dict, ...] = (
    {"depth": 5},  # the paper's "5 layers of 50" (the library's default is the stream-function code's 3)
    {"params": {"wall_weights": 1.0}},  # one weight for the u and v walls instead of one each
    {"pooling": "layer_mean"},  # a global max (the Helmholtz code's) for the cavity code's per-layer max
    {"depth": 5, "params": {"wall_weights": 1.0}, "pooling": "layer_mean"},
)


def cavity_velocity_study(budget: str, seeds: list[int], methods: tuple[str, ...] = ("M3", "M4"),
                          ) -> list[Experiment]:
    """The velocity-pressure cavity with each of ``VELOCITY_STUDY``'s settings, M3 and M4 by default.

    The wall weights and the pooling are Algorithm 1's: a method with fixed weights (M1, M3) runs
    only the settings that change its training (the deeper network). The runs with the library's
    defaults are those of ``reproduce cavity``.
    """
    return _study("cavity_velocity", VELOCITY_STUDY, budget, seeds, methods)


def helmholtz_annealing_forms(budget: str, seeds: list[int], methods: tuple[str, ...] = ("M2",),
                              ) -> list[Experiment]:
    """Algorithm 1 as each library runs it (``weighting.ANNEALING_FORMS``), on the paper's Helmholtz network, M2.

    Seed by seed across the forms, so that a sweep stopped early leaves every form with about as many seeds.
    """
    return [Experiment("helmholtz", method, budget, seed, form=form)
            for seed in seeds for form in ANNEALING_FORMS for method in methods]


def with_settings(experiments: list[Experiment], given: dict) -> list[Experiment]:
    """``experiments`` with the settings ``given`` (``Experiment``'s keyword arguments, e.g. from the command line),
    each where it changes how a run trains (``Setting.applies``: Algorithm 1's form leaves M1 as it is); one run
    per identity."""
    declared = {f.name: d for f, d in settings(Experiment)}
    runs: dict[str, Experiment] = {}
    for exp in experiments:
        changed = replace(exp, **{name: value for name, value in given.items()
                                  if declared[name].applies is None or declared[name].applies(exp)})
        runs.setdefault(identity_key(changed.identity()), changed)
    return list(runs.values())


SWEEPS: dict[str, Callable[..., list[Experiment]]] = {
    "helmholtz-architectures": helmholtz_architectures,
    "helmholtz-code-details": helmholtz_code_details,
    "helmholtz-annealing-forms": helmholtz_annealing_forms,
    "cavity-velocity-study": cavity_velocity_study,
}


def named_sweep(name: str, budget: str | None, seeds: list[int], methods: tuple[str, ...] | None = None,
                ) -> list[Experiment]:
    """The runs of the sweep called ``name`` (see ``SWEEPS``), for ``methods`` or the sweep's own."""
    for method in methods or ():
        choose("method", method, METHODS)
    sweep = SWEEPS[choose("sweep", name, SWEEPS)]
    return sweep(get_budget(budget).name, seeds, *([methods] if methods else []))
