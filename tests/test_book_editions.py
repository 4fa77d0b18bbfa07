"""Two editions from one source: the instructor's (this repository, built as it is) and the student's (built from
the student distribution that ``book/_tools/editions.py student`` writes). Nothing a student can reach from the
student edition may hold an answer: its pages, search index, page sources, downloadable notebooks, and the
distribution that its launch and repository buttons open.

The scan (``leaks``) takes its probes from the instructor edition: every sentence of every rendered solution, every
line of every solution in the sources, and every word that the sources use only inside solutions. Probes that
also occur outside the solutions are not secrets and are dropped. A planted solution sentence must be found.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
import snowballstemmer
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_tools"))
import editions  # noqa: E402

CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
PAGES = sorted((ROOT / "book").glob("*.md"))


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def _markdown(path: Path) -> str:
    if path.suffix == ".md":
        return path.read_text()
    return "\n".join("".join(c["source"]) for c in _cells(path) if c["cell_type"] == "markdown")


# -- the sources ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.name)
def test_every_exercise_and_quiz_is_a_directive_with_its_solution(chapter):
    text = _markdown(chapter)
    exercises = re.findall(r"\{exercise\}[^\n]*\n(?::[^\n]*\n)*?:label:\s*(\S+)", text)
    solutions = re.findall(r"\{solution\}\s+(\S+)", text)
    assert exercises, f"{chapter.name} has no exercises"
    assert sorted(exercises) == sorted(solutions), f"{chapter.name}: exercises without a solution or the reverse"
    assert any(label.endswith("-quiz") for label in exercises), f"{chapter.name} has no quiz"
    quiz = [c for c in _cells(chapter) if "display_quiz" in "".join(c["source"])]
    assert len(quiz) == 1 and "remove-input" in quiz[0]["metadata"].get("tags", []), "one self-check quiz, code hidden"
    editions.check_stripped(editions.strip_directives(text), chapter.name)  # no solution in another form
    assert "Learning objectives" in text and "**Read first:**" in text


def test_labels_are_unique_across_the_book():
    labels = [label for path in CHAPTERS + PAGES
              for label in re.findall(r"^:label:\s*(\S+)", _markdown(path), re.M)]
    assert len(labels) == len(set(labels)), sorted({x for x in labels if labels.count(x) > 1})


def test_stripping_cuts_each_solution_whole_and_keeps_the_rest():
    text = ("Before.\n\n````{solution} ex-1\n:class: dropdown\n\n```python\nsecret = 1\n```\nSECRET words.\n````\n\n"
            ":::{solution} ex-2\nOther SECRET.\n:::\nAfter.\n")
    stripped = editions.strip_directives(text)
    assert "SECRET" not in stripped and "secret" not in stripped and "Before." in stripped and "After." in stripped
    with pytest.raises(editions.EditionError, match="not closed"):
        editions.strip_directives("```{solution} ex-1\nopen\n")
    with pytest.raises(editions.EditionError, match="outside a"):
        editions.check_stripped("```{admonition} Solution 1\n:class: dropdown\nx\n```", "page.md")


def test_a_student_notebook_has_no_solution_cell_and_clones_the_student_repository():
    notebook = {"cells": [
        {"cell_type": "code", "metadata": {}, "outputs": [{"text": "old"}], "execution_count": 3,
         "source": ["!git clone -q --depth 1 --branch main https://github.com/a/b /content/b\n"]},
        {"cell_type": "code", "metadata": {"tags": ["remove-cell", "solution"]}, "outputs": [], "source": ["x = 42"]},
        {"cell_type": "markdown", "metadata": {}, "source": ["Task.\n", "```{solution} e\n", "Key.\n", "```\n"]},
    ]}
    cells = editions.student_notebook(notebook, "https://github.com/c/d", "student", "nb")["cells"]
    assert len(cells) == 2 and cells[0]["outputs"] == [] and cells[0]["execution_count"] is None
    assert "--branch student https://github.com/c/d /content/b" in "".join(cells[0]["source"])
    assert "".join(cells[1]["source"]).strip() == "Task."


def test_the_student_config_is_the_instructors_with_the_students_settings():
    instructor = yaml.safe_load((ROOT / "_config.yml").read_text())
    student = editions.student_settings(instructor, "https://github.com/c/d", "student")
    assert instructor["sphinx"]["config"]["hide_solutions"] is False and student["sphinx"]["config"]["hide_solutions"]
    assert student["repository"] == {**instructor["repository"], "url": "https://github.com/c/d", "branch": "student"}
    assert student["title"].endswith("(student edition)")
    assert student["html"] == {**instructor["html"], "use_repository_button": False}  # it would open main
    for key in ("title", "repository", "sphinx", "html"):
        student.pop(key), instructor.pop(key)
    assert student == instructor  # nothing else differs


def test_the_distribution_is_never_written_over_the_sources(capsys):
    assert editions.main(["student", "--out", str(ROOT / "book")]) == 2
    assert "not over the sources" in capsys.readouterr().err
    assert (ROOT / "book" / "01_first_pinn.ipynb").exists()


def test_the_student_distribution_drops_every_marked_answer(tmp_path):
    out = editions.make_student_distribution(tmp_path / "student")
    assert not (out / "tests").exists() and not (out / "book" / "_tools").exists()
    assert not (out / "book" / "instructor_guide.md").exists()
    for chapter in sorted((out / "book").glob("*.ipynb")):
        cells = _cells(chapter)
        assert not [c for c in cells if "solution" in c["metadata"].get("tags", [])]
        assert "{solution}" not in _markdown(chapter)
        assert [c for c in cells if "exercise-check" in c["metadata"].get("tags", [])], chapter.name  # checks stay
    toc = (out / "_toc.yml").read_text()
    assert "instructor_guide" not in toc and "01_first_pinn" in toc


# -- the leak scan ------------------------------------------------------------------------------------------------

def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(text)).strip().lower()


class _Solutions(HTMLParser):
    """The text inside and outside the solution blocks (sphinx-exercise's ``div.solution``) of one page."""

    def __init__(self):
        super().__init__()
        self.depth, self.inside, self.outside, self.skip = 0, [], [], 0

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if tag in ("script", "style"):
            self.skip += 1
        if self.depth:
            self.depth += tag not in ("br", "img", "hr", "input", "meta", "link")
        elif tag == "div" and "solution" in classes:
            self.depth = 1

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)
        if self.depth and tag not in ("br", "img", "hr", "input", "meta", "link"):
            self.depth -= 1

    def handle_data(self, data):
        if not self.skip:
            (self.inside if self.depth else self.outside).append(data)


