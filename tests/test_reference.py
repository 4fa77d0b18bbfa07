"""The lid-driven cavity reference solver: Ghia et al. (1982), boundary conditions, continuity, cache."""

import numpy as np
import pytest

from pinn_tutorial.reference import cavity, compare_with_ghia, ghia_centrelines, load_or_solve, solve_cavity


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("cavity_cache")


@pytest.fixture(scope="module")
def solution(cache_dir):
    """The Re = 100, N = 128 solution, solved once for the whole module (and cached)."""
    return load_or_solve(re=100.0, n=128, cache_dir=cache_dir)


def test_ghia_data_has_17_points_per_centreline():
    ghia = ghia_centrelines()
    assert all(column.shape == (17,) for column in ghia)
    assert (ghia.y[-1], ghia.u[-1]) == (1.0, 1.0)  # the lid


def test_matches_ghia_centrelines(solution):
    differences = compare_with_ghia(solution)
    assert differences["max_abs_du"] < 0.01, differences
    assert differences["max_abs_dv"] < 0.01, differences


def test_boundary_conditions(solution):
    u, v = solution.u, solution.v
    np.testing.assert_array_equal(u[1:-1, -1], 1.0)  # lid interior nodes
    for wall in (u[:, 0], u[0, :-1], u[-1, :-1], v[:, 0], v[:, -1], v[0, :], v[-1, :]):
        np.testing.assert_array_equal(wall, 0.0)
    assert np.max(np.abs(solution.psi[[0, -1], :])) < 1e-12 and np.max(np.abs(solution.psi[:, [0, -1]])) < 1e-12


def test_velocity_is_discretely_divergence_free(solution):
    h = solution.x[1] - solution.x[0]
    u, v = solution.u, solution.v
    divergence = (u[2:, 1:-1] - u[:-2, 1:-1]) / (2 * h) + (v[1:-1, 2:] - v[1:-1, :-2]) / (2 * h)
    assert np.max(np.abs(divergence)) < 1e-9


def test_primary_vortex_centre(solution):
    i, j = np.unravel_index(np.argmin(solution.psi), solution.psi.shape)
    assert abs(solution.x[i] - 0.6172) < 0.02 and abs(solution.y[j] - 0.7344) < 0.02
    assert solution.psi[i, j] == pytest.approx(-0.1034, abs=0.001)  # Ghia's psi_min = -0.103423


def test_on_grid_agrees_with_interpolate(solution):
    u, v = solution.on_grid(100)
    assert u.shape == v.shape == (100, 100)
    point = np.array([[np.linspace(0, 1, 100)[30], np.linspace(0, 1, 100)[70]]])
    np.testing.assert_allclose(solution.interpolate(point)[0], [u[30, 70], v[30, 70]])
    np.testing.assert_array_equal(u[1:-1, -1], 1.0)


def test_cache_is_read_back_without_solving(solution, cache_dir, monkeypatch):
    assert (cache_dir / "cavity_re100_n128.npz").is_file()

    def must_not_solve(*args, **kwargs):
        raise AssertionError("load_or_solve re-solved although the cache file exists")

    monkeypatch.setattr(cavity, "solve_cavity", must_not_solve)
    cached = load_or_solve(re=100.0, n=128, cache_dir=cache_dir)
    for name in ("psi", "omega", "u", "v"):
        np.testing.assert_array_equal(getattr(cached, name), getattr(solution, name))
    assert (cached.re, cached.n, cached.iterations) == (solution.re, solution.n, solution.iterations)


def test_corrupt_cache_is_resolved_and_rewritten(tmp_path, monkeypatch):
    monkeypatch.setenv("PINN_TUTORIAL_CACHE", str(tmp_path))
    path = tmp_path / "cavity_re100_n16.npz"
    path.write_bytes(b"not an npz file")
    solution = load_or_solve(re=100.0, n=16)
    assert path.stat().st_size > 1000
    np.testing.assert_array_equal(load_or_solve(re=100.0, n=16).psi, solution.psi)


@pytest.mark.parametrize("change", [{"re": np.array([100.0, 100.0])}, {"u": np.zeros((3, 3))}],
                         ids=["a vector for re", "u of another grid"])
def test_a_cache_file_with_entries_of_the_wrong_shape_is_resolved(tmp_path, change):
    good = load_or_solve(re=100.0, n=16, cache_dir=tmp_path)
    path = tmp_path / "cavity_re100_n16.npz"
    with np.load(path) as data:
        np.savez(path, **{**dict(data), **change})
    again = load_or_solve(re=100.0, n=16, cache_dir=tmp_path)
    np.testing.assert_array_equal(again.u, good.u)


@pytest.mark.parametrize("spoil,words", [(lambda a: 0 * a, "does not agree with Ghia"),
                                         (lambda a: np.full_like(a, np.nan), "not finite")],
                         ids=["zeroed", "NaN"])
def test_a_cache_file_of_the_right_shape_but_a_wrong_solution_is_resolved(tmp_path, spoil, words):
    """Right metadata is not a right solution: a zeroed (or stale) file used to be trusted, and a NaN one failed only
    after training, in the error's SVD."""
    good = load_or_solve(re=100.0, n=16, cache_dir=tmp_path)
    path = tmp_path / "cavity_re100_n16.npz"
    with np.load(path) as data:
        np.savez(path, **{**dict(data), **{k: spoil(data[k]) for k in ("psi", "omega", "u", "v")}})
    with pytest.warns(UserWarning, match=words):
        again = load_or_solve(re=100.0, n=16, cache_dir=tmp_path)
    np.testing.assert_array_equal(again.u, good.u)
    np.testing.assert_array_equal(load_or_solve(re=100.0, n=16, cache_dir=tmp_path).u, good.u)  # rewritten


def test_a_cache_folder_that_cannot_be_written_keeps_the_solution_and_warns(tmp_path):
    (tmp_path / "a_file").write_text("")
    with pytest.warns(UserWarning, match="could not cache the cavity solution"):
        solution = load_or_solve(re=100.0, n=16, cache_dir=tmp_path / "a_file")
    assert solution.psi.shape == (17, 17) and solution.residual < 1e-6


@pytest.mark.parametrize(
    "kwargs, message", [({"n": 4}, "cells per side"), ({"re": 0.0}, "Reynolds"), ({"re": -100.0}, "Reynolds")]
)
def test_bad_input_raises_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        solve_cavity(**kwargs)
    with pytest.raises(ValueError, match=message):
        load_or_solve(**kwargs)


def test_a_cache_write_on_a_full_disk_leaves_no_temporary_file(tmp_path, monkeypatch):
    """The cache goes through a temporary file of its own; a failed write removes it (before, an orphan
    tmpXXXX.npz.tmp stayed, and on a full disk kept the disk full)."""

    def disk_full(handle, **arrays):
        handle.write(b"PK half an archive")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cavity.np, "savez", disk_full)
    with pytest.warns(UserWarning, match="could not cache the cavity solution"):
        solution = load_or_solve(re=100.0, n=16, cache_dir=tmp_path)
    assert solution.residual < 1e-6 and list(tmp_path.iterdir()) == []
