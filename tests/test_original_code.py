"""The runner of the authors' original code (pinn_tutorial.original_code), tested without TensorFlow.

The original files are not in this repository (they carry no licence). The fixture below writes a few lines of
its own that hold the same anchor lines the edits look for, a fake ``tensorflow`` package, and a driver that
prints its error line the way the original does; the edit step and the run are checked on them. A test that runs
the real code needs a Python with TensorFlow and a checkout of the original, and is skipped without them.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from pinn_tutorial import original_code as oc
from pinn_tutorial.config import ConfigError

# Minimal stand-ins with the original's anchor lines (and its CRLF line endings); nothing else of it.
FAKE_DRIVER = """import tensorflow as tf
import numpy as np
import seaborn as sns
from Helmholtz2D_model_tf import Sampler, Helmholtz2D

if __name__ == '__main__':
    mode = 'M1'            # Method
    model = Helmholtz2D([2, 50, 50, 50, 1], mode)

    # Train model
    model.train(nIter=40001, batch_size=128)

    error_u = model.n_iter * 1e-6 + (0.5 if mode == 'M4' else 0.0)
    error_f = np.random.rand()
    print('Relative L2 error_u: {:.2e}'.format(error_u))
    print('Relative L2 error_u: {:.2e}'.format(error_f))
    raise RuntimeError('the plots would start here')
"""

FAKE_MODEL = """import tensorflow as tf
import numpy as np


class Sampler:
    pass


class Helmholtz2D:
    def __init__(self, layers, model):
        self.layers = layers
        self.model = model
        self.sess = tf.Session(config=tf.ConfigProto(log_device_placement=True))
        self.adaptive_constant_val = np.array(1.0)

    def forward_pass(self, H, W, b, encoder_2):
        return tf.math.multiply(1 - tf.tanh(tf.add(tf.matmul(H, W), b)), encoder_2)

    def train(self, nIter=10000, batch_size=128):
        self.n_iter = nIter
        self.loss_res_log = [np.float32(it) for it in range(0, nIter, 10)]
        self.loss_bcs_log = [np.float32(1.0) for it in range(0, nIter, 10)]
        self.adpative_constant_log = [np.array(2.0) for it in range(0, nIter, 10)]
        self.adaptive_constant_val = np.float32(42.0)
        for it in range(0, nIter, 10):
            print('It: %d, Loss: 1.0, Time: 0.01' % it)
"""

FAKE_TF = {
    "tensorflow/__init__.py": "__version__ = '0.0-fake'\n",
    "tensorflow/compat/__init__.py": "",
    "tensorflow/compat/v1.py": "def disable_v2_behavior():\n    pass\n\n\ndef set_random_seed(seed):\n    pass\n\n\n"
                               "def ConfigProto(**kwargs):\n    return kwargs\n\n\n"
                               "def Session(config=None):\n    return config\n",
}


def write_checkout(root: Path, driver: str = FAKE_DRIVER, model: str = FAKE_MODEL) -> Path:
    folder = root / "checkout" / "Helmholtz"
    folder.mkdir(parents=True)
    (folder / "Helmholtz2D.py").write_bytes(driver.replace("\n", "\r\n").encode())
    (folder / "Helmholtz2D_model_tf.py").write_bytes(model.replace("\n", "\r\n").encode())
    return root / "checkout"


@pytest.fixture
def checkout(tmp_path):
    return write_checkout(tmp_path)


@pytest.fixture
def fake_tf(tmp_path, monkeypatch):
    """A ``tensorflow`` package that the subprocess finds, with the few names the fake files use."""
    for name, text in FAKE_TF.items():
        path = tmp_path / "fake_tf" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "fake_tf"))
    return tmp_path / "fake_tf"


def texts(checkout: Path) -> dict[str, str]:
    folder = checkout / "Helmholtz"
    return {"driver": oc._text((folder / "Helmholtz2D.py").read_bytes()),
            "model": oc._text((folder / "Helmholtz2D_model_tf.py").read_bytes())}


def test_every_edit_applied(checkout):
    setting = oc.Setting("helmholtz", "M4", seed=3, steps=2000, gate="first")
    edited, applied = oc.edit_files(texts(checkout), setting, missing={"seaborn"})
    assert applied == [e.name for e in oc.EDITS if e.name != "no_pandas"]
    driver, model = edited["driver"], edited["model"]
    assert driver.startswith("import tensorflow.compat.v1 as tf\ntf.disable_v2_behavior()\n")
    assert model.startswith("import tensorflow.compat.v1 as tf\ntf.disable_v2_behavior()\n")
    assert "    np.random.seed(3)\n    tf.set_random_seed(3)\n" in driver
    assert "mode = 'M4'" in driver and "mode = 'M1'" not in driver
    assert "model.train(nIter=2001, batch_size=128)" in driver
    assert "_oc_train_s = " in driver
    assert "import seaborn" not in driver
    assert "intra_op_parallelism_threads=1, inter_op_parallelism_threads=1" in model
    assert oc.GATE_LINES["first"] in model and oc.GATE_LINES["2021"] not in model
    assert driver.index(oc.MARKER) > driver.index("format(error_f)")
    compile(driver, "driver", "exec")
    compile(model, "model", "exec")


def test_edits_that_change_nothing_are_not_listed(checkout):
    """M1 is the driver's own mode and 40,000 steps its own count: those edits leave the text as it is."""
    setting = oc.Setting("helmholtz", "M1", seed=0)
    edited, applied = oc.edit_files(texts(checkout), setting, missing=set())
    assert "method" not in applied and "iterations" not in applied and "gate" not in applied
    assert "no_seaborn" not in applied and "import seaborn as sns" in edited["driver"]
    assert "nIter=40001" in edited["driver"]
    assert {"tf2_compat_driver", "seed", "timer", "stop_after_error"} <= set(applied)


