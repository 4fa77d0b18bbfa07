"""reproduce writes one valid result file per run; table reads them beside the paper's numbers."""

import json
import math
import statistics

import pytest

from pinn_tutorial.config import ConfigError
from pinn_tutorial.reproduction.comparison import (
    NotComparable,
    geometric_mean,
    geometric_mean_interval,
    paired_ratio,
    ratio_to_paper,
)
from pinn_tutorial.reproduction.experiments import Experiment
from pinn_tutorial.reproduction.paper import reported, reported_for_network
from pinn_tutorial.reproduction.paper_tables import (
    PaperTable,
    compare_with_paper,
    describe_layout,
    format_effects,
    format_table2,
    is_code_details_run,
    is_default_setting,
    reproduce,
    runs_made_alike,
    setting_effects,
    summarise,
    table,
)


def test_reproduce_writes_result_files_and_table_reads_them(tmp_path):
    results = reproduce("helmholtz", budget="quick", seeds=2, out=tmp_path, methods=("M1", "M2"), progress=False)
    files = sorted(p.name for p in tmp_path.glob("*.json"))
    assert files == ["helmholtz_M1_quick_seed0.json", "helmholtz_M1_quick_seed1.json",
                     "helmholtz_M2-code_quick_seed0.json", "helmholtz_M2-code_quick_seed1.json"]
    for path in tmp_path.glob("*.json"):
        result = json.loads(path.read_text())
        assert result["steps"] == 300 and result["rel_l2"] == result["history"]["rel_l2"][-1]
        # the file records the figure its run is held against: Table 2's ten-trial mean for the 3 x 50 network
        assert result["paper_rel_l2"] == {"M1": 1.06e-1, "M2": 1.12e-2}[result["method"]]
        assert result["paper_source"] == "Table 2, 3 hidden layers x 50, mean of 10 trials"
    rows = summarise(results)
    assert [(r["method"], r["seeds"]) for r in rows] == [("M1", [0, 1]), ("M2", [0, 1])]
    m1 = rows[0]
    assert m1["mean"] == pytest.approx((results[0]["rel_l2"] + results[2]["rel_l2"]) / 2)
    text = table(tmp_path)
    # quick-budget runs of 300 steps are not held against the paper's 40,000-step figures
    assert "1.06e-01" not in text and "1.12e-02" not in text and "arXiv" not in text
    assert all(r["paper"] is None and r["verdict"] == "-" for r in rows)


def test_unknown_benchmark_and_empty_folder_are_explained(tmp_path):
    with pytest.raises(ConfigError, match="cavity"):
        reproduce("no_such_problem", budget="quick", out=tmp_path)  # a reserved name: never a problem one day
    with pytest.raises(FileNotFoundError, match="reproduce"):
        table(tmp_path)


def fake_result(method="M4", seed=0, budget="paper", rel_l2=1e-2, **setting):
    """A result file's content with only what summarise reads (a network's width and depth from its layers)."""
    if "layers" in setting:
        setting = {"width": setting["layers"][1], "depth": len(setting["layers"]) - 2, **setting}
    return {"problem": "helmholtz", "method": method, "seed": seed, "budget": budget, "steps": 40000,
            "rel_l2": rel_l2, "wall_s": 100.0, "hardware": "cpu", **setting}


def test_a_run_is_held_against_its_networks_cell_of_table_2():
    wide = reported_for_network("helmholtz", "M2", 7, 100)
    assert (wide.rel_l2, wide.source) == (4.52e-3, "Table 2, 7 hidden layers x 100, mean of 10 trials")
    assert reported_for_network("helmholtz", "M4", 4, 50) == reported("helmholtz", "M4")  # no cell: the caption
    assert reported_for_network("klein_gordon", "M4", 5, 50).source == "Table 3"  # the paper's network
    assert reported_for_network("klein_gordon", "M4", 3, 50) is None  # another network: no figure


