"""The benchmark commands run and report what they measured (the timings themselves are not asserted)."""

import os

import pytest

from pinn_tutorial.bench import (
    LAYOUTS,
    deepxde_helmholtz,
    ensemble_times,
    format_ensemble_table,
    format_step_table,
    full_run,
    step_times,
)
from pinn_tutorial.experiments import Experiment, run_experiment


def test_step_table_has_every_network_path_and_weighting():
    rows = step_times(repeats=1, steps=10, warmup=2, paths=("nested autograd", "fast eager"), deepxde=False)
    assert {(r["network"], r["path"], r["weighting"]) for r in rows} == {("MLP", "plain PyTorch", "fixed")} | {
        (n, p, w) for n in ("MLP", "ModifiedMLP") for p in ("nested autograd", "fast eager")
        for w in ("fixed", "Algorithm 1")}
    by_key = {(r["network"], r["path"], r["weighting"]): r for r in rows}
    for (network, path, weighting), r in by_key.items():  # each ratio is against the right row of the same run
        nested = by_key[network, "nested autograd", weighting]["ms_per_step"]
        fixed = by_key[network, path, "fixed"]["ms_per_step"]
        assert r["vs_nested"] == pytest.approx(r["ms_per_step"] / nested)
        assert r["vs_fixed"] == pytest.approx(r["ms_per_step"] / fixed)
    table = format_step_table(rows)
    assert len(table.splitlines()) == 1 + len(rows) and "x nested" in table


def test_full_run_is_the_run_a_user_starts(tmp_path):
    """The timed fresh process trains exactly the run `train` makes (same seed, same error)."""
    run = full_run("poisson1d", "M1", budget="quick")
    same = run_experiment(Experiment("poisson1d", "M1", "quick"), tmp_path, progress=False, device="cpu")
    assert run["steps"] == 300 and run["rel_l2"] == same["rel_l2"]
    assert run["wall_s"] > run["train_s"]  # the process also starts Python and imports torch


def test_ensemble_table_has_every_layout():
    rows = ensemble_times(sizes=(2,), steps=3, repeats=1, compile=False)
    assert [r["layout"] for r in rows] == list(LAYOUTS) and {r["members"] for r in rows} == {2}
    by_layout = {r["layout"]: r["ms_per_member_step"] for r in rows}
    for r in rows:  # each ratio against the right row of the same run
        assert r["vs_sequential"] == pytest.approx(r["ms_per_member_step"] / by_layout["sequential"])
        assert r["vs_jobs2"] == pytest.approx(r["ms_per_member_step"] / by_layout["jobs 2"])
    assert len(format_ensemble_table(rows).splitlines()) == 1 + len(rows)


def test_deepxde_script_trains_when_deepxde_is_installed():
    os.environ.setdefault("DDE_BACKEND", "pytorch")  # read when deepxde is first imported
    dde = pytest.importorskip("deepxde", reason="deepxde is optional: the bench times it only where installed")
    if dde.backend.backend_name != "pytorch":
        pytest.skip("deepxde is installed with another backend")
    train = deepxde_helmholtz(batch_size=16)
    train(3)  # three Adam steps on freshly drawn points, without error
