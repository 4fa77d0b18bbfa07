"""Run the authors' original TensorFlow code beside the library, from the user's own checkout.

The original repository (``PredictiveIntelligenceLab/GradientPathologiesPINNs``) carries no licence, so
nothing of it ships here. This module reads the needed files from a checkout the user has (a folder, or a git
directory and a commit), copies them to a temporary folder, applies the fewest edits that let the scripts run
headless under TensorFlow 2 with a chosen seed, method and iteration count, runs the driver in a subprocess (with
a Python that has TensorFlow, ``--python``), reads the relative L2 error it prints, and writes one JSON result
file in the library's result schema, marked ``"implementation": "original"``::

    python -m pinn_tutorial.reproduction.original_code run helmholtz --method M4 --seed 0 \\
        --checkout PATH/TO/GradientPathologiesPINNs --python PATH/TO/tf/bin/python --out results/original_code

``diff`` prints the edits as a unified diff instead of running them. ``lockstep`` runs the original with a few
more edits that only read (``LOCKSTEP_EDITS``: its initial weights, input statistics, every minibatch's points and
every step's losses), then ours from those weights on those points, set to do what the original does, and prints the
largest relative difference of each series (the losses, the adaptive constant lambda) and the step where it is::

    python -m pinn_tutorial.reproduction.original_code lockstep helmholtz --method M2 --steps 300 \\
        --checkout PATH/TO/GradientPathologiesPINNs --python PATH/TO/tf/bin/python

Each edit is a named text substitution (``EDITS``, documented there) that fails with its name and the text it
looked for if the checkout lacks that text: a changed original is refused, never patched by guesswork. The edits
applied (those that changed the text) are listed in the result file.

Counting steps: the original driver calls ``model.train(nIter=40001)``, iterations 0 to 40,000; a run of
``steps`` here runs ``nIter = steps + 1`` such iterations, so the default, 40,000 steps, is the original's own
count (the ``iterations`` edit is then not needed) and the library's ``paper`` budget (one Adam step more than the
library's 40,000). The repository's files end their lines with CRLF: the edits work on ``\\n`` text and the edited
files are written back with the original's line endings.

This is machinery of the reproduction: the library's core never imports it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .. import __version__
from ..config import Budget, ConfigError, check_seed, choose
from ..methods import build
from ..networks import ModifiedMLP
from ..problems.helmholtz import Helmholtz
from ..training import Trainer
from ..weighting import ANNEALING_FORMS
from .experiments import git_commit
from .paper import reported_for_network

PAPER_STEPS = 40000  # the original drivers' nIter=40001: iterations 0..40,000
ORIGINAL_N_ITER = "nIter=40001"
MARKER = "ORIGINAL_CODE_RESULT "  # the line the stop edit prints, followed by a JSON object
PYTHON_ENV = "PINN_TUTORIAL_TF_PYTHON"  # the default --python: a Python with TensorFlow
METHODS = ("M1", "M2", "M3", "M4")
GATES = ("2021", "first")

# The gated layer's second term in the original model files: the first public version (August 2020) had
# tanh(1 - H W + b); the commits of 27 July 2021 (27c2dc2 Helmholtz, f19a9a7 Klein-Gordon, 9d5f1f3 cavity)
# made it 1 - tanh(H W + b), the form of the paper's Eq. 46.
GATE_LINES = {
    "2021": "tf.math.multiply(1 - tf.tanh(tf.add(tf.matmul(H, W), b)), encoder_2)",
    "first": "tf.math.multiply(tf.tanh(tf.add(1 - tf.matmul(H, W), b)), encoder_2)",
}


class EditError(ConfigError):
    """An edit's anchor text is not in the checkout (or not once): the original differs from the one expected."""


class RunError(RuntimeError):
    """The edited script failed, or ended without printing its result line."""


@dataclass(frozen=True)
class Script:
    """One benchmark of the original repository: its folder, driver and model files, and what it reports."""

    problem: str  # the library's name for the problem (results and paper.py use it)
    folder: str
    driver: str
    model: str
    data: tuple[str, ...]  # further files the driver reads (from its own folder)
    error_print: str  # the driver's line that prints the error: the stop edit's anchor
    report: str  # a Python dict expression, in the driver's names, of what the stop edit prints
    optional_imports: tuple[str, ...]  # driver imports used only by the plots after the stop: dropped if missing


_COMMON = ("'train_s': _oc_train_s, 'layers': [int(n) for n in model.layers], "
           "'tensorflow': __import__('tensorflow').__version__")
SCRIPTS: dict[str, Script] = {
    "helmholtz": Script(
        "helmholtz", "Helmholtz", "Helmholtz2D.py", "Helmholtz2D_model_tf.py", (),
        "    print('Relative L2 error_u: {:.2e}'.format(error_f))\n",
        "{'rel_l2': float(error_u), 'rel_l2_residual': float(error_f), " + _COMMON + ", "
        "'final_weights': {'boundary': float(model.adaptive_constant_val)}, "
        "'logs': {'loss_res_log': model.loss_res_log[::10], 'loss_bcs_log': model.loss_bcs_log[::10], "
        "'adpative_constant_log': model.adpative_constant_log[::10]}}",
        ("seaborn",)),
    "klein_gordon": Script(
        "klein_gordon", "Klein Gordon", "Klein_Gordon.py", "Klein_Gordon_model_tf.py", (),
        "    print('Relative L2 error_u: {:.2e}'.format(error_u))\n",
        "{'rel_l2': float(error_u), " + _COMMON + ", "
        "'final_weights': {'boundary': float(model.adaptive_constant_bcs_val), "
        "'initial': float(model.adaptive_constant_ics_val)}, "
        "'logs': {'loss_r_log': model.loss_r_log[::10], 'loss_u_log': model.loss_u_log[::10], "
        "'adaptive_constant_bcs_log': model.adaptive_constant_bcs_log[::10], "
        "'adaptive_constant_ics_log': model.adaptive_constant_ics_log[::10]}}",
        ("seaborn",)),
    # The cavity driver's error is np.linalg.norm(matrix, 2), the spectral norm of the 100 x 100 velocity
    # error (the library's rel_l2_spectral); the report adds the Frobenius norm of the same arrays (rel_l2).
    "cavity_stream": Script(
        "cavity_stream", "Lid-driven Cavity", "NS.py", "NS_model_tf.py", ("reference_u.csv", "reference_v.csv"),
        "    print('l2 error: {:.2e}'.format(error))\n",
        "{'rel_l2': float(np.linalg.norm(velocity_star - velocity_ref.T) / np.linalg.norm(velocity_ref)), "
        "'rel_l2_spectral': float(error), " + _COMMON + ", "
        "'final_weights': {'boundary': float(model.adaptive_constant_bcs_val)}, "
        "'logs': {'loss_res_log': model.loss_res_log[::10], 'loss_bcs_log': model.loss_bcs_log[::10], "
        "'adpative_constant_bcs_log': model.adpative_constant_bcs_log[::10]}}",
        ("seaborn", "pandas")),
}
PROBLEM_ALIASES = {"cavity": "cavity_stream"}  # the original's cavity is the stream-function form