def test_gate_left_as_it_is_where_the_checkout_has_it(tmp_path):
    checkout = write_checkout(tmp_path, model=FAKE_MODEL.replace(oc.GATE_LINES["2021"], oc.GATE_LINES["first"]))
    first = oc.Setting("helmholtz", "M4", seed=0, gate="first")
    edited, applied = oc.edit_files(texts(checkout), first)
    assert "gate" not in applied and oc.GATE_LINES["first"] in edited["model"]
    fixed = oc.Setting("helmholtz", "M4", seed=0, gate="2021")
    edited, applied = oc.edit_files(texts(checkout), fixed)
    assert "gate" in applied and oc.GATE_LINES["2021"] in edited["model"]
    assert oc.GATE_LINES["first"] not in edited["model"]


@pytest.mark.parametrize(("anchor", "edit", "file"), [
    ("mode = 'M1'", "method", "Helmholtz2D.py"),
    ("nIter=40001", "iterations", "Helmholtz2D.py"),
    ("tf.ConfigProto(log_device_placement=True)", "one_thread", "Helmholtz2D_model_tf.py"),
    (oc.GATE_LINES["2021"], "gate", "Helmholtz2D_model_tf.py"),
    ("    print('Relative L2 error_u: {:.2e}'.format(error_f))\n", "stop_after_error", "Helmholtz2D.py"),
])
def test_missing_anchor_fails_naming_the_edit(tmp_path, anchor, edit, file):
    driver, model = FAKE_DRIVER.replace(anchor, "pass\n" if anchor.endswith("\n") else "x"), \
        FAKE_MODEL.replace(anchor, "x")
    checkout = write_checkout(tmp_path, driver=driver, model=model)
    setting = oc.Setting("helmholtz", "M4", seed=0, steps=100, gate="first")
    with pytest.raises(oc.EditError) as info:
        oc.edit_files(texts(checkout), setting)
    message = str(info.value)
    assert f"edit {edit!r}" in message and "not found" in message and file in message
    assert repr(anchor) in message


def test_anchor_found_twice_fails(tmp_path):
    twice = FAKE_DRIVER.replace("    mode = 'M1'", "    mode = 'M1'\n    mode = 'M1'")
    checkout = write_checkout(tmp_path, driver=twice)
    with pytest.raises(oc.EditError, match="'method'.*found 2 times, expected once"):
        oc.edit_files(texts(checkout), oc.Setting("helmholtz", "M2", seed=0))


