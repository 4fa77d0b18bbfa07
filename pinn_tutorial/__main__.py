"""The command line: ``python -m pinn_tutorial --help``."""
# ruff: noqa: E402  (the imports follow the Ctrl-C handler that covers them)

from __future__ import annotations

import os
import signal

if __name__ == "__main__":  # Ctrl-C while the command line loads (torch takes seconds): exit quietly, not a traceback.
    # os._exit, not sys.exit: SystemExit raised inside a half-done import (numpy's) fails again in the clean-up.
    signal.signal(signal.SIGINT, lambda signum, frame: os._exit(130))

import argparse
import shlex
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from . import checkpoints
from .checkpoints import CheckpointError, DiskFullError
from .config import BUDGETS, MAX_SEED, THREADS_ENV, ConfigError, check_seed, choose, get_budget, get_device, idle_cores
from .methods import METHODS, PAPER_METHODS
from .problems import PROBLEMS
from .reproduction.bench import TimedRunError, cavity_report, ensemble_report, original_report
from .reproduction.bench import report as bench_report
from .reproduction.experiments import (
    Experiment,
    check_writable,
    ensemble_key,
    ensemble_name,
    parse_count,
    run_ensemble,
    run_experiment,
    settings,
)
from .reproduction.leaderboard import leaderboard_table
from .reproduction.original_code import PAPER_STEPS, PYTHON_ENV
from .reproduction.paper_tables import BENCHMARKS, format_table, reproduce, summarise, table
from .reproduction.studies import STUDIES, run_study
from .reproduction.sweeps import ENSEMBLE_SIZE, SWEEPS, SweepError, named_sweep, parse_seeds, run_sweep, with_settings
from .training import STOP_SIGNALS, NonFiniteLossError


class Parser(argparse.ArgumentParser):
    """argparse, with a bad argument reported in one line (and exit status 2) instead of the usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def parse_param(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    try:
        if not sep or not name:
            raise ValueError
        return name, float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected NAME=NUMBER, e.g. C=4, got {text!r}") from None


def parse_pair(text: str) -> tuple[str, str]:
    """NAME=VALUE, the value as text (the setting's own type is applied when the run spec is made)."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, e.g. alpha=0.5, got {text!r}")
    return name.strip(), value


def _argument_type(parse: Callable[[str], object]) -> Callable[[str], object]:
    """A setting's parser as argparse's type: its ConfigError becomes argparse's one-line error."""
    def convert(text: str) -> object:
        try:
            return parse(text)
        except (ConfigError, ValueError) as error:
            raise argparse.ArgumentTypeError(str(error)) from None
    return convert


# The settings a command takes from elsewhere: the problem and budget (positional or their own option), the seed
# (--seed, --seeds), and for reproduce and sweep the methods (--methods).
OWN_OPTIONS = ("problem", "budget", "seed")
SWEPT = ("method", "arch", "weighting")


def spec_options(command: argparse.ArgumentParser, leave_out: tuple[str, ...] = ()) -> None:
    """One option per setting of the run spec (``experiments.Setting``): its flag, help and valid values (read
    from the registries now), each None unless given, so that the spec's own default applies."""
    for f, declared in settings(Experiment):
        if declared.flag is None or f.name in leave_out:
            continue
        flag = declared.flag or f"--{f.name.replace('_', '-')}"
        valid = f" (one of: {', '.join(declared.choices())})" if declared.choices else ""
        if declared.repeat:
            command.add_argument(flag, dest=f.name, action="append", metavar="NAME=VALUE", default=None,
                                 type=parse_param if f.name == "params" else parse_pair,
                                 help=declared.help + " (repeatable)")
        else:
            command.add_argument(flag, dest=f.name, default=None, type=_argument_type(declared.parse),
                                 help=declared.help + valid)


def spec_settings(args: argparse.Namespace, leave_out: tuple[str, ...] = ()) -> dict:
    """The settings given on the command line, as ``Experiment``'s keyword arguments; a NAME given twice in a
    repeatable option is a ConfigError."""
    given = {}
    for f, declared in settings(Experiment):
        value = getattr(args, f.name, None)
        if declared.flag is None or f.name in leave_out or value is None:
            continue
        if declared.repeat:
            names = [name for name, _ in value]
            if twice := sorted({name for name in names if names.count(name) > 1}):
                flag = declared.flag or f"--{f.name.replace('_', '-')}"
                raise ConfigError(f"{flag} {twice[0]} is given twice: give each parameter once")
            value = dict(value)
        given[f.name] = value
    return given


def seeds_argument(text: str) -> list[int]:
    try:
        return [check_seed(seed) for seed in parse_seeds(text)]
    except ConfigError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def seed_argument(text: str) -> int:
    try:
        return check_seed(int(text))
    except (ValueError, ConfigError):
        raise argparse.ArgumentTypeError(f"a seed is a whole number from 0 to {MAX_SEED}, got {text!r}") from None


# A whole number of at least 1 (seeds, jobs, steps, repeats), in argparse's one-line error.
count_argument = _argument_type(parse_count)


def _budget_option(command: argparse.ArgumentParser) -> None:
    command.add_argument("--budget", default=None,
                         help=f"one of: {', '.join(BUDGETS)} (default: $PINN_TUTORIAL_BUDGET or 'default')")


def _sweep_options(command: argparse.ArgumentParser) -> None:
    """The options of the commands that train many runs: which ones, and where."""
    _budget_option(command)
    command.add_argument("--seeds", type=seeds_argument, default=[0],
                         help="a count N (seeds 0..N-1), a range 5-9 or a list 0,3,5 (default: seed 0)")
    command.add_argument("--methods", default=None,
                         help="comma-separated (default: M1,M2,M3,M4, or the sweep's own: M4 for the code details)")
    command.add_argument("--jobs", type=count_argument, default=None,
                         help="local worker processes (default: one per core)")
    command.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                         help="run the jobs on a Ray cluster at ADDRESS (e.g. auto, or ray://head:10001); "
                              "with no ADDRESS, on a local Ray started for the sweep")
    command.add_argument("--ensemble-size", type=count_argument, default=ENSEMBLE_SIZE,
                         help=f"members per ensemble at most (default {ENSEMBLE_SIZE}; 1: every run on its own)")
    spec_options(command, OWN_OPTIONS + SWEPT)
    command.add_argument("--out", default="results", help="folder for the result files (default: results)")
    command.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    command.add_argument("--no-progress", action="store_true", help="no progress bar")


