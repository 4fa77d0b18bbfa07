"""Sweeps: jobs grouped into ensembles, trained by local worker processes or Ray, resumable."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pinn_tutorial.config import ConfigError
from pinn_tutorial.reproduction.experiments import Experiment
from pinn_tutorial.reproduction.sweeps import check_reachable, helmholtz_architectures, parse_seeds, plan

RUNS = [f"helmholtz_{m}_quick_seed{s}.json" for m in ("M1", "M2-code", "M3", "M4-code") for s in (0, 1)]


def cli(*args, cwd, env=None):
    return subprocess.run([sys.executable, "-m", "pinn_tutorial", *args], capture_output=True, text=True, cwd=cwd,
                          env=env)


def test_seeds_as_range_list_or_both():
    assert parse_seeds("0-9") == list(range(10))
    assert parse_seeds("0,3,5") == [0, 3, 5]
    assert parse_seeds("0-2, 7") == [0, 1, 2, 7]
    for bad in ("3-1", "a", "1,1", "0-"):
        with pytest.raises(ConfigError):
            parse_seeds(bad)


def test_plan_groups_runs_that_share_a_network(tmp_path):
    exps = [Experiment("helmholtz", m, "quick", s) for m in ("M1", "M2", "M3", "M4") for s in range(10)]
    jobs = plan(exps, tmp_path, ensemble_size=16)
    assert sorted(len(j) for j in jobs) == [10, 10, 10, 10]  # M1+M2 and M3+M4, 20 runs each, split evenly
    for job in jobs:
        assert len({e.method in ("M1", "M2") for e in job.experiments}) == 1  # one network per job
    assert len({j.name for j in jobs}) == 4
    # the reference path (nested autograd) trains alone; the cavity's stream function, whose third derivatives are
    # now propagated forward (problems.cavity.taylor3), shares an ensemble as the other problems do
    alone = plan([Experiment("helmholtz", "M1", "quick", 0, derivatives="autograd"),
                  Experiment("helmholtz", "M1", "quick", 1, derivatives="autograd")], tmp_path)
    assert [len(j) for j in alone] == [1, 1]
    stream = plan([Experiment("cavity_stream", "M1", "quick", 0), Experiment("cavity_stream", "M2", "quick", 0)],
                  tmp_path)
    assert [len(j) for j in stream] == [2]


def test_plan_puts_every_settings_lowest_seeds_first(tmp_path):
    """A sweep stopped part-way has a few seeds of every setting, not all seeds of a few."""
    exps = [Experiment("helmholtz", "M4", "quick", s, **d) for d in ({}, {"adam": "tf1"}) for s in range(3)]
    jobs = plan(exps, tmp_path, ensemble_size=1)
    assert [(j.experiments[0].seed, j.experiments[0].adam) for j in jobs] == [
        (0, "torch"), (0, "tf1"), (1, "torch"), (1, "tf1"), (2, "torch"), (2, "tf1")]


def test_plan_skips_finished_runs_and_keeps_the_jobs_of_the_others(tmp_path):
    exps = [Experiment("helmholtz", "M4", "quick", s, width=30, depth=5) for s in range(6)]
    before = plan(exps, tmp_path, ensemble_size=3)
    assert [len(j) for j in before] == [3, 3]
    for exp in before[0].experiments:
        (tmp_path / f"{exp.stem()}.json").write_text("{}")
    after = plan(exps, tmp_path, ensemble_size=3)
    assert [j.name for j in after] == [before[1].name]  # the same job, so the same checkpoint
    (tmp_path / f"{before[1].experiments[0].stem()}.json").write_text("{}")
    (rest,) = plan(exps, tmp_path, ensemble_size=3)
    assert rest.experiments == before[1].experiments[1:]  # what is left of a job still trains as one


def test_table_2_grid_has_every_architecture():
    exps = helmholtz_architectures("paper", [0, 1])
    assert len(exps) == 9 * 4 * 2
    assert {(e.width, e.depth) for e in exps} == {(w, d) for w in (30, 50, 100) for d in (3, 5, 7)}
    assert Experiment("helmholtz", "M4", "paper", 0, width=50, depth=3).stem() == "helmholtz_M4-code_paper_seed0"
    assert Experiment("helmholtz", "M4", "paper", 0, width=100, depth=7).stem() == \
        "helmholtz_M4-code_100x7net_paper_seed0"


def check_result_files(folder: Path) -> dict:
    assert sorted(p.name for p in folder.glob("*.json")) == sorted(RUNS)
    errors = {}
    for name in RUNS:
        result = json.loads((folder / name).read_text())
        assert result["steps"] == 300 and result["budget"] == "quick"
        assert (result["width"], result["depth"]) == (50, 3)
        assert result["ensemble"]["size"] == 4  # M1 with M2, M3 with M4, seeds 0 and 1
        assert len(result["history"]["rel_l2"]) == 3 and result["rel_l2"] == result["history"]["rel_l2"][-1]
        errors[name] = result["rel_l2"]
    return errors


def test_reproduce_with_local_processes_and_with_ray_write_the_same_runs(tmp_path):
    """The acceptance check of the issue: 8 result files each way, and the same numbers both ways."""
    local = cli("reproduce", "helmholtz", "--budget", "quick", "--seeds", "2", "--jobs", "2", "--out", "local",
                "--no-progress", cwd=tmp_path)
    assert local.returncode == 0, local.stderr
    assert "8 to train as 2 jobs" in local.stdout
    pytest.importorskip("ray")
    ray = cli("reproduce", "helmholtz", "--budget", "quick", "--seeds", "2", "--ray", "--out", "ray",
              "--no-progress", cwd=tmp_path)
    assert ray.returncode == 0, ray.stderr
    assert check_result_files(tmp_path / "local") == check_result_files(tmp_path / "ray")
    again = cli("reproduce", "helmholtz", "--budget", "quick", "--seeds", "2", "--out", "local", "--no-progress",
                cwd=tmp_path)
    assert again.returncode == 0 and "8 runs: 8 done before, 0 to train" in again.stdout


def test_ray_auto_with_no_cluster_is_one_line(tmp_path):
    """`--ray auto` with no cluster running: one line and exit status 2. It lives beside the test above, the only one
    that starts a local Ray: Ray finds an "auto" cluster by its running processes too, so the two must not run at
    once (tests of one file run one after the other on one worker)."""
    pytest.importorskip("ray")
    # ... and through its temporary folder: an empty one of our own.
    done = cli("reproduce", "poisson1d", "--budget", "quick", "--steps", "5", "--ray", "auto", "--out", "o",
               "--no-progress", cwd=tmp_path, env={**os.environ, "RAY_TMPDIR": str(tmp_path / "ray")})
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.strip().count("\n") == 0 and "no running Ray cluster found" in done.stderr, done.stderr


def workers(pid: int) -> list[int]:
    """The worker processes a sweep started (not multiprocessing's resource tracker)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return [c for c in found if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="finds the worker process through /proc")
def test_a_killed_worker_loses_only_its_progress_since_the_last_checkpoint(tmp_path):
    args = ["reproduce", "poisson1d", "--budget", "quick", "--steps", "4000", "--methods", "M1", "--jobs", "1",
            "--out", "res", "--no-progress"]
    sweep = subprocess.Popen([sys.executable, "-m", "pinn_tutorial", *args], cwd=tmp_path, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    checkpoint = tmp_path / "res" / "checkpoints" / "poisson1d_M1_quick_4000steps_seed0.pt"
    deadline = time.time() + 300
    while not checkpoint.exists() and time.time() < deadline and sweep.poll() is None:
        time.sleep(0.05)
    assert checkpoint.exists(), "the worker wrote no checkpoint"
    (worker,) = workers(sweep.pid)
    os.kill(worker, signal.SIGKILL)
    _, stderr = sweep.communicate(timeout=120)
    assert sweep.returncode == 1
    assert "exit code -9" in stderr and "run the same command again to resume" in stderr
    assert not (tmp_path / "res" / "poisson1d_M1_quick_4000steps_seed0.json").exists()

    import torch
    killed_at = torch.load(checkpoint, weights_only=True)["step"]
    assert 0 < killed_at < 4000
    again = cli(*args, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    result = json.loads((tmp_path / "res" / "poisson1d_M1_quick_4000steps_seed0.json").read_text())
    history = result["history"]
    assert history["steps"] == list(range(0, 4000, 10)) + [3999]  # resumed where it stopped: no gap, no repeat
    assert history["eval_steps"] == list(range(100, 4001, 100))


def _server(reply: bytes) -> socket.socket:
    """A listening socket on a free local port whose one connection gets ``reply`` once the client has spoken."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def serve():
        connection, _ = listener.accept()
        with connection:
            connection.recv(64)
            connection.sendall(reply)
            time.sleep(0.5)

    threading.Thread(target=serve, daemon=True).start()
    return listener


def test_an_address_where_no_ray_cluster_answers_is_one_clear_error():
    """Ray would retry an unreachable head, or a port where something else listens, for minutes; the sweep checks
    the address first: a gRPC (HTTP/2) server's SETTINGS frame passes, a web server does not."""
    settings = bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])  # an empty SETTINGS frame, as a gRPC server opens with
    for prefix in ("", "ray://"):
        with _server(settings) as grpc:
            check_reachable(f"{prefix}127.0.0.1:{grpc.getsockname()[1]}")
    with _server(b"HTTP/1.0 400 Bad request\r\n\r\n") as web:
        address = f"127.0.0.1:{web.getsockname()[1]}"
        with pytest.raises(ConfigError, match=f"something answers at {address}, but not a Ray head node"):
            check_reachable(address, timeout_s=2.0)
    with socket.socket() as silent:  # accepts, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        address = f"127.0.0.1:{silent.getsockname()[1]}"
        with pytest.raises(ConfigError, match=f"no Ray cluster answers at {address}"):
            check_reachable(address, timeout_s=1.0)
    for address in ("127.0.0.1:1", "head-node", "ray://127.0.0.1:notaport"):
        with pytest.raises(ConfigError, match=f"no Ray cluster answers at {address}"):
            check_reachable(address, timeout_s=1.0)
