"""Every coding exercise of the book, held to its check: the reference solution passes, the blank template fails,
and the plausible wrong answer the solution shows fails too.

An exercise is found in its chapter, never listed here: a code cell tagged ``exercise-starter`` (the template the
learner fills in), the next cell tagged ``exercise-check`` (its last line calls the check), and the exercise's
``{solution}`` directive, whose first ``python`` fence is the reference and whose ``{code-block}`` captioned
"wrong answer" is the mistake the check must catch.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))


@dataclass
class CodingExercise:
    chapter: str
    label: str
    starter: str
    check: str
    reference: str
    wrong: str


def _source(cell: dict) -> str:
    return "".join(cell["source"])


def _tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def _solution_block(markdown: str, label: str) -> str | None:
    """The body of the ``{solution} label`` directive in ``markdown``, up to its closing fence."""
    opening = re.search(rf"^(?P<fence>`{{3,}}|:{{3,}})\{{solution\}}\s+{re.escape(label)}\s*$", markdown, re.M)
    if opening is None:
        return None
    fence = opening["fence"]
    closing = re.compile(rf"^{re.escape(fence)}\s*$", re.M).search(markdown, opening.end())
    return markdown[opening.end(): closing.start() if closing else len(markdown)]


def _fences(body: str) -> tuple[str | None, str | None]:
    """The reference (first ``python`` fence) and the wrong answer (a ``{code-block}`` captioned "wrong answer")."""
    reference = re.search(r"^(`{3,})python\s*\n(.*?)^\1\s*$", body, re.M | re.S)
    wrong = re.search(r"^(`{3,})\{code-block\}\s*python\s*\n:caption:\s*wrong answer\s*\n(.*?)^\1\s*$",
                      body, re.M | re.S | re.I)
    return (reference[2] if reference else None), (wrong[2] if wrong else None)


def coding_exercises() -> list[CodingExercise]:
    found = []
    for path in CHAPTERS:
        cells = json.loads(path.read_text())["cells"]
        markdown = "\n".join(_source(c) for c in cells if c["cell_type"] == "markdown")
        for k, cell in enumerate(cells):
            if "exercise-starter" not in _tags(cell):
                continue
            check = cells[k + 1] if k + 1 < len(cells) else None
            assert check is not None and "exercise-check" in _tags(check), \
                f"{path.name}: the cell after an exercise-starter cell must be its exercise-check cell"
            before = "\n".join(_source(c) for c in cells[:k] if c["cell_type"] == "markdown")
            labels = re.findall(r"\{exercise\}[^\n]*\n:label:\s*(\S+)", before)
            assert labels, f"{path.name}: an exercise-starter cell with no {{exercise}} directive before it"
            label = labels[-1]
            body = _solution_block(markdown, label)
            assert body is not None, f"{path.name}: exercise {label} has no {{solution}} directive"
            reference, wrong = _fences(body)
            assert reference and wrong, f"{path.name}: the solution of {label} needs a python reference fence " \
                                        "and a code-block captioned 'wrong answer'"
            found.append(CodingExercise(path.stem, label, _source(cell), _source(check), reference, wrong))
    return found


EXERCISES = coding_exercises()


def run_check(exercise: CodingExercise, *answers: str) -> object:
    """Run the starter cell, then the given answers, then the check cell; return its last line's value."""
    namespace: dict = {}
    exec(exercise.starter, namespace)
    for answer in answers:
        exec(answer, namespace)
    *body, last = exercise.check.rstrip().splitlines()
    exec("\n".join(body), namespace)
    return eval(last, namespace)


def test_every_chapter_has_a_coding_exercise():
    assert {e.chapter for e in EXERCISES} == {p.stem for p in CHAPTERS}


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.label)
def test_the_reference_passes_the_blank_and_the_wrong_answer_fail(exercise):
    blank = run_check(exercise)
    assert not blank, f"the blank template passes the check of {exercise.label}: {blank!r}"
    reference = run_check(exercise, exercise.reference)
    assert reference, f"the reference solution fails the check of {exercise.label}: {reference!r}"
    wrong = run_check(exercise, exercise.wrong)
    assert not wrong, f"the wrong answer passes the check of {exercise.label}: {wrong!r}"


def test_a_check_names_the_template_and_the_error_of_the_learners_code():
    from pinn_tutorial.exercises import run_cases

    def template():
        raise NotImplementedError

    def broken():
        raise KeyError("residual")

    assert "template" in run_cases("demo", [template], "done").message
    outcome = run_cases("demo", [broken], "done")
    assert not outcome and "KeyError" in outcome.message and "residual" in outcome.message
    assert run_cases("demo", [lambda: None], "done") and repr(run_cases("demo", [], "done")) == "[demo] pass: done"
