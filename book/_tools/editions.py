"""The book's two editions from one source, and the grading of learners' notebooks.

The **instructor edition** is this repository built as it is (``jupyter-book build .``): every exercise's
``{solution}`` (sphinx-exercise) is on its page, folded. The **student edition** is built from the **student
distribution**, a copy of the repository that holds no answer:

- every ``{solution}`` directive is cut out of every chapter and page (sphinx-exercise's ``hide_solutions`` would
  hide them from the pages, but not from the page sources, the downloadable notebooks or the repository that the
  launch buttons open);
- every code cell tagged ``solution`` is dropped (the hidden cells that glue a solution's numbers or assert an
  exercise's answer); the exercise templates and their checks stay;
- the instructor-only pages (``INSTRUCTOR_PAGES``) and the tests (which run the reference solutions) are left out;
- its ``_config.yml`` is this one with the student edition's settings (``student_settings``): the launch buttons
  and each chapter's Colab cell point at the student repository (by default this repository's ``student`` branch,
  which the book workflow fills with this distribution), there is no repository button (it would open the
  repository's front page, whose default branch holds the solutions), and ``hide_solutions`` is on as a second
  guard.

Because the student edition is built from the distribution, its pages, search index, page sources and
downloadable notebooks come from sources without answers. ``tests/test_book_editions.py`` builds both editions and
scans everything a student can reach for the instructor edition's solution text.

Usage (from the repository's root)::

    python book/_tools/editions.py student                  # the distribution in _build/student-src
    python book/_tools/editions.py student --build          # ... and its book, in _build/student-src/_build/html
    python book/_tools/editions.py grade submitted/*.ipynb  # run learners' notebooks, report each exercise's check
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
INSTRUCTOR_PAGES = {"book/instructor_guide"}  # pages in _toc.yml that only the instructor edition has
COPIED = ["book", "pinn_tutorial", "results", "references.bib", "pyproject.toml", "environment.yml", "LICENSE",
          "CITATION.cff"]
LEFT_OUT = shutil.ignore_patterns("_tools", "_build", "__pycache__", ".ipynb_checkpoints", "*.egg-info",
                                  "instructor_guide.md")
SOLUTION_TAG = "solution"
STUDENT_BRANCH = "student"
# The Colab cell's clone of the repository: the student distribution's cell clones the student repository.
CLONE = re.compile(r"git clone -q --depth 1 --branch \S+ \S+")


class EditionError(Exception):
    """The sources cannot make a clean student distribution (a solution the stripping would miss)."""


def student_settings(config: dict, repository: str, branch: str) -> dict:
    """``_config.yml`` of the student distribution: the instructor's, with the student edition's settings."""
    config = json.loads(json.dumps(config))  # a deep copy
    config["title"] = f"{config['title']} (student edition)"
    config["repository"] = {**config.get("repository", {}), "url": repository, "branch": branch}
    config["sphinx"]["config"]["hide_solutions"] = True
    # The repository button opens the repository's front page, whose default branch holds the solutions; the
    # launch buttons (Colab, Binder) and the download button open the student branch's notebooks instead.
    config["html"] = {**config.get("html", {}), "use_repository_button": False}
    return config


def strip_directives(text: str, name: str = "solution") -> str:
    """``text`` without its ``{name}`` directives, each from its opening fence to the matching closing fence."""
    lines, kept, closing = text.splitlines(keepends=True), [], None
    for line in lines:
        if closing is None:
            opening = re.match(rf"^(`{{3,}}|:{{3,}})\{{{name}\}}", line)
            if opening:
                closing = re.compile(rf"^{re.escape(opening[1])}\s*$")
                continue
            kept.append(line)
        elif closing.match(line):
            closing = None
    if closing is not None:
        raise EditionError(f"a {{{name}}} directive is not closed")
    return re.sub(r"\n{3,}", "\n\n", "".join(kept))


def check_stripped(text: str, where: str) -> None:
    """Refuse a solution that the stripping does not recognise (an admonition or dropdown called Solution)."""
    if re.search(r"\{solution\}|:class:[^\n]*\bsolution\b|\{(admonition|dropdown)\}\s*(Solution|Answers)", text):
        raise EditionError(f"{where}: a solution outside a {{solution}} directive; write it as one")


def student_notebook(notebook: dict, repository: str, branch: str, where: str) -> dict:
    """The notebook without solution directives, solution-tagged cells and outputs, cloning the student repository."""
    cells = []
    for cell in notebook["cells"]:
        if SOLUTION_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            source = strip_directives(source)
        else:
            source = CLONE.sub(f"git clone -q --depth 1 --branch {branch} {repository}", source)
            cell = {**cell, "outputs": [], "execution_count": None}
        check_stripped(source, where)
        cells.append({**cell, "source": source.splitlines(keepends=True)})
    return {**notebook, "cells": cells}


def student_toc(toc: dict) -> dict:
    """The table of contents without the instructor-only pages."""
    def keep(entries: list[dict]) -> list[dict]:
        return [{**e, **({"chapters": keep(e["chapters"])} if "chapters" in e else {})}
                for e in entries if e.get("file") not in INSTRUCTOR_PAGES]
    return {**toc, "parts": [{**part, "chapters": keep(part["chapters"])} for part in toc["parts"]]}


STUDENT_README = """# {title}

