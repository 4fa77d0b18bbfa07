"""Checks for the book's coding exercises: the learner writes a function, a check runs it and says pass or gives a hint.

Each module of this package checks one exercise, and is named for what the learner writes (``poisson_losses``,
``annealing_update``, ...). Its ``check(fn)`` calls the learner's function on small cases whose right answers come
from the library or from a hand computation, and returns a ``CheckResult``: true when every case passes, with a
message that says which case failed and what to look at. A chapter's check cell shows that message; the tests hold
every check to three cases: the chapter's reference solution passes, the blank template fails, and a plausible
wrong answer (a sign error, a mean for a max, ...) fails.

A check knows the answers it compares against, never the code of the solution: what a learner can read here is
how the answer is tested, not how it is written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch

from ..diagnostics import term_gradients
from ..networks import MLP
from ..problems import Helmholtz


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one exercise's check: ``passed``, and what to tell the learner."""

    exercise: str
    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        mark = "pass" if self.passed else "not yet"
        return f"[{self.exercise}] {mark}: {self.message}"


class CaseFailed(Exception):
    """One case of a check gave the wrong answer; its message is the hint."""


def run_cases(exercise: str, cases: Iterable[Callable[[], None]], success: str) -> CheckResult:
    """Run each case in turn; the first that fails (or raises) gives the hint, else ``success``.

    A case is a function that raises ``CaseFailed`` with a hint when the learner's answer is wrong. An exception of
    the learner's own function is reported as such: the template's ``NotImplementedError`` says what to fill in.
    """
    for case in cases:
        try:
            case()
        except CaseFailed as failure:
            return CheckResult(exercise, False, str(failure))
        except NotImplementedError:
            return CheckResult(exercise, False, "the function is still the template: replace `raise "
                                                "NotImplementedError` with your code.")
        except Exception as error:  # any error of the learner's code becomes the hint
            return CheckResult(exercise, False, f"your function raised {type(error).__name__}: {error}")
    return CheckResult(exercise, True, success)


def expect_close(name: str, got: object, expected: torch.Tensor, hint: str, rtol: float = 1e-4,
                 atol: float = 1e-6) -> None:
    """Raise ``CaseFailed`` unless ``got`` is a tensor (or number) of ``expected``'s shape and close to it."""
    if not isinstance(got, torch.Tensor):
        try:
            got = torch.as_tensor(got, dtype=expected.dtype)
        except (TypeError, ValueError, RuntimeError) as error:
            raise CaseFailed(f"{name} should be a tensor or a number, got {type(got).__name__}") from error
    got = got.detach()
    if got.numel() == expected.numel() and got.shape != expected.shape:
        got = got.reshape(expected.shape)
    if got.shape != expected.shape:
        raise CaseFailed(f"{name} has shape {tuple(got.shape)}, expected {tuple(expected.shape)}")
    if not torch.allclose(got.to(expected.dtype), expected, rtol=rtol, atol=atol):
        worst = (got.to(expected.dtype) - expected).abs().max().item()
        raise CaseFailed(f"{name} is off by up to {worst:.3g}. {hint}")


def helmholtz_gradients() -> dict[str, list[torch.Tensor]]:
    """Each Helmholtz loss term's gradients w.r.t. the weight matrices of a small seeded network (2-10-10-1) on 16
    points (``diagnostics.term_gradients``): the checks' case on a real network. The learner's random stream is
    left as it was."""
    problem = Helmholtz(a1=1.0, a2=4.0)
    with torch.random.fork_rng():
        torch.manual_seed(3)
        net = MLP([2, 10, 10, 1], *problem.input_scaling())
    return term_gradients(problem, net, problem.sample(16, torch.Generator().manual_seed(0)))
