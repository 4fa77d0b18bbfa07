"""The benchmark commands run and report what they measured (the timings themselves are not asserted)."""

import datetime
import multiprocessing
import os
import random
import re
import sys
from pathlib import Path

import pytest
import torch

from pinn_tutorial.__main__ import main
from pinn_tutorial.config import ConfigError
from pinn_tutorial.reproduction import bench
from pinn_tutorial.reproduction.bench import (
    CAVITY_METHODS,
    FORMULATIONS,
    LAYOUTS,
    NETWORKS,
    OUTSIDE_PATHS,
    PATH_SETTINGS,
    WEIGHTINGS,
    cavity_step_times,
    deepxde_helmholtz,
    ensemble_times,
    format_cavity_report,
    format_cavity_table,
    format_ensemble_report,
    format_ensemble_table,
    format_original_report,
    format_report,
    format_step_table,
    full_run,
    gated_step_cost,
    original_row,
    read_cavity_report,
    read_ensemble_report,
    read_original_report,
    read_report,
    report_heading,
    step_times,
)
from pinn_tutorial.reproduction.experiments import Experiment, git_commit, machine, run_experiment
from pinn_tutorial.reproduction.paper import KLEIN_GORDON_TRAIN_TIME_S

BENCH = Path(__file__).resolve().parents[1] / "results" / "bench"


def test_step_table_has_every_network_path_and_weighting():
    rows = step_times(repeats=1, steps=10, warmup=2, paths=("nested autograd", "fast eager"), deepxde=False)
    assert {(r["network"], r["path"], r["weighting"]) for r in rows} == {("MLP", "plain PyTorch", "fixed")} | {
        (n, p, w) for n in ("MLP", "ModifiedMLP") for p in ("nested autograd", "fast eager")
        for w in ("fixed", "Algorithm 1")}
    by_key = {(r["network"], r["path"], r["weighting"]): r for r in rows}
    for (network, path, weighting), r in by_key.items():  # each ratio is against the right row of the same run
        nested = by_key[network, "nested autograd", weighting]["ms_per_step"]
        fixed = by_key[network, path, "fixed"]["ms_per_step"]
        assert r["vs_nested"] == pytest.approx(r["ms_per_step"] / nested)
        assert r["vs_fixed"] == pytest.approx(r["ms_per_step"] / fixed)
    table = format_step_table(rows)
    assert len(table.splitlines()) == 1 + len(rows) and "x nested" in table


def test_full_run_is_the_run_a_user_starts(tmp_path):
    """The timed fresh process trains exactly the run `train` makes (same seed, same error)."""
    run = full_run("poisson1d", "M1", budget="quick")
    same = run_experiment(Experiment("poisson1d", "M1", "quick"), tmp_path, progress=False, device="cpu")
    assert run["steps"] == 300 and run["rel_l2"] == same["rel_l2"] and run["cache"] == "empty"
    assert run["wall_s"] > run["train_s"]  # the process also starts Python and imports torch


def test_ensemble_table_has_every_layout():
    rows = ensemble_times(sizes=(2,), steps=3, repeats=1, compile=False)
    assert [r["layout"] for r in rows] == list(LAYOUTS) and {r["members"] for r in rows} == {2}
    by_layout = {r["layout"]: r["ms_per_member_step"] for r in rows}
    for r in rows:  # each ratio against the right row of the same run
        assert r["vs_sequential"] == pytest.approx(r["ms_per_member_step"] / by_layout["sequential"])
        assert r["vs_jobs2"] == pytest.approx(r["ms_per_member_step"] / by_layout["jobs 2"])
    assert len(format_ensemble_table(rows).splitlines()) == 1 + len(rows)


def _dies_unless_it_has_two_members(members, *args):
    """A stand-in for a layout worker: with two members it waits at the barrier for the others (as a real worker
    does before each round); otherwise it exits at once with code 3, as a worker whose device fails to start."""
    barrier = args[-2]
    if members != 2:
        sys.exit(3)
    barrier.wait()


def test_a_layout_whose_worker_dies_stops_with_its_exit_code(monkeypatch):
    """`jobs 2` of 3 runs: one worker of 2 members waits at the barrier, the other (1 member) dies; the parent
    must not wait for ever, but stop the waiting worker and say how the other ended."""
    before = set(multiprocessing.active_children())
    monkeypatch.setattr(bench, "_layout_worker", _dies_unless_it_has_two_members)
    with pytest.raises(RuntimeError, match="layout 'jobs 2' exited with code 3"):
        bench._time_layout("jobs 2", 3, "M4", steps=1, repeats=1, compile=False, device="cpu")
    assert set(multiprocessing.active_children()) <= before  # the waiting worker was stopped too


