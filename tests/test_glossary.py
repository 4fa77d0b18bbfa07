"""Concepts are taught before they are used: the glossary's terms against the chapters' prose.

``book/notation.md`` holds a Sphinx glossary (a ```{glossary}``` block: a term on its own line, its definition
indented below it), and every definition ends with the chapter that teaches the term, "Taught in
{doc}`chapter 4 <04_learning_rate_annealing>`.". ``check_glossary`` reads the chapters (the notebooks that
``_toc.yml`` lists, in its order; the markdown cells only) and, for each term, finds its mentions: the term's
words, case-insensitive, as whole words, a plural allowed, a hyphen or a line break between its words, and a
few spellings the chapters use for the same concept (``ALIASES``: "NTK", "95% interval", ...). The text of a
``{term}`` role counts as a mention; code, role targets, glue keys, directive options and comments do not.
It reports

- a term mentioned in a chapter before the one that teaches it;
- a term whose first mention, in the first chapter that mentions it, is not inside a ``{term}`` role for it
  ({term}`collocation points <collocation point>`);
- a term that the chapter said to teach it never mentions, and a "Taught in" that names no chapter of the book;
- a ``{term}`` role in a chapter's title (its first heading): a title is no place for a link, and the term's
  first use in the text carries it. A title's words still count as a use for the first check.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from test_rendered_book import toc_files

ROOT = Path(__file__).resolve().parents[1]

# Other spellings of a term that count as a mention of it (regular expressions, matched case-insensitively as
# whole words). The relative L2 error is also found as "relative $L^2$ error" (see ``clean``).
ALIASES: dict[str, tuple[str, ...]] = {
    "PINN": (r"physics[\s-]+informed\s+neural\s+networks?",),
    "Taylor mode": (r"jets?",),
    "relative L2 error": (r"relative\s+errors?",),
    "gated network": (r"modified\s+MLPs?",),
    "confidence interval": (r"95\s*%\s+(?:t\s+|confidence\s+)?intervals?",),
    "paired comparison": (r"paired\s+(?:t\s+)?(?:intervals?|tests?)",),
    "neural tangent kernel": (r"NTKs?",),
}

GLOSSARY = re.compile(r"^```\{glossary\}[^\n]*\n(.*?)^```\s*$", re.S | re.M)
TAUGHT_IN = re.compile(r"Taught in \{doc\}`[^`<]*<([^>`]+)>`")
ROLE = re.compile(r"\{([\w:-]+)\}`([^`]*)`")
LINK_TEXT = re.compile(r"^(.*?)\s*<([^<>]+)>$", re.S)
FENCE = re.compile(r"^\s*(`{3,}|~{3,}|:{3,})\s*(.*)$")
CODE_FENCE = re.compile(r"^(|[\w+-]+|\{(?:code-cell|code-block|code|literalinclude|nb-exec-table|glossary)\}.*)$")
NOT_PROSE = [
    re.compile(r"<!--.*?-->", re.S),  # HTML comments
    re.compile(r"^\s*:[\w-]+:.*$", re.M),  # directive options (:label: ch01-quiz, :class: dropdown)
    re.compile(r"^\([\w-]+\)=\s*$", re.M),  # labels
    re.compile(r"https?://\S+"),  # URLs
]


def glossary(page: Path) -> dict[str, str]:
    """The glossary's terms, each with the document its "Taught in" link names (the first one, if several)."""
    block = GLOSSARY.search(page.read_text())
    assert block, f"{page}: no ```{{glossary}}``` block"
    terms: dict[str, str] = {}
    term, definition = None, []

    def close() -> None:
        if term is not None:
            taught = TAUGHT_IN.findall(" ".join(definition))
            terms[term] = taught[0] if taught else ""

    for line in block.group(1).split("\n"):
        if not line.strip():
            continue
        if line[0].isspace():
            definition.append(line.strip())
        else:
            close()
            term, definition = line.strip(), []
    close()
    return terms


def chapters(root: Path) -> list[tuple[str, Path]]:
    """The chapters in the order of ``_toc.yml``: its entries whose file is a notebook, as (name, path)."""
    found = []
    for file in toc_files(root):
        path = root / f"{file}.ipynb"
        if path.exists() or not (root / f"{file}.md").exists():  # a missing chapter is reported by the reader
            found.append((Path(file).name, path))
    return found


def markdown(path: Path) -> str:
    """The markdown cells of a notebook, joined."""
    cells = json.loads(path.read_text())["cells"]
    return "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def title_and_body(text: str) -> tuple[str, str]:
    """A chapter's title (the text of its first heading, if the markdown starts with one) and the rest."""
    title = re.match(r"\A\s*#[ \t]+([^\n]*)", text)
    return (title.group(1), text[title.end():]) if title else ("", text)


