"""Bad input gets one clear line and exit status 2, and loses no work; a shared file never runs code."""

import json
import os
import subprocess
import sys

import pytest
import torch

from pinn_tutorial import Helmholtz, Trainer, build
from pinn_tutorial.checkpoints import CheckpointError


def cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "pinn_tutorial", *args], capture_output=True, text=True, cwd=cwd)


def assert_one_line_error(done, *words):
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and done.stderr.strip().count("\n") == 0, done.stderr
    for word in words:
        assert word in done.stderr


@pytest.mark.parametrize("args,words", [
    (["train", "helmholtz", "--seed", "-1"], ["--seed", "0 to 4294967294"]),
    (["train", "helmholtz", "--seed", str(2**32)], ["--seed", "4294967296"]),
    (["train", "helmholtz", "--seeds", "5-2"], ["runs upwards"]),
    (["train", "helmholtz", "--seed", "1", "--seeds", "0-3"], ["not allowed with"]),
    (["train", "helmholtz", "--steps", "0"], ["--steps", "at least 1"]),
    (["train", "helmholtz", "--width", "-5"], ["--width"]),
    (["train", "helmholtz", "--param", "a2"], ["NAME=NUMBER"]),
    (["train", "helmholtz", "--param", "a2=nan"], ["finite number"]),
    (["train", "helmholtz", "--param", "a3=1"], ["its parameters are: a1, a2, k"]),
    (["train", "cavity_velocity", "--param", "re=-5"], ["Reynolds number must be positive"]),
    (["train", "helmholtz", "--param", "a1=0"], ["a1 and a2 must be non-zero"]),
    (["train", "helmholtz", "--param", "k=1e200"], ["k=1e+200 is past 1000"]),
    (["train", "poisson1d", "--param", "C=1e300"], ["frequency C must be positive and at most 1000"]),
    (["train", "klein_gordon", "--param", "k=2.5"], ["power k must be a whole number from 0 to 9"]),
    (["train", "cavity_velocity", "--param", "wall_weights=3"], ["wall_weights must be 1"]),
    (["train", "helmholtz", "--method", "M4", "--lambda-update", "later"], ["after_step"]),
    (["train", "helmholtz", "--input-scaling", "learned"], ["sampled"]),
    (["train", "helmholtz", "--adam", "tf2"], ["tf1"]),
    (["train", "helmholtz", "--method", "M2", "--pooling", "median"], ["layer_ratio_max"]),
    (["train", "cavity_stream", "--seeds", "0-1"], ["cannot train as an ensemble"]),
    (["reproduce", "helmholtz", "--seeds", "0"], ["--seeds", "at least 1"]),
    (["reproduce", "helmholtz", "--methods", "M1,M9"], ["unknown method 'M9'"]),
    (["reproduce", "helmholtz", "--jobs", "0"], ["--jobs"]),
    (["sweep", "table-7"], ["helmholtz-architectures"]),
    (["table", "--results", "nowhere"], ["no results folder nowhere"]),
    (["table", "--budget", "huge"], ["quick, default, paper"]),
    (["train", "helmholtz", "--device", "bogus"], ["unknown device 'bogus'"]),
    (["train", "helmholtz", "--width", "1000000000000"], ["width must be", "from 1 to 100,000,000"]),
    (["train", "helmholtz", "--width", "20000"], ["weights; this library trains networks of up to"]),
    (["train", "helmholtz", "--depth", "99999999999999999999"], ["depth must be", "from 1 to 100,"]),
    (["train", "helmholtz", "--device", "mps"], ["unknown device 'mps'; choose cpu or cuda"]),
    (["train", "helmholtz", "--seeds", "0-4294967294"], ["1 to 10,000 seeds"]),
    (["reproduce", "helmholtz", "--seeds", "20000"], ["1 to 10,000 seeds"]),
    (["reproduce", "helmholtz", "--methods", "M1,M1"], ["listed twice"]),
    (["sweep", "helmholtz-code-details", "--methods", "M4,M4"], ["listed twice"]),
    (["train", "klein_gordon_causal", "--param", "chunks=3", "--budget", "quick"],
     ["multiple of the number of time chunks (3)"]),
])
def test_bad_input_is_one_line_and_status_2(args, words, tmp_path):
    assert_one_line_error(cli(*args, cwd=tmp_path), *words)


def test_an_unwritable_output_folder_is_refused_before_training(tmp_path):
    (tmp_path / "a_file").write_text("")
    assert_one_line_error(cli("train", "helmholtz", "--out", "a_file/results", cwd=tmp_path),
                          "cannot write result files and checkpoints to a_file/results")
    assert_one_line_error(cli("reproduce", "helmholtz", "--out", "a_file/results", cwd=tmp_path),
                          "cannot write result files")
    # A folder whose checkpoints/ is a file: refused before training too, not after the run's first steps.
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "checkpoints").write_text("")
    for command in ("train", "reproduce"):
        assert_one_line_error(cli(command, "helmholtz", "--budget", "quick", "--out", "out", cwd=tmp_path),
                              "cannot write result files and checkpoints to out/checkpoints")