def test_deepxde_script_trains_when_deepxde_is_installed():
    os.environ.setdefault("DDE_BACKEND", "pytorch")  # read when deepxde is first imported
    dde = pytest.importorskip("deepxde", reason="deepxde is optional: the bench times it only where installed")
    if dde.backend.backend_name != "pytorch":
        pytest.skip("deepxde is installed with another backend")
    train = deepxde_helmholtz(batch_size=16)
    train(3)  # three Adam steps on freshly drawn points, without error


# -- reading reports back ------------------------------------------------------------------------------


def _measured(seed=0):
    """Step-table rows and complete runs as bench measures them, with made-up times (2 decimals, as printed)."""
    rng = random.Random(seed)
    rows = [{"network": "MLP", "path": "plain PyTorch", "weighting": "fixed"}] + [
        {"network": n, "path": p, "weighting": w} for n in NETWORKS for p in PATH_SETTINGS for w in WEIGHTINGS]
    for r in rows:
        r.update(ms_per_step=round(rng.uniform(2, 15), 2), vs_nested=round(rng.uniform(0.2, 1), 2),
                 vs_fixed=round(rng.uniform(0.9, 1.1), 2))
    runs = [{"problem": p, "method": "M4", "budget": "paper", "cache": c, "steps": 40_000,
             "wall_s": rng.uniform(100, 400), "train_s": rng.uniform(90, 390), "rel_l2": rng.uniform(1e-3, 1e-2)}
            for p in ("helmholtz", "klein_gordon") for c in ("empty", "warm")]
    return rows, runs


def test_a_report_reads_back_as_what_bench_measured(tmp_path):
    """Round trip: the text bench prints, read back, gives its rows, runs and heading to the printed digits."""
    rows, runs = _measured()
    path = tmp_path / "full_cpu.txt"
    path.write_text("# python -m pinn_tutorial bench --full   (a note)\n"
                    + format_report(rows, 5, report_heading(torch.device("cpu")), runs, deepxde_installed=False))
    back = read_report(path)
    assert list(back["rows"].values()) == rows  # same rows, same order, same keys
    assert format_step_table(list(back["rows"].values())) == format_step_table(rows)
    nested = next(r["ms_per_step"] for r in rows
                  if (r["network"], r["path"], r["weighting"]) == ("ModifiedMLP", "nested autograd", "Algorithm 1"))
    assert back["nested_ms"] == nested and back["steps"] == 40_000 and back["repeats"] == 5
    assert len(back["runs"]) == len(runs)
    # The gated network's cost: per path, the gated step's time over the plain one's, both with fixed weights.
    by_key = {(r["network"], r["path"], r["weighting"]): r["ms_per_step"] for r in rows}
    cost = gated_step_cost(back)
    assert cost and set(cost) == {path for net, path, w in by_key if net == "MLP" and w == "fixed"
                                  and ("ModifiedMLP", path, "fixed") in by_key}  # not "plain PyTorch": MLP only
    for path, ratio in cost.items():
        assert ratio == pytest.approx(by_key["ModifiedMLP", path, "fixed"] / by_key["MLP", path, "fixed"])
    for run, read in zip(runs, back["runs"]):
        assert (read["problem"], read["method"], read["cache"], read["steps"]) == (
            run["problem"], run["method"], run["cache"], run["steps"])
        assert read["wall_s"] == round(run["wall_s"]) and read["train_s"] == round(run["train_s"])
        assert read["ms_per_step"] == pytest.approx(run["train_s"] / run["steps"] * 1000, abs=0.005)
        assert read["rel_l2"] == pytest.approx(run["rel_l2"], rel=0.01)
        if run["problem"] == "helmholtz":  # the wall over 40,000 nested-autograd gated steps of the same table
            assert read["x_nested"] == pytest.approx(run["wall_s"] / (run["steps"] * nested / 1000), abs=0.005)
            assert read["paper_s"] is None
        else:
            assert read["x_nested"] is None and read["paper_s"] == KLEIN_GORDON_TRAIN_TIME_S["M4"]
    assert back["date"] == str(datetime.date.today()) and back["commit"] == str(git_commit())
    assert back["machine"] == machine(torch.device("cpu")) and back["torch"] == torch.__version__
    assert back["comment"] == ["python -m pinn_tutorial bench --full   (a note)"]