def _sentences(text: str, words: int = 8) -> set[str]:
    return {s for s in (_normal(part) for part in re.split(r"(?<=[.!?:;])\s+", text)) if len(s.split()) >= words}


def secrets(instructor_html: Path, sources: Path) -> dict[str, set[str]]:
    """Probes for every answer of the instructor edition, and none that also occurs outside the answers."""
    rendered, public_rendered = set(), []
    for page in instructor_html.rglob("*.html"):
        parser = _Solutions()
        parser.feed(page.read_text(errors="replace"))
        rendered |= _sentences(" ".join(parser.inside))
        public_rendered.append(_normal(" ".join(parser.outside)))
    lines, public_source = set(), []
    for path in sorted((sources / "book").glob("*.ipynb")) + sorted((sources / "book").glob("*.md")):
        cells = _cells(path) if path.suffix == ".ipynb" else [{"cell_type": "markdown", "source": path.read_text()}]
        for cell in cells:
            text = "".join(cell["source"])
            if "solution" in cell.get("metadata", {}).get("tags", []):
                answers = text
            elif cell["cell_type"] == "markdown":
                answers = "\n".join(m.group(0) for m in re.finditer(
                    r"^(`{3,}|:{3,})\{solution\}.*?^\1\s*$", text, re.M | re.S))
            else:
                answers = ""
            lines |= {_normal(line) for line in answers.splitlines() if len(_normal(line)) >= 40}
            public_source.append(_normal(text.replace(answers, "") if answers else text))
    public = " ".join(public_rendered + public_source)
    stem = snowballstemmer.stemmer("english").stemWord  # the search index holds stems, as Sphinx makes them
    words = {stem(w) for line in lines | rendered for w in re.findall(r"[a-z]{7,}", line)}
    public_words = {stem(w) for w in re.findall(r"[a-z]{3,}", public)}  # "listing" is secret, not when "list" is public
    return {"sentences": {s for s in rendered if s not in public},
            "lines": {line for line in lines if line not in public},
            "stems": words - public_words}


