"""The paper's two diagnostic experiments: what they measure, their files, and their one table."""

import json
import math
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from pinn_tutorial import Helmholtz
from pinn_tutorial.config import Budget, ConfigError
from pinn_tutorial.problems import KleinGordon
from pinn_tutorial.reproduction.studies import (
    CONFLICT_PROBLEMS,
    STIFFNESS_CASES,
    STIFFNESS_METHODS,
    STUDIES,
    ConflictHistory,
    ConflictStudy,
    PoissonScaling,
    StiffnessHistory,
    StiffnessStudy,
    Study,
    conflict_history,
    load_study,
    poisson_gradient_scaling,
    run_study,
    stiffness_history,
    study_path,
)

BUDGET = Budget("t", steps=30, batch_size=16, log_every=5, eval_every=10, checkpoint_every=10, grid_size=10)
STORED = Path(__file__).resolve().parents[1] / "results" / "diagnostics"


def table_rows(text: str) -> list[list[str]]:
    """The cells of each Markdown table row in ``text`` (header and rule included)."""
    return [[c.strip() for c in line.strip().strip("|").split("|")] for line in text.splitlines()
            if line.startswith("|")]


# -- gradient scaling on 1-D Poisson (section 2.3) ---------------------------------------------

def test_poisson_scaling_trained_residual_gradient_outgrows_the_boundary_one():
    # A small net at 10x the paper's learning rate fits both C = 1 and C = 4 (rel. L2 < 0.05) in
    # 600 steps, so the second half of training is the fitted regime the bounds describe. Measured
    # growth from C = 1 to 4 over seeds 0-4: residual 30 to 365x, boundary 4 to 33x, their quotient
    # 3.8 to 11 (seed 0: 34x and 8.6x).
    budget = Budget("t", steps=600, batch_size=32, log_every=50, eval_every=600, checkpoint_every=600,
                    grid_size=50, lr=1e-2)
    result = poisson_gradient_scaling((1, 4), budget=budget, seed=0, every=20, layers=[1, 20, 20, 1], device="cpu")
    assert result.steps == 600 and result.Cs == [1.0, 4.0]
    assert all(e < 0.05 for e in result.rel_l2)
    residual_growth = result.grad_residual[1] / result.grad_residual[0]
    boundary_growth = result.grad_boundary[1] / result.grad_boundary[0]
    assert residual_growth > 16  # at least C^2
    assert residual_growth > 2.5 * boundary_growth
    assert result.ratio[1] > result.ratio[0] and result.slopes["residual"] > result.slopes["boundary"] + 0.6
    assert result.slopes["ratio"] == pytest.approx(math.log(result.ratio[1] / result.ratio[0]) / math.log(4))
    assert result.bounds == {"residual": 4.0, "boundary": 0.0, "ratio": 4.0}
    assert [s["steps"][-1] for s in result.series] == [600, 600] and len(result.histories) == 2
    # The table's values are the medians over the second half of the records of each run.
    for k, series in enumerate(result.series):
        late = [v for step, v in zip(series["steps"], series["residual"]) if step >= 300]
        assert result.grad_residual[k] == pytest.approx(statistics.median(late))
    assert [row["C"] for row in result.rows()] == [1.0, 4.0]
    assert PoissonScaling.from_dict(json.loads(json.dumps(result.to_dict()))) == result


def test_poisson_scaling_needs_two_positive_frequencies():
    for bad in [(4,), (0, 4)]:
        with pytest.raises(ValueError, match="two positive frequencies"):
            poisson_gradient_scaling(bad)


def poisson_by_hand() -> PoissonScaling:
    return PoissonScaling(Cs=[1.0, 2.0], grad_residual=[3.0, 48.0], grad_boundary=[0.5, 0.5], ratio=[6.0, 96.0],
                          rel_l2=[1e-3, 2e-3], slopes={"residual": 4.0, "boundary": 0.0, "ratio": 4.0},
                          initial_slopes={"residual": 2.0, "boundary": 0.25, "ratio": 1.75},
                          bounds={"residual": 4.0, "boundary": 0.0, "ratio": 4.0}, budget="quick", seed=3, steps=300,
                          every=100, series=[], histories=[])