def test_a_step_table_without_complete_runs_has_no_runs(tmp_path):
    rows, _ = _measured(1)
    path = tmp_path / "cpu.txt"
    path.write_text(format_report(rows, 9, report_heading(torch.device("cpu"))))
    back = read_report(path)
    assert list(back["rows"].values()) == rows and back["runs"] == [] and back["nested_ms"] is None


def test_a_line_that_does_not_parse_fails_loudly(tmp_path):
    rows, runs = _measured(2)
    text = format_report(rows, 5, report_heading(torch.device("cpu")), runs)
    row = text.splitlines()[6]  # a row of the step table, then a complete run, each changed a little
    run = next(ln for ln in text.splitlines() if "M4, warm cache" in ln)
    for line, bad in ((row, row.replace("  ", " ? ", 1)), (run, run.replace(" s,", " seconds,"))):
        assert bad != line
        (tmp_path / "bad.txt").write_text(text.replace(line, bad))
        with pytest.raises(ValueError, match=f"line {text.splitlines().index(line) + 1} "):
            read_report(tmp_path / "bad.txt")


def test_the_newest_full_report_reads_as_its_text_says():
    """results/bench/full_cpu_*: each run from an empty and a warm cache, Helmholtz's wall in nested steps."""
    path = sorted(BENCH.glob("full_cpu_*.txt"))[-1]
    text, report = path.read_text(), read_report(path)
    assert report["nested_ms"] == report["rows"]["ModifiedMLP", "nested autograd", "Algorithm 1"]["ms_per_step"]
    assert [(r["problem"], r["cache"]) for r in report["runs"]] == [
        (p, c) for p in ("helmholtz", "klein_gordon") for c in ("empty", "warm")]
    runs = {(r["problem"], r["cache"]): r for r in report["runs"]}
    warm = runs["helmholtz", "warm"]
    line = next(ln for ln in text.splitlines() if "helmholtz M4, warm cache" in ln)
    assert f"x nested {warm['x_nested']:.2f}," in line and f"wall {warm['wall_s']:.0f} s," in line
    for run in runs.values():
        assert run["wall_s"] > run["train_s"] > 0 and run["steps"] == 40_000
        if run["x_nested"] is not None:  # the printed ratio is the printed wall over the printed step, to rounding
            assert run["x_nested"] == pytest.approx(run["wall_s"] / (40 * report["nested_ms"]), abs=0.006)
    assert runs["klein_gordon", "empty"]["paper_s"] == KLEIN_GORDON_TRAIN_TIME_S["M4"]
    heading = next(ln for ln in text.splitlines() if not ln.startswith("#"))
    assert heading == (f"{report['date']}, pinn_tutorial commit {report['commit']}, {report['machine']}, "
                       f"torch {report['torch']}")


# The step-table rows as the performance page read them before the reader moved into the library.
FORMER_ROW = re.compile(r"(MLP|ModifiedMLP)\s+(plain PyTorch|DeepXDE|nested autograd|fast eager|fast compiled)\s+"
                        r"(fixed|Algorithm 1)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$")


@pytest.mark.parametrize("name", sorted(p.name for p in BENCH.glob("*.txt")
                                        if not p.name.startswith(("ensemble", "original", "cavity"))))
def test_every_committed_report_reads_to_the_rows_it_always_had(name):
    text, report = (BENCH / name).read_text(), read_report(BENCH / name)
    former = {(m[1], m[2], m[3]): (float(m[4]), float(m[5]), float(m[6]))
              for m in map(FORMER_ROW.match, text.splitlines()) if m}
    assert former and {key: (r["ms_per_step"], r["vs_nested"], r["vs_fixed"])
                       for key, r in report["rows"].items()} == former
    assert all(r["path"] in OUTSIDE_PATHS + tuple(PATH_SETTINGS) for r in report["rows"].values())
    assert report["torch"] and report["repeats"]
    walls = [float(m[1]) for m in re.finditer(r"M4[^:\n]*: (?:wall )?(\d+) s", text)]
    assert [r["wall_s"] for r in report["runs"]] == walls  # every complete run, none invented


