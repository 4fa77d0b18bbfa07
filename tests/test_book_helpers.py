"""The helpers the chapters share: the paper-budget table of a problem, and training M1-M4 with their maps."""

import json
import math

import matplotlib.pyplot as plt
import pytest
import torch

from pinn_tutorial import Poisson1D, Trainer, build
from pinn_tutorial.plotting import plot_method_maps
from pinn_tutorial.problems import Helmholtz
from pinn_tutorial.reproduction.paper import reported
from pinn_tutorial.reproduction.paper_tables import paper_table, train_methods


def _result(folder, problem, method, seed, rel_l2, budget="paper", **setting):
    """A minimal result file, as run_experiment writes it, with the fields the table reads."""
    record = {"problem": problem, "method": method, "budget": budget, "seed": seed, "steps": 40000,
              "rel_l2": rel_l2, "wall_s": 120.0 * (seed + 1), "hardware": "test CPU (1 threads)",
              "form": "code", "variant": "code", "derivatives": "auto", "params": {}, **setting}
    name = f"{problem}_{method}_{setting.get('form', '')}{setting.get('derivatives', '')}_{budget}_seed{seed}.json"
    (folder / name).write_text(json.dumps(record))


@pytest.fixture
def results(tmp_path):
    for seed, (m1, m4) in enumerate([(0.2, 0.004), (0.4, 0.006)]):
        _result(tmp_path, "helmholtz", "M1", seed, m1)
        _result(tmp_path, "helmholtz", "M4", seed, m4)
    _result(tmp_path, "helmholtz", "M2", 0, 1.0, form="paper", derivatives="autograd")  # not the default setting
    _result(tmp_path, "helmholtz", "M1", 0, 0.9, budget="default")  # another budget
    _result(tmp_path, "klein_gordon", "M1", 0, 0.3)  # another problem
    return tmp_path


def test_paper_table_summarises_the_default_setting_of_one_problem(results):
    table = paper_table("helmholtz", folder=results)
    assert [(r["method"], r["seeds"]) for r in table.rows] == [("M1", [0, 1]), ("M4", [0, 1])]
    assert table.row("M1")["mean"] == pytest.approx(0.3) and table.row("M4")["mean"] == pytest.approx(0.005)
    assert table.means() == pytest.approx({"M1": 0.3, "M4": 0.005})
    assert table.row("M4")["paper"] == reported("helmholtz", "M4").rel_l2  # the paper's figure, not typed
    with pytest.raises(KeyError, match="M3"):
        table.row("M3")


def test_paper_table_renders_as_a_markdown_table(results):
    text = paper_table("helmholtz", folder=results).markdown()
    lines = text.splitlines()
    assert lines[0].startswith("| method |") and set(lines[1]) <= set("|:-")
    body = [line for line in lines[2:] if line.startswith("|")]
    assert len(body) == 2 and all(line.count("|") == lines[0].count("|") for line in body)
    m4 = next(line for line in body if line.startswith("| M4 "))
    gmean = math.sqrt(0.004 * 0.006)  # the geometric mean of the two seeds
    assert f"{gmean:.2e}" in m4 and f"{reported('helmholtz', 'M4').rel_l2:.2e}" in m4
    assert f"{gmean / reported('helmholtz', 'M4').rel_l2:.2f} (" in m4  # ours / paper, with its interval
    assert "test CPU" in text
    assert paper_table("helmholtz", folder=results)._repr_markdown_() == text


def test_paper_table_can_keep_other_settings_and_filter(results):
    table = paper_table("helmholtz", folder=results, settings="all", methods=("M2",))
    assert [(r["method"], r["setting"]) for r in table.rows] == [("M2", "Algorithm 1 as paper; autograd derivatives")]
    only_seed1 = paper_table("helmholtz", folder=results, where=lambda r: r["seed"] == 1)
    assert only_seed1.means() == pytest.approx({"M1": 0.4, "M4": 0.006})
    both = paper_table(("helmholtz", "klein_gordon"), folder=results)
    assert {r["problem"] for r in both.rows} == {"helmholtz", "klein_gordon"}
    assert both.markdown().startswith("| problem | method |")
    with pytest.raises(FileNotFoundError, match="reproduce"):
        paper_table("cavity_stream", folder=results)