@pytest.mark.parametrize("command, target", [
    (["train", "poisson1d", "--no-progress"], "res/poisson1d_M1_quick_5steps_seed0.json"),
    (["train", "poisson1d", "--no-progress"], "res/checkpoints/poisson1d_M1_quick_5steps_seed0.pt"),
    (["train", "poisson1d", "--seeds", "0-1", "--no-progress"], "res/poisson1d_M1_quick_5steps_seed1.json"),
    (["diagnose", "poisson"], "res/poisson_quick_5steps_seed0.json"),
])
def test_a_folder_where_a_file_will_be_written_is_refused_before_training(command, target, tmp_path):
    (tmp_path / target).mkdir(parents=True)
    done = cli(*command, "--budget", "quick", "--steps", "5", "--out", "res", cwd=tmp_path)
    assert_one_line_error(done, f"cannot write {target}: a folder of that name is in the way")
    assert not list((tmp_path / "res").glob("*.tmp"))  # nothing trained, so nothing half-written


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA: the command would train on it")
def test_cuda_on_a_machine_without_it_is_one_line(tmp_path):
    assert_one_line_error(cli("train", "helmholtz", "--device", "cuda", cwd=tmp_path), "no CUDA GPU")


def test_a_bad_thread_count_in_the_environment_is_one_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "pinn_tutorial", "train", "helmholtz", "--budget", "quick"],
                          capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, "PINN_TUTORIAL_THREADS": "abc"})
    assert_one_line_error(done, "PINN_TUTORIAL_THREADS", "'abc'")


def test_a_bad_diagnostic_name_leaves_no_folder_behind(tmp_path):
    assert_one_line_error(cli("diagnose", "bogus", "--out", "made", cwd=tmp_path), "poisson")
    assert not (tmp_path / "made").exists()


QUICK_RUN = ["reproduce", "helmholtz", "--methods", "M1", "--seeds", "1", "--budget", "quick", "--steps", "5",
             "--jobs", "1", "--no-progress", "--out", "out"]


@pytest.mark.parametrize("content", ["{broken", "[1, 2]", '{"name": "a package"}'])
def test_a_sweep_refuses_a_foreign_file_where_a_result_should_be(content, tmp_path):
    """A file under a finished run's name that is not a result would count as done: named, and left alone."""
    (tmp_path / "out").mkdir()
    foreign = tmp_path / "out" / "helmholtz_M1_quick_5steps_seed0.json"
    foreign.write_text(content)
    assert_one_line_error(cli(*QUICK_RUN, cwd=tmp_path), str(foreign.relative_to(tmp_path)), "move it away")
    assert foreign.read_text() == content


@pytest.mark.parametrize("content", ["garbage", '{"run": "another_run_seed0", "step": 3}'])
def test_a_sweep_refuses_a_failure_record_that_is_not_this_runs(content, tmp_path):
    """A record in failed/ marks its run as done (stopped on a non-finite loss): a foreign one would skip the run."""
    record = tmp_path / "out" / "failed" / "helmholtz_M1_quick_5steps_seed0.json"
    record.parent.mkdir(parents=True)
    record.write_text(content)
    assert_one_line_error(cli(*QUICK_RUN, cwd=tmp_path), "is not the failure record of run "
                          "helmholtz_M1_quick_5steps_seed0")
    assert record.read_text() == content


def test_a_sweep_worker_on_bad_input_gives_one_line_and_status_2(tmp_path):
    """A worker whose job cannot run as given (here a corrupt checkpoint) reports its error through the parent,
    in one line, with status 2 (rerunning would not help); the file is kept."""
    checkpoint = tmp_path / "out" / "checkpoints" / "helmholtz_M1_quick_5steps_seed0.pt"
    checkpoint.parent.mkdir(parents=True)
    checkpoint.write_bytes(b"not a checkpoint")
    assert_one_line_error(cli(*QUICK_RUN, cwd=tmp_path), "helmholtz_M1_quick_5steps_seed0", "is corrupt")
    assert checkpoint.read_bytes() == b"not a checkpoint"