def parser() -> argparse.ArgumentParser:
    main = Parser(
        prog="python -m pinn_tutorial",
        description="Train physics-informed neural networks as Wang, Teng & Perdikaris (2021) did.")
    commands = main.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    train = commands.add_parser(
        "train", help="train one run, or several seeds as one ensemble, and write their JSON result files",
        description="Train one run and write OUT/<run>.json; with --seeds, train those seeds together as one "
                    "ensemble (one result file each). An interrupted run resumes from its checkpoint.")
    train.add_argument("problem", help=f"one of: {', '.join(PROBLEMS)}")
    _budget_option(train)
    seeds = train.add_mutually_exclusive_group()
    seeds.add_argument("--seed", type=seed_argument, default=None, help="one seed (default 0)")
    seeds.add_argument("--seeds", type=seeds_argument, default=None,
                       help="several seeds, trained together as one ensemble: a count N (seeds 0..N-1), a range 5-9 "
                            "or a list 0,3,5")
    train.add_argument("--out", default="results", help="folder for the result file (default: results)")
    spec_options(train)
    train.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    train.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint and start over")
    train.add_argument("--wait", action="store_true",
                       help="if another process is training this run, wait for it to end, then resume (or return "
                            "the finished run) instead of stopping with an error")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    diagnose = commands.add_parser(
        "diagnose", help="measure the gradient pathologies: Poisson gradient scaling or Hessian stiffness",
        description="'poisson': how the gradients of L_r and L_b grow with the frequency C (Eqs. 14-15); "
                    "'stiffness': the largest Hessian eigenvalues of L_r and L_b during training on Helmholtz "
                    "(Figs. 4, 5, 11). Prints a table and writes OUT/<name>_<budget>_seed<seed>.json.")
    diagnose.add_argument("name", help=f"one of: {', '.join(DIAGNOSTICS)}")
    _budget_option(diagnose)
    diagnose.add_argument("--seed", type=seed_argument, default=0)
    diagnose.add_argument("--steps", type=count_argument, default=None, help="override the budget's number of steps")
    diagnose.add_argument("--out", default="results/diagnostics",
                          help="folder for the result file (default: results/diagnostics)")
    diagnose.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    diagnose.add_argument("--progress", action="store_true", help="show a progress bar for each training run")
    reproduce = commands.add_parser(
        "reproduce", help="run M1..M4 on a benchmark for several seeds and print the table beside the paper",
        description="Run M1..M4 (for 'cavity' both formulations) for seeds 0..N-1, one result file per run in "
                    "OUT. Runs that share a network train as one ensemble (M1 with M2, M3 with M4), several "
                    "jobs at once; finished runs are skipped and interrupted ones resume from their checkpoints.")
    reproduce.add_argument("benchmark", help=f"one of: {', '.join(BENCHMARKS)}")
    _sweep_options(reproduce)
    sweep = commands.add_parser(
        "sweep", help="run one of the paper's studies over many settings, e.g. Table 2's architecture grid",
        description="'helmholtz-architectures': Helmholtz with 30, 50 and 100 units x 3, 5 and 7 hidden layers, "
                    "M1..M4 (Table 2). 'helmholtz-code-details': Helmholtz M4 with each detail in which the "
                    "original code differs from the library's defaults, and with all of them. "
                    "'helmholtz-annealing-forms': Helmholtz M2 with Algorithm 1 as each library runs it (--form). "
                    "'cavity-velocity-study': the velocity-pressure cavity, M3 and M4, with the paper's 5 layers "
                    "of 50, one wall weight for u and v, and Algorithm 1 pooled by a global max. Jobs run as for "
                    "reproduce; then the table.")
    sweep.add_argument("name", help=f"one of: {', '.join(SWEEPS)}")
    _sweep_options(sweep)
    table = commands.add_parser("table", help="print the table of the result files, without training")
    table.add_argument("--results", default="results", help="folder of result files (default: results)")
    table.add_argument("--budget", default=None, help="only runs of this budget")
    bench = commands.add_parser(
        "bench", help="time a training step on each derivative path (and, with --full, complete runs)")
    bench.add_argument("--repeats", type=count_argument, default=9, help="timed repeats of 50 steps (default 9)")
    bench.add_argument("--full", action="store_true",
                       help="also time complete paper-budget runs of Helmholtz M4 and Klein-Gordon M4")
    bench.add_argument("--ensemble", action="store_true",
                       help="instead: E runs one after another, as 2 worker processes, and as one E-member "
                            "ensemble, for E = 1, 4, 10 (and 64 on a GPU)")
    bench.add_argument("--cavity", action="store_true",
                       help="instead: the cavity's two formulations (stream function, velocity-pressure), M1 and M4, "
                            "on each derivative path, and the stream function's cost over the other's")
    bench.add_argument("--no-compile", action="store_true", help="leave out the compiled path (slow to compile)")
    bench.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    bench.add_argument("--original", action="store_true",
                       help="instead: whole Helmholtz runs of M1, M2 and M4 by the authors' TensorFlow code (from "
                            "--checkout, run by --python) and by the library, interleaved, one thread each; prints "
                            "ours/theirs per method and writes OUT/original_cpu_<date>.txt")
    bench.add_argument("--checkout", default=None,
                       help="--original: the authors' repository, a folder with its files or a git directory")
    bench.add_argument("--commit", default=None, help="--original, with a git directory: the commit (default HEAD)")
    bench.add_argument("--python", default=None,
                       help=f"--original: a Python with TensorFlow (default: ${PYTHON_ENV}, else this one)")
    bench.add_argument("--steps", type=count_argument, default=None,
                       help=f"--original: steps of every run (default {PAPER_STEPS:,}, the paper's)")
    bench.add_argument("--out", default=None, help="--original: folder for the report (default: results/bench)")
    return main