def test_table_groups_runs_by_setting_and_filters_by_budget(tmp_path):
    runs = [fake_result(seed=0, rel_l2=1e-2, width=50, depth=3), fake_result(seed=1, rel_l2=3e-2, width=50, depth=3),
            fake_result(seed=0, rel_l2=5e-1, form="paper"),
            fake_result(seed=0, rel_l2=2e-3, layers=[2, 100, 100, 100, 100, 100, 100, 100, 1], width=100, depth=7),
            fake_result(seed=0, rel_l2=9e-1, budget="default", steps=6000)]
    rows = summarise(runs)
    assert [(r["budget"], r["setting"], r["seeds"]) for r in rows] == [
        ("default", "", [0]), ("paper", "", [0, 1]), ("paper", "7 hidden layers of 100", [0]),
        ("paper", "Algorithm 1 as paper", [0])]
    assert rows[1]["mean"] == pytest.approx(2e-2) and rows[1]["std"] == pytest.approx(statistics.stdev([1e-2, 3e-2]))
    assert rows[2]["paper"] == 1.49e-3 and "Table 2, 7 hidden layers x 100" in rows[2]["paper_source"]
    # the paper's network too is held against Table 2's ten-trial mean, not the Fig. 10 caption's single run
    assert rows[1]["paper"] == 3.87e-3 and rows[1]["paper_source"].startswith("Table 2, 3 hidden layers x 50")
    for i, run in enumerate(runs):
        (tmp_path / f"run{i}.json").write_text(json.dumps(run))
    paper_only = table(tmp_path, budget="paper")
    assert "default" not in paper_only and f"{geometric_mean([1e-2, 3e-2]):.2e}" in paper_only
    # The sources line names Table 2 once for the rows of both networks, not once per cell.
    sources = next(line for line in paper_only.splitlines() if line.startswith("paper: "))
    assert sources.count("Table 2") == 1 and "Table 2, the row's network, mean of 10 trials: helmholtz M4" in sources
    assert "9.00e-01" in table(tmp_path, budget="default")


def test_parameter_values_are_named_exactly_and_steps_must_be_whole():
    """Two values that print alike at six digits get names of their own (a shared name would let one run's
    file stand for the other's); the short form stays where it is exact."""
    names = {c: Experiment("poisson1d", "M1", "quick", params={"C": c}).stem() for c in (2.0, 2.0000001, 0.1)}
    assert names[2.0] == "poisson1d_C2_M1_quick_seed0" and names[0.1] == "poisson1d_C0.1_M1_quick_seed0"
    assert names[2.0000001] != names[2.0]
    for steps in (float("nan"), 2.5, True):
        with pytest.raises(ConfigError, match="whole number"):
            Experiment("helmholtz", "M1", "quick", steps=steps)


def test_file_names_tell_every_setting_apart():
    cases = [
        (Experiment("helmholtz", "M4", "paper"), "helmholtz_M4-code_paper_seed0"),
        (Experiment("helmholtz", "M4", "paper", 3, form="paper"), "helmholtz_M4-paper_paper_seed3"),
        (Experiment("helmholtz", "M3", "paper", variant="paper"), "helmholtz_M3-papernet_paper_seed0"),
        (Experiment("helmholtz", "M2", "quick", derivatives="autograd"), "helmholtz_M2-code_quick_autograd_seed0"),
        (Experiment("poisson1d", "M1", "quick", steps=20, params={"C": 4.0}), "poisson1d_C4_M1_quick_20steps_seed0"),
        (Experiment("helmholtz", "GN4", "paper", width=30, depth=5), "helmholtz_GN4_30x5net_paper_seed0"),
    ]
    stems = [exp.stem() for exp, _ in cases]
    assert stems == [expected for _, expected in cases]


def test_a_row_is_compared_with_the_paper_on_log_errors_only_at_the_papers_budget():
    errors = (3e-3, 4e-3, 5e-3)
    inside, outside = summarise([fake_result(seed=s, rel_l2=e) for s, e in enumerate(errors)]), \
        summarise([fake_result(seed=s, rel_l2=10 * e) for s, e in enumerate(errors)])
    assert inside[0]["verdict"] == "consistent" and outside[0]["verdict"] == "higher"
    paper = reported_for_network("helmholtz", "M4", None, None)  # no network given: the Fig. 10 caption's run
    ratio = ratio_to_paper(list(errors), paper.rel_l2, paper.trials)
    assert paper.trials == 1
    assert (inside[0]["ratio"], inside[0]["ratio_low"]) == (pytest.approx(ratio.ratio), pytest.approx(ratio.low))
    assert compare_with_paper(inside[0]) == ratio
    assert summarise([fake_result()])[0]["verdict"] == "-"  # one seed: no test
    default = summarise([fake_result(seed=s, rel_l2=e, budget="default", steps=6000) for s, e in enumerate(errors)])
    assert default[0]["paper"] is None and default[0]["verdict"] == "-"
    with pytest.raises(NotComparable, match="default-budget runs of 6,000 steps"):
        compare_with_paper(default[0])
    smoke = summarise([fake_result(seed=s, rel_l2=e, steps=50) for s, e in enumerate(errors)])
    assert smoke[0]["paper"] is None  # --budget paper --steps 50 is not the paper's protocol
    table_text = PaperTable(default).markdown()
    assert "paper in" not in table_text and "Not compared with the paper" in table_text


