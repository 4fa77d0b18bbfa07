"""Imports run one way: no module of the package imports one that (directly or not) imports it back,
and every module imports on its own, in a fresh interpreter."""

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pinn_tutorial

PACKAGE = Path(pinn_tutorial.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported_modules(name: str, source: str, is_package: bool, modules) -> set[str]:
    """The ones of ``modules`` that module ``name`` imports anywhere in ``source`` (inside functions too).

    Importing ``a.b.c`` runs the package ``a.b`` first, so each enclosing package counts as imported,
    except the root package and the module's own packages (already being imported when it runs).
    """
    package = name if is_package else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # `from . import x` or `from .pkg import x` may name a submodule x.
            candidates = [target] + [f"{target}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        else:
            continue
        for candidate in candidates:
            parts = candidate.split(".")
            for k in range(2, len(parts) + 1):  # every enclosing package below the root, and the module
                prefix = ".".join(parts[:k])
                if prefix in modules and prefix != name and not name.startswith(prefix + "."):
                    found.add(prefix)
    return found


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of ``graph`` as a list of nodes (first repeated at the end), or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_cycle_finder_finds_a_cycle_through_a_package():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_a_submodule_import_counts_its_package_too():
    """The cycle this test was written for: problems/__init__ imported causality, which imported problems.base."""
    modules = {"pinn_tutorial", "pinn_tutorial.causality", "pinn_tutorial.problems", "pinn_tutorial.problems.base",
               "pinn_tutorial.problems.klein_gordon"}
    causality = "from .problems.base import Problem\nfrom .problems.klein_gordon import KleinGordon\n"
    problems = "from .base import Problem\nfrom ..causality import CausalKleinGordon\n"
    graph = {"pinn_tutorial.causality": imported_modules("pinn_tutorial.causality", causality, False, modules),
             "pinn_tutorial.problems": imported_modules("pinn_tutorial.problems", problems, True, modules)}
    assert graph == {
        "pinn_tutorial.causality": {"pinn_tutorial.problems", "pinn_tutorial.problems.base",
                                    "pinn_tutorial.problems.klein_gordon"},
        "pinn_tutorial.problems": {"pinn_tutorial.problems.base", "pinn_tutorial.causality"},
    }
    graph.update({"pinn_tutorial.problems.base": set(), "pinn_tutorial.problems.klein_gordon": set()})
    assert find_cycle(graph) == ["pinn_tutorial.causality", "pinn_tutorial.problems", "pinn_tutorial.causality"]


def test_no_module_imports_one_that_imports_it_back():
    graph = {name: imported_modules(name, path.read_text(), path.name == "__init__.py", MODULES)
             for name, path in MODULES.items()}
    assert graph["pinn_tutorial.problems"] >= {"pinn_tutorial.registry", "pinn_tutorial.problems.base"}
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_every_module_imports_on_its_own():
    """Each module imported first, in one fresh interpreter, with the package forgotten in between
    (importing torch once rather than once per module)."""
    modules = [name for name in MODULES if name != "pinn_tutorial.__main__"] + ["pinn_tutorial.__main__"]
    script = (
        "import importlib, sys, traceback\n"
        "failed = []\n"
        f"for name in {modules!r}:\n"
        "    for loaded in [m for m in sys.modules if m == 'pinn_tutorial' or m.startswith('pinn_tutorial.')]:\n"
        "        del sys.modules[loaded]\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception:\n"
        "        failed.append(name + ':\\n' + traceback.format_exc())\n"
        "print('\\n'.join(failed))\n"
        "sys.exit(1 if failed else 0)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_package_docstring_names_every_module():
    top_level = {name.split(".")[1] for name in MODULES if name != "pinn_tutorial"}
    missing = sorted(name for name in top_level if f"``{name}``" not in pinn_tutorial.__doc__)
    assert not missing, f"pinn_tutorial/__init__.py's module list lacks {missing}"
    machinery = {name.split(".")[2] for name in MODULES if name.startswith("pinn_tutorial.reproduction.")}
    doc = importlib.import_module("pinn_tutorial.reproduction").__doc__
    missing = sorted(name for name in machinery if f"``{name}``" not in doc)
    assert "experiments" in machinery and not missing, f"pinn_tutorial/reproduction/__init__.py's list lacks {missing}"


# What a student reads to see how a PINN trains, and what reproduces the paper around it (runs on disk, sweeps,
# tables, statistics, timings, the authors' code, the book's instruments): the core never reaches the machinery.
# The machinery of reproduction is one subpackage, ``reproduction``; the book's instruments and the command line
# stay top-level beside the core and may use it.
CORE = ("problems", "registry", "networks", "rwf_fourier", "weighting", "training", "soap", "ensembles",
        "compiled_step", "tangent_kernel", "autodiff", "sampling", "metrics", "config", "checkpoints", "methods",
        "reference")
MACHINERY = ("reproduction", "plotting", "diagnostics", "exercises", "__main__")


def test_the_core_never_imports_the_machinery():
    graph = {name: imported_modules(name, path.read_text(), path.name == "__init__.py", MODULES)
             for name, path in MODULES.items()}
    assert {name.split(".")[1] for name in MODULES if name != "pinn_tutorial"} == set(CORE) | set(MACHINERY)

    def reached(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in graph[todo.pop()] - seen:
                seen.add(nxt)
                todo.append(nxt)
        return seen

    for name in (n for n in MODULES if n.split(".")[1:2] and n.split(".")[1] in CORE):
        machinery = sorted(m for m in reached(name) if m.split(".")[1] in MACHINERY)
        assert not machinery, f"{name} reaches {machinery}"


def test_importing_the_core_loads_no_module_of_the_reproduction_subpackage():
    """At run time too, where the graph above cannot see (a module imported by a name in a string): every module
    of the core, imported in one fresh interpreter, leaves no module under ``pinn_tutorial.reproduction`` loaded."""
    core = sorted(name for name in MODULES if name.split(".")[1:2] and name.split(".")[1] in CORE)
    script = ("import importlib, sys\n"
              f"for name in {core!r}:\n"
              "    importlib.import_module(name)\n"
              "print(' '.join(m for m in sys.modules if m.startswith('pinn_tutorial.reproduction')))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "pinn_tutorial.training" in core, done.stderr
    assert done.stdout.split() == [], f"importing the core loads {done.stdout.split()}"


def test_training_from_python_loads_no_machinery_and_no_ray():
    script = ("import sys\nfrom pinn_tutorial import Trainer, build, Helmholtz\nimport pinn_tutorial.ensembles\n"
              "import pinn_tutorial.weighting\n"
              "print(' '.join(m for m in sys.modules if m.startswith(('pinn_tutorial.', 'ray'))))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    loaded = set(done.stdout.split())
    assert done.returncode == 0 and "pinn_tutorial.training" in loaded, done.stderr
    assert not {m for m in loaded if m.startswith("ray") or m.split(".")[1] in MACHINERY}, loaded
