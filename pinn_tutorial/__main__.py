"""The command line: ``python -m pinn_tutorial --help``."""

from __future__ import annotations

import argparse
import sys

from .bench import report as bench_report
from .config import BUDGETS, ConfigError, choose, get_budget
from .experiments import Experiment, run_experiment
from .methods import METHODS
from .problems import PROBLEMS
from .reproduction import BENCHMARKS, format_table, reproduce, summarise, table
from .studies import STUDIES, run_study
from .training import NonFiniteLossError


def parse_param(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    try:
        if not sep:
            raise ValueError
        return name, float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected NAME=NUMBER, e.g. C=4, got {text!r}") from None


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="python -m pinn_tutorial",
        description="Train physics-informed neural networks as Wang, Teng & Perdikaris (2021) did.")
    commands = main.add_subparsers(dest="command", metavar="COMMAND")
    train = commands.add_parser(
        "train", help="train one run and write its JSON result file",
        description="Train one run and write OUT/<run>.json; an interrupted run resumes from its checkpoint.")
    train.add_argument("problem", help=f"one of: {', '.join(PROBLEMS)}")
    train.add_argument("--method", default="M1", help="M1 (standard), M2 (annealing), M3 (gated net), M4 (both); "
                       "GN2, GN4 (gradient-norm weighting, later work)")
    train.add_argument("--budget", default=None,
                       help=f"one of: {', '.join(BUDGETS)} (default: $PINN_TUTORIAL_BUDGET or 'default')")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--out", default="results", help="folder for the result file (default: results)")
    train.add_argument("--form", default="code",
                       help="Algorithm 1 as the original code ran it ('code', default) or as printed ('paper')")
    train.add_argument("--variant", default="code",
                       help="gated network as the original code builds it ('code', default) or as Eqs. 43-47 ('paper')")
    train.add_argument("--steps", type=int, default=None, help="override the budget's number of steps")
    train.add_argument("--param", type=parse_param, action="append", default=[], metavar="NAME=VALUE",
                       help="a problem parameter, e.g. C=4 for poisson1d or a2=1 for helmholtz")
    train.add_argument("--derivatives", default="auto",
                       help="input derivatives by forward propagation where the net allows ('auto', default) "
                            "or by nested autograd, the reference path ('autograd')")
    train.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    train.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint and start over")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    diagnose = commands.add_parser(
        "diagnose", help="measure the gradient pathologies: Poisson gradient scaling or Hessian stiffness",
        description="'poisson': how the gradients of L_r and L_b grow with the frequency C (Eqs. 14-15); "
                    "'stiffness': the largest Hessian eigenvalues of L_r and L_b during training on Helmholtz "
                    "(Figs. 4, 5, 11). Prints a table and writes OUT/<name>_<budget>_seed<seed>.json.")
    diagnose.add_argument("name", help=f"one of: {', '.join(DIAGNOSTICS)}")
    diagnose.add_argument("--budget", default=None,
                          help=f"one of: {', '.join(BUDGETS)} (default: $PINN_TUTORIAL_BUDGET or 'default')")
    diagnose.add_argument("--seed", type=int, default=0)
    diagnose.add_argument("--steps", type=int, default=None, help="override the budget's number of steps")
    diagnose.add_argument("--out", default="results/diagnostics",
                          help="folder for the result file (default: results/diagnostics)")
    diagnose.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    diagnose.add_argument("--progress", action="store_true", help="show a progress bar for each training run")
    reproduce = commands.add_parser(
        "reproduce", help="run M1..M4 on a benchmark for several seeds and print the table beside the paper",
        description="Run M1..M4 (for 'cavity' both formulations) for seeds 0..N-1, one result file per run in "
                    "OUT; finished or interrupted runs resume from their checkpoints.")
    reproduce.add_argument("benchmark", help=f"one of: {', '.join(BENCHMARKS)}")
    reproduce.add_argument("--budget", default=None,
                           help=f"one of: {', '.join(BUDGETS)} (default: $PINN_TUTORIAL_BUDGET or 'default')")
    reproduce.add_argument("--seeds", type=int, default=1, help="number of seeds, 0..N-1 (default 1)")
    reproduce.add_argument("--methods", default="M1,M2,M3,M4", help="comma-separated (default: M1,M2,M3,M4)")
    reproduce.add_argument("--out", default="results", help="folder for the result files (default: results)")
    reproduce.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    reproduce.add_argument("--no-progress", action="store_true", help="no progress bars")
    table = commands.add_parser("table", help="print the table of the result files, without training")
    table.add_argument("--results", default="results", help="folder of result files (default: results)")
    table.add_argument("--budget", default=None, help="only runs of this budget")
    bench = commands.add_parser(
        "bench", help="time a training step on each derivative path (and, with --full, complete runs)")
    bench.add_argument("--repeats", type=int, default=9, help="timed repeats of 50 steps (default 9)")
    bench.add_argument("--full", action="store_true",
                       help="also time complete paper-budget runs of Helmholtz M4 and Klein-Gordon M4")
    bench.add_argument("--no-compile", action="store_true", help="leave out the compiled path (slow to compile)")
    bench.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    return main


def reproduce_command(args: argparse.Namespace) -> None:
    # reproduce() checks the benchmark, budget and method names before it trains anything.
    methods = tuple(m.strip() for m in args.methods.split(","))
    results = reproduce(args.benchmark, args.budget, args.seeds, args.out, methods, not args.no_progress,
                        args.device)
    print()
    print(format_table(summarise(results)))


def table_command(args: argparse.Namespace) -> None:
    print(table(args.results, args.budget))


def bench_command(args: argparse.Namespace) -> None:
    print(bench_report(args.repeats, args.full, args.device, compile=not args.no_compile))


def train_command(args: argparse.Namespace) -> None:
    choose("problem", args.problem, PROBLEMS)
    choose("method", args.method, METHODS)
    if args.budget is not None:
        choose("budget", args.budget, BUDGETS)
    choose("annealing form", args.form, ("code", "paper"))
    choose("network variant", args.variant, ("paper", "code"))
    choose("derivative method", args.derivatives, ("auto", "autograd"))
    exp = Experiment(args.problem, args.method, get_budget(args.budget).name, args.seed, args.form,
                     args.variant, args.steps, dict(args.param), args.derivatives)
    result = run_experiment(exp, args.out, resume=not args.fresh, progress=not args.no_progress,
                            device=args.device)
    paper = f" (paper: {result['paper_rel_l2']:.2e})" if result["paper_rel_l2"] else ""
    print(f"{exp.problem} {exp.method}, {exp.budget} budget, seed {exp.seed}: relative L2 error "
          f"{result['rel_l2']:.2e}{paper} in {result['wall_s']:.0f} s on {result['hardware']} "
          f"-> {args.out}/{exp.stem()}.json")


DIAGNOSTICS = tuple(STUDIES)  # what `diagnose NAME` runs: the paper's experiments in pinn_tutorial.studies


def diagnose_command(args: argparse.Namespace) -> None:
    """Run one of the paper's diagnostic experiments, print its table and write its JSON file."""
    run = run_study(args.name, args.budget, args.seed, args.steps, args.out, args.progress, args.device)
    print(run.result.format_table())
    print(f"-> {run.path} ({run.wall_s:.0f} s on {run.hardware})")


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command is None:
        parser().print_help()
        return 2
    try:
        commands = {"train": train_command, "diagnose": diagnose_command, "reproduce": reproduce_command,
                    "table": table_command, "bench": bench_command}
        commands[args.command](args)
    except (ConfigError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except NonFiniteLossError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as stop:
        print(f"\n{stop}" if str(stop) else "\ninterrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