def test_table_2_grid_sets_ours_beside_the_paper_per_architecture():
    deep = [2, *[100] * 7, 1]
    runs = [fake_result(method=m, seed=s, rel_l2=e * (1 + s / 50), layers=deep)
            for m, e in (("M1", 0.08), ("M4", 0.002)) for s in range(4)]
    runs += [fake_result(method="M4", seed=0, rel_l2=0.004, layers=[2, 50, 50, 50, 1]),
             fake_result(method="M4", seed=1, rel_l2=0.5, form="paper", layers=deep)]
    rows = summarise(runs)
    grid = format_table2(rows).splitlines()
    seven_by_100 = next(line for line in grid if line.split()[:2] == ["7", "100"])
    m1, m4 = (geometric_mean([e * (1 + s / 50) for s in range(4)]) for e in (0.08, 0.002))
    assert f"{m1:.2e} (4) / 8.14e-02 consistent" in seven_by_100 and f"{m4:.2e} (4) / 1.49e-03 higher" in seven_by_100
    three_by_50 = next(line for line in grid if line.split()[:2] == ["3", "50"])
    assert "4.00e-03 (1) / 3.87e-03 -" in three_by_50  # the headline network is Table 2's 3 x 50 row
    assert "2 comparisons with the paper, 1 outside" in grid[-1]
    assert "5.00e-01" not in "\n".join(grid)  # another setting of Algorithm 1 is not a Table 2 cell
    assert format_table2(summarise(runs[8:9])) == ""  # only the headline network: no grid


def test_an_ensemble_members_wall_time_is_its_share():
    runs = [fake_result(seed=s, ensemble={"size": 4, "members": []}) for s in range(4)] + [fake_result(seed=4)]
    assert summarise(runs)[0]["wall_s"] == pytest.approx((4 * 100.0 / 4 + 100.0) / 5)


def test_markdown_table_shows_the_geometric_mean_the_ratio_and_the_verdict():
    """Each row carries our geometric mean with its interval, and the ratio to the paper with its interval and
    verdict, the numbers of the row; no interval bound is negative."""
    net = dict(layers=[2, 50, 50, 50, 1], width=50, depth=3)
    runs = ([fake_result(method="M4", seed=s, rel_l2=e, **net) for s, e in enumerate((3e-3, 4e-3, 5e-3))]
            + [fake_result(method="M2", seed=s, rel_l2=e, **net) for s, e in
               zip((0, 1, 2, 3, 7), (2e-2, 3e-2, 4e-2, 2.5e-2, 3.5e-2))]
            + [fake_result(method="M1", seed=0, rel_l2=0.3)])
    rows = summarise(runs)
    lines = PaperTable(rows).markdown().splitlines()
    head = [c.strip() for c in lines[0].strip("|").split("|")]
    assert head[:9] == ["method", "setting", "seeds", "ours: geometric mean", "95% interval", "range over seeds",
                        "paper", "ours / paper (95% interval)", "verdict"]
    body = {line.split("|")[1].strip(): [c.strip() for c in line.strip("|").split("|")]
            for line in lines[2:] if line.startswith("|")}
    assert len(body) == 3 and all(len(cells) == len(head) for cells in body.values())
    m4, m2, m1 = (dict(zip(head, body[m])) for m in ("M4", "M2", "M1"))
    low, high = geometric_mean_interval([3e-3, 4e-3, 5e-3])
    assert m4["95% interval"] == f"{low:.2e} to {high:.2e}" and low > 0
    ratio = ratio_to_paper([3e-3, 4e-3, 5e-3], 3.87e-3, 10)
    assert m4["ours / paper (95% interval)"] == f"{ratio.ratio:.2f} ({ratio.low:.2f} to {ratio.high:.2f})"
    assert m4["paper"] == "3.87e-03" and m4["verdict"] == "consistent"  # Table 2's 3 x 50 cell
    assert m4["ours: geometric mean"] == f"{(3e-3 * 4e-3 * 5e-3) ** (1 / 3):.2e}" and m4["seeds"] == "0-2"
    assert m2["verdict"] == "higher" and m2["seeds"] == "0-3, 7"
    assert m2["range over seeds"] == "2.00e-02 to 4.00e-02"
    assert m1["95% interval"] == "-" and m1["verdict"] == "-"  # one seed: no test
    assert "2 comparisons with the paper, 1 outside" in lines[-1]