READERS = {"ensemble": (read_ensemble_report, "bench --ensemble report"),
           "original": (read_original_report, "bench --original report"),
           "cavity": (read_cavity_report, "bench --cavity report"), "": (read_report, "bench report")}


@pytest.mark.parametrize("name", sorted(p.name for p in BENCH.glob("*.txt")))
def test_every_committed_report_reads_with_its_reader_and_is_refused_by_the_others(name):
    kind = next(k for k in READERS if name.startswith(k))
    assert READERS[kind][0](BENCH / name)["rows"]
    for other, what in (READERS[k] for k in READERS if k != kind):
        with pytest.raises(ConfigError) as refused:
            other(BENCH / name)
        assert str(refused.value).startswith(f"{BENCH / name} is not a {what} (no ")


FOREIGN = {  # files that are not reports: text, another program's JSON, an empty file, binary bytes
    "notes.txt": b"Benchmark notes\n\nnetwork speed was fine; ms/step not measured\nE layout: see above\n",
    "package.json": b'{\n  "name": "pinn-tutorial",\n  "version": "0.1.0",\n  "scripts": {"test": "pytest"}\n}\n',
    "empty.txt": b"",
    "figure.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xd8",
}


@pytest.mark.parametrize("reader, what", list(READERS.values()))
@pytest.mark.parametrize("name", FOREIGN)
def test_a_file_that_is_not_a_report_is_refused_naming_it(tmp_path, reader, what, name):
    path = tmp_path / name
    path.write_bytes(FOREIGN[name])
    with pytest.raises(ConfigError) as refused:  # a ValueError the command line reports in one line
        reader(path)
    assert str(refused.value).startswith(f"{path} is not a {what} (")
    assert ("not a text file" in str(refused.value)) == (name == "figure.png")


def test_the_oldest_formats_say_how_their_runs_were_started():
    """cpu_2026-11-26a timed its runs inside the bench process; b and c in a fresh process, empty cache."""
    assert {r["cache"] for r in read_report(BENCH / "cpu_2026-11-26a.txt")["runs"]} == {"in process"}
    for name in ("cpu_2026-11-26b.txt", "cpu_2026-11-26c.txt"):
        report = read_report(BENCH / name)
        assert {r["cache"] for r in report["runs"]} == {"empty"} and report["machine"].startswith("AMD EPYC")
        assert all(r["train_s"] < r["wall_s"] for r in report["runs"])


# -- reading an ensemble report back -------------------------------------------------------------------


def _ensemble_rows(seed=0, sizes=(1, 4, 10)):
    """Rows as ensemble_times gives them, with made-up times (3 decimals, ratios 2, as printed)."""
    rng = random.Random(seed)
    return [{"members": e, "layout": layout, "ms_per_member_step": round(rng.uniform(1, 5), 3),
             "vs_sequential": round(rng.uniform(0.4, 1), 2), "vs_jobs2": round(rng.uniform(0.9, 2.2), 2)}
            for e in sizes for layout in LAYOUTS if not (layout == "ensemble x 2 jobs" and e < 2)]


@pytest.mark.parametrize("compile", [True, False])
def test_an_ensemble_report_reads_back_as_what_bench_measured(tmp_path, compile):
    rows = _ensemble_rows()
    path = tmp_path / "ensemble_cpu.txt"
    path.write_text("# python -m pinn_tutorial bench --ensemble   (a note)\n"
                    + format_ensemble_report(rows, 7, report_heading(torch.device("cpu")), compile))
    back = read_ensemble_report(path)
    assert list(back["rows"].values()) == rows and list(back["rows"]) == [(r["members"], r["layout"]) for r in rows]
    assert format_ensemble_table(list(back["rows"].values())) == format_ensemble_table(rows)
    assert back["layouts"] == LAYOUTS and back["repeats"] == 7 and back["steps"] == 50
    assert back["path"] == ("compiled" if compile else "eager")
    assert back["date"] == str(datetime.date.today()) and back["commit"] == str(git_commit())
    assert back["machine"] == machine(torch.device("cpu")) and back["torch"] == torch.__version__
    assert back["comment"] == ["python -m pinn_tutorial bench --ensemble   (a note)"]


def test_an_ensemble_row_that_does_not_parse_fails_loudly(tmp_path):
    text = format_ensemble_report(_ensemble_rows(1), 5, report_heading(torch.device("cpu")))
    lines = text.splitlines()
    row = next(ln for ln in lines if "ensemble, 2 threads " in ln)
    (tmp_path / "bad.txt").write_text(text.replace(row, row.replace("threads", "cores")))
    with pytest.raises(ValueError, match=f"line {lines.index(row) + 1} "):
        read_ensemble_report(tmp_path / "bad.txt")