def test_poisson_table_has_one_row_per_frequency_and_the_slopes_beside_the_bounds():
    text = poisson_by_hand().format_table()
    assert text.startswith("1-D Poisson u = sin(C x), M1, quick budget (300 steps), seed 3")
    rows = table_rows(text)
    assert rows[0] == ["C", "grad L_r", "grad L_b", "ratio", "rel. L2"]
    assert rows[2] == ["1", "3.000e+00", "5.000e-01", "6.000e+00", "1.00e-03"]
    assert rows[3] == ["2", "4.800e+01", "5.000e-01", "9.600e+01", "2.00e-03"]
    assert rows[4][:4] == ["log-log slope against C", "trained", "at init", "bound"]
    assert rows[6] == ["grad L_r", "4.00", "2.00", "4", "Eq. 15"]
    assert rows[7] == ["grad L_b", "0.00", "0.25", "0", "Eq. 14"]
    assert len(rows) == 9 and len({len(line) for line in text.splitlines() if line.startswith("|")}) == 2


# -- stiffness on Helmholtz (section 2.4) ------------------------------------------------------

@pytest.mark.parametrize("steps, expected", [(30, [0, 10, 20, 30]), (25, [0, 10, 20, 25])])
def test_stiffness_history_records_positive_eigenvalues_at_its_steps(steps, expected):
    result = stiffness_history(Helmholtz(), "M1", budget=BUDGET, every=10, iterations=5, steps=steps,
                               layers=[2, 8, 8, 1], device="cpu")
    assert result.steps == expected
    for term in ("residual", "boundary"):
        values = result.sigma_max[term]
        assert len(values) == len(expected) and all(v > 0 for v in values)
        assert result.final[term] == values[-1] and result.peak[term] == max(values)
    signed = [r["hessian"]["residual"] for r in result.history["diagnostics"]]
    assert [abs(v) for v in signed] == result.sigma_max["residual"]
    assert result.rel_l2 == result.history["rel_l2"][-1] and result.history["eval_steps"][-1] == steps
    assert StiffnessHistory.from_dict(json.loads(json.dumps(result.to_dict()))) == result


def stiffness_by_hand() -> StiffnessStudy:
    def run(a2, method, residual, boundary):
        return StiffnessHistory(f"Helmholtz(a1=1.0, a2={a2}, k=1.0)", method, "quick", 0, 20, [0, 100, 200],
                                {"residual": residual, "boundary": boundary}, 0.5,
                                {"lr": [1e-3, 9e-4, 8e-4]})
    return StiffnessStudy("quick", 0, [run(4.0, "M1", [10.0, 400.0, 200.0], [1.0, 3.0, 2.0]),
                                       run(1.0, "M3", [5.0, 6.0, 8.0], [1.0, 1.0, 1.0])])


def test_stiffness_table_gives_end_and_peak_of_each_term_and_the_stability_limit():
    text = stiffness_by_hand().format_table()
    assert text.startswith("Helmholtz, quick budget, seed 0:") and "20 power iterations, 3 records per run" in text
    rows = table_rows(text)
    assert rows[0] == ["problem", "method", "L_r end", "L_r max", "L_b end", "L_b max", "2/sigma(L_r) end",
                       "final lr", "rel. L2"]
    assert rows[2] == ["Helmholtz(a1=1.0, a2=4.0, k=1.0)", "M1", "2.00e+02", "4.00e+02", "2.00e+00", "3.00e+00",
                       "1.0e-02", "8.0e-04", "5.00e-01"]
    assert rows[3][:2] == ["Helmholtz(a1=1.0, a2=1.0, k=1.0)", "M3"] and rows[3][6] == "2.5e-01"


# -- conflicts on the three benchmarks (later work) --------------------------------------------

def test_conflict_history_records_magnitudes_and_directions_over_the_run():
    run = conflict_history(KleinGordon(), budget=BUDGET, seed=0)
    assert run.steps == list(range(31)) and set(run.cosine) == {"boundary", "initial"}  # 30 steps // 40 -> every 1
    assert all(-1 <= c <= 1 for term in run.cosine.values() for c in term)
    assert all(r > 0 for term in run.norm_ratio.values() for r in term) and math.isfinite(run.rel_l2)
    assert all(-1 <= a <= 1 for a in run.alignment)
    assert ConflictHistory.from_dict(json.loads(json.dumps(run.to_dict()))) == run
    one_term = conflict_history(Helmholtz(), budget=BUDGET, seed=0, steps=5)
    assert one_term.alignment == pytest.approx(one_term.cosine["boundary"])  # two terms: the score is the cosine


