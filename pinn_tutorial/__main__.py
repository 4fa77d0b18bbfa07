"""The command line: ``python -m pinn_tutorial --help``."""

from __future__ import annotations

import argparse
import sys

from .config import BUDGETS, ConfigError, choose, get_budget
from .experiments import Experiment, run_experiment
from .methods import METHODS
from .problems import PROBLEMS
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
    train.add_argument("--method", default="M1", help="M1 (standard), M2 (annealing), M3 (gated net), M4 (both)")
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
    return main


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


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command is None:
        parser().print_help()
        return 2
    try:
        train_command(args)
    except ConfigError as error:
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