# The ensemble rows as the performance page read them before the reader moved into the library.
FORMER_ENSEMBLE_ROW = re.compile(r"\s*(\d+)\s+(sequential|jobs 2|ensemble, 2 threads|ensemble x 2 jobs|ensemble)\s+"
                                 r"([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$")


@pytest.mark.parametrize("name", sorted(p.name for p in BENCH.glob("ensemble_*.txt")))
def test_every_committed_ensemble_report_reads_as_its_text_says(name):
    text, report = (BENCH / name).read_text(), read_ensemble_report(BENCH / name)
    rows = list(report["rows"].values())
    assert format_ensemble_table(rows) in text  # the printed table, digit for digit
    former = {(int(m[1]), m[2]): (float(m[3]), float(m[4]), float(m[5]))
              for m in map(FORMER_ENSEMBLE_ROW.match, text.splitlines()) if m}
    assert former and {key: (r["ms_per_member_step"], r["vs_sequential"], r["vs_jobs2"])
                       for key, r in report["rows"].items()} == former
    for (size, _), r in report["rows"].items():  # each printed ratio is the printed times' ratio, to rounding
        assert r["vs_sequential"] == pytest.approx(
            r["ms_per_member_step"] / report["rows"][size, "sequential"]["ms_per_member_step"], abs=0.006)
        assert r["vs_jobs2"] == pytest.approx(
            r["ms_per_member_step"] / report["rows"][size, "jobs 2"]["ms_per_member_step"], abs=0.006)
    assert report["layouts"] == LAYOUTS and report["path"] in ("compiled", "eager")
    assert report["repeats"] and report["steps"] == 50 and report["comment"]
    heading = next(ln for ln in text.splitlines() if not ln.startswith("#"))
    assert heading == (f"{report['date']}, pinn_tutorial commit {report['commit']}, {report['machine']}, "
                       f"torch {report['torch']}")


# -- the cavity's two formulations: bench --cavity --------------------------------------------------------------


def test_cavity_table_has_every_formulation_method_and_path():
    rows = cavity_step_times(repeats=1, steps=2, warmup=1, paths=("nested autograd", "fast eager"))
    assert [(r["formulation"], r["method"], r["path"]) for r in rows] == [
        (f, m, p) for f in FORMULATIONS for m in CAVITY_METHODS for p in ("nested autograd", "fast eager")]
    by_key = {(r["formulation"], r["method"], r["path"]): r for r in rows}
    for (formulation, method, path), r in by_key.items():  # each ratio is against the right row of the same run
        nested = by_key[formulation, method, "nested autograd"]["ms_per_step"]
        velocity = by_key["velocity-pressure", method, path]["ms_per_step"]
        assert r["vs_nested"] == pytest.approx(r["ms_per_step"] / nested)
        assert r["vs_velocity"] == pytest.approx(r["ms_per_step"] / velocity)
    table = format_cavity_table(rows)
    assert len(table.splitlines()) == 1 + len(rows) and "x velocity-pressure" in table


def _cavity_rows(seed=0):
    """Rows as cavity_step_times gives them, with made-up times (2 decimals, ratios 2, as printed)."""
    rng = random.Random(seed)
    return [{"formulation": f, "method": m, "path": p, "ms_per_step": round(rng.uniform(5, 300), 2),
             "vs_nested": round(rng.uniform(0.1, 1), 2), "vs_velocity": round(rng.uniform(1, 12), 2)}
            for f in FORMULATIONS for m in CAVITY_METHODS for p in PATH_SETTINGS]


def test_a_cavity_report_reads_back_as_what_bench_measured(tmp_path):
    rows = _cavity_rows()
    path = tmp_path / "cavity_cpu.txt"
    path.write_text("# python -m pinn_tutorial bench --cavity   (a note)\n"
                    + format_cavity_report(rows, 3, report_heading(torch.device("cpu")), steps=40))
    back = read_cavity_report(path)
    assert list(back["rows"].values()) == rows
    assert list(back["rows"]) == [(r["formulation"], r["method"], r["path"]) for r in rows]
    assert back["repeats"] == 3 and back["steps"] == 40
    assert back["date"] == str(datetime.date.today()) and back["commit"] == str(git_commit())
    assert back["machine"] == machine(torch.device("cpu")) and back["torch"] == torch.__version__
    assert back["comment"] == ["python -m pinn_tutorial bench --cavity   (a note)"]