def test_default_setting_means_every_switch_and_the_network_at_their_defaults():
    base = dict(form="code", variant="code", derivatives="auto", params={}, layers=[2, 50, 50, 50, 1])
    assert is_default_setting(fake_result(**base))
    assert not is_default_setting(fake_result(**{**base, "lambda_update": "after_step"}))
    assert not is_default_setting(fake_result(**{**base, "layers": [2, 30, 30, 30, 30, 30, 1]}))
    assert not is_default_setting(fake_result(**{**base, "form": "paper"}))
    assert is_default_setting(fake_result(method="M1", **{**base, "lambda_update": "after_step"}))  # no Algorithm 1


def test_wall_times_compare_within_one_machine_and_layout():
    def run(method, hardware="cpu A (1 threads)", size=None):
        return {**fake_result(method=method), "hardware": hardware, "ensemble": {"size": size} if size else None}

    single = [run("M1"), run("M4"), run("M4")]
    paired = [run("M1", size=2), run("M2", size=2), run("M4", size=2), run("M4", size=2)]
    other = [run(m, hardware="cpu B (2 threads)") for m in ("M1", "M2", "M4", "M4", "M4")]
    assert runs_made_alike(single + paired + other) == other  # every method, and the most runs
    assert runs_made_alike(single + paired) == paired  # the single runs lack M2
    assert runs_made_alike(single[:2] + paired[:1]) == single[:2]
    assert runs_made_alike([run("M1"), run("M4", size=2)]) == []
    assert describe_layout(paired[0]) == "cpu A, 1 thread per run, 2-member ensembles"
    assert describe_layout(other[0]) == "cpu B, 2 threads per run, single runs"
    assert describe_layout(run("M1", hardware="NVIDIA H200")) == "NVIDIA H200, single runs"


def test_setting_effects_name_the_direction_of_each_settings_difference():
    base = [fake_result(seed=s, rel_l2=e) for s, e in enumerate([5e-3, 6e-3, 5.5e-3, 6.5e-3])]
    lower = [fake_result(seed=s, rel_l2=e, adam="tf1") for s, e in enumerate([3e-3, 3.5e-3, 3.2e-3, 3.1e-3])]
    same = [fake_result(seed=s, rel_l2=e, input_scaling="sampled") for s, e in enumerate([5.2e-3, 6.1e-3, 5.9e-3])]
    lone = [fake_result(seed=0, rel_l2=1e-3, lambda_update="after_step")]
    effects = {e["setting"]: e for e in setting_effects(base + lower + same + lone)}
    assert set(effects) == {"TF1 Adam epsilon", "inputs scaled by 10^5 samples", "lambda after the Adam step"}
    assert effects["TF1 Adam epsilon"]["effect"] == "lower" and effects["TF1 Adam epsilon"]["change_high"] < 1
    assert effects["inputs scaled by 10^5 samples"]["effect"] == "no detectable change"
    assert effects["lambda after the Adam step"]["effect"] == "-"  # one seed: no interval
    assert effects["TF1 Adam epsilon"]["baseline_gmean"] == pytest.approx(geometric_mean([5e-3, 6e-3, 5.5e-3, 6.5e-3]))
    change = paired_ratio([3e-3, 3.5e-3, 3.2e-3, 3.1e-3], [5e-3, 6e-3, 5.5e-3, 6.5e-3])
    assert (effects["TF1 Adam epsilon"]["change"], effects["TF1 Adam epsilon"]["change_low"]) == (
        pytest.approx(change.ratio), pytest.approx(change.low))


