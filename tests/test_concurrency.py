"""Two processes on one run, with real processes: nothing torn, nothing lost, the second told who has the run.

Every file goes through a temporary file of its own (``checkpoints.atomic_write``), and a run in training holds a
lock (``checkpoints.run_lock``). Before, checkpoints and result files went through one fixed name, ``<stem>.tmp``:
two writers truncated each other's file, a reader saw torn JSON, and two identical commands both trained.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from pinn_tutorial import checkpoints

ROOT = Path(__file__).resolve().parents[1]

WRITER = r"""
import sys, torch
from pathlib import Path
from pinn_tutorial import checkpoints
from pinn_tutorial.reproduction.experiments import write_json
name, folder, n = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
for i in range(n):
    write_json(folder / "run.json", {"writer": name, "i": i, "padding": "x" * 20000})
    checkpoints.save(folder / "run.pt", {"run": {"writer": name}, "step": i, "w": torch.full((3000,), float(i))})
"""

READER = r"""
import json, sys, time, torch
from pathlib import Path
folder, seconds = Path(sys.argv[1]), float(sys.argv[2])
reads = torn = 0
end = time.time() + seconds
while time.time() < end:
    for name in ("run.json", "run.pt"):
        path = folder / name
        if not path.exists():
            continue
        try:
            if name.endswith(".json"):
                json.loads(path.read_text())
            else:
                torch.load(path, weights_only=True)
            reads += 1
        except FileNotFoundError:
            pass
        except Exception as error:
            torn += 1
            print("torn:", type(error).__name__, error, file=sys.stderr)