def test_a_cavity_row_that_does_not_parse_fails_loudly(tmp_path):
    text = format_cavity_report(_cavity_rows(1), 5, report_heading(torch.device("cpu")))
    lines = text.splitlines()
    row = next(ln for ln in lines if ln.startswith("stream function    M4     fast compiled"))
    (tmp_path / "bad.txt").write_text(text.replace(row, row.replace("compiled", "jitted")))
    with pytest.raises(ValueError, match=f"line {lines.index(row) + 1} "):
        read_cavity_report(tmp_path / "bad.txt")


@pytest.mark.parametrize("name", sorted(p.name for p in BENCH.glob("cavity_*.txt")))
def test_every_committed_cavity_report_reads_as_its_text_says(name):
    text, report = (BENCH / name).read_text(), read_cavity_report(BENCH / name)
    rows = list(report["rows"].values())
    assert format_cavity_table(rows) in text  # the printed table, digit for digit
    assert {(r["formulation"], r["method"], r["path"]) for r in rows} == {
        (f, m, p) for f in FORMULATIONS for m in CAVITY_METHODS for p in PATH_SETTINGS}
    by_key = report["rows"]
    for (formulation, method, path), r in by_key.items():  # each printed ratio is the printed times' ratio
        assert r["vs_nested"] == pytest.approx(
            r["ms_per_step"] / by_key[formulation, method, "nested autograd"]["ms_per_step"], abs=0.006)
        assert r["vs_velocity"] == pytest.approx(
            r["ms_per_step"] / by_key["velocity-pressure", method, path]["ms_per_step"], abs=0.006)
    assert report["repeats"] and report["steps"] and report["comment"]


# -- beside the authors' code: bench --original ----------------------------------------------------------------


def _fake_model():
    """The fake original model of test_original_code, its training loop taking 2 ms per 10 iterations: so that
    theirs has a steady step to time between its progress lines."""
    from test_original_code import FAKE_MODEL

    loop = "            print('It: %d, Loss: 1.0, Time: 0.01' % it)"
    assert loop in FAKE_MODEL
    return FAKE_MODEL.replace(loop, "            __import__('time').sleep(0.002)\n" + loop)


@pytest.fixture
def fake_original(tmp_path, monkeypatch):
    """A checkout of the fake original files and a fake ``tensorflow`` on the runner's path (as in
    test_original_code): theirs runs through the real runner in a moment, without TensorFlow."""
    from test_original_code import FAKE_TF, write_checkout

    for name, text in FAKE_TF.items():
        path = tmp_path / "fake_tf" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "fake_tf"))
    return write_checkout(tmp_path, model=_fake_model())


OURS = {"M1": 31.7, "M2": 46.3, "M4": 58.9}  # made-up training times of ours, seconds


def _fake_library_run(calls):
    def library_run(method, steps):
        calls.append(("ours", method))
        steady_ms = {"M1": 2.5, "M2": 2.75, "M4": 3.5}[method]
        return {"train_s": OURS[method], "steady_ms": steady_ms, "compile_s": OURS[method] - steady_ms * steps / 1000,
                "less_compile_s": steady_ms * steps / 1000, "rel_l2": 0.25, "compiled": True, "wall_s": 70.0}
    return library_run


def _exit_status(argv):
    try:
        return main(argv)
    except SystemExit as stop:  # argparse's errors
        return stop.code