@dataclass(frozen=True)
class Setting:
    """What one run of the original code is: problem, method, seed, steps and gate (M3, M4)."""

    problem: str
    method: str
    seed: int
    steps: int = PAPER_STEPS
    gate: str | None = None  # None: M1, M2 (no gated layer); else one of GATES
    lockstep: bool = False  # also apply LOCKSTEP_EDITS: record the initial weights, the points and every step's losses

    def __post_init__(self) -> None:
        choose("problem", self.problem, SCRIPTS)
        choose("method", self.method, METHODS)
        check_seed(self.seed)
        if isinstance(self.steps, bool) or not isinstance(self.steps, int) or self.steps < 1:
            raise ConfigError(f"steps must be a whole number of at least 1, got {self.steps!r}")
        if self.method in ("M3", "M4"):
            choose("gate", self.gate or "", GATES)
        elif self.gate is not None:
            raise ConfigError(f"--gate is a setting of the gated network (M3, M4), not of {self.method}")
        if self.lockstep and self.problem not in LOCKSTEP_PROBLEMS:
            raise ConfigError(f"lockstep runs {', '.join(LOCKSTEP_PROBLEMS)}, not {self.problem}")

    @property
    def script(self) -> Script:
        return SCRIPTS[self.problem]

    @property
    def budget(self) -> str:
        """``paper`` for the original's own 40,000 steps (batch 128, the paper's schedule), else ``custom``."""
        return "paper" if self.steps == PAPER_STEPS else "custom"

    def stem(self) -> str:
        """The result file's name, e.g. ``helmholtz_M4_original_paper_seed0``, ``..._2000steps_...``,
        ``..._paper_gate-first_seed0``."""
        budget = "paper" if self.steps == PAPER_STEPS else f"{self.steps}steps"
        gate = f"_gate-{self.gate}" if self.gate not in (None, "2021") else ""
        return f"{self.problem}_{self.method}_original_{budget}{gate}_seed{self.seed}"


# --- Edits --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Edit:
    """A named text substitution on the driver or the model file.

    ``subs`` are (anchor, replacement) pairs; each anchor must occur exactly once in ``target``'s text, else
    an ``EditError`` names the edit, the file and the anchor. ``when`` says whether the edit applies to a
    setting (default: always). An edit whose replacements leave the text as it was is not listed as applied.
    """

    name: str
    target: str  # "driver" or "model"
    doc: str
    subs: Callable[[Setting], tuple[tuple[str, str], ...]]
    when: Callable[[Setting, set[str]], bool] = lambda setting, missing: True


def _report_line(setting: Setting) -> tuple[tuple[str, str], ...]:
    anchor = setting.script.error_print
    stop = f"    print({MARKER!r} + __import__('json').dumps({setting.script.report}, default=float))\n" \
           "    raise SystemExit(0)\n"
    return ((anchor, anchor + stop),)


def _gate(setting: Setting) -> tuple[tuple[str, str], ...]:
    other = "first" if setting.gate == "2021" else "2021"
    return ((GATE_LINES[other], GATE_LINES[setting.gate]),)


_TIMER_END = "    _oc_train_s = __import__('timeit').default_timer() - _oc_t0\n"
_TF2 = (("import tensorflow as tf\n", "import tensorflow.compat.v1 as tf\ntf.disable_v2_behavior()\n"),)
_CONFIG = "tf.ConfigProto(log_device_placement=True)"
_MAIN = "if __name__ == '__main__':\n"

EDITS: tuple[Edit, ...] = (
    Edit("tf2_compat_driver", "driver",
         "TensorFlow 1's graph API under TensorFlow 2: import tensorflow.compat.v1 and disable v2 behaviour.",
         lambda s: _TF2),
    Edit("tf2_compat_model", "model", "The same in the model file.", lambda s: _TF2),
    Edit("seed", "driver",
         "Seed NumPy's global generator (every sampler and the input statistics draw from it) and TensorFlow's "
         "graph-level seed (the Xavier initial weights) at the start of the main block; the original sets none.",
         lambda s: ((_MAIN, f"{_MAIN}    np.random.seed({s.seed})\n    tf.set_random_seed({s.seed})\n"),)),
    Edit("method", "driver", "The method: the driver's `mode = 'M1'` set to the run's method.",
         lambda s: (("mode = 'M1'", f"mode = {s.method!r}"),)),
    Edit("iterations", "driver",
         "The iteration count: nIter = steps + 1 (iterations 0..steps, as the original's nIter=40001).",
         lambda s: ((ORIGINAL_N_ITER, f"nIter={s.steps + 1}"),)),
    Edit("timer", "driver", "Time model.train(...) alone, for wall_s (graph building and prediction excluded).",
         lambda s: (("    model.train(", "    _oc_t0 = __import__('timeit').default_timer()\n    model.train("),
                    ("batch_size=128)\n", "batch_size=128)\n" + _TIMER_END))),
    Edit("one_thread", "model",
         "One intra-op and one inter-op thread in the session's ConfigProto (also set by environment variables).",
         lambda s: ((_CONFIG, _CONFIG[:-1] + ", intra_op_parallelism_threads=1, inter_op_parallelism_threads=1)"),)),
    Edit("gate", "model",
         "The gated layer's second term: 1 - tanh(H W + b) (the July 2021 fix, gate 2021) or tanh(1 - H W + b) "
         "(the first public version, gate first). Only for M3, M4; a checkout that has the asked form is left "
         "as it is.",
         _gate, lambda s, missing: s.gate is not None),
    Edit("no_seaborn", "driver", "Drop `import seaborn as sns` where seaborn is missing: only the plots use it.",
         lambda s: (("import seaborn as sns\n", ""),), lambda s, missing: "seaborn" in missing),
    Edit("no_pandas", "driver", "Drop `import pandas as pd` (cavity) where pandas is missing: unused before the stop.",
         lambda s: (("import pandas as pd\n", ""),),
         lambda s, missing: "pandas" in missing and "pandas" in s.script.optional_imports),
    Edit("stop_after_error", "driver",
         "After the error is printed, print one line, ORIGINAL_CODE_RESULT and a JSON object (the error at full "
         "precision, the training time, the final weights lambda, the logs every 100 iterations), and stop: no "
         "plots (matplotlib also runs with the Agg backend, MPLBACKEND=Agg).",
         _report_line),
)

