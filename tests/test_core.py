"""The core a student reads in one sitting: a plain run loads only its own problem, network, weighting and step,
about 1,500 lines of code; the registries list every problem and scheme without importing them."""

import ast
import importlib.util
import io
import subprocess
import sys
import textwrap
import tokenize

import pytest

from pinn_tutorial.problems import PROBLEMS
from pinn_tutorial.registry import Registry
from pinn_tutorial.weighting import WEIGHTINGS

CORE_LINES = 1500  # issue #28: "together about 1,500 lines or fewer"


def code_lines(source: str) -> int:
    """Lines that hold code: not blank, not only a comment, not part of a docstring (a teaching library's
    docstrings state the equations; they are read, but they are not the code)."""
    docstrings = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and \
                    isinstance(first.value.value, str):
                docstrings.update(range(first.lineno, first.end_lineno + 1))
    lines = set()
    skipped = (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER)
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in skipped:
            lines.update(n for n in range(token.start[0], token.end[0] + 1) if n not in docstrings)
    return len(lines)


def test_code_lines_counts_code_only():
    source = textwrap.dedent('''\
        """A module docstring,
        two lines."""

        # a comment
        def f(x):
            """Its docstring."""
            y = """a string that is
            code"""
            return (x +  # why
                    1)
        ''')
    assert code_lines(source) == 5  # def, y = (2 lines), return (2 lines)


def loaded_by(script: str) -> list[str]:
    """The package's modules a fresh interpreter has loaded after ``script``."""
    done = subprocess.run([sys.executable, "-c", script + "\nimport sys\n"
                           "print(' '.join(m for m in sys.modules if m.startswith('pinn_tutorial')))"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


PLAIN_RUN = """
from pinn_tutorial import Trainer, build, get_problem
from pinn_tutorial.config import Budget
problem = get_problem("helmholtz")
net, weighting = build("M2", problem, seed=0)
budget = Budget("tiny", steps=20, batch_size=8, lr=1e-3, decay_rate=0.9, decay_steps=1000, log_every=5,
                eval_every=10, checkpoint_every=10, grid_size=8)
Trainer(problem, net, weighting, budget=budget, progress=False).run()
"""


def test_a_plain_run_loads_a_core_of_about_1500_lines():
    modules = loaded_by(PLAIN_RUN)
    assert "pinn_tutorial.training" in modules and "pinn_tutorial.weighting.annealing" in modules
    other_problems = {f"pinn_tutorial.problems.{m}" for m in ("klein_gordon", "cavity", "burgers", "causal")}
    assert not other_problems & set(modules), modules
    lines = {m: code_lines(open(importlib.util.find_spec(m).origin).read()) for m in modules}
    total = sum(lines.values())
    assert total <= CORE_LINES, f"a plain run loads {total} lines of code: " + ", ".join(
        f"{m} {n}" for m, n in sorted(lines.items(), key=lambda kv: -kv[1]))


def test_listing_the_registries_imports_no_problem_and_no_later_scheme():
    modules = loaded_by("from pinn_tutorial.problems import PROBLEMS\nfrom pinn_tutorial.weighting import WEIGHTINGS\n"
                        "assert 'burgers' in PROBLEMS and 'relobralo' in WEIGHTINGS")
    later = {"pinn_tutorial.weighting.relobralo", "pinn_tutorial.weighting.softadapt", "pinn_tutorial.weighting.pcgrad",
             "pinn_tutorial.weighting.conflict_free"}
    assert not {m for m in modules if m.startswith("pinn_tutorial.problems.") and m != "pinn_tutorial.problems.base"}
    assert not later & set(modules)
    asked = loaded_by("from pinn_tutorial.problems import PROBLEMS\nPROBLEMS['burgers']\n"
                      "from pinn_tutorial.weighting import ReLoBRaLo")
    assert {"pinn_tutorial.problems.burgers", "pinn_tutorial.weighting.relobralo"} <= set(asked)
    assert "pinn_tutorial.problems.cavity" not in asked


def test_every_declared_class_is_there_under_its_own_name():
    for registry in (PROBLEMS, WEIGHTINGS):
        for name, cls in registry.items():
            assert cls.name == name


class Shape:
    name = "square"


def test_a_registry_refuses_a_second_class_under_a_name_and_a_declaration_that_lies():
    registry = Registry("shape")
    registry.register(Shape)
    assert registry.register(Shape) is Shape and list(registry) == ["square"]
    other = type("Other", (), {"name": "square"})
    with pytest.raises(ValueError, match="a shape named 'square' is registered already"):
        registry.register(other)
    registry.declare("circle", f"{__name__}:Shape")  # the class calls itself "square"
    assert "circle" in registry and len(registry) == 2
    with pytest.raises(TypeError, match="declared as the shape 'circle' but calls itself 'square'"):
        registry["circle"]