def test_conflict_summaries_by_hand():
    run = ConflictHistory("helmholtz", "M1", "quick", 0, [0, 10, 20, 30], {"boundary": [9.0, 1.0, 4.0, 100.0]},
                          {"boundary": [0.9, -0.2, 0.1, -0.3]}, [0.9, -0.2, 0.1, -0.3], 0.5)
    assert run.median_norm_ratio("boundary") == 4.0 and run.median_cosine("boundary") == -0.2  # step 0 left out
    assert run.conflicted("boundary") == pytest.approx(2 / 3)
    rows = table_rows(ConflictStudy("quick", 0, [run]).format_table())
    assert rows[0] == ["problem", "term", "norm ratio", "cosine", "in conflict", "alignment", "rel. L2"]
    assert rows[2] == ["helmholtz", "boundary", "4.00e+00", "-0.20", "67%", "-0.20", "5.00e-01"]
    assert CONFLICT_PROBLEMS == ("helmholtz", "klein_gordon", "cavity_stream") and "conflicts" in STUDIES


def test_a_study_survives_its_file():
    study = stiffness_by_hand()
    assert StiffnessStudy.from_dict(json.loads(json.dumps(study.to_dict()))) == study


def test_the_stored_results_load_and_tabulate():
    poisson = load_study(STORED / "poisson_default_seed0.json")
    assert isinstance(poisson, PoissonScaling) and poisson.Cs == [1.0, 2.0, 4.0, 8.0] and poisson.budget == "default"
    assert len(table_rows(poisson.format_table())) == 2 + 4 + 2 + 3
    stiffness = load_study(STORED / "stiffness_default_seed0.json")
    assert isinstance(stiffness, StiffnessStudy) and stiffness.budget == "default"
    assert [(run.problem, run.method) for run in stiffness.runs] == [
        (repr(Helmholtz(a1, a2)), method) for a1, a2 in STIFFNESS_CASES for method in STIFFNESS_METHODS]


def test_study_files_are_named_by_study_budget_steps_and_seed(tmp_path):
    assert study_path("poisson", "default", 0, folder="results/diagnostics") == Path(
        "results/diagnostics/poisson_default_seed0.json")
    assert study_path("stiffness", "quick", 2, 10, folder=tmp_path) == tmp_path / "stiffness_quick_10steps_seed2.json"
    assert list(STUDIES) == ["poisson", "stiffness", "conflicts"]
    with pytest.raises(ConfigError, match="poisson, stiffness, conflicts"):
        study_path("heat", "default", folder=tmp_path)


@pytest.mark.parametrize("content, reason", [
    (b'{"diagnostic": "poisson", "Cs": [1.0, 2', "not JSON: "),
    (b"[1, 2, 3]", "a JSON list, not an object"),
    (b'{"name": "pinn-tutorial", "version": "0.1.0", "scripts": {"test": "pytest"}}',
     "its 'diagnostic' is None, not one of poisson, stiffness, conflicts"),
    (b'{"diagnostic": ["poisson"]}', "its 'diagnostic' is ['poisson']"),
    (b'{"diagnostic": "poisson"}', "no 'Cs' entry"),
    (b'{"diagnostic": "stiffness", "budget": "quick", "seed": 0, "runs": 3}', "an entry of the wrong kind"),
    (b"[" * 100_000 + b"]" * 100_000, "not JSON: "),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xd8", "not a text file"),
])
def test_a_file_that_is_not_a_stored_study_is_refused_naming_it(tmp_path, content, reason):
    path = tmp_path / "study.json"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as refused:  # a ValueError the command line reports in one line
        load_study(path)
    assert str(refused.value).startswith(f"{path} is not a stored study (") and reason in str(refused.value)


def test_a_stored_study_missing_an_entry_is_refused_naming_it(tmp_path):
    data = json.loads((STORED / "poisson_default_seed0.json").read_text())
    del data["slopes"]
    path = tmp_path / "poisson_default_seed0.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="no 'slopes' entry") as refused:
        load_study(path)
    assert str(refused.value).startswith(f"{path} is not a stored study")


@pytest.mark.parametrize("change", [
    lambda d: d.update(Cs="abc"), lambda d: d.update(slopes=[1, 2]), lambda d: d["grad_residual"].pop(),
], ids=["text for the frequencies", "a list for the slopes", "a frequency without its gradient"])
def test_a_stored_study_with_an_entry_of_the_wrong_kind_is_refused_naming_it(tmp_path, change):
    data = json.loads((STORED / "poisson_default_seed0.json").read_text())
    change(data)
    path = tmp_path / "poisson_default_seed0.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="is not a stored study") as refused:
        load_study(path)
    assert str(refused.value).startswith(f"{path} is not a stored study")