# Lockstep (``lockstep``): the original runs as it is, on its own seeded draws, and these edits only read: the initial
# weights and input statistics it made, the raw points of every minibatch (``fetch_minibatch`` draws the four edges'
# batches, then the residual's, before it standardises them), and each step's unweighted loss terms on that step's
# batch before its Adam step. The driver then saves them in LOCKSTEP_FILE, beside the adaptive constant the original
# logs itself every 10 steps (after that step's update), and goes on to its error and report line.
LOCKSTEP_FILE = "lockstep.npz"
LOCKSTEP_PROBLEMS = ("helmholtz",)
_ENCODERS = ("encoder_weights_1", "encoder_biases_1", "encoder_weights_2", "encoder_biases_2")
_INIT = "        self.sess.run(init)\n"
_FETCH = "        X, Y = sampler.sample(N)\n"
_TRAIN_OP = "            self.sess.run(self.train_op, tf_dict)\n"
_LOSS_TERMS = "[self.loss_res, self.loss_bc1, self.loss_bc2, self.loss_bc3, self.loss_bc4]"


def _lockstep(setting: Setting, missing: set[str]) -> bool:
    return setting.lockstep


LOCKSTEP_EDITS: tuple[Edit, ...] = (
    Edit("lockstep_initial_weights", "model",
         "After the variables are initialised, read their values: the weight matrices W0.. and biases b0.. of "
         "`self.weights`, `self.biases` (TensorFlow's layout: W of shape (fan_in, fan_out), b of shape (1, fan_out)) "
         "and, for M3/M4, the gated net's two encoders.",
         lambda s: ((_INIT, _INIT + f"        _oc_encoders = {_ENCODERS!r}\n"
                     "        _oc_init = {**{'W%d' % i: w for i, w in enumerate(self.weights)}, "
                     "**{'b%d' % i: b for i, b in enumerate(self.biases)}, "
                     "**{n: getattr(self, n) for n in _oc_encoders if hasattr(self, n)}}\n"
                     "        self._oc_lockstep = {'init': self.sess.run(_oc_init), 'fetch': _oc_init, 'points': [], "
                     "'losses': []}\n"),),
         _lockstep),
    Edit("lockstep_points", "model",
         "Keep each minibatch's raw points, as drawn and before they are standardised.",
         lambda s: ((_FETCH, _FETCH + "        self._oc_lockstep['points'].append(X)\n"),), _lockstep),
    Edit("lockstep_losses", "model",
         "Before each Adam step, evaluate the residual loss and the four edges' losses (unweighted) on its batch.",
         lambda s: ((_TRAIN_OP, f"            self._oc_lockstep['losses'].append(self.sess.run({_LOSS_TERMS}, "
                     "tf_dict))\n" + _TRAIN_OP),), _lockstep),
    Edit("lockstep_save", "driver",
         f"After training, save the input statistics, the initial weights, the points, the losses, the logged "
         f"adaptive constant and the weights after the last step in {LOCKSTEP_FILE} (in the script's folder).",
         lambda s: ((_TIMER_END, _TIMER_END + "    _oc = model._oc_lockstep\n"
                     f"    __import__('numpy').savez({LOCKSTEP_FILE!r}, mu_X=model.mu_X, sigma_X=model.sigma_X, "
                     "points=__import__('numpy').stack(_oc['points']), "
                     "losses=__import__('numpy').array(_oc['losses'], dtype='float32'), "
                     "adaptive_constant=__import__('numpy').array(model.adpative_constant_log, dtype=float), "
                     "**{'init_' + k: v for k, v in _oc['init'].items()}, "
                     "**{'final_' + k: v for k, v in model.sess.run(_oc['fetch']).items()})\n"),),
         _lockstep),
)


def apply_edit(text: str, edit: Edit, setting: Setting, filename: str) -> str:
    """``text`` with ``edit`` applied; an ``EditError`` if one of its anchors is not there exactly once."""
    if edit.name == "gate" and text.count(GATE_LINES[setting.gate]) == 1 \
            and GATE_LINES["first" if setting.gate == "2021" else "2021"] not in text:
        return text  # the checkout has the asked gate already
    for old, new in edit.subs(setting):
        count = text.count(old)
        if count != 1:
            where = "not found" if count == 0 else f"found {count} times, expected once"
            raise EditError(f"edit {edit.name!r}: anchor {old!r} {where} in {filename}; this checkout differs from "
                            "the original this tool knows (see pinn_tutorial.reproduction.original_code.EDITS)")
        text = text.replace(old, new)
    return text


def edit_files(files: dict[str, str], setting: Setting, missing: set[str] = frozenset()) -> tuple[dict[str, str],
                                                                                                      list[str]]:
    """The driver's and model's texts (``files`` keyed ``driver``, ``model``) with every edit that applies to
    ``setting`` made, and the names of those that changed the text. ``missing``: the optional modules the
    running Python lacks."""
    names = {"driver": setting.script.driver, "model": setting.script.model}
    edited = dict(files)
    applied = []
    for edit in (*EDITS, *LOCKSTEP_EDITS):
        if not edit.when(setting, set(missing)):
            continue
        before = edited[edit.target]
        edited[edit.target] = apply_edit(before, edit, setting, names[edit.target])
        if edited[edit.target] != before:
            applied.append(edit.name)
    return edited, applied


# --- The checkout ------------------------------------------------------------------------------------------


def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], capture_output=True, timeout=60)