def test_train_methods_equals_training_each_preset_by_hand(capsys):
    """The helper is a loop over build + Trainer: each network ends exactly where a run by hand does."""
    problem = Poisson1D(C=2.0)
    runs = train_methods(problem, ("M1", "M2"), seed=3, budget="quick", steps=12, progress=False)
    assert list(runs) == ["M1", "M2"]
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("M1: 12 steps") and "lambda_boundary" in printed[1]
    for method, run in runs.items():
        net, weighting = build(method, problem, seed=3)
        history = Trainer(problem, net, weighting, budget="quick", seed=3, steps=12, progress=False).run()
        for ours, theirs in zip(run["net"].parameters(), net.parameters()):
            assert torch.equal(ours, theirs)
        assert run["history"].final_error == history.final_error
        assert run["weighting"].weights == weighting.weights
        assert run["wall_s"] > 0 and math.isfinite(run["history"].final_error)


def test_train_methods_hands_each_method_its_callback():
    seen = []
    train_methods(Poisson1D(), ("M1", "M3"), budget="quick", steps=2, progress=False,
                  callbacks={"M3": lambda trainer, step: seen.append((type(trainer.net).__name__, step))})
    assert seen == [("ModifiedMLP", 1), ("ModifiedMLP", 2)]


def test_method_maps_draw_one_row_per_method():
    problem = Helmholtz()
    runs = {m: {"net": build(m, problem, seed=0)[0]} for m in ("M1", "M3")}
    axes = plot_method_maps(problem, runs, n=10, labels=("$t$", "$x$"))
    assert axes.shape == (2, 3)
    assert [row[1].get_title() for row in axes] == ["M1: prediction", "M3: prediction"]
    assert axes[1, 2].get_title() == "M3: absolute error" and axes[0, 0].get_xlabel() == "$t$"
    assert len(axes[0, 1].get_images()) == 1
    plt.close("all")


def test_slider_figure_embeds_one_image_per_frame_and_needs_no_network():
    import base64
    import re

    from pinn_tutorial.plotting import slider_figure

    drawn = []

    def draw(fig, frame):
        drawn.append(frame)
        fig.add_subplot().plot([0, 1], [0, frame])
        fig.suptitle(f"frame {frame}")

    figure = slider_figure(draw, [1.0, 2.0, 3.0], alt='a line "rising" with the frame', figsize=(3, 2))
    html = figure._repr_html_()
    assert '<img alt="a line &quot;rising&quot; with the frame" id=' in html  # alt text, escaped
    assert figure.frames == 3 and set(drawn) == {1.0, 2.0, 3.0}
    images = re.findall(r'frames\[(\d+)\] = "data:image/png;base64,([^"]+)"', html.replace("\\\n", ""))
    assert [int(k) for k, _ in images] == [0, 1, 2]
    decoded = [base64.b64decode(data) for _, data in images]
    assert all(png.startswith(b"\x89PNG") for png in decoded) and len(set(decoded)) == 3  # three different images
    assert 'type="range"' in html and "set_frame" in html  # the slider and the player that moves it
    assert "://" not in html  # no CDN: the page works offline
    with pytest.raises(ValueError, match="at least one frame"):
        slider_figure(draw, [], alt="nothing")
    with pytest.raises(ValueError, match="alt text"):
        slider_figure(draw, [1.0], alt=" ")


def test_show_figure_displays_an_image_with_its_alt_text(monkeypatch):
    """A figure drawn inside a widget goes out as HTML, an <img> with alt text (the widget manager adds none)."""
    import IPython.display
    import matplotlib.pyplot as plt

    from pinn_tutorial.plotting import show_figure

    shown = []
    monkeypatch.setattr(IPython.display, "display", shown.append)
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [1, 0])
    show_figure(fig, alt='a line "falling" from 1 to 0')
    (html,) = shown
    assert html.data.startswith('<img alt="a line &quot;falling&quot; from 1 to 0" src="data:image/png;base64,iVBOR')
    assert not plt.fignum_exists(fig.number)  # closed, so that the output area shows it once
    with pytest.raises(ValueError, match="alt text"):
        show_figure(plt.figure(), alt="")