def without_code(text: str) -> str:
    """The text without fenced code (fences with no info string, a language, or a code directive); the bodies of
    directives with prose bodies (exercises, solutions, admonitions) stay, without their fence lines."""
    kept: list[str] = []
    open_fences: list[tuple[str, bool]] = []  # (fence, whether its body is code), innermost last
    for line in text.split("\n"):
        fence = FENCE.match(line)
        code = any(is_code for _, is_code in open_fences)
        if open_fences and fence and fence.group(1) == open_fences[-1][0] and not fence.group(2).strip():
            open_fences.pop()
            continue
        if code:
            continue
        if fence and (fence.group(1)[0] == ":" or not open_fences or fence.group(2).strip()):
            is_code = fence.group(1)[0] != ":" and bool(CODE_FENCE.match(fence.group(2).strip()))
            open_fences.append((fence.group(1), is_code))
            continue
        kept.append(line)
    return "\n".join(kept)


@dataclass(frozen=True)
class Segment:
    """A stretch of prose: plain text, or the text of a {term} role and the term it links to."""

    text: str
    term: str | None = None


def segments(text: str) -> list[Segment]:
    """A chapter's prose, in order, as plain stretches and {term} roles. Other roles keep the text they show
    ({doc}`chapter 4 <...>` shows "chapter 4") or vanish ({glue:text}`key`, {cite}`key`); inline code vanishes."""
    text = without_code(text)
    for pattern in NOT_PROSE:
        text = pattern.sub(" ", text)
    parts: list[Segment] = []
    at = 0
    for role in ROLE.finditer(text):
        parts.append(Segment(clean(text[at:role.start()])))
        name, body = role.group(1), role.group(2)
        link = LINK_TEXT.match(body)
        shown, target = (link.group(1), link.group(2)) if link else (body, body)
        if name == "term":
            parts.append(Segment(clean(shown), target.strip()))
        elif link:
            parts.append(Segment(clean(shown)))
        at = role.end()
    parts.append(Segment(clean(text[at:])))
    return parts


def clean(text: str) -> str:
    """Prose without inline code, with "$L^2$" read as "L2"."""
    text = re.sub(r"`[^`]*`", " ", text)
    return re.sub(r"\$?L[\^_]\{?2\}?\$?", "L2", text)


def plural(word: str) -> str:
    if word.lower().endswith("y") and len(word) > 2:
        return re.escape(word[:-1]) + r"(?:y|ies)"
    return re.escape(word) + r"(?:s|es)?"


def pattern(term: str) -> re.Pattern[str]:
    """Whole-word mentions of ``term``: its words joined by spaces, hyphens or line breaks, the last one with a
    plural allowed, or one of its ``ALIASES``."""
    words = re.split(r"[\s-]+", term.strip())
    spelled = r"[\s-]+".join([re.escape(w) for w in words[:-1]] + [plural(words[-1])])
    options = [spelled, *ALIASES.get(term, ())]
    return re.compile(r"(?<!\w)(?:" + "|".join(options) + r")(?!\w)", re.I)


def first_mention(parts: list[Segment], term: str) -> Segment | None:
    """The segment of the first mention of ``term`` (None if there is none)."""
    found = pattern(term)
    for part in parts:
        if found.search(part.text):
            return part
    return None


def check_glossary(root: Path = ROOT) -> list[str]:
    """What is wrong with the book at ``root``: one line per problem (module docstring); [] when nothing is."""
    terms = glossary(root / "book" / "notation.md")
    book = chapters(root)
    names = [name for name, _ in book]
    problems = [f"_toc.yml lists {path.relative_to(root)}, which does not exist" for _, path in book
                if not path.exists()]
    split = {name: title_and_body(markdown(path)) for name, path in book if path.exists()}
    titles = {name: segments(title) for name, (title, _) in split.items()}
    prose = {name: segments(body) for name, (_, body) in split.items()}
    problems += [f"{name}: a {{term}} role in its title; link the term's first use in the text instead"
                 for name in names if any(part.term for part in titles.get(name, []))]
    for term, taught in terms.items():
        if taught not in names:
            problems.append(f"{term!r}: its definition's 'Taught in' names {taught or 'no chapter'}, "
                            f"not a chapter of _toc.yml")
            continue
        mentioned = [(name, first_mention(prose[name], term)) for name in names if name in prose]
        mentioned = [(name, part) for name, part in mentioned if part is not None]
        used = [name for name in names if name in prose
                and (first_mention(titles[name], term) or first_mention(prose[name], term))]
        if used and names.index(used[0]) < names.index(taught):
            problems.append(f"{term!r}: used in {used[0]}, before {taught}, the chapter that teaches it")
        elif mentioned:
            name, part = mentioned[0]
            if part.term is None or part.term.lower() != term.lower():
                problems.append(f"{term!r}: its first use, in {name}, is not linked to the glossary "
                                f"(write {{term}}`{term}`, or {{term}}`text <{term}>`)")
        if taught not in used:
            problems.append(f"{term!r}: {taught}, the chapter that teaches it, never mentions it")
    return problems