def read_checkout(checkout: str | Path, script: Script, commit: str | None = None) -> tuple[dict[str, bytes], str
                                                                                             | None]:
    """The files of ``script`` (driver, model, data; keyed by file name) from ``checkout``, and its commit.

    ``checkout`` is a folder holding the repository's files (a clone's work tree; its commit is read when it is a
    git work tree) or a git directory (a bare clone, or a clone's ``.git``), read at ``commit`` (default HEAD).
    """
    path = Path(checkout)
    names = (script.driver, script.model, *script.data)
    if not path.is_dir():
        raise ConfigError(f"no checkout folder {path}")
    if commit is None and (path / script.folder / script.driver).is_file():
        files = {}
        for name in names:
            file = path / script.folder / name
            if not file.is_file():
                raise ConfigError(f"the checkout {path} lacks {script.folder}/{name}")
            files[name] = file.read_bytes()
        head = _git("-C", str(path), "rev-parse", "HEAD")
        return files, (head.stdout.decode().strip() or None) if head.returncode == 0 else None
    git_dir = ["--git-dir", str(path)] if _git("--git-dir", str(path), "rev-parse", "--git-dir").returncode == 0 \
        else ["-C", str(path)]
    rev = _git(*git_dir, "rev-parse", "--verify", f"{commit or 'HEAD'}^{{commit}}")
    if rev.returncode != 0:
        what = f"commit {commit!r} in" if commit else "a folder with the original's files nor a git directory:"
        raise ConfigError(f"not {what} {path}")
    sha = rev.stdout.decode().strip()
    files = {}
    for name in names:
        shown = _git(*git_dir, "show", f"{sha}:{script.folder}/{name}")
        if shown.returncode != 0:
            raise ConfigError(f"commit {sha[:7]} of {path} lacks {script.folder}/{name}")
        files[name] = shown.stdout
    return files, sha


# --- Running -----------------------------------------------------------------------------------------------


def probe(python: str) -> dict[str, bool]:
    """Which of tensorflow, seaborn and pandas ``python`` can import (found, not imported: fast)."""
    code = ("import importlib.util as u, json; "
            "print(json.dumps({m: u.find_spec(m) is not None for m in ('tensorflow', 'seaborn', 'pandas')}))")
    try:
        out = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=120, env=_environment())
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ConfigError(f"cannot run {python}: {error}") from None
    if out.returncode != 0:
        raise ConfigError(f"cannot run {python}: {out.stderr.strip().splitlines()[-1:] or out.returncode}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _environment() -> dict[str, str]:
    """The subprocess's environment: one thread everywhere, matplotlib without a display, quieter TensorFlow."""
    env = dict(os.environ)
    env.update({"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "MPLBACKEND": "Agg",
                "TF_CPP_MIN_LOG_LEVEL": env.get("TF_CPP_MIN_LOG_LEVEL", "1"), "CUDA_VISIBLE_DEVICES": "",
                "PYTHONUNBUFFERED": "1"})
    return env


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


_ITERATION = re.compile(r"^It: (\d+),")


def run_script(folder: Path, driver: str, python: str, progress: Callable[[str], None] | None = print,
               every: int = 1000) -> tuple[dict, list[str], float]:
    """Run ``driver`` in ``folder`` with ``python``; its report (the marker line's object), the output's last
    lines and the subprocess's wall time. Progress: one line every ``every`` iterations. A ``RunError`` if it
    fails or prints no report."""
    tail: list[str] = []
    report = None
    start = time.perf_counter()
    last = start
    proc = subprocess.Popen([python, driver], cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=_environment())
    try:
        for line in proc.stdout:
            if line.startswith(MARKER):
                report = json.loads(line[len(MARKER):])
                continue
            tail = (tail + [line.rstrip("\n")])[-40:]
            match = _ITERATION.match(line)
            if progress and match and int(match.group(1)) % every == 0:
                now = time.perf_counter()
                progress(f"  it {int(match.group(1)):>6}  {now - last:7.1f} s  {line.strip()}")
                last = now
        status = proc.wait()
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    wall = time.perf_counter() - start
    if status != 0 or report is None:
        why = f"exit status {status}" if status != 0 else "no result line"
        raise RunError(f"the edited {driver} failed ({why}); its last lines:\n" + "\n".join(tail))
    return report, tail, wall


def write_json_atomic(path: Path, data: dict) -> None:
    """Write ``data`` to ``path`` through a temporary file of a unique name in the same folder and
    ``os.replace``: a reader never sees half a file, and two writers never share a temporary file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp",
                                     delete=False) as tmp:
        tmp.write(json.dumps(data, indent=1))
    try:
        os.chmod(tmp.name, 0o644)  # a temporary file is made owner-only; a result file is for everyone to read
        os.replace(tmp.name, path)
    except BaseException:
        Path(tmp.name).unlink(missing_ok=True)
        raise


def _text(data: bytes) -> str:
    """A file's text with its line endings made ``\\n`` (the repository's files end lines with CRLF), for the
    edits' anchors; ``prepare`` writes the edited file back with the original's line endings."""
    return data.decode().replace("\r\n", "\n")


def prepare(setting: Setting, checkout: str | Path, commit: str | None, missing: set[str], folder: Path
            ) -> tuple[list[str], str | None, dict[str, str]]:
    """Copy the setting's files from ``checkout`` into ``folder``, edited; the edits applied, the original's
    commit and each original file's SHA-256."""
    script = setting.script
    raw, sha = read_checkout(checkout, script, commit)
    texts = {key: _text(raw[name]) for key, name in (("driver", script.driver), ("model", script.model))}
    edited, applied = edit_files(texts, setting, missing)
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in raw.items():
        (folder / name).write_bytes(data)
    for key, name in (("driver", script.driver), ("model", script.model)):
        newline = "\r\n" if b"\r\n" in raw[name] else "\n"
        (folder / name).write_bytes(edited[key].replace("\n", newline).encode())
    return applied, sha, {name: hashlib.sha256(data).hexdigest() for name, data in raw.items()}