def test_run_study_replaces_its_file_atomically(tmp_path, monkeypatch):
    """A write that fails half-way (a full disk) leaves the earlier file whole; a good one leaves no temporary."""
    monkeypatch.setitem(STUDIES, "poisson", Study(lambda **_: poisson_by_hand(), PoissonScaling))
    run = run_study("poisson", "quick", seed=3, folder=tmp_path, device="cpu")
    assert load_study(run.path) == poisson_by_hand() and list(tmp_path.iterdir()) == [run.path]
    earlier = run.path.read_text()

    def disk_full(fd):  # the data is written, and the disk is full before it can be flushed to it
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("pinn_tutorial.checkpoints.os.fsync", disk_full)
    with pytest.raises(OSError, match="no space left on the device"):
        run_study("poisson", "quick", seed=3, folder=tmp_path, device="cpu")
    assert run.path.read_text() == earlier and list(tmp_path.iterdir()) == [run.path]  # no temporary file left


def test_run_study_writes_where_it_is_told_never_into_the_working_folder(tmp_path, monkeypatch):
    """As ``reproduce`` and ``run_sweep``: a library call names its folder (a chapter runs in ``book/``, where a
    default ``results/diagnostics`` would have landed in ``book/results``); the command line's ``--out`` has the
    default."""
    monkeypatch.setitem(STUDIES, "poisson", Study(lambda **_: poisson_by_hand(), PoissonScaling))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(TypeError, match="folder"):
        run_study("poisson", "quick", seed=3, device="cpu")
    assert list(tmp_path.iterdir()) == []


def test_a_study_records_the_threads_it_ran_with(tmp_path, monkeypatch):
    """Its result holds ``threads``, the CPU threads its training ran with (``$PINN_TUTORIAL_THREADS``, as for a
    run), and its hardware says the same; the process's own count is left as it was."""
    import torch

    seen = []

    def study(**_):
        seen.append(torch.get_num_threads())
        return poisson_by_hand()

    monkeypatch.setitem(STUDIES, "poisson", Study(study, PoissonScaling))
    monkeypatch.setenv("PINN_TUTORIAL_THREADS", "2")
    before = torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        run = run_study("poisson", "quick", seed=3, folder=tmp_path, device="cpu")
        assert torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(before)
    data = json.loads(run.path.read_text())
    assert seen == [2] and data["threads"] == 2 and data["hardware"].endswith("(2 threads)") and run.hardware == \
        data["hardware"]


# -- command line ---------------------------------------------------------------------------

def run_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "pinn_tutorial", *args], capture_output=True, text=True, cwd=cwd)


def test_cli_diagnose_poisson_prints_the_table_of_the_file_it_writes(tmp_path):
    done = run_cli("diagnose", "poisson", "--budget", "quick", "--steps", "40", "--out", "res", "--device", "cpu",
                   cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    path = tmp_path / "res" / "poisson_quick_40steps_seed0.json"
    result = load_study(path)
    assert result.Cs == [1, 2, 4, 8] and result.steps == 40 and result.budget == "quick"
    assert done.stdout.startswith(result.format_table() + "\n")
    assert [row[0] for row in table_rows(done.stdout)[2:6]] == ["1", "2", "4", "8"]
    stored = json.loads(path.read_text())
    assert stored["diagnostic"] == "poisson" and stored["steps_override"] == 40
    assert {"git_commit", "hardware", "wall_s", "torch", "pinn_tutorial"} <= set(stored)


def test_cli_diagnose_stiffness_runs_both_cases_and_methods(tmp_path):
    done = run_cli("diagnose", "stiffness", "--budget", "quick", "--steps", "10", "--out", "res", "--device", "cpu",
                   cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    result = load_study(tmp_path / "res" / "stiffness_quick_10steps_seed0.json")
    assert [(run.problem, run.method) for run in result.runs] == [
        ("Helmholtz(a1=1.0, a2=4.0, k=1.0)", "M1"), ("Helmholtz(a1=1.0, a2=4.0, k=1.0)", "M3"),
        ("Helmholtz(a1=1.0, a2=1.0, k=1.0)", "M1"), ("Helmholtz(a1=1.0, a2=1.0, k=1.0)", "M3")]
    assert all(run.steps == [0, 10] and run.iterations == 20 for run in result.runs)
    assert done.stdout.startswith(result.format_table() + "\n")


@pytest.mark.parametrize("args, valid", [(["diagnose", "heat"], "poisson, stiffness"),
                                         (["diagnose", "poisson", "--budget", "huge"], "quick, default, paper")])
def test_cli_diagnose_refuses_unknown_names_in_one_line(args, valid, tmp_path):
    done = run_cli(*args, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and valid in done.stderr and "Traceback" not in done.stderr
