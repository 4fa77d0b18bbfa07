"""Bad input gets one clear line and exit status 2, and loses no work; a shared file never runs code."""

import json
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
])
def test_bad_input_is_one_line_and_status_2(args, words, tmp_path):
    assert_one_line_error(cli(*args, cwd=tmp_path), *words)


def test_an_unwritable_output_folder_is_refused_before_training(tmp_path):
    (tmp_path / "a_file").write_text("")
    assert_one_line_error(cli("train", "helmholtz", "--out", "a_file/results", cwd=tmp_path),
                          "cannot write result files to a_file/results")
    assert_one_line_error(cli("reproduce", "helmholtz", "--out", "a_file/results", cwd=tmp_path),
                          "cannot write result files")


def test_table_skips_a_malformed_file_names_it_and_prints_the_rest(tmp_path):
    trained = cli("train", "poisson1d", "--budget", "quick", "--steps", "20", "--out", "res", "--no-progress",
                  cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    (tmp_path / "res" / "broken.json").write_text('{"problem": "helm')
    (tmp_path / "res" / "foreign.json").write_text('{"name": "something else"}')
    done = cli("table", "--results", "res", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "poisson1d" in done.stdout and "M1" in done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 2 and "broken.json" in lines[0] and "foreign.json" in lines[1]


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


@pytest.mark.parametrize("content", [b"not a checkpoint", b""])
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
