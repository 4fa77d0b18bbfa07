"""The book's chapters are committed clean and start the same way; its Markdown pages' code cells run."""

import ast
import json
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
import tomllib
import torch

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("*.ipynb"))


def test_there_are_chapters_and_the_toc_lists_each():
    toc = (ROOT / "_toc.yml").read_text()
    assert CHAPTERS
    for chapter in CHAPTERS:
        assert f"book/{chapter.stem}" in toc


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.name)
def test_chapter_is_committed_without_outputs(chapter):
    cells = json.loads(chapter.read_text())["cells"]
    dirty = [i for i, c in enumerate(cells) if c["cell_type"] == "code" and (c["outputs"] or c["execution_count"])]
    assert not dirty, f"{chapter.name}: cells {dirty} have outputs; clear them before committing"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.name)
def test_first_code_cell_installs_only_in_colab(chapter):
    cells = json.loads(chapter.read_text())["cells"]
    first = "".join(next(c for c in cells if c["cell_type"] == "code")["source"])
    assert '"google.colab" in sys.modules' in first and "pip install" in first
    # The chapters' extra (the quizzes), and a clone that the student distribution points at the student branch.
    assert "[chapters]" in first and "--branch main https://github.com/pinn-tutorial/pinn-tutorial " in first


def _requirement_name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.name)
def test_chapter_imports_only_what_its_install_gives(chapter):
    """A learner installs the library with the chapters' extra (Colab's first cell): a module from elsewhere (pandas,
    once, present here through another package) fails there."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    installed = {_requirement_name(r) for r in project["dependencies"] + project["optional-dependencies"]["chapters"]}
    installed |= {"ipython", "pinn-tutorial"}  # every Jupyter kernel has IPython; the library itself
    providers = packages_distributions()
    cells = json.loads(chapter.read_text())["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    code = "\n".join(re.sub(r"^(\s*)[!%].*", r"\1pass", line) for line in code.splitlines())  # IPython magics
    modules = {alias.name.split(".")[0] for node in ast.walk(ast.parse(code)) if isinstance(node, ast.Import)
               for alias in node.names}
    modules |= {node.module.split(".")[0] for node in ast.walk(ast.parse(code))
                if isinstance(node, ast.ImportFrom) and node.module and not node.level}
    third_party = modules - set(sys.stdlib_module_names) - {"pinn_tutorial"}
    outside = {m: providers.get(m, ["not installed here"]) for m in third_party
               if not {_requirement_name(d) for d in providers.get(m, [])} & installed}
    assert not outside, f"{chapter.name} imports what neither the library nor its chapters extra installs: {outside}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.name)
def test_chapter_reads_the_budget_through_the_library(chapter):
    cells = json.loads(chapter.read_text())["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert "os.environ" not in code and "getenv" not in code
    assert "get_budget()" in code


PAGES = sorted((ROOT / "book").glob("*.md"))
CODE_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```$", re.S | re.M)
CELL_OPTIONS = re.compile(r"\A(?:---\n.*?\n---\n|(?::[\w-]+:[^\n]*\n)+)", re.S)


@pytest.mark.parametrize("page", [p for p in PAGES if "{code-cell}" in p.read_text()], ids=lambda p: p.name)
def test_page_code_cells_run_and_their_checks_hold(page, monkeypatch):
    """The code cells of a Markdown page (its glue and hidden asserts over results/) run as in the build.

    nbval collects only notebooks; without this, a page's asserts would fail only in a full book build."""
    cells = [CELL_OPTIONS.sub("", body) for body in CODE_CELL.findall(page.read_text())]
    assert cells
    monkeypatch.chdir(page.parent)
    namespace: dict = {"__name__": f"page_{page.stem}"}
    for i, cell in enumerate(cells):  # the book's own cells, in one namespace, as the build runs them
        exec(compile(cell, f"{page.name}, code cell {i}", "exec"), namespace)


# A chapter is one 90-minute session by the course guide's plan: about 2,500 words of prose, exercises and quiz
# included, or fewer.
SESSION_WORDS = 2500


def prose_words(notebook: dict) -> int:
    """Words of prose in a notebook's Markdown cells: display math, directive options and code fences left out,
    inline math counted as one word."""
    text = "\n".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "markdown")
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)
    text = re.sub(r"```.*?\n", "\n", text)
    text = re.sub(r"^:[a-z-]+:.*$", " ", text, flags=re.M)
    text = re.sub(r"\$[^$]*\$", " x ", text)
    return len(re.findall(r"[A-Za-z0-9][\w'’.-]*", text))


def test_prose_words_count_what_a_reader_reads():
    cell = {"cell_type": "markdown", "source": ["# A title\n", "\n", "The loss $L = a + b$ falls.\n", "\n",
                                                "$$\nL = \\sum_i r_i^2\n$$\n", "```{exercise} Two\n",
                                                ":label: ch01-x\n", "\n", "Do it.\n", "```\n"]}
    code = {"cell_type": "code", "source": ["many words in code are not prose at all\n"]}
    assert prose_words({"cells": [cell, code]}) == 8  # A title The loss x falls Do it: no math, fence or option


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.name)
def test_each_chapter_is_one_session_of_prose(chapter):
    words = prose_words(json.loads(chapter.read_text()))
    assert words <= SESSION_WORDS, f"{chapter.name}: {words:,} words of prose, more than a session's {SESSION_WORDS:,}"


def test_the_syllabus_examples_of_a_new_problem_and_a_new_weighting_work():
    """The capstone's two examples, as a learner copies them: the problem's exact solution has a zero residual and
    trains, the scheme moves its weight on a short run."""
    from pinn_tutorial import Helmholtz, Trainer, build
    from pinn_tutorial.config import Budget

    blocks = re.findall(r"^```python\n(.*?)^```$", (ROOT / "book" / "syllabus.md").read_text(), re.S | re.M)
    namespace: dict = {"__name__": "syllabus"}
    for block in blocks:
        if "class " in block:  # the definitions; the blocks that train for minutes are left out
            exec(compile(block, "syllabus.md", "exec"), namespace)
    budget = Budget("tiny", steps=30, batch_size=16, lr=1e-3, decay_rate=0.9, decay_steps=1000, log_every=1,
                    eval_every=10, checkpoint_every=10, grid_size=8)

    problem = namespace["Reaction1D"](a=2.0)
    assert problem.terms == ("residual", "boundary") and repr(problem) == "Reaction1D(a=2.0)"
    x = torch.rand(64, 1, dtype=torch.float64)
    assert problem.residual(problem.exact, x).abs().max() < 1e-10
    net, weighting = build("M2", problem, seed=0, layers=[1, 8, 1])
    history = Trainer(problem, net, weighting, budget=budget, progress=False, device="cpu").run()
    assert len(history.rel_l2) == 3 and all(0 < e < 10 for e in history.rel_l2)  # evaluated, finite

    helmholtz = Helmholtz()
    net, _ = build("M1", helmholtz, seed=0, layers=[2, 8, 8, 1])
    scheme = namespace["MeanRatioWeighting"](helmholtz.weighted_terms, update_every=5)
    history = Trainer(helmholtz, net, scheme, budget=budget, progress=False, device="cpu").run()
    assert len(set(history.weights["boundary"])) == 6  # it updated at steps 0, 5, ..., 25