def _methods(text: str | None) -> tuple[str, ...] | None:
    """The methods named in ``text`` (None when not given: the command's default)."""
    if text is None:
        return None
    methods = tuple(choose("method", m.strip(), METHODS) for m in text.split(","))
    if len(set(methods)) != len(methods):
        raise ConfigError(f"a method is listed twice in --methods {text!r}")
    return methods


def _sweep_settings(args: argparse.Namespace) -> dict:
    if args.ray is not None and args.jobs is not None:
        raise ConfigError("--jobs sets local worker processes; with --ray the cluster decides how many jobs run at "
                          "once: give one or the other")
    return {"jobs": args.jobs, "use_ray": args.ray is not None, "ray_address": args.ray or None,
            "ensemble_size": args.ensemble_size, "progress": not args.no_progress, "device": args.device}


def reproduce_command(args: argparse.Namespace) -> None:
    # reproduce() checks the benchmark and budget names before it trains anything.
    methods = _methods(args.methods) or PAPER_METHODS
    results = reproduce(args.benchmark, args.budget, args.seeds, out=args.out, methods=methods,
                        settings=spec_settings(args, OWN_OPTIONS + SWEPT), **_sweep_settings(args))
    print()
    print(format_table(summarise(results)))


def sweep_command(args: argparse.Namespace) -> None:
    experiments = with_settings(named_sweep(args.name, args.budget, args.seeds, _methods(args.methods)),
                                spec_settings(args, OWN_OPTIONS + SWEPT))
    results = run_sweep(experiments, args.out, **_sweep_settings(args))
    print()
    print(format_table(summarise(results)))