def leaks(probes: dict[str, set[str]], student_html: Path, distribution: Path) -> list[str]:
    """Every probe found in a file a student can reach: where, and what."""
    found = []
    files = [p for p in student_html.rglob("*") if p.is_file()] + [
        p for p in distribution.rglob("*") if p.is_file() and "_build" not in p.relative_to(distribution).parts]
    for path in files:
        if path.suffix not in (".html", ".js", ".txt", ".ipynb", ".md", ".yml", ".json", ".py", ".cff"):
            continue
        raw = path.read_text(errors="replace")
        text = _normal(raw)
        if path.suffix == ".html":
            parser = _Solutions()
            parser.feed(raw)
            text = text + " " + _normal(" ".join(parser.outside + parser.inside))
        if path.suffix == ".ipynb":
            text = text + " " + _normal(" ".join("".join(c["source"]) for c in _cells(path)))
        found += [f"{path}: {probe[:80]}" for kind in ("sentences", "lines") for probe in probes[kind] if probe in text]
        if path.name == "searchindex.js":
            index = json.loads(raw[raw.index("(") + 1: raw.rindex(")")])
            terms = set(index["terms"]) | {_normal(t) for t in index.get("alltitles", {})}
            found += [f"{path}: the word stem {w!r}" for w in probes["stems"] if w in terms]
    return found


def _build(source: Path, output: Path) -> Path:
    """``jupyter-book build`` of ``source`` into ``output``/_build/html, at the quick budget; -W: a warning fails."""
    env = {**os.environ, "PINN_TUTORIAL_BUDGET": "quick"}
    done = subprocess.run(["jupyter-book", "build", str(source), "--path-output", str(output), "-W", "--keep-going"],
                          capture_output=True, text=True, env=env, cwd=source)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    return output / "_build" / "html"


@pytest.fixture(scope="module")
def both_editions(tmp_path_factory):
    """The real book built in both editions at the quick budget: its HTML, the distribution and the sources."""
    tmp = tmp_path_factory.mktemp("editions")
    distribution = editions.make_student_distribution(tmp / "student")
    return _build(ROOT, tmp / "instructor"), _build(distribution, distribution), distribution, ROOT


@pytest.mark.book
def test_nothing_a_student_can_reach_holds_an_answer(both_editions):
    instructor_html, student_html, distribution, sources = both_editions
    probes = secrets(instructor_html, sources)
    assert len(probes["sentences"]) > 50 and len(probes["lines"]) > 50, {k: len(v) for k, v in probes.items()}
    assert not leaks(probes, student_html, distribution)
    # The student edition has the exercises and the checks, the instructor edition the solutions.
    student_page = (student_html / "book" / "01_first_pinn.html").read_text()
    assert "ch01-poisson-losses" in student_page and "tag_exercise-check" in student_page
    assert 'class="solution' not in student_page and 'class="solution' in (
        instructor_html / "book" / "01_first_pinn.html").read_text()
    assert (student_html / "_sources" / "book" / "01_first_pinn.ipynb").exists()  # the download gives the students'


@pytest.mark.book
def test_every_figure_has_alt_text_and_a_numbered_caption(both_editions):
    from test_rendered_book import real_alt_text

    for html_dir in both_editions[:2]:
        for page in sorted((html_dir / "book").glob("*.html")):
            # Images in the page itself; a widget's images live in its state (a script), and the browser check
            # (tests/test_rendered_book.py) sees them once drawn.
            text = re.sub(r"<script\b.*?</script>", "", page.read_text(), flags=re.S)
            images = re.findall(r"<img\b[^>]*>", text)
            no_alt = [tag[:120] for tag in images if not real_alt_text(
                html.unescape(m[1]) if (m := re.search(r'\balt="([^"]*)"', tag)) else None)]
            assert not no_alt, f"{page.name}: images without real alt text: {no_alt}"
            in_figures = {src for figure in re.findall(r"<figure\b.*?</figure>", text, re.S)
                          for src in re.findall(r'<img\b[^>]*src="([^"]+)"', figure)}
            outputs = set(re.findall(r'<img\b[^>]*src="([^"]*_images/[^"]+)"', text))
            assert outputs <= in_figures, f"{page.name}: figures without a numbered caption: {outputs - in_figures}"


