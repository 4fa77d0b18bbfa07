"""The benchmark command runs and reports what it measured (the timings themselves are not asserted)."""

import os

import pytest

from pinn_tutorial.bench import deepxde_helmholtz, format_step_table, full_run, step_times


def test_step_table_has_every_network_path_and_weighting():
    rows = step_times(repeats=1, steps=10, warmup=2, paths=("nested autograd", "fast eager"), deepxde=False)
    assert {(r["network"], r["path"], r["weighting"]) for r in rows} == {("MLP", "plain PyTorch", "fixed")} | {
        (n, p, w) for n in ("MLP", "ModifiedMLP") for p in ("nested autograd", "fast eager")
        for w in ("fixed", "Algorithm 1")}
    for r in rows:
        assert r["ms_per_step"] > 0
        if r["path"] == "nested autograd":
            assert r["vs_nested"] == 1.0
    table = format_step_table(rows)
    assert len(table.splitlines()) == 1 + len(rows) and "x nested" in table


def test_full_run_times_a_fresh_training_process():
    run = full_run("poisson1d", "M1", budget="quick")
    assert run["steps"] == 300 and 0 < run["rel_l2"] < 10
    assert run["wall_s"] > run["train_s"] > 0  # the process also starts Python and imports torch


def test_deepxde_script_trains_when_deepxde_is_installed():
    os.environ.setdefault("DDE_BACKEND", "pytorch")  # read when deepxde is first imported
    dde = pytest.importorskip("deepxde", reason="deepxde is optional: the bench times it only where installed")
    if dde.backend.backend_name != "pytorch":
        pytest.skip("deepxde is installed with another backend")
    train = deepxde_helmholtz(batch_size=16)
    train(3)  # three Adam steps on freshly drawn points, without error