The student edition of the book and its library: the chapters with their exercises, checks and self-check
quizzes, without solutions. Install and build as in the book's page "Installing" (CPU-only torch first):

```bash
python3 -m venv .venv && . .venv/bin/activate && pip install torch==2.13.0 -e ".[book]" && jupyter-book build .
```
"""


def make_student_distribution(out: Path, repository: str | None = None, branch: str = STUDENT_BRANCH) -> Path:
    """Write the student distribution into ``out`` (emptied first) and return it."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    repository = repository or config["repository"]["url"]
    target = out.resolve()
    inside_sources = target == ROOT or target in ROOT.parents or (
        ROOT in target.parents and (ROOT / "_build") not in (target, *target.parents))
    if inside_sources:
        raise EditionError(f"the distribution goes under _build/ or outside the repository, not over the sources: "
                           f"{out}")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, out / name, ignore=LEFT_OUT)
        elif source.exists():
            shutil.copy2(source, out / name)
    for path in sorted((out / "book").rglob("*.ipynb")):
        notebook = json.loads(path.read_text())
        path.write_text(json.dumps(student_notebook(notebook, repository, branch, path.name), indent=1,
                                   ensure_ascii=False) + "\n")
    for path in sorted((out / "book").glob("*.md")):
        text = strip_directives(path.read_text())
        check_stripped(text, path.name)
        path.write_text(text)
    settings = student_settings(config, repository, branch)
    (out / "_config.yml").write_text(yaml.safe_dump(settings, sort_keys=False, allow_unicode=True))
    toc = student_toc(yaml.safe_load((ROOT / "_toc.yml").read_text()))
    (out / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False))
    (out / "README.md").write_text(STUDENT_README.format(title=settings["title"]))
    (out / ".gitignore").write_text("_build/\n.venv/\n__pycache__/\n*.egg-info/\n.ipynb_checkpoints/\n")
    return out


def grade(notebooks: list[Path], timeout: int = 900) -> dict[str, dict[str, bool]]:
    """Run each learner's notebook and read its checks: {notebook: {exercise: passed}}.

    A check cell prints ``[label] pass: ...`` or ``[label] not yet: ...`` (``pinn_tutorial.exercises``); a
    notebook that stops with an error still reports the checks that ran before it.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    marks = {}
    for path in notebooks:
        notebook = nbformat.read(path, as_version=4)
        try:
            NotebookClient(notebook, timeout=timeout, resources={"metadata": {"path": str(path.parent)}},
                           allow_errors=True).execute()
        except CellExecutionError:
            pass
        found = {}
        for cell in notebook.cells:
            if "exercise-check" not in cell.get("metadata", {}).get("tags", []):
                continue
            text = "\n".join(str(o.get("data", {}).get("text/plain", o.get("text", ""))) for o in cell.outputs)
            for label, verdict in re.findall(r"\[([\w-]+)\] (pass|not yet)", text):
                found[label] = verdict == "pass"
        marks[str(path)] = found
    return marks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python book/_tools/editions.py", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    student = commands.add_parser("student", help="write the student distribution (and build its book)")
    student.add_argument("--out", type=Path, default=ROOT / "_build" / "student-src")
    student.add_argument("--repository", help="the student repository's URL (default: this repository's)")
    student.add_argument("--branch", default=STUDENT_BRANCH, help="its branch (default: %(default)s)")
    student.add_argument("--build", action="store_true", help="then build the student edition from it")
    marking = commands.add_parser("grade", help="run learners' notebooks and report each exercise's check")
    marking.add_argument("notebooks", type=Path, nargs="+")
    args = parser.parse_args(argv)
    try:
        if args.command == "grade":
            missing = [str(p) for p in args.notebooks if not p.is_file()]
            if missing:
                raise EditionError(f"no such notebook: {', '.join(missing)}")
            for path, found in grade(args.notebooks).items():
                passed = sum(found.values())
                print(f"{path}: {passed} of {len(found)} checks pass"
                      + "".join(f"\n  {label}: {'pass' if ok else 'not yet'}" for label, ok in found.items()))
            return 0
        out = make_student_distribution(args.out, args.repository, args.branch)
    except (EditionError, OSError, yaml.YAMLError) as error:
        print(f"editions: {error}", file=sys.stderr)
        return 2
    print(f"student distribution: {out}")
    if args.build:
        return subprocess.run(["jupyter-book", "build", str(out), "-W", "--keep-going"]).returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