def table_command(args: argparse.Namespace) -> None:
    print(table(args.results, args.budget))
    with warnings.catch_warnings():  # the files it skips, the table above has named already
        warnings.simplefilter("ignore")
        remedies = leaderboard_table(args.results) if args.budget in (None, "paper") else ""
    if remedies:
        print(f"\n{remedies}")


BENCH_ORIGINAL_OPTIONS = ("checkout", "commit", "python", "steps", "out")  # options of bench --original only


def bench_original(args: argparse.Namespace) -> None:
    """``bench --original``: every input checked before anything is timed (``original_report`` checks the checkout,
    the Python and the folder); a run that fails ends the command with one line and exit status 1."""
    clash = [f"--{name.replace('_', '-')}" for name in ("full", "ensemble", "cavity", "no_compile")
             if getattr(args, name)]
    if clash:
        raise ConfigError(f"bench --original times whole runs of its own; it takes no {', '.join(clash)}")
    if args.checkout is None:
        raise ConfigError("bench --original needs --checkout, the authors' repository (a folder or a git directory)")
    if args.device not in (None, "cpu"):
        raise ConfigError(f"bench --original runs both codes on the CPU, one thread each; not on {args.device}")
    given = [w for name in BENCH_ORIGINAL_OPTIONS if getattr(args, name) is not None
             for w in (f"--{name}", str(getattr(args, name)))]
    try:
        text, path = original_report(args.steps or PAPER_STEPS, args.checkout,
                                     args.python or os.environ.get(PYTHON_ENV) or sys.executable,
                                     args.out or "results/bench", args.commit,
                                     "python -m pinn_tutorial bench --original " + shlex.join(given),
                                     progress=lambda line: print(line, file=sys.stderr, flush=True))
    except TimedRunError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    print(text)
    print(f"-> {path}", file=sys.stderr)


def bench_command(args: argparse.Namespace) -> None:
    if args.original:
        return bench_original(args)
    given = [f"--{name}" for name in BENCH_ORIGINAL_OPTIONS if getattr(args, name) is not None]
    if given:
        raise ConfigError(f"only bench --original takes {', '.join(given)}")
    get_device(args.device)  # a bad device: one line here, not a traceback from a timing worker
    if sum((args.ensemble, args.cavity, args.full)) > 1:
        raise ConfigError("bench --full, --ensemble and --cavity are three reports: give one")
    if args.ensemble:
        print(ensemble_report(args.repeats, args.device, compile=not args.no_compile))
    elif args.cavity:
        print(cavity_report(args.repeats, args.device, compile=not args.no_compile))
    else:
        print(bench_report(args.repeats, args.full, args.device, compile=not args.no_compile))


