"""The leaderboard: each method against M4 over the seeds both ran, by hand; what it leaves out; the families."""

import json
import math
import shutil
import statistics
from pathlib import Path

import pytest
from scipy import stats

from pinn_tutorial.reproduction.experiments import load_results
from pinn_tutorial.reproduction.leaderboard import best_methods, family, leaderboard, leaderboard_table

RESULTS = Path(__file__).resolve().parent.parent / "results"
M4 = [1e-2, 2e-2, 4e-3, 8e-3, 5e-3]
FACTORS = [2.0, 3.0, 2.5, 1.5, 2.2]  # the remedy's error over M4's, seed by seed


def planted(folder: Path, stem: str, error: float) -> None:
    """A copy of a committed result file with its error replaced."""
    data = json.loads((RESULTS / f"{stem}.json").read_text())
    data["rel_l2"] = error
    (folder / f"{stem}.json").write_text(json.dumps(data))


@pytest.fixture
def folder(tmp_path):
    for seed, error in enumerate(M4):
        planted(tmp_path, f"helmholtz_M4-code_paper_seed{seed}", error)
        planted(tmp_path, f"helmholtz_mlp+relobralo_paper_seed{seed}", error * FACTORS[seed])
    for seed, factor in enumerate((0.5, 0.4, 0.6)):
        planted(tmp_path, f"helmholtz_GN2_paper_seed{seed}", M4[seed] * factor)
    shutil.copy(RESULTS / "helmholtz_GN2_default_seed0.json", tmp_path)  # another budget: not on the board
    return tmp_path


def test_each_method_against_m4_by_hand(folder):
    board = {r["method"]: r for r in leaderboard(load_results(folder))}
    assert set(board) == {"M4", "mlp+relobralo", "GN2"}
    relobralo = board["mlp+relobralo"]
    d = [math.log(f) for f in FACTORS]
    half = stats.t.ppf(0.975, 4) * statistics.stdev(d) / math.sqrt(5)
    assert relobralo["vs_baseline"] == pytest.approx(math.exp(statistics.fmean(d)))
    assert (relobralo["vs_low"], relobralo["vs_high"]) == pytest.approx(
        (math.exp(statistics.fmean(d) - half), math.exp(statistics.fmean(d) + half)))
    assert relobralo["reading"] == "higher" and relobralo["paired_seeds"] == [0, 1, 2, 3, 4]
    gn2 = board["GN2"]  # the three seeds it ran: mean log ratio -0.71, standard error 0.12, t(2) = 4.30
    assert gn2["paired_seeds"] == [0, 1, 2] and gn2["vs_baseline"] == pytest.approx((0.5 * 0.4 * 0.6) ** (1 / 3))
    assert gn2["reading"] == "lower" and gn2["vs_high"] < 1
    assert [r["method"] for r in leaderboard(load_results(folder))] == ["GN2", "M4", "mlp+relobralo"]  # by error


def test_the_table_says_what_it_compares(folder):
    text = leaderboard_table(folder)
    line = next(row for row in text.splitlines() if "mlp+relobralo" in row)
    assert "against M4, paired by seed" in text and "magnitudes" in line and "higher" in line
    for stem in ("helmholtz_mlp+relobralo", "helmholtz_GN2"):
        for path in folder.glob(f"{stem}_*.json"):
            path.unlink()
    assert leaderboard_table(folder) == ""  # the paper's methods alone: Table 2 says it already


def test_a_soap_run_is_a_method_of_its_own(folder):
    # M1's files with their optimiser set to SOAP: a row of its own, "M1+soap", paired with M4 like any other.
    for seed, error in enumerate(M4):
        data = json.loads((RESULTS / f"helmholtz_M1_paper_seed{seed}.json").read_text())
        data.update(rel_l2=error / 2, optimizer="soap")
        if data.get("identity") is not None:
            data["identity"]["optimizer"] = "soap"
        (folder / f"helmholtz_M1_paper_soap_seed{seed}.json").write_text(json.dumps(data))
    board = {r["method"]: r for r in leaderboard(load_results(folder))}
    assert set(board) == {"M4", "mlp+relobralo", "GN2", "M1+soap"}
    assert board["M1+soap"]["family"] == "optimizer" and board["M1+soap"]["vs_baseline"] == pytest.approx(0.5)


def test_families():
    assert family("M1", "soap") == "optimizer" and family("M2", "soap") == "magnitudes + optimizer"
    assert family("M1") == "none" and family("M3") == "network" and family("rwf_fourier+fixed") == "network"
    assert family("M2") == "magnitudes" and family("M4") == "magnitudes + network"
    assert family("mlp+relobralo") == "magnitudes" and family("mlp+softadapt") == "magnitudes"
    assert family("mlp+pcgrad") == "directions" and family("mlp+config") == "directions"
    assert family("mlp+sa_pinn") == "points" and family("mlp+rba") == "points" and family("mlp+fixed_pool") == "pool"


def test_the_table_says_when_points_come_from_a_pool(folder):
    assert "pool" not in leaderboard_table(folder)
    for seed, error in enumerate(M4):  # M1's files, relabelled as RBA's: a pointwise row
        data = json.loads((RESULTS / f"helmholtz_M1_paper_seed{seed}.json").read_text())
        data.update(rel_l2=error * 3, method="mlp+rba", weighting="rba")
        (folder / f"helmholtz_mlp+rba_paper_seed{seed}.json").write_text(json.dumps(data))
    board = {r["method"]: r for r in leaderboard(load_results(folder))}
    assert board["mlp+rba"]["family"] == "points" and board["mlp+rba"]["vs_baseline"] == pytest.approx(3)
    assert "drawn from a pool of points drawn once per run, not fresh" in leaderboard_table(folder)


def test_the_best_methods_rank_by_both_problems_together():
    # GN2 is best on Helmholtz alone, but it has no Klein-Gordon row; of those with both, the geometric mean decides.
    board = [{"problem": p, "method": m, "gmean": e} for p, m, e in (
        ("helmholtz", "GN2", 1e-4), ("helmholtz", "M4", 4e-3), ("klein_gordon", "M4", 1e-3),
        ("helmholtz", "M2", 1e-3), ("klein_gordon", "M2", 8e-3), ("helmholtz", "M1", 1e-1),
        ("klein_gordon", "M1", 1e-1), ("cavity_stream", "M1", 1e-9))]
    assert best_methods(board, 2) == ["M4", "M2"]  # sqrt(4e-6) = 2e-3 against sqrt(8e-6) = 2.8e-3
    assert best_methods(board) == ["M4", "M2", "M1"]


def test_the_table_names_the_five_best_with_their_cavity_seeds(folder):
    for seed in range(3):
        planted(folder, f"klein_gordon_M4-code_paper_seed{seed}", M4[seed])
    assert "The five best on helmholtz and klein_gordon" in leaderboard_table(folder)
    assert "with their seeds on cavity_stream: M4 (0)." in leaderboard_table(folder)