def test_the_effects_table_and_the_code_details_selection():
    base = [fake_result(seed=s, rel_l2=e, width=50, depth=3) for s, e in enumerate([5e-3, 6e-3, 5.5e-3])]
    tf1 = [fake_result(seed=s, rel_l2=e, adam="tf1", width=50, depth=3) for s, e in enumerate([3e-3, 3.5e-3, 3.2e-3])]
    wide = fake_result(seed=0, rel_l2=2e-3, adam="tf1", layers=[2, 100, 100, 100, 1], width=100, depth=3)
    assert [is_code_details_run(r) for r in (base[0], tf1[0], wide)] == [True, True, False]
    text = format_effects(setting_effects(base + tf1))
    row = text.splitlines()[2]
    ours, baseline = geometric_mean([3e-3, 3.5e-3, 3.2e-3]), geometric_mean([5e-3, 6e-3, 5.5e-3])
    assert row.startswith(f"| TF1 Adam epsilon | 3 | {ours:.2e} | {baseline:.2e} | {ours / baseline:.2f} (")
    assert row.endswith("| same seeds | lower |")
    # With two methods in the effects, each row names its method (the same setting on two methods reads apart).
    m3 = [fake_result(method="M3", seed=s, rel_l2=e, **extra) for s, e in enumerate([4e-3, 5e-3]) for extra in
          ({}, {"adam": "tf1"})]
    rows = format_effects(setting_effects(base + tf1 + m3)).splitlines()
    assert rows[0].startswith("| method | setting |")
    assert sorted(r.split(" | ")[:2] for r in rows[2:]) == [["| M3", "TF1 Adam epsilon"], ["| M4", "TF1 Adam epsilon"]]


def test_a_causal_run_on_another_network_is_not_the_default_setting():
    run = {"problem": "klein_gordon_causal", "method": "M1", "layers": [2, 60, 60, 60, 60, 60, 1]}
    assert not is_default_setting(run) and is_default_setting({**run, "layers": [2, 50, 50, 50, 50, 50, 1]})


def test_setting_effects_pair_by_seed_only_when_every_seed_has_a_baseline():
    base = [fake_result(seed=s, rel_l2=e) for s, e in enumerate([5e-3, 6e-3, 5.5e-3])]
    paired = [fake_result(seed=s, rel_l2=e - 2e-4 - 1e-5 * s, adam="tf1") for s, e in enumerate([5e-3, 6e-3, 5.5e-3])]
    unpaired = [fake_result(seed=s, rel_l2=e, input_scaling="sampled") for s, e in ((0, 4.9e-3), (7, 6.1e-3))]
    effects = {e["setting"]: e for e in setting_effects(base + paired + unpaired)}
    assert effects["TF1 Adam epsilon"]["pairing"] == "same seeds" and effects["TF1 Adam epsilon"]["effect"] == "lower"
    assert effects["inputs scaled by 10^5 samples"]["pairing"] == "Welch"
    assert effects["inputs scaled by 10^5 samples"]["effect"] == "no detectable change"


def test_the_authors_codes_runs_are_rows_of_their_own(tmp_path):
    """Result files of pinn_tutorial.reproduction.original_code, under results/original_code, are read by `table` and
    form their own rows (never averaged with ours), one per gate of the code's history."""
    from pinn_tutorial.reproduction.experiments import ORIGINAL_CODE_FOLDER, write_json

    ours = [fake_result(seed=s, rel_l2=e) for s, e in ((0, 6e-3), (1, 5e-3))]
    theirs = [{**fake_result(seed=s, rel_l2=e), "implementation": "original", "tensorflow": "2.21.0", "gate": g}
              for s, e, g in ((0, 4e-3, "2021"), (1, 5e-3, "2021"), (0, 9e-3, "first"))]
    (tmp_path / ORIGINAL_CODE_FOLDER).mkdir()
    for k, r in enumerate(ours):
        write_json(tmp_path / f"ours{k}.json", r)
    for k, r in enumerate(theirs):
        write_json(tmp_path / ORIGINAL_CODE_FOLDER / f"theirs{k}.json", r)
    rows = {r["setting"]: r for r in summarise(ours + theirs)}
    assert set(rows) == {"", "the authors' code (TensorFlow 2.21.0)",
                         "the authors' code (TensorFlow 2.21.0), the first public version's gate"}
    assert rows["the authors' code (TensorFlow 2.21.0)"]["mean"] == pytest.approx(4.5e-3)
    assert rows[""]["mean"] == pytest.approx(5.5e-3)
    printed = table(tmp_path, budget=ours[0]["budget"])
    assert printed.count("the authors' code") == 2