def test_bench_original_reports_each_methods_ratio_from_its_two_times(fake_original, tmp_path, monkeypatch, capsys):
    """Ours (faked) and theirs (the real runner on the fake original) interleaved; each printed ratio is that
    method's two times' ratio, and the report file reads back with them."""
    calls, theirs = [], {}
    real_original_run = bench.original_run

    def original_run(method, *args):
        calls.append(("theirs", method))
        theirs[method] = real_original_run(method, *args)
        return theirs[method]

    monkeypatch.setattr(bench, "library_run", _fake_library_run(calls))
    monkeypatch.setattr(bench, "original_run", original_run)
    out = tmp_path / "reports"
    assert main(["bench", "--original", "--checkout", str(fake_original), "--python", sys.executable,
                 "--steps", "1000", "--out", str(out)]) == 0
    assert calls == [(who, m) for m in ("M1", "M2", "M4") for who in ("ours", "theirs")]
    printed = capsys.readouterr().out
    [path] = out.iterdir()
    assert path.name == f"original_cpu_{datetime.date.today()}.txt" and path.read_text() == printed
    report = read_original_report(path)
    assert list(report["rows"]) == ["M1", "M2", "M4"] and report["steps"] == 1000
    assert report["tensorflow"] == "0.0-fake" and report["eager"] == []
    assert report["comment"][0].startswith("python -m pinn_tutorial bench --original --checkout ")
    for method, row in report["rows"].items():
        ours_ms = {"M1": 2.5, "M2": 2.75, "M4": 3.5}[method]
        assert theirs[method]["steady_ms"] > 0  # timed between the fake's progress lines (it sleeps in its loop)
        assert row["vs_theirs"] == float(f"{OURS[method] / theirs[method]['train_s']:.2f}")
        assert row["steady_vs_theirs"] == float(f"{ours_ms / theirs[method]['steady_ms']:.2f}")
        assert row["ours"]["train_s"] == OURS[method]
        assert row["theirs"]["train_s"] == float(f"{theirs[method]['train_s']:.1f}")
        assert row["theirs"]["start_s"] == float(f"{theirs[method]['start_s']:.1f}")
        assert row["ours"]["less_compile_s"] == pytest.approx(ours_ms, abs=0.05)  # 1,000 steps of ours_ms ms
        # The fake driver's error encodes the iterations it ran and the method.
        assert row["theirs"]["rel_l2"] == pytest.approx(1001e-6 + (0.5 if method == "M4" else 0), rel=0.01)


def test_an_original_report_reads_back_as_measured(tmp_path):
    """Round trip with made-up times, one run of ours having gone on eagerly: ratios of the unrounded times."""
    rng = random.Random(4)
    rows = []
    for method in ("M1", "M2", "M4"):
        ours = {"train_s": rng.uniform(20, 90), "steady_ms": rng.uniform(2, 5), "rel_l2": rng.uniform(1e-3, 1),
                "compiled": method != "M2"}
        ours["compile_s"] = ours["train_s"] - 4 * ours["steady_ms"]
        theirs = {"train_s": rng.uniform(20, 90), "steady_ms": rng.uniform(3, 12), "start_s": rng.uniform(1, 9),
                  "rel_l2": rng.uniform(1e-3, 1), "tensorflow": "2.21.0", "original_commit": "93e752b0e3b5"}
        rows.append(original_row(method, {**ours, "less_compile_s": ours["train_s"] - ours["compile_s"]}, theirs))
    path = tmp_path / "original_cpu.txt"
    path.write_text(format_original_report(rows, 4000, report_heading(torch.device("cpu")), "a note"))
    back = read_original_report(path)
    assert back["steps"] == 4000 and back["eager"] == ["M2"] and back["comment"] == ["a note"]
    assert (back["original_commit"], back["tensorflow"]) == ("93e752b", "2.21.0")
    assert back["machine"] == machine(torch.device("cpu")) and back["date"] == str(datetime.date.today())
    for row, (method, read) in zip(rows, back["rows"].items()):
        assert method == row["method"]
        assert read["vs_theirs"] == float(f"{row['ours']['train_s'] / row['theirs']['train_s']:.2f}")
        assert read["steady_vs_theirs"] == float(f"{row['ours']['steady_ms'] / row['theirs']['steady_ms']:.2f}")
        for who in ("ours", "theirs"):
            assert read[who]["train_s"] == float(f"{row[who]['train_s']:.1f}")
            assert read[who]["steady_ms"] == float(f"{row[who]['steady_ms']:.2f}")
            assert read[who]["rel_l2"] == pytest.approx(row[who]["rel_l2"], rel=0.006)
        assert read["ours"]["compile_s"] == float(f"{row['ours']['compile_s']:.1f}")
        assert read["theirs"]["start_s"] == float(f"{row['theirs']['start_s']:.1f}")