def test_run_writes_one_result_file_from_the_printed_error(checkout, fake_tf, tmp_path):
    out = tmp_path / "out"
    setting = oc.Setting("helmholtz", "M4", seed=3, steps=2000, gate="first")
    result = oc.run(setting, checkout, out, sys.executable, progress=None)
    assert sorted(p.name for p in out.iterdir()) == ["helmholtz_M4_original_2000steps_gate-first_seed3.json"]
    stored = json.loads((out / "helmholtz_M4_original_2000steps_gate-first_seed3.json").read_text())
    assert stored == result
    assert (out / "helmholtz_M4_original_2000steps_gate-first_seed3.json").stat().st_mode & 0o644 == 0o644
    # The fake driver's error encodes the iterations and the method it ran; error_f the seeded NumPy draw.
    assert result["rel_l2"] == pytest.approx(2001e-6 + 0.5, rel=1e-12)
    assert result["rel_l2_residual"] == np.random.RandomState(3).rand()
    assert (result["problem"], result["method"], result["seed"], result["steps"]) == ("helmholtz", "M4", 3, 2000)
    assert (result["budget"], result["implementation"], result["gate"], result["n_iter"]) == \
        ("custom", "original", "first", 2001)
    assert result["tensorflow"] == "0.0-fake" and result["layers"] == [2, 50, 50, 50, 1]
    assert (result["width"], result["depth"]) == (50, 3)
    assert result["final_weights"] == {"boundary": 42.0}
    assert result["paper_rel_l2"] == 3.87e-3 and "Table 2" in result["paper_source"]
    assert result["original_logs"]["loss_res_log"] == [float(it) for it in range(0, 2001, 100)]
    missing_seaborn = importlib.util.find_spec("seaborn") is None
    assert result["edits"] == [e.name for e in oc.EDITS
                               if e.name != "no_pandas" and (e.name != "no_seaborn" or missing_seaborn)]
    assert result["original_commit"] is None  # a plain folder, not a git work tree
    raw = (checkout / "Helmholtz" / "Helmholtz2D.py").read_bytes()
    assert result["original_files_sha256"]["Helmholtz2D.py"] == hashlib.sha256(raw).hexdigest()
    assert result["wall_s"] >= 0 and result["total_s"] >= result["wall_s"]


def test_an_existing_result_is_kept(checkout, fake_tf, tmp_path):
    out = tmp_path / "out"
    setting = oc.Setting("helmholtz", "M1", seed=0, steps=50)
    path = out / f"{setting.stem()}.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"kept": True}))
    assert oc.run(setting, checkout, out, sys.executable, progress=None) == {"kept": True}
    assert oc.run(setting, checkout, out, sys.executable, progress=None, force=True)["rel_l2"] == \
        pytest.approx(51e-6)


def test_a_failing_script_writes_nothing(tmp_path, fake_tf):
    checkout = write_checkout(tmp_path, driver=FAKE_DRIVER.replace("    error_u = ", "    1 / 0\n    error_u = "))
    out = tmp_path / "out"
    with pytest.raises(oc.RunError, match="ZeroDivisionError"):
        oc.run(oc.Setting("helmholtz", "M1", seed=0, steps=10), checkout, out, sys.executable, progress=None)
    assert not out.exists() or not any(out.iterdir())


def test_a_git_directory_at_a_commit(tmp_path):
    work = write_checkout(tmp_path)
    git = ["git", "-C", str(work), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "fixture"], check=True)
    sha = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    (work / "Helmholtz" / "Helmholtz2D.py").write_text("changed after the commit\n")
    files, commit = oc.read_checkout(work / ".git", oc.SCRIPTS["helmholtz"], sha[:7])
    assert commit == sha
    assert files["Helmholtz2D.py"] == FAKE_DRIVER.replace("\n", "\r\n").encode()
    with pytest.raises(ConfigError, match="not commit 'nosuch'"):
        oc.read_checkout(work / ".git", oc.SCRIPTS["helmholtz"], "nosuch")


def test_file_names():
    assert oc.Setting("helmholtz", "M4", 0, gate="2021").stem() == "helmholtz_M4_original_paper_seed0"
    assert oc.Setting("helmholtz", "M4", 0, gate="first").stem() == "helmholtz_M4_original_paper_gate-first_seed0"
    assert oc.Setting("klein_gordon", "M2", 4, steps=200).stem() == "klein_gordon_M2_original_200steps_seed4"
    assert oc.Setting("helmholtz", "M1", 0).budget == "paper"
    assert oc.Setting("helmholtz", "M1", 0, steps=39999).budget == "custom"


@pytest.mark.parametrize("argv", [
    ["run", "helmholtz", "--method", "M9"],
    ["run", "poisson", "--method", "M1"],
    ["run", "helmholtz", "--method", "M1", "--gate", "first"],
    ["run", "helmholtz", "--seed", "-1"],
    ["run", "helmholtz", "--steps", "0"],
    ["run", "helmholtz", "--checkout", "/nonexistent/checkout"],
])
def test_bad_input_is_one_line_and_status_2(argv, checkout, capsys):
    if "--checkout" not in argv:
        argv = [*argv, "--checkout", str(checkout)]
    with pytest.raises(SystemExit) as info:
        sys.exit(oc.main(argv))
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1