def result_of(setting: Setting, report: dict, applied: list[str], sha: str | None, hashes: dict[str, str],
              python: str, total_s: float) -> dict:
    """The result file's contents: the library's keys where they apply, and the original's own."""
    layers = report["layers"]
    depth, width = len(layers) - 2, layers[1]
    paper = reported_for_network(setting.problem, setting.method, depth, width)
    extra = {k: report[k] for k in ("rel_l2_residual", "rel_l2_spectral") if k in report}
    return {
        "problem": setting.problem,
        "method": setting.method,
        "budget": setting.budget,
        "seed": setting.seed,
        "steps": setting.steps,
        "implementation": "original",
        "form": "code" if setting.method in ("M2", "M4") else None,
        "gate": setting.gate,
        "width": width,
        "depth": depth,
        "layers": layers,
        "batch_size": 128,
        "n_iter": setting.steps + 1,
        "rel_l2": report["rel_l2"],
        **extra,
        "paper_rel_l2": paper.rel_l2 if paper else None,
        "paper_source": paper.source if paper else None,
        "final_weights": report["final_weights"],
        "wall_s": report["train_s"],
        "total_s": total_s,
        "device": "cpu",
        "hardware": f"{cpu_name()} (1 threads)",
        "tensorflow": report["tensorflow"],
        "python": python,
        "original_commit": sha,
        "original_files_sha256": hashes,
        "edits": applied,
        "pinn_tutorial": __version__,
        "git_commit": git_commit(),
        "original_logs": {"every": 100, **report["logs"]},
    }


def run(setting: Setting, checkout: str | Path, out: str | Path, python: str, commit: str | None = None,
        force: bool = False, progress: Callable[[str], None] | None = print) -> dict:
    """Run ``setting`` with the original code from ``checkout`` and write ``out/<stem>.json``; return it.

    An existing result file is returned as it is unless ``force``.
    """
    if not Path(checkout).is_dir():  # bad input is refused whether or not the run is done
        raise ConfigError(f"no checkout folder {checkout}")
    path = Path(out) / f"{setting.stem()}.json"
    if path.is_file() and not force:
        if progress:
            progress(f"{path} exists; skipped (--force to run again)")
        return json.loads(path.read_text())
    if path.is_dir():
        raise ConfigError(f"cannot write {path}: a folder of that name is in the way")
    found = probe(python)
    if not found["tensorflow"]:
        raise ConfigError(f"{python} cannot import tensorflow; give --python a Python that can "
                          f"(or set ${PYTHON_ENV})")
    missing = {name for name, ok in found.items() if not ok}
    with tempfile.TemporaryDirectory(prefix="original_code_") as tmp:
        folder = Path(tmp) / setting.script.folder
        applied, sha, hashes = prepare(setting, checkout, commit, missing, folder)
        if progress:
            progress(f"{setting.stem()}: original {sha[:7] if sha else '(no git)'}, edits {', '.join(applied)}")
        report, _, total_s = run_script(folder, setting.script.driver, python, progress)
    result = result_of(setting, report, applied, sha, hashes, python, total_s)
    write_json_atomic(path, result)
    if progress:
        progress(f"{setting.stem()}: rel_l2 {result['rel_l2']:.3e} (paper {result['paper_rel_l2']}), "
                 f"train {result['wall_s']:.0f} s -> {path}")
    return result


def diff(setting: Setting, checkout: str | Path, commit: str | None = None, missing: set[str] = frozenset()
         ) -> str:
    """The edits for ``setting`` as a unified diff of the driver and model files."""
    import difflib

    script = setting.script
    raw, _ = read_checkout(checkout, script, commit)
    texts = {key: _text(raw[name]) for key, name in (("driver", script.driver), ("model", script.model))}
    edited, _ = edit_files(texts, setting, missing)
    lines = []
    for key, name in (("driver", script.driver), ("model", script.model)):
        lines += difflib.unified_diff(texts[key].splitlines(True), edited[key].splitlines(True),
                                      f"a/{script.folder}/{name}", f"b/{script.folder}/{name}")
    return "".join(lines)


# --- Lockstep: ours beside the original, from the same weights on the same points ----------------------------

# The order in which the original's fetch_minibatch draws each step's batches (bcs_sampler[0..3], then res_sampler),
# in the library's names: bc1 is the edge y = -1, bc2 x = 1, bc3 y = 1, bc4 x = -1 (the driver's *_coords).
HELMHOLTZ_BATCHES = ("bottom", "right", "top", "left", "residual")
LOCKSTEP_MARKS = (10, 100, 300)  # the steps up to which the summary gives the largest difference
LOCKSTEP_STEPS = 300  # the command's default
LOSS_SERIES = ("loss_res", "loss_bcs")


def _original_names(net) -> list[tuple[torch.nn.Linear, str, str]]:
    """Each layer of ``net`` with the original's names of its weight and bias (see ``load_original_weights``)."""
    pairs = [(linear, f"W{i}", f"b{i}") for i, linear in enumerate(net.linears)]
    if isinstance(net, ModifiedMLP):
        if net.variant != "code":
            raise ConfigError(f"the original's gated net is ModifiedMLP's variant 'code', not {net.variant!r}")
        pairs += [(net.encoder_u, "encoder_weights_1", "encoder_biases_1"),
                  (net.encoder_v, "encoder_weights_2", "encoder_biases_2")]
    return pairs


def in_original_layout(net) -> dict[str, np.ndarray]:
    """The parameters of ``net`` under the original's names and in its layout (W transposed, b of shape (1, n))."""
    return {name: value for layer, w, b in _original_names(net)
            for name, value in ((w, layer.weight.detach().cpu().numpy().T.copy()),
                                (b, layer.bias.detach().cpu().numpy().reshape(1, -1).copy()))}