print(json.dumps({"reads": reads, "torn": torn}))
"""


def _python(*args: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PINN_TUTORIAL_THREADS": "1"}
    return subprocess.Popen([sys.executable, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **kwargs)


def test_two_writers_and_a_reader_of_one_run_tear_nothing(tmp_path):
    writers = [_python("-c", WRITER, name, str(tmp_path), "150") for name in ("A", "B")]
    reader = _python("-c", READER, str(tmp_path), "6")
    for writer in writers:
        _, err = writer.communicate(timeout=300)
        assert writer.returncode == 0, err  # before: FileNotFoundError on the shared <stem>.tmp
    out, err = reader.communicate(timeout=300)
    seen = json.loads(out)
    assert seen["torn"] == 0, err
    assert seen["reads"] > 0
    assert json.loads((tmp_path / "run.json").read_text())["i"] == 149
    assert torch.load(tmp_path / "run.pt", weights_only=True)["step"] == 149
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*.tmp"))  # no temporary file left behind


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path):
    path = tmp_path / "state.pt"
    checkpoints.save(path, {"run": {}, "step": 1})

    def full_disk(handle):
        handle.write(b"half a file")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="no space left"):
        checkpoints.atomic_write(path, full_disk)
    assert torch.load(path, weights_only=True)["step"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["state.pt"]


def test_a_run_held_by_one_process_is_refused_to_another_with_its_pid(tmp_path):
    holder = _python("-c", "import sys, time\nfrom pathlib import Path\nfrom pinn_tutorial import checkpoints\n"
                           "with checkpoints.run_lock(Path(sys.argv[1])):\n    print('held', flush=True)\n"
                           "    time.sleep(60)", str(tmp_path / "run.pt"))
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(checkpoints.RunInUseError, match=f"process {holder.pid}"):
            with checkpoints.run_lock(tmp_path / "run.pt"):
                pass
    finally:
        holder.kill()
        holder.wait()
    with checkpoints.run_lock(tmp_path / "run.pt"):  # the lock went with the killed process
        pass


def test_two_identical_train_commands_lose_nothing_and_the_second_names_the_first(tmp_path):
    out = tmp_path / "results"
    command = ["-m", "pinn_tutorial", "train", "poisson1d", "--budget", "quick", "--steps", "8000", "--seed", "0",
               "--out", str(out), "--no-progress"]
    first = _python(*command)
    lock = out / "checkpoints" / "poisson1d_M1_quick_8000steps_seed0.pt.lock"
    reader = None
    try:
        deadline = time.time() + 240
        while not (lock.exists() and lock.read_text().strip()):  # the first is training
            assert first.poll() is None and time.time() < deadline, first.communicate()
            time.sleep(0.2)
        reader = _python("-c", READER.replace('"run.json", "run.pt"', '"poisson1d_M1_quick_8000steps_seed0.json", '
                                                                     '"checkpoints/poisson1d_M1_quick_8000steps_'
                                                                     'seed0.pt"'), str(out), "4")
        second = _python(*command)
        _, err = second.communicate(timeout=240)
        assert second.returncode == 2, err
        assert f"being trained by process {first.pid}" in err and len(err.strip().splitlines()) == 1, err
    finally:
        _, err = first.communicate(timeout=600)
    assert first.returncode == 0, err
    seen = json.loads(reader.communicate(timeout=120)[0])
    assert seen["torn"] == 0
    result = json.loads((out / "poisson1d_M1_quick_8000steps_seed0.json").read_text())
    assert result["steps"] == 8000 and result["seed"] == 0


def test_sigterm_stops_a_run_as_ctrl_c_does_saving_its_state(tmp_path):
    """SIGTERM (an IDE's stop button, `kill`, a scheduler) used to kill `train` without a save, losing up to a
    checkpoint interval of steps; now it finishes the step, saves, and says so in one line."""
    out = tmp_path / "results"
    run = _python("-m", "pinn_tutorial", "train", "poisson1d", "--budget", "quick", "--steps", "20000", "--out",
                  str(out), "--no-progress")
    lock = out / "checkpoints" / "poisson1d_M1_quick_20000steps_seed0.pt.lock"
    deadline = time.time() + 240
    while not (lock.exists() and lock.read_text().strip()):
        assert run.poll() is None and time.time() < deadline, run.communicate()
        time.sleep(0.2)
    time.sleep(1.0)  # some steps in
    run.terminate()
    _, err = run.communicate(timeout=120)
    assert run.returncode == 130, err
    assert "training interrupted" in err and len(err.strip().splitlines()) == 1, err
    state = torch.load(lock.with_name("poisson1d_M1_quick_20000steps_seed0.pt"), weights_only=True)
    assert 0 < state["step"] < 20000


def _sweep_with_two_workers(out: Path, **popen) -> tuple[subprocess.Popen, list[Path]]:
    """`reproduce` of two long poisson1d runs on two worker processes, returned once both train (hold their locks)."""
    run = _python("-m", "pinn_tutorial", "reproduce", "poisson1d", "--methods", "M1", "--seeds", "2", "--budget",
                  "quick", "--steps", "20000", "--jobs", "2", "--ensemble-size", "1", "--out", str(out),
                  "--no-progress", **popen)
    locks = [out / "checkpoints" / f"poisson1d_M1_quick_20000steps_seed{s}.pt.lock" for s in (0, 1)]
    deadline = time.time() + 300
    while not all(lock.exists() and lock.read_text().strip() for lock in locks):
        assert run.poll() is None and time.time() < deadline, run.communicate()
        time.sleep(0.2)
    time.sleep(1.0)  # some steps in
    return run, locks


def _free(lock: Path) -> bool:
    """Whether no process holds the run lock ``lock`` (its holder gone)."""
    try:
        with checkpoints.run_lock(lock.with_suffix("")):
            return True
    except checkpoints.RunInUseError:
        return False


@pytest.mark.parametrize("stop,group", [("SIGINT", False), ("SIGTERM", False), ("SIGINT", True)],
                         ids=["SIGINT to the sweep", "SIGTERM to the sweep", "Ctrl-C in a terminal"])
def test_stopping_a_sweep_stops_its_workers_each_saved_and_no_traceback(stop, group, tmp_path):
    """A stop sent to the `reproduce` process alone (an IDE's stop button, `kill`, `timeout`) used to wait for its
    running workers to finish their runs (hours at the paper budget), or, for SIGTERM, to leave them training as
    orphans; Ctrl-C in a terminal (SIGINT to the whole process group) printed a traceback per worker. Now the
    workers save and stop at once, and the sweep says so in one line."""
    out = tmp_path / "results"
    run, locks = _sweep_with_two_workers(out, start_new_session=group)
    if group:
        os.killpg(run.pid, getattr(signal, stop))
    else:
        run.send_signal(getattr(signal, stop))
    _, err = run.communicate(timeout=120)
    assert run.returncode == 130, err
    assert "Traceback" not in err and err.strip().splitlines()[-1].startswith("interrupted: 2 running jobs"), err
    assert all(_free(lock) for lock in locks)  # no worker left running
    for lock in locks:
        assert 0 < torch.load(lock.with_suffix(""), weights_only=True)["step"] < 20000


def test_a_worker_whose_sweep_is_killed_saves_and_stops_by_itself(tmp_path):
    """SIGKILL cannot be caught: the sweep dies at once. Its workers notice that their parent is gone and stop as
    Ctrl-C stops them, each saving its run, instead of training on beside the next sweep on the same runs."""
    out = tmp_path / "results"
    run, locks = _sweep_with_two_workers(out)
    run.kill()
    run.wait(timeout=30)  # not communicate(): the workers hold its output pipes until they end
    deadline = time.time() + 120
    while not all(_free(lock) for lock in locks):
        assert time.time() < deadline, "a worker kept training after its sweep was killed"
        time.sleep(0.5)
    for lock in locks:
        assert 0 < torch.load(lock.with_suffix(""), weights_only=True)["step"] < 20000


def test_a_second_command_asked_to_wait_returns_the_first_ones_run(tmp_path):
    """With --wait the second command waits for the first, then returns the finished run from its checkpoint: the
    same result file, trained once."""
    out = tmp_path / "results"
    command = ["-m", "pinn_tutorial", "train", "poisson1d", "--budget", "quick", "--steps", "3000", "--out", str(out),
               "--no-progress"]
    first = _python(*command)
    lock = out / "checkpoints" / "poisson1d_M1_quick_3000steps_seed0.pt.lock"
    deadline = time.time() + 240
    while not (lock.exists() and lock.read_text().strip()):
        assert first.poll() is None and time.time() < deadline, first.communicate()
        time.sleep(0.2)
    second = _python(*command, "--wait")
    said, err = second.communicate(timeout=600)
    assert second.returncode == 0, err
    assert f"waiting for process {first.pid}, which is training this run" in err
    first_said, first_err = first.communicate(timeout=60)
    assert first.returncode == 0, first_err
    result = json.loads((out / "poisson1d_M1_quick_3000steps_seed0.json").read_text())
    assert result["steps"] == 3000
    # Both report the one run: the same error, and the same wall time (the second did not train it again).
    assert said == first_said and f"{result['rel_l2']:.2e}" in said


@pytest.mark.parametrize("delay", [0.15, 0.3, 0.5])
def test_ctrl_c_while_the_command_line_loads_exits_quietly(tmp_path, delay):
    """Ctrl-C in the first seconds (numpy, torch importing) printed a KeyboardInterrupt traceback, or, inside numpy's
    import, a RecursionError from the half-imported module."""
    run = _python("-m", "pinn_tutorial", "table", "--results", str(tmp_path), cwd=tmp_path)
    time.sleep(delay)  # the interpreter is up, the imports are under way
    run.send_signal(signal.SIGINT)
    _, err = run.communicate(timeout=60)
    assert run.returncode == 130 and "Traceback" not in err, err