def test_a_fifo_or_a_device_named_json_is_skipped_not_read(tmp_path):
    """`table` used to block for ever on a FIFO named *.json, and read /dev/zero until memory ran out (H3, T8)."""
    import os
    import warnings

    from pinn_tutorial.reproduction.experiments import load_results, write_json

    write_json(tmp_path / "a.json", fake_result())
    os.mkfifo(tmp_path / "fifo.json")
    os.symlink("/dev/zero", tmp_path / "zero.json")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert len(load_results(tmp_path)) == 1
    assert sorted(str(w.message).split(":")[0] for w in caught) == [f"skipped {tmp_path / 'fifo.json'}",
                                                                       f"skipped {tmp_path / 'zero.json'}"]


def test_a_finished_runs_error_is_evaluated_against_todays_reference(tmp_path, monkeypatch):
    """Run again, a finished run's checkpoint is reused, but its error is measured anew: a fixed reference reaches
    it (before, the stale error of the checkpoint's history was written, F6); a non-finite one writes no file (F7)."""
    import torch

    from pinn_tutorial.problems import Poisson1D
    from pinn_tutorial.reproduction.experiments import run_experiment
    from pinn_tutorial.training import NonFiniteLossError

    exp = Experiment("poisson1d", "M1", "quick", 0, steps=20)
    first = run_experiment(exp, tmp_path, progress=False)
    monkeypatch.setattr(Poisson1D, "exact", lambda self, x: 2 * torch.sin(self.C * x))  # a different reference
    second = run_experiment(exp, tmp_path, progress=False)
    assert second["history"] == first["history"]  # the same trained run, from its checkpoint
    assert second["rel_l2"] != pytest.approx(first["rel_l2"], rel=1e-3)  # measured against the new reference
    assert json.loads((tmp_path / f"{exp.stem()}.json").read_text())["rel_l2"] == second["rel_l2"]
    monkeypatch.setattr(Poisson1D, "exact", lambda self, x: torch.full_like(x, math.nan))
    with pytest.raises(NonFiniteLossError, match="no result file"):
        run_experiment(exp, tmp_path, progress=False)
    assert json.loads((tmp_path / f"{exp.stem()}.json").read_text())["rel_l2"] == second["rel_l2"]  # kept


def test_two_runs_that_the_table_would_label_alike_are_said_to_differ(tmp_path):
    """Rows are the runs' identities, labelled by problem, method, budget and setting; where two identities read
    the same (a setting's label rounds: a2=4 and a2=4.0000001 both read "a2=4"), ``table`` says so, naming the
    label and the settings that differ, rather than print two rows no reader can tell apart."""
    from pinn_tutorial.reproduction.experiments import write_json

    runs = [fake_result(seed=0, rel_l2=1e-2, params={"a2": 4.0}), fake_result(seed=0, rel_l2=2e-2, params={"a2": 4.0}),
            fake_result(seed=1, rel_l2=3e-2, params={"a2": 4.0000001}), fake_result(seed=0, rel_l2=4e-2, form="paper")]
    runs[1]["seed"] = 1
    for k, r in enumerate(runs):
        write_json(tmp_path / f"run{k}.json", r)
    rows = summarise(runs)
    assert sorted((r["setting"], len(r["seeds"])) for r in rows) == [("Algorithm 1 as paper", 1), ("a2=4", 1),
                                                                     ("a2=4", 2)]
    printed = table(tmp_path)
    warning = [line for line in printed.splitlines() if line.startswith("warning:")]
    assert len(warning) == 1, printed
    assert "helmholtz M4 paper a2=4" in warning[0] and "params" in warning[0] and "4.0000001" in warning[0]
    assert "form" not in warning[0]  # the Algorithm 1 row reads differently: not part of the warning
    runs[2]["params"] = {"a2": 5.0}  # labels that tell the rows apart: no warning
    write_json(tmp_path / "run2.json", runs[2])
    assert "warning:" not in table(tmp_path)
