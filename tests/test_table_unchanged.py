"""The committed results' table is the same before and after the run spec (issue #28): every group ``table`` forms
from the result files committed then (all budgets, the authors' code's runs included) keeps its label, mean,
geometric mean and seed count. ``tests/data/table_before.json`` holds those files' names and the table that the
code before the run spec made of them (commit db18f3b); runs added since (a sweep goes on) are not in it."""

from __future__ import annotations

import json
import math
import shutil
import warnings
from pathlib import Path

from pinn_tutorial.reproduction.experiments import ORIGINAL_CODE_FOLDER, load_results
from pinn_tutorial.reproduction.paper_tables import summarise

ROOT = Path(__file__).resolve().parent.parent
SAVED = Path(__file__).parent / "data" / "table_before.json"


def table_groups(folder: Path) -> list[dict]:
    """Each row of the table of ``folder``: its label (problem, method, setting, budget, steps) and its numbers."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = load_results(folder) + load_results(folder / ORIGINAL_CODE_FOLDER)
    return [{"problem": r["problem"], "method": r["method"], "setting": r["setting"], "budget": r["budget"],
             "steps": r["steps"], "mean": r["mean"], "gmean": r["gmean"], "n": len(r["seeds"])}
            for r in summarise(results)]


def test_the_table_of_the_committed_results_is_unchanged(tmp_path):
    saved = json.loads(SAVED.read_text())
    before = saved["groups"]
    for name in saved["files"]:  # the files as they were committed then, from today's tree
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    after = table_groups(tmp_path / "results")

    def label(row: dict) -> tuple:
        return row["problem"], row["method"], row["setting"], row["budget"], row["steps"]

    assert sorted(map(label, after)) == sorted(map(label, before))
    now = {label(r): r for r in after}
    for row in before:
        same = now[label(row)]
        assert same["n"] == row["n"], label(row)
        assert math.isclose(same["mean"], row["mean"], rel_tol=1e-12), label(row)
        assert math.isclose(same["gmean"], row["gmean"], rel_tol=1e-12), label(row)