# An interval of errors as the book prints one ("a to b", "a \u2013 b" or "(a, b)", errors in e-notation) with a
# negative lower end. (A negative value in plain notation is no error: "the prediction ranges from -5.3 to 6.6".)
NEGATIVE_INTERVAL = re.compile(
    r"(?<![\w.])[-\u2212]\d+(?:\.\d+)?e[-+\u2212]?\d+\s*(?:to|,|\u2013)\s*[-\u2212]?\d")


def negative_intervals(text: str) -> list[str]:
    """Every interval with a negative lower end in ``text`` (an error's interval can have none)."""
    return [m.group(0) for m in NEGATIVE_INTERVAL.finditer(text)]


def test_the_negative_interval_scan_finds_one_and_passes_the_rest():
    assert negative_intervals("interval -4.94e-03 to 2.29e-01") == ["-4.94e-03 to 2"]
    assert negative_intervals("from \u22121.0e-02 \u2013 3e-01") and negative_intervals("(-3e-01, 5e-01)")
    assert not negative_intervals("interval 4.94e-03 to 2.29e-01, ratio 1.48 (1.30 to 1.70), step 10-20, x-1 to 2, "
                                  "on [\u22121, 1], values from -5.3 to 6.6")


@pytest.mark.book
def test_no_page_shows_an_error_interval_with_a_negative_bound(both_editions):
    """Errors are positive: the book's intervals are on log errors (pinn_tutorial.reproduction.comparison). Chapter 8's
    figure draws the one arithmetic interval that goes below zero, as the reason; no page prints one."""
    for html_dir in both_editions[:2]:
        for page in sorted(html_dir.rglob("*.html")):
            text = html.unescape(re.sub(r"<script\b.*?</script>|<[^>]+>", " ", page.read_text(), flags=re.S))
            assert not negative_intervals(text), f"{page.relative_to(html_dir)}: {negative_intervals(text)[:5]}"


@pytest.mark.book
def test_a_planted_solution_sentence_is_found(both_editions, tmp_path):
    instructor_html, student_html, distribution, sources = both_editions
    probes = secrets(instructor_html, sources)
    planted = shutil.copytree(student_html, tmp_path / "html")
    sentence = sorted(probes["sentences"])[0]
    page = sorted((planted / "book").glob("*.html"))[-1]
    page.write_text(page.read_text().replace("</article>", f"<p>{html.escape(sentence)}</p></article>", 1))
    assert any(sentence[:80] in leak for leak in leaks(probes, planted, distribution))
    line = sorted(probes["lines"])[0]
    notebook = sorted((distribution / "book").glob("*.ipynb"))[-1]
    original = notebook.read_text()
    try:
        cells = json.loads(original)
        cells["cells"].append({"cell_type": "markdown", "metadata": {}, "source": [line]})
        notebook.write_text(json.dumps(cells))
        assert any(line[:80] in leak for leak in leaks(probes, student_html, distribution))
    finally:
        notebook.write_text(original)


def test_grading_runs_each_notebook_and_reads_its_checks(tmp_path, capsys):
    """`editions.py grade` executes a learner's notebook and reports each exercise's check: pass or not yet."""
    import test_exercises

    exercise = next(e for e in test_exercises.EXERCISES if e.label == "ch01-poisson-losses")

    def notebook(*sources: str, check: str = exercise.check) -> dict:
        code = [{"cell_type": "code", "id": f"c{k}", "metadata": {}, "outputs": [], "execution_count": None,
                 "source": s} for k, s in enumerate(sources)]
        code.append({"cell_type": "code", "id": "check", "metadata": {"tags": ["exercise-check"]}, "outputs": [],
                     "execution_count": None, "source": check})
        return {"cells": code, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}},
                "nbformat": 4, "nbformat_minor": 5}

    done, blank = tmp_path / "done.ipynb", tmp_path / "blank.ipynb"
    done.write_text(json.dumps(notebook(exercise.starter, exercise.reference)))
    blank.write_text(json.dumps(notebook(exercise.starter)))
    marks = editions.grade([done, blank], timeout=300)
    assert marks == {str(done): {"ch01-poisson-losses": True}, str(blank): {"ch01-poisson-losses": False}}
    assert editions.main(["grade", str(tmp_path / "missing.ipynb")]) == 2
    assert "no such notebook" in capsys.readouterr().err