def test_every_term_is_taught_before_its_first_use_and_linked_there():
    problems = check_glossary(ROOT)
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)


def test_the_glossary_holds_the_terms_of_the_course():
    """The glossary's terms, each with a chapter of the book (the list the chapters were re-cut to)."""
    terms = glossary(ROOT / "book" / "notation.md")
    names = [name for name, _ in chapters(ROOT)]
    assert len(terms) == 32 and all(taught in names for taught in terms.values()), terms
    assert terms["Taylor mode"] == "01_first_pinn" and terms["fixed point"] == "05_annealing_forms"
    assert terms["causal training"] == "15_architectures_and_optimizers"
    assert terms["neural tangent kernel"] == "13_magnitudes"


# A small book for the check itself: two chapters, one back-matter page, and a glossary of two terms.
NOTATION = """# Notation

```{glossary}
widget
  A small device. Taught in {doc}`chapter 2 <02_second>`.

gizmo
  Another device. Taught in {doc}`chapter 1 <01_first>`.
```
"""
TOC = """format: jb-book
root: book/intro
parts:
  - caption: "Chapters"
    chapters:
      - file: book/01_first
      - file: book/02_second
  - caption: "Back matter"
    chapters:
      - file: book/notation
"""


def small_book(root: Path, first: list[str], second: list[str]) -> Path:
    """A book at ``root`` whose chapters' markdown cells are ``first`` and ``second``."""
    (root / "book").mkdir()
    (root / "_toc.yml").write_text(TOC)
    (root / "book" / "intro.md").write_text("# A book\n\nA widget and a gizmo, used freely in the front matter.\n")
    (root / "book" / "notation.md").write_text(NOTATION)
    for name, cells in (("01_first", first), ("02_second", second)):
        notebook = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": text} for text in cells]
                    + [{"cell_type": "code", "metadata": {}, "source": "widget = 1  # code is not prose",
                        "outputs": [], "execution_count": None}],
                    "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
        (root / "book" / f"{name}.ipynb").write_text(json.dumps(notebook))
    return root


GOOD_FIRST = ["# First\n\nA {term}`gizmo` turns; later gizmos turn too. `widget` in code is not a use.",
              "```python\nwidget = gizmo\n```\n\nThe {doc}`next chapter <02_second>` builds one more device."]
GOOD_SECOND = ["# Second\n\nTwo {term}`widgets <widget>` beside a gizmo; then a widget alone."]


def test_the_check_passes_a_book_that_teaches_before_it_uses(tmp_path):
    assert check_glossary(small_book(tmp_path, GOOD_FIRST, GOOD_SECOND)) == []


def test_the_check_fails_a_term_used_a_chapter_before_it_is_taught(tmp_path):
    first = [GOOD_FIRST[0] + "\n\nA {term}`widget` already, one chapter early.", GOOD_FIRST[1]]
    problems = check_glossary(small_book(tmp_path, first, GOOD_SECOND))
    assert problems == ["'widget': used in 01_first, before 02_second, the chapter that teaches it"]


def test_the_check_fails_a_first_use_that_is_not_linked(tmp_path):
    second = ["# Second\n\nA widget, not linked, and then a {term}`widget`."]
    problems = check_glossary(small_book(tmp_path, GOOD_FIRST, second))
    assert len(problems) == 1 and problems[0].startswith("'widget': its first use, in 02_second, is not linked")


def test_the_check_fails_a_link_in_a_title_and_reads_the_title_as_a_use(tmp_path):
    linked_title = ["# A {term}`gizmo`\n\nThen a {term}`gizmo` in the text.", GOOD_FIRST[1]]
    problems = check_glossary(small_book(tmp_path, linked_title, GOOD_SECOND))
    assert problems == ["01_first: a {term} role in its title; link the term's first use in the text instead"]
    plain_title = ["# A gizmo and a widget\n\nThen a {term}`gizmo` in the text.", GOOD_FIRST[1]]
    (tmp_path / "other").mkdir()
    problems = check_glossary(small_book(tmp_path / "other", plain_title, GOOD_SECOND))
    assert problems == ["'widget': used in 01_first, before 02_second, the chapter that teaches it"]