def load_original_weights(net, arrays: dict[str, np.ndarray]) -> None:
    """Set ``net`` (the library's MLP, or its ModifiedMLP of variant ``"code"``) to the original's initial weights.

    ``arrays`` holds what the ``lockstep_*`` edits saved: ``init_W{l}`` of shape (fan_in, fan_out) and ``init_b{l}``
    of shape (1, fan_out) for ``self.weights[l]``, ``self.biases[l]`` (ours: ``net.linears[l]``, whose weight is the
    transpose), the gated net's ``init_encoder_weights_1``/``init_encoder_biases_1`` (ours: ``encoder_u``, the
    encoder that the gate Z multiplies) and ``..._2`` (ours: ``encoder_v``, multiplied by 1 - Z), and the input
    statistics ``mu_X``, ``sigma_X`` of the original's 10^5 points (ours: the buffers ``input_mean``, ``input_std``).
    A ``ConfigError`` if a parameter is missing, left over, or of another shape.
    """
    pairs = [(layer, "init_" + w, "init_" + b) for layer, w, b in _original_names(net)]
    given = {key for key in arrays if key.startswith("init_")}
    expected = {key for _, w, b in pairs for key in (w, b)}
    if given != expected:
        raise ConfigError(f"the original's initial weights {sorted(given)} do not fit {type(net).__name__} "
                          f"{net.layers}, which needs {sorted(expected)}")
    with torch.no_grad():
        for layer, w, b in pairs:
            weight, bias = np.asarray(arrays[w]), np.asarray(arrays[b])
            if weight.shape != tuple(layer.weight.shape)[::-1] or bias.shape != (1, layer.bias.numel()):
                raise ConfigError(f"{w} {weight.shape} and {b} {bias.shape} do not fit a layer of "
                                  f"{layer.in_features} -> {layer.out_features}")
            layer.weight.copy_(torch.as_tensor(weight.T, dtype=torch.float32))
            layer.bias.copy_(torch.as_tensor(bias.reshape(-1), dtype=torch.float32))
        for buffer, key in ((net.input_mean, "mu_X"), (net.input_std, "sigma_X")):
            buffer.copy_(torch.as_tensor(np.asarray(arrays[key]).reshape(-1), dtype=torch.float32))