def train_command(args: argparse.Namespace) -> None:
    seeds = args.seeds or [args.seed or 0]
    # Experiment checks every setting (the Python API's one validation); the device and the folder come next, so a
    # bad value leaves nothing behind.
    given = spec_settings(args, OWN_OPTIONS)
    exps = [Experiment(args.problem, budget=get_budget(args.budget).name, seed=seed, **given) for seed in seeds]
    get_device(args.device)
    check_writable(args.out)
    options = {"resume": not args.fresh, "progress": not args.no_progress, "device": args.device}
    # SOAP's preconditioner of a stacked tensor would mix the members: its seeds train one after another.
    one_at_a_time = args.seeds is None or exps[0].optimizer != "adam"
    if args.wait:
        name = exps[0].stem() if one_at_a_time else ensemble_name(exps)
        checkpoints.wait_while_in_use(Path(args.out) / "checkpoints" / f"{name}.pt", lambda holder: print(
            f"waiting for process {holder}, which is training this run", file=sys.stderr, flush=True))
    if one_at_a_time:
        results = [run_experiment(exp, args.out, **options) for exp in exps]
    elif ensemble_key(exps[0]) is None:
        raise ConfigError(f"{args.problem} with --derivatives {args.derivatives} cannot train as an ensemble "
                          "(nested autograd); train its seeds one by one, or with `reproduce`")
    else:
        # One ensemble alone on the machine: on 2 cores, 2 threads made its steps 1.6x faster than 1
        # (results/bench/ensemble_cpu_*.txt). Beside other busy runs, threads on shared cores make it many
        # times slower, so it takes only the idle cores. $PINN_TUTORIAL_THREADS still decides when it is set.
        os.environ.setdefault(THREADS_ENV, str(idle_cores()))
        results = run_ensemble(exps, args.out, **options)
    failed = []
    for exp, result in zip(exps, results):
        if "failed" in result:
            f = result["failed"]
            failed.append(f"seed {exp.seed}: {f['what']} at step {f['step']}")
            continue
        paper = f" (paper: {result['paper_rel_l2']:.2e})" if result["paper_rel_l2"] else ""
        print(f"{exp.problem} {exp.method}, {exp.budget} budget, seed {exp.seed}: relative L2 error "
              f"{result['rel_l2']:.2e}{paper} in {result['wall_s']:.0f} s on {result['hardware']} "
              f"-> {args.out}/{exp.stem()}.json")
    if failed:
        raise NonFiniteLossError(f"{len(failed)} of {len(exps)} members stopped: " + "; ".join(failed))


DIAGNOSTICS = tuple(STUDIES)  # what `diagnose NAME` runs: the paper's experiments in pinn_tutorial.reproduction.studies


def diagnose_command(args: argparse.Namespace) -> None:
    """Run one of the paper's diagnostic experiments, print its table and write its JSON file."""
    choose("diagnostic", args.name, DIAGNOSTICS)  # the names first: a bad one leaves no folder behind
    get_budget(args.budget)
    check_writable(args.out)
    run = run_study(args.name, args.budget, args.seed, args.steps, folder=args.out, progress=args.progress,
                    device=args.device)
    print(run.result.format_table())
    print(f"-> {run.path} ({run.wall_s:.0f} s on {run.hardware})")


def _one_line_warnings(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"warning: {message}", file=sys.stderr if file is None else file)


def _stop(signum: int, frame: object) -> NoReturn:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command is None:
        parser().print_help()
        return 2
    warnings.showwarning = _one_line_warnings  # e.g. a skipped result file: one line, not a source excerpt
    # SIGTERM (an IDE's stop button, `kill`, a scheduler) stops a command as Ctrl-C does: runs save, workers stop.
    # Output that the terminal cannot encode (a path with accents under PYTHONIOENCODING=ascii) is escaped, not fatal.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    previous = {stop: signal.signal(stop, signal.default_int_handler if stop == signal.SIGINT else _stop)
                for stop in STOP_SIGNALS}
    try:
        return _run(args)
    finally:
        for stop, handler in previous.items():
            signal.signal(stop, handler)


def _run(args: argparse.Namespace) -> int:
    """The command of ``args``, its errors reported in one line: exit status 2 for bad input, 1 for a run or a
    disk that failed, 130 when stopped."""
    try:
        commands = {"train": train_command, "diagnose": diagnose_command, "reproduce": reproduce_command,
                    "sweep": sweep_command, "table": table_command, "bench": bench_command}
        commands[args.command](args)
    except (ConfigError, CheckpointError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (NonFiniteLossError, SweepError, DiskFullError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as stop:
        print(f"\n{stop}" if str(stop) else "\ninterrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of the output went away (`| head -1`): the work is saved, nothing to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python's recipe: no error at exit either
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