def test_a_python_without_tensorflow_is_refused(checkout, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("PYTHONPATH", raising=False)
    if importlib.util.find_spec("tensorflow") is not None:
        pytest.skip("this Python has TensorFlow")
    status = oc.main(["run", "helmholtz", "--checkout", str(checkout), "--python", sys.executable,
                      "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 2 and "cannot import tensorflow" in err and err.count("\n") == 1


def test_the_cli_runs_and_diffs(checkout, fake_tf, tmp_path, capsys):
    assert oc.main(["diff", "helmholtz", "--method", "M3", "--checkout", str(checkout)]) == 0
    shown = capsys.readouterr().out
    assert "+    mode = 'M3'" in shown and "-    mode = 'M1'" in shown
    out = tmp_path / "out"
    assert oc.main(["run", "helmholtz", "--method", "M2", "--seed", "1", "--steps", "30", "--checkout",
                    str(checkout), "--python", sys.executable, "--out", str(out)]) == 0
    assert json.loads((out / "helmholtz_M2_original_30steps_seed1.json").read_text())["form"] == "code"


# --- The real original code: needs a Python with TensorFlow and a checkout of the original ----------------------

MIRROR = "/work/.mirror/PredictiveIntelligenceLab+GradientPathologiesPINNs/repo"


def _real_setup() -> tuple[str, str] | None:
    python = os.environ.get(oc.PYTHON_ENV)
    checkout = os.environ.get("PINN_TUTORIAL_ORIGINAL_CHECKOUT") or (MIRROR if Path(MIRROR).is_dir() else None)
    if not python or not checkout:
        return None
    found = subprocess.run([python, "-c", "import importlib.util as u; print(u.find_spec('tensorflow') is not None)"],
                           capture_output=True, text=True)
    return (python, checkout) if found.stdout.strip() == "True" else None


@pytest.mark.skipif(_real_setup() is None, reason=f"needs ${oc.PYTHON_ENV} (a Python with TensorFlow) and a "
                    "checkout of the original ($PINN_TUTORIAL_ORIGINAL_CHECKOUT)")
def test_the_real_original_code_is_seeded(tmp_path):
    """Two runs of the same seed give the same error to the last digit; another seed another error."""
    python, checkout = _real_setup()
    runs = [oc.run(oc.Setting("helmholtz", "M4", seed, steps=20, gate="2021"), checkout, tmp_path / f"out{i}",
                   python, progress=None) for i, seed in enumerate((5, 5, 6))]
    assert runs[0]["rel_l2"] == runs[1]["rel_l2"] != runs[2]["rel_l2"]
    assert runs[0]["final_weights"] == runs[1]["final_weights"]
    assert {"tf2_compat_driver", "seed", "method", "iterations", "stop_after_error"} <= set(runs[0]["edits"])
    assert 0 < runs[0]["rel_l2"] < 10 and runs[0]["layers"] == [2, 50, 50, 50, 1]


def test_a_stopped_run_ends_the_script_too(checkout, fake_tf, tmp_path):
    """SIGTERM to the runner (``timeout``, a stopped sweep) ends the TensorFlow process it started."""
    pid_file = tmp_path / "script.pid"
    wait = ("        import os, time\n"
            "        open(os.environ['FAKE_PID_FILE'], 'w').write(str(os.getpid()))\n"
            "        time.sleep(60)\n")
    slow = FAKE_MODEL.replace("        self.n_iter = nIter\n", wait + "        self.n_iter = nIter\n")
    slow_checkout = write_checkout(tmp_path / "slow", model=slow)
    env = {**os.environ, "FAKE_PID_FILE": str(pid_file)}
    runner = subprocess.Popen([sys.executable, "-m", "pinn_tutorial.original_code", "run", "helmholtz", "--steps", "10",
                               "--checkout", str(slow_checkout), "--python", sys.executable,
                               "--out", str(tmp_path / "out")], env=env, stdout=subprocess.PIPE, text=True)
    for _ in range(300):
        if pid_file.exists() and pid_file.read_text():
            break
        time.sleep(0.1)
    script = int(pid_file.read_text())
    runner.terminate()
    try:
        assert runner.wait(timeout=30) == 128 + signal.SIGTERM
        for _ in range(100):
            os.kill(script, 0)  # ProcessLookupError once it has ended
            time.sleep(0.1)
    except ProcessLookupError:
        pass
    else:
        pytest.fail("the script outlived its runner")
    finally:
        try:
            os.kill(script, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