@pytest.mark.parametrize("args, says", [
    (["--original"], "needs --checkout"),
    (["--steps", "4000"], "only bench --original takes --steps"),
    (["--checkout", "CHECKOUT"], "only bench --original takes --checkout"),
    (["--original", "--full", "--checkout", "CHECKOUT"], "takes no --full"),
    (["--original", "--ensemble", "--checkout", "CHECKOUT"], "takes no --ensemble"),
    (["--original", "--checkout", "CHECKOUT", "--device", "cuda"], "on the CPU"),
    (["--original", "--checkout", "CHECKOUT", "--steps", "0"], "--steps: expected a whole number"),
    (["--original", "--checkout", "CHECKOUT", "--steps", "999"], "needs at least 1,000 steps, got 999"),
    (["--original", "--checkout", "NOWHERE"], "no checkout folder"),
    (["--original", "--checkout", "CHANGED"], "edit 'iterations': anchor 'nIter=40001' not found"),
    (["--original", "--checkout", "CHECKOUT", "--python", "NO_TF"], "cannot import tensorflow"),
    (["--original", "--checkout", "CHECKOUT", "--out", "A_FILE"], "cannot write the report to"),
])
def test_bench_original_bad_input_is_one_line_and_status_2(fake_original, tmp_path, monkeypatch, capsys, args,
                                                           says):
    """Each refused before anything is timed: one line on stderr, nothing on stdout, exit status 2."""
    from test_original_code import FAKE_DRIVER, write_checkout

    changed = write_checkout(tmp_path / "changed", driver=FAKE_DRIVER.replace("nIter=40001", "nIter=5"))
    no_tf = tmp_path / "no_tf_python"  # a Python without the fake tensorflow on its path
    no_tf.write_text(f"#!/bin/sh\nPYTHONPATH= exec {sys.executable} \"$@\"\n")
    no_tf.chmod(0o755)
    (tmp_path / "a_file").write_text("in the way\n")
    paths = {"CHECKOUT": fake_original, "NOWHERE": tmp_path / "nowhere", "CHANGED": changed, "NO_TF": no_tf,
             "A_FILE": tmp_path / "a_file"}

    def no_run(*args, **kwargs):
        raise AssertionError("a run started despite the bad input")

    monkeypatch.setattr(bench, "library_run", no_run)
    monkeypatch.setattr(bench, "original_run", no_run)
    monkeypatch.chdir(tmp_path)  # the default --out, results/bench, lands here if anything is written
    status = _exit_status(["bench", *[str(paths.get(a, a)) for a in args]])
    captured = capsys.readouterr()
    assert status == 2 and captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.startswith("error: ") and says in captured.err
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize("name", sorted(p.name for p in BENCH.glob("original_*.txt")))
def test_every_committed_original_report_reads_as_its_text_says(name):
    """Each printed ratio is the printed times' ratio, to their rounding; M1, M2 and M4, interleaved."""
    text, report = (BENCH / name).read_text(), read_original_report(BENCH / name)
    assert list(report["rows"]) == ["M1", "M2", "M4"] and report["eager"] == []
    assert "interleaved (ours M1, theirs M1, ours M2, theirs M2, ours M4, theirs M4)" in text
    assert report["comment"][0].startswith("python -m pinn_tutorial bench --original ")
    assert f"--steps {report['steps']}" in report["comment"][0] or report["steps"] == 40_000

    def close(ratio, a, b, digits):  # a/b from a and b rounded to `digits` decimals, the ratio to 2
        half = 0.5 * 10 ** -digits
        return abs(ratio - a / b) <= 0.005 + a / b * (half / a + half / b) * 1.01

    for row in report["rows"].values():
        ours, theirs = row["ours"], row["theirs"]
        assert close(row["vs_theirs"], ours["train_s"], theirs["train_s"], 1)
        assert close(row["steady_vs_theirs"], ours["steady_ms"], theirs["steady_ms"], 2)
        # the start-up is what the run took beyond its steps at the steady rate (theirs: N + 1 iterations)
        assert ours["compile_s"] == pytest.approx(ours["train_s"] - ours["steady_ms"] * report["steps"] / 1000,
                                                  abs=0.05 + 0.005 * report["steps"] / 1000 + 0.05)
        assert theirs["start_s"] == pytest.approx(
            theirs["train_s"] - theirs["steady_ms"] * (report["steps"] + 1) / 1000,
            abs=0.05 + 0.005 * (report["steps"] + 1) / 1000 + 0.05)
    heading = next(ln for ln in text.splitlines() if not ln.startswith("#"))
    assert heading == (f"{report['date']}, pinn_tutorial commit {report['commit']}, {report['machine']}, "
                       f"torch {report['torch']}")
