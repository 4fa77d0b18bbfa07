"""The run's identity, computed in one place (issue #28, F2-F5 of the probe): one run saved under two names, a
copy or a link of its file counts once; a run of other steps is never its budget's row; ``reproduce`` skips a
finished run only if the file found is that run's. Each test here fails on the code before the run spec (e80b1e8),
which computed the identity five ways."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from pinn_tutorial.reproduction.experiments import Experiment, load_results
from pinn_tutorial.reproduction.paper_tables import paper_table, summarise

RESULTS = Path(__file__).resolve().parent.parent / "results"


# -- F2-F5: each run counts once, and reproduce trusts no file name --------------------------------------------

def _copy(name: str, folder: Path, as_name: str | None = None) -> Path:
    folder.mkdir(exist_ok=True)
    return Path(shutil.copy(RESULTS / name, folder / (as_name or name)))


def test_f2_one_run_under_two_names_counts_once(tmp_path):
    data = json.loads((RESULTS / "helmholtz_M1_paper_seed0.json").read_text())
    (tmp_path / "helmholtz_M1_paper_seed0.json").write_text(json.dumps(data))
    (tmp_path / "helmholtz_M1_paper_40000steps_seed0.json").write_text(json.dumps(data))
    assert Experiment("helmholtz", "M1", "paper", steps=40000).stem() == "helmholtz_M1_paper_seed0"
    with pytest.warns(UserWarning, match="holds the run of"):
        results = load_results(tmp_path)
    assert [len(r["seeds"]) for r in summarise(results)] == [1]


def test_f3_a_run_of_other_steps_is_not_its_budgets_row(tmp_path):
    for seed in range(3):
        _copy(f"helmholtz_M1_paper_seed{seed}.json", tmp_path)
    smoke = json.loads((RESULTS / "helmholtz_M1_paper_seed0.json").read_text())
    smoke.update(steps=50, rel_l2=1.14)
    smoke.pop("identity", None)
    (tmp_path / "helmholtz_M1_paper_50steps_seed0.json").write_text(json.dumps(smoke))
    row = paper_table("helmholtz", tmp_path).row("M1")
    assert row["steps"] == 40000 and len(row["seeds"]) == 3
    labels = {r["steps"]: r["setting"] for r in summarise(load_results(tmp_path))}
    assert labels == {40000: "", 50: "50 steps"}


@pytest.mark.parametrize("source, name, message", [
    ("cavity_stream_M1_paper_seed0.json", "poisson1d_M1_paper_seed0.json", "problem 'cavity_stream', not 'poisson1d'"),
    ("klein_gordon_M1_paper_seed0.json", "klein_gordon_M1_paper_seed1.json", "seed 0, not 1"),
])
def test_f4_reproduce_checks_that_a_finished_file_is_its_runs(tmp_path, source, name, message):
    _copy(source, tmp_path, name)
    problem = name.split("_M1")[0]
    seed = name[-6]
    done = subprocess.run([sys.executable, "-m", "pinn_tutorial", "reproduce", problem, "--methods", "M1", "--budget",
                           "paper", "--seeds", f"{seed}-{seed}", "--jobs", "1", "--out", str(tmp_path),
                           "--no-progress"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "holds another run" in done.stderr and message in done.stderr, done.stderr


def test_f5_a_copy_or_a_link_of_a_result_file_counts_once(tmp_path):
    original = _copy("helmholtz_M1_paper_seed0.json", tmp_path)
    shutil.copy(original, tmp_path / "helmholtz_M1_paper_seed0 (copy).json")
    (tmp_path / "link.json").symlink_to(original)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = load_results(tmp_path)
    assert len(results) == 1 and sum("holds the run of" in str(w.message) for w in caught) == 2


def test_a_result_file_whose_identity_does_not_match_its_settings_is_refused():
    from pinn_tutorial.reproduction.experiments import _not_a_result
    data = json.loads((RESULTS / "helmholtz_M1_paper_seed0.json").read_text())
    data["identity"] = {**Experiment.from_result(data).identity(), "seed": 5}
    assert _not_a_result(data) == "its identity does not match its settings"


def test_the_code_fingerprint_covers_the_whole_package_not_only_the_machinery():
    """The fingerprint in a run's identity hashes every source file of ``pinn_tutorial`` (core and the
    ``reproduction`` subpackage alike), paths relative to the package root: an edit to the training loop must
    change it as surely as an edit to the run spec."""
    import hashlib

    import pinn_tutorial
    from pinn_tutorial.reproduction.experiments import code_fingerprint

    root = Path(pinn_tutorial.__file__).resolve().parent
    files = sorted(root.rglob("*.py"))
    assert root / "training.py" in files and root / "reproduction" / "experiments.py" in files
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    assert code_fingerprint() == digest.hexdigest()[:16]