class BatchReplay:
    """A stand-in for ``problem.sample`` that hands out recorded batches in order, one per call.

    A ``ValueError`` if a call asks for another batch size than was recorded, a ``RuntimeError`` once the
    recording has run out: a replay never draws a point of its own.
    """

    def __init__(self, batches: list[dict[str, torch.Tensor]]):
        self.batches, self.drawn = batches, 0

    def __call__(self, batch_size: int, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        if self.drawn >= len(self.batches):
            raise RuntimeError(f"the recorded point stream has run out after {len(self.batches)} batches")
        batch = self.batches[self.drawn]
        sizes = {len(points) for points in batch.values()}
        if sizes != {batch_size}:
            raise ValueError(f"batch {self.drawn} was recorded with {sorted(sizes)} points per term, not {batch_size}")
        self.drawn += 1
        return batch


def recorded_batches(problem: Helmholtz, points: np.ndarray) -> list[dict[str, torch.Tensor]]:
    """The original's raw points, shape (steps * 5, n, 2) in its order of draws, as the library's batches.

    Each edge's points are checked against the library's edge of that name (its fixed coordinate exactly, the
    other within the edge), the residual's against the domain: a mismatch of names is an error, not a quiet
    difference of the losses.
    """
    names = HELMHOLTZ_BATCHES
    if points.ndim != 3 or points.shape[0] % len(names) or points.shape[2] != 2:
        raise ConfigError(f"expected the points of whole steps, shape (steps * {len(names)}, n, 2), got "
                          f"{points.shape}")
    steps = points.reshape(-1, len(names), *points.shape[1:])
    samplers = {**problem.edges, "residual": problem.domain}
    for k, name in enumerate(names):
        low, high = samplers[name].low.numpy(), samplers[name].high.numpy()
        x = steps[:, k]
        fixed = low == high
        if not (np.all(x[..., fixed] == low[fixed]) and np.all((x >= low) & (x <= high))):
            raise ConfigError(f"the original's batch {k} is not the library's {name!r} ({samplers[name]})")
    return [{name: torch.as_tensor(step[k], dtype=torch.float32) for k, name in enumerate(names)} for step in steps]


def original_series(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The original's series from its lockstep file: ``loss_res`` and ``loss_bcs`` (the sum of the four edges'
    losses, unweighted) on each step's batch before its Adam step, for steps 0..S, and ``lambda``, the adaptive
    constant after the update of steps 0, 10, 20, ..."""
    losses = np.asarray(arrays["losses"], dtype=np.float32)
    return {"loss_res": losses[:, 0].astype(float), "loss_bcs": losses[:, 1:].sum(axis=1, dtype=np.float32)
            .astype(float), "lambda": np.asarray(arrays["adaptive_constant"], dtype=float)}


def ours_series(method: str, arrays: dict[str, np.ndarray], derivatives: str = "auto"
                ) -> tuple[dict[str, np.ndarray], float, dict[str, np.ndarray]]:
    """Our run of ``method`` on Helmholtz from the original's initial weights and points, set to do what the
    original does: Algorithm 1's code form (``form="code"``, pooling the mean of per-layer means), lambda updated
    after the Adam step from the gradients on the same batch (``lambda_update="after_step"``), TensorFlow 1's Adam
    (``adam="tf1"``), the gated net's code variant, the original's input statistics and learning-rate schedule.

    Returns the series of ``original_series`` (the losses before each step, lambda after the updates at steps 0,
    10, ...), the relative L2 error after the last step and the parameters then, in the original's layout
    (``in_original_layout``). ``derivatives`` as ``Trainer``'s: "auto" (Taylor mode)
    or "autograd" (nested autograd, as the original computes them).
    """
    problem = Helmholtz()
    batches = recorded_batches(problem, np.asarray(arrays["points"]))
    n = len(batches)
    count = sum(key.startswith("init_W") for key in arrays)
    layers = [int(np.shape(arrays["init_W0"])[0])] + [int(np.shape(arrays[f"init_W{i}"])[1]) for i in range(count)]
    net, weighting = build(method, problem, layers=layers, form="code", variant="code", lambda_update="after_step")
    load_original_weights(net, arrays)
    problem.sample = BatchReplay(batches)  # this instance's draws: the recorded ones, in order
    size = len(batches[0]["residual"])
    budget = Budget("lockstep", steps=n, batch_size=size, log_every=1, eval_every=n, checkpoint_every=n, grid_size=100)
    trainer = Trainer(problem, net, weighting, budget=budget, device="cpu", progress=False, derivatives=derivatives,
                      compile="off", adam="tf1")
    history = trainer.run()
    lam = history.weights.get("boundary", [1.0] * n)[::ANNEALING_FORMS["code"].update_every]
    return ({"loss_res": np.array(history.losses["residual"]), "loss_bcs": np.array(history.losses["boundary"]),
             "lambda": np.array(lam, dtype=float)}, history.final_error, in_original_layout(net))


def compare_parameters(ours: dict[str, np.ndarray], theirs: dict[str, np.ndarray]) -> dict:
    """For each parameter tensor, max |ours - original| / max |original|, and the largest of these with its name."""
    per_tensor = {name: float(np.abs(ours[name] - theirs[name]).max() / np.abs(theirs[name]).max()) for name in theirs}
    worst = max(per_tensor, key=per_tensor.get)
    return {"max": per_tensor[worst], "tensor": worst, "per_tensor": per_tensor}


def with_lambda_hat(series: dict[str, np.ndarray], alpha: float = ANNEALING_FORMS["code"].alpha) -> dict:
    """``series`` with ``lambda_hat``, the estimate of each update read back from the moving average,
    lambda_hat_k = (lambda_k - (1 - alpha) lambda_{k-1}) / alpha with lambda_{-1} = 1."""
    lam = series["lambda"]
    before = np.concatenate([[1.0], lam[:-1]])
    return {**series, "lambda_hat": (lam - (1 - alpha) * before) / alpha}


def series_steps(name: str, length: int) -> np.ndarray:
    """The training step of each entry of a series: every step for the losses, every 10th for lambda."""
    every = 1 if name in LOSS_SERIES else ANNEALING_FORMS["code"].update_every
    return np.arange(length) * every


def compare_series(ours: dict[str, np.ndarray], original: dict[str, np.ndarray],
                   marks: tuple[int, ...] = LOCKSTEP_MARKS) -> dict[str, dict]:
    """For each series, the relative difference |ours - original| / |original| at every entry, its largest value
    and the step of it, and the largest up to each step of ``marks`` that the series reaches."""
    summary = {}
    for name, theirs in original.items():
        if len(ours[name]) != len(theirs):
            raise ValueError(f"series {name!r}: {len(ours[name])} entries of ours, {len(theirs)} of the original")
        rel = np.abs(np.asarray(ours[name]) - theirs) / np.abs(theirs)
        steps = series_steps(name, len(theirs))
        worst = int(np.argmax(rel))
        summary[name] = {"steps": steps.tolist(), "relative": rel.tolist(), "max": float(rel[worst]),
                         "at_step": int(steps[worst]),
                         "max_to": {int(m): float(rel[steps <= m].max()) for m in marks if m <= steps[-1] + 9}}
    return summary


def lockstep(setting: Setting, checkout: str | Path, python: str, commit: str | None = None,
             derivatives: str = "auto", yardstick: bool = True, keep: str | Path | None = None,
             progress: Callable[[str], None] | None = print) -> dict:
    """Run ``setting`` (``lockstep=True``) with the original code, then ours from its initial weights on its
    points, and compare their series step by step (``compare_series``).

    With ``yardstick``, ours also runs with the other way of taking the input derivatives (nested autograd against
    Taylor mode): the same arithmetic in another order, so its difference from ours is float32 rounding and its
    growth, a scale against which to read the difference from the original. It leaves the optimiser's arithmetic as
    it is, which the original's differs in too (TensorFlow's Adam kernel against PyTorch's fused one), so the
    difference from the original may stand somewhat above it and still be rounding. ``keep``: a path to save the
    original's lockstep file at. Returns the summary, the series of both and the run's details.
    """
    if not setting.lockstep:
        raise ConfigError("a lockstep run needs Setting(..., lockstep=True)")
    if setting.gate not in (None, "2021"):
        raise ConfigError(f"ours has the gated layer as fixed in July 2021 only (gate '2021'), not {setting.gate!r}")
    found = probe(python)
    if not found["tensorflow"]:
        raise ConfigError(f"{python} cannot import tensorflow; give --python a Python that can (or set ${PYTHON_ENV})")
    missing = {name for name, ok in found.items() if not ok}
    with tempfile.TemporaryDirectory(prefix="original_code_") as tmp:
        folder = Path(tmp) / setting.script.folder
        applied, sha, _ = prepare(setting, checkout, commit, missing, folder)
        if progress:
            progress(f"lockstep {setting.problem} {setting.method}: the original {sha[:7] if sha else '(no git)'}, "
                     f"edits {', '.join(applied)}")
        report, _, _ = run_script(folder, setting.script.driver, python, progress, every=100)
        if keep:
            Path(keep).parent.mkdir(parents=True, exist_ok=True)
            Path(keep).write_bytes((folder / LOCKSTEP_FILE).read_bytes())
        with np.load(folder / LOCKSTEP_FILE) as data:
            arrays = {key: data[key] for key in data.files}
    original = with_lambda_hat(original_series(arrays))
    ours, ours_rel_l2, ours_final = ours_series(setting.method, arrays, derivatives)
    ours = with_lambda_hat(ours)
    final = {key[len("final_"):]: value for key, value in arrays.items() if key.startswith("final_")}
    marks = tuple(sorted({m for m in LOCKSTEP_MARKS if m <= setting.steps} | {setting.steps}))
    result = {"problem": setting.problem, "method": setting.method, "seed": setting.seed, "steps": setting.steps,
              "gate": setting.gate, "derivatives": derivatives, "original_commit": sha, "edits": applied,
              "tensorflow": report["tensorflow"], "torch": torch.__version__, "pinn_tutorial": __version__,
              "ours": {"form": "code", "lambda_update": "after_step", "adam": "tf1", "variant": "code",
                       "input_statistics": "the original's"},
              "rel_l2": {"original": report["rel_l2"], "ours": ours_rel_l2},
              "summary": compare_series(ours, original, marks),
              "final_parameters": compare_parameters(ours_final, final),
              "series": {"original": {k: v.tolist() for k, v in original.items()},
                         "ours": {k: v.tolist() for k, v in ours.items()}}}
    if yardstick:
        other = "autograd" if derivatives == "auto" else "auto"
        alt, alt_rel_l2, alt_final = ours_series(setting.method, arrays, other)
        result["yardstick"] = {"derivatives": other, "rel_l2": alt_rel_l2,
                               "summary": compare_series(ours, with_lambda_hat(alt), marks),
                               "final_parameters": compare_parameters(ours_final, alt_final)}
    return result


def lockstep_table(result: dict) -> str:
    """The summary of a ``lockstep`` result as text: for each series the largest relative difference, its step,
    the largest up to each mark, and the yardstick's largest."""
    summary, yard = result["summary"], result.get("yardstick", {}).get("summary")
    marks = list(summary["loss_res"]["max_to"])
    derivatives = {"auto": "Taylor-mode", "autograd": "nested-autograd"}
    lines = [f"lockstep {result['problem']} {result['method']}, seed {result['seed']}, steps 0..{result['steps']}: "
             f"the original (commit {(result['original_commit'] or '?')[:7]}, TensorFlow {result['tensorflow']}) "
             f"against ours (form code, lambda after the step, Adam tf1, {derivatives[result['derivatives']]} "
             "derivatives, the original's weights, points and input statistics)",
             "relative difference |ours - original| / |original|; lambda: after the updates at steps 0, 10, 20, ...",
             f"{'series':<11} {'largest':>9} {'at step':>8} " + " ".join(f"{'to ' + str(m):>9}" for m in marks)
             + (f"  {'yardstick':>9} {'at step':>8}" if yard else "")]
    for name, row in summary.items():
        line = f"{name:<11} {row['max']:9.2e} {row['at_step']:8d} " + " ".join(f"{row['max_to'][m]:9.2e}"
                                                                              for m in marks)
        if yard:
            line += f"  {yard[name]['max']:9.2e} {yard[name]['at_step']:8d}"
        lines.append(line)
    params, yard_params = result["final_parameters"], result.get("yardstick", {}).get("final_parameters")
    line = (f"parameters after the last step, max |ours - original| / max |original| of a tensor: {params['max']:.2e} "
            f"({params['tensor']})")
    if yard_params:
        line += f"; yardstick {yard_params['max']:.2e} ({yard_params['tensor']})"
    lines.append(line)
    rel = result["rel_l2"]
    lines.append(f"relative L2 error after the last step: original {rel['original']:.6e}, ours {rel['ours']:.6e} "
                 f"(relative difference {abs(rel['ours'] - rel['original']) / rel['original']:.2e})")
    if yard:
        lines.append(f"yardstick: ours against ours with {derivatives[result['yardstick']['derivatives']]} "
                     "derivatives (the same arithmetic in another order: float32 rounding alone)")
    return "\n".join(lines)


# --- Command line ------------------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def _steps(text: str) -> int:
    if not (text.isascii() and text.isdigit() and int(text) >= 1):
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return int(text)


def parser() -> argparse.ArgumentParser:
    main = _Parser(prog="python -m pinn_tutorial.reproduction.original_code",
                   description="Run the authors' original TensorFlow code from your checkout, edited as little as "
                               "it takes, and write a result file beside the library's.")
    commands = main.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser, required=True)
    for name, text in (("run", "run one setting and write OUT/<run>.json"),
                       ("diff", "print the edits for one setting as a unified diff; run nothing"),
                       ("lockstep", "run the original and ours from the original's initial weights on its points, "
                                    "and print the largest relative difference of each series and its step")):
        command = commands.add_parser(name, help=text, description=text)
        command.add_argument("problem", help=f"one of: {', '.join([*SCRIPTS, *PROBLEM_ALIASES])}")
        command.add_argument("--method", default="M1", help="M1, M2, M3 or M4 (default M1)")
        command.add_argument("--seed", default="0", help="the seed of NumPy and TensorFlow (default 0)")
        steps = LOCKSTEP_STEPS if name == "lockstep" else PAPER_STEPS
        command.add_argument("--steps", type=_steps, default=steps,
                             help=f"training steps; the script runs steps + 1 iterations (default {steps})")
        command.add_argument("--gate", default=None, choices=GATES,
                             help="M3, M4: the gated layer as fixed in July 2021 ('2021', default) or as first "
                                  "published ('first')")
        command.add_argument("--checkout", required=True,
                             help="the original repository: a folder with its files, or a git directory")
        command.add_argument("--commit", default=None, help="with a git directory: the commit (default HEAD)")
        command.add_argument("--python", default=os.environ.get(PYTHON_ENV) or sys.executable,
                             help=f"a Python with TensorFlow to run the script (default: ${PYTHON_ENV}, else this one)")
        if name == "run":
            command.add_argument("--out", default="results/original_code",
                                 help="folder for the result file (default: results/original_code)")
            command.add_argument("--force", action="store_true", help="run again where the result file exists")
        if name == "diff":
            command.add_argument("--lockstep", action="store_true", help="with the lockstep edits")
        if name == "lockstep":
            command.add_argument("--derivatives", default="auto", choices=("auto", "autograd"),
                                 help="ours: input derivatives in Taylor mode (auto, default) or by nested autograd")
            command.add_argument("--no-yardstick", action="store_true",
                                 help="skip ours' second run with the other derivatives (the rounding yardstick)")
            command.add_argument("--out", default=None, help="a JSON file for the summary and both runs' series")
            command.add_argument("--keep", default=None, help="an .npz file to keep the original's recording in")
    return main


