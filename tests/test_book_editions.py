"""Two editions from one source: the instructor's (``_config.yml``, with the solutions) and the student's
(``_config_student.yml``, without). The switch is one option of the build: ``--config _config_student.yml``."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("*.ipynb"))


def _markdown(chapter: Path) -> str:
    cells = json.loads(chapter.read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def test_the_student_config_is_the_instructor_config_with_four_changes():
    """Everything but the edition is shared: a change to _config.yml that is not made in the student file fails."""
    instructor = yaml.safe_load((ROOT / "_config.yml").read_text())
    student = yaml.safe_load((ROOT / "_config_student.yml").read_text())
    expected = copy.deepcopy(instructor)
    expected["title"] = instructor["title"] + " (student edition)"
    expected["sphinx"]["config"]["pinn_edition"] = "student"
    expected["sphinx"]["config"]["html_copy_source"] = False
    expected["html"]["use_download_button"] = False
    assert instructor["sphinx"]["config"]["pinn_edition"] == "instructor"
    assert student == expected


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.name)
def test_every_solution_is_marked_for_the_student_edition(chapter):
    """Each solution and each quiz's answers is an admonition with the class `solution`, which the student
    edition removes; a chapter has a quiz, exercises and learning objectives."""
    text = _markdown(chapter)
    openings = re.findall(r"```\{admonition\} (Solution \d+|Answers to the quiz)\n(:class: [^\n]*)", text)
    assert openings, f"{chapter.name} has no solutions"
    unmarked = [title for title, options in openings if "solution" not in options.split()]
    assert not unmarked, f"{chapter.name}: solutions without the class `solution`: {unmarked}"
    assert "{dropdown} Solution" not in text  # the other spelling would escape the student edition
    assert len([t for t, _ in openings if t.startswith("Solution")]) == len(re.findall(r"^\d+\. ", text.split(
        "## Exercises")[1].split("```")[0], re.M))  # one solution per exercise
    assert "## Quiz" in text and "Answers to the quiz" in text and "Learning objectives" in text
    assert "**Read first:**" in text


def _build(tmp: Path, edition: str) -> str:
    """A two-page Sphinx project with the book's extension, built as one edition; its HTML, concatenated."""
    src = tmp / f"src-{edition}"
    src.mkdir()
    (src / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(ROOT / 'book' / '_ext')!r})\n"
        f"extensions = ['myst_parser', 'pinn_editions']\npinn_edition = {edition!r}\n"
    )
    (src / "index.md").write_text(
        "# Chapter\n\n```{toctree}\nother\n```\n\n## Exercises\n\n1. Train with C = 8.\n\n"
        "```{admonition} Solution 1\n:class: dropdown solution\nThe SECRET answer.\n```\n"
    )
    (src / "other.md").write_text("# Other\n\n```{admonition} Answers to the quiz\n:class: dropdown solution\n"
                                  "Another SECRET.\n```\n\nKept text.\n")
    out = tmp / f"html-{edition}"
    done = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-W", "-q", str(src), str(out)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return "\n".join(p.read_text() for p in out.rglob("*") if p.is_file() and p.suffix in (".html", ".js", ".txt"))


def test_the_student_edition_holds_no_solution_text(tmp_path):
    instructor, student = _build(tmp_path, "instructor"), _build(tmp_path, "student")
    assert "SECRET" in instructor and "Train with C = 8" in instructor
    assert "SECRET" not in student  # not on the pages, not in the search index, not in the sources
    assert "Train with C = 8" in student and "Kept text" in student


def test_an_unknown_edition_is_refused(tmp_path):
    with pytest.raises(AssertionError, match="pinn_edition"):
        _build(tmp_path, "teacher")