def test_table_skips_a_malformed_file_names_it_and_prints_the_rest(tmp_path):
    trained = cli("train", "poisson1d", "--budget", "quick", "--steps", "20", "--out", "res", "--no-progress",
                  cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    (tmp_path / "res" / "broken.json").write_text('{"problem": "helm')
    (tmp_path / "res" / "foreign.json").write_text('{"name": "something else"}')
    # Files with every key but a value of the wrong kind: each skipped with its reason, as a foreign file is.
    good = json.loads(next((tmp_path / "res").glob("poisson1d_*.json")).read_text())
    bad_values = {"method.json": {"method": "M9"}, "error.json": {"rel_l2": None}, "steps.json": {"steps": None},
                  "seed.json": {"seed": 1.5}, "wall.json": {"wall_s": float("inf")},
                  # entries a summary reads when they are there
                  "problem.json": {"problem": ["poisson1d"]}, "params.json": {"params": [1]},
                  "layers.json": {"layers": 3}, "ensemble.json": {"ensemble": {"size": 0, "members": []}},
                  "depth.json": {"depth": [3]}, "spectral.json": {"rel_l2_spectral": "small"}}
    for name, change in bad_values.items():
        (tmp_path / "res" / name).write_text(json.dumps({**good, **change}))
    (tmp_path / "res" / "deep.json").write_text("[" * 100_000 + "]" * 100_000)  # past the JSON reader's recursion
    bad_values["deep.json"] = None
    done = cli("table", "--results", "res", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "poisson1d" in done.stdout and "M1" in done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 2 + len(bad_values) and "Traceback" not in done.stderr, lines
    skipped = {name for name in ["broken.json", "foreign.json", *bad_values] if any(name in line for line in lines)}
    assert skipped == {"broken.json", "foreign.json", *bad_values}
    assert any("unknown problem or method 'poisson1d', 'M9'" in line for line in lines)


class Payload:
    """Unpickling this calls ``touch`` on a file: code that a shared checkpoint could smuggle in."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        import pathlib
        return pathlib.Path.touch, (pathlib.Path(self.path),)


def test_a_checkpoint_holding_code_is_refused_without_running_it(tmp_path):
    problem = Helmholtz()
    net, weighting = build("M1", problem, layers=[2, 8, 1])
    trainer = Trainer(problem, net, weighting, budget="quick", steps=10, checkpoint=tmp_path / "run.pt",
                      progress=False, device="cpu")
    trainer.run()
    state = torch.load(tmp_path / "run.pt", weights_only=True)
    state["weighting"]["weights"] = Payload(tmp_path / "pwned")
    torch.save(state, tmp_path / "run.pt")
    again = Trainer(problem, net, weighting, budget="quick", steps=10, checkpoint=tmp_path / "run.pt",
                    progress=False, device="cpu")
    with pytest.raises(CheckpointError, match="holds code or objects other than tensors"):
        again.run(resume=True)
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("content", [b"not a checkpoint", b"", b"\x80\x02J", b"\x80\x02."],
                         ids=["text", "empty", "truncated pickle", "empty pickle"])
def test_a_corrupt_checkpoint_says_what_to_do_and_keeps_the_file(content, tmp_path):
    args = ["train", "poisson1d", "--budget", "quick", "--steps", "20", "--out", "res", "--no-progress"]
    checkpoint = tmp_path / "res" / "checkpoints" / "poisson1d_M1_quick_20steps_seed0.pt"
    checkpoint.parent.mkdir(parents=True)
    checkpoint.write_bytes(content)
    assert_one_line_error(cli(*args, cwd=tmp_path), "corrupt or not a checkpoint", "--fresh")
    assert checkpoint.read_bytes() == content  # nothing deleted behind the user's back
    fresh = cli(*args, "--fresh", cwd=tmp_path)
    assert fresh.returncode == 0, fresh.stderr
    assert json.loads((tmp_path / "res" / "poisson1d_M1_quick_20steps_seed0.json").read_text())["steps"] == 20


def test_fresh_starts_over_where_a_plain_rerun_returns_the_finished_run(tmp_path):
    args = ["train", "poisson1d", "--budget", "quick", "--steps", "20", "--out", "res", "--no-progress"]
    path = tmp_path / "res" / "poisson1d_M1_quick_20steps_seed0.json"
    assert cli(*args, cwd=tmp_path).returncode == 0
    first = json.loads(path.read_text())
    assert cli(*args, cwd=tmp_path).returncode == 0
    assert json.loads(path.read_text())["wall_s"] == first["wall_s"]  # resumed from the final checkpoint
    assert cli(*args, "--fresh", cwd=tmp_path).returncode == 0
    again = json.loads(path.read_text())
    assert again["wall_s"] != first["wall_s"] and again["rel_l2"] == first["rel_l2"]  # trained anew, same seed


def test_bench_command_prints_its_table(tmp_path):
    done = cli("bench", "--repeats", "1", "--no-compile", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "torch" in lines[0] and "median of 1 repeats" in done.stdout
    rows = [line for line in lines if line.startswith(("MLP ", "ModifiedMLP "))]
    assert len(rows) == 1 + 2 * 2 * 2  # plain PyTorch, then 2 networks x 2 eager paths x 2 weightings