def _terminate(signum, frame) -> None:
    raise SystemExit(128 + signum)  # unwinds through run_script, which ends the script's process too


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)  # e.g. `timeout`, or a sweep stopped: no orphaned TensorFlow
    try:
        seed = int(args.seed) if args.seed.isascii() and args.seed.isdigit() else args.seed
        problem = PROBLEM_ALIASES.get(args.problem, args.problem)
        gate = args.gate or ("2021" if args.method in ("M3", "M4") else None)
        lockstep_mode = args.command == "lockstep" or getattr(args, "lockstep", False)
        setting = Setting(problem, args.method, seed, args.steps, gate, lockstep=lockstep_mode)
        if args.command == "lockstep":
            result = lockstep(setting, args.checkout, args.python, args.commit, args.derivatives,
                              not args.no_yardstick, args.keep)
            print(lockstep_table(result))
            if args.out:
                write_json_atomic(Path(args.out), result)
            return 0
        if args.command == "diff":
            sys.stdout.write(diff(setting, args.checkout, args.commit))
            return 0
        run(setting, args.checkout, args.out, args.python, args.commit, args.force)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except RunError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; no result file written", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["EDITS", "GATE_LINES", "LOCKSTEP_EDITS", "SCRIPTS", "BatchReplay", "Edit", "EditError", "RunError",
           "Setting", "apply_edit", "compare_series", "diff", "edit_files", "load_original_weights", "lockstep",
           "lockstep_table", "main", "ours_series", "read_checkout", "run"]
