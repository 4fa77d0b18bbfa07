"""Numbers in the book's prose come from its computations, not from a keyboard.

A number that a run, a results file or ``pinn_tutorial.reproduction.paper`` produces goes into a chapter's text with
myst-nb's ``glue`` (a ``{glue:text}`key``` role), so that a rerun can never leave the text behind. This test
reads the prose of every chapter (the markdown cells of ``book/*.ipynb``) and of every page (``book/*.md``,
their markdown outside code cells) and fails on any **typed number with two or more significant digits**
that is not glued and not on the short allow-list below.

What is not prose, and not scanned: fenced code blocks, inline code, MyST roles and their targets
(``{cite}``, ``{doc}``, ``{glue:...}``), directive options, labels, URLs and HTML comments. Math is scanned:
a number derived in an equation is glued from the computation that derives it, or written so that no
precision is claimed that was not computed.

Significant digits: ``128`` has three, ``0.75`` two, ``40,000`` and ``0.9`` one (trailing zeros of an
integer and leading zeros of a decimal do not count). Numbers with one significant digit (``3 hidden
layers of 50``, ``10^{-3}``, ``6,000 steps``) are settings and orders of magnitude, and pass.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
PAGES = sorted(BOOK.glob("*.ipynb")) + sorted(BOOK.glob("*.md"))

# Numbers that may be typed, with the reason. Keep this list short: anything a run or a file produces is glued.
ALLOWED_NUMBERS = {
    "128": "the paper's protocol constants: 128 points per loss term and step, and the cavity grid of 128 cells",
    "129": "the cavity grid's 129 x 129 nodes (128 cells a side), the paper's resolution (Appendix 5.2)",
    "2001.04536": "the paper's arXiv identifier",
    "32": "grid sizes and batch sizes an exercise asks for (powers of two, like 64)",
    "64": "grid sizes and batch sizes an exercise asks for (powers of two, like 32)",
    "95": "the level of an interval or the top of a 5-95 % range, a convention",
    "2,500": "the entries of a 50 x 50 weight matrix",
    "3.10": "the oldest Python the library runs on (pyproject.toml's requires-python)",
    "4.0": "the licence's version, CC BY 4.0",
}
# A number right after one of these words is a reference (section, equation, figure, ...), not a quantity.
REFERENCE_WORDS = (
    r"Eqs?\.|Equations?|Figs?\.|Figures?|Tables?|[Ss]ections?|Appendix|[Cc]hapters?|Algorithm|[Ee]xercises?|"
    r"Solution|[Ss]essions?|v|[Pp]arts?|[Ss]teps? of (?:the )?[Aa]lgorithm"
)
# A run of numbers joined by commas, "and", dashes or "to" after a reference word: "Eqs. 14-15", "Figs. 4 and 5".
REFERENCE = re.compile(rf"(?:{REFERENCE_WORDS})\s*(?:\d+(?:\.\d+)*[a-z]?(?:\s*(?:,|and|-|–|to|&)\s*)?)+")
YEAR = re.compile(r"(?<![\d.,])(?:19|20)\d\d(?![\d.,]\d)")
NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?![\d])")

NOT_PROSE = [
    re.compile(r"<!--.*?-->", re.S),  # HTML comments
    re.compile(r"\{[\w:-]+\}`[^`]*`"),  # roles with their target: {glue:text}`key`, {cite}`...`, {doc}`...`
    re.compile(r"`[^`]+`"),  # inline code (which may run over a line break)
    re.compile(r"^\s*:[\w-]+:.*$", re.M),  # directive options (:class: dropdown, :label: alg-annealing)
    re.compile(r"^\([\w-]+\)=\s*$", re.M),  # labels
    re.compile(r"https?://\S+"),  # URLs
    re.compile(r"^    .*$", re.M),  # indented code blocks (solutions show code this way)
]


FENCE = re.compile(r"^(`{3,}|:{3,})\s*(.*)$")
CODE_FENCES = re.compile(r"^(|[\w+-]+|\{(code-cell|code-block|code|literalinclude|nb-exec-table)\}.*)$")


def without_code_fences(text: str) -> str:
    """The text without fenced code: fences with no info string, a language, or a directive whose body is code.

    Fences of directives with prose bodies (```{admonition} for the solutions, :::{dropdown}) stay, without
    their fence lines: their bodies are prose."""
    kept, closing, skipping = [], [], False
    for line in text.split("\n"):
        fence = FENCE.match(line.strip())
        if closing and fence and fence.group(1) == closing[-1] and not fence.group(2):
            closing.pop()
            skipping = False
            continue
        if skipping:
            continue
        if fence and (fence.group(1)[0] == ":" or not closing or fence.group(2)):
            if fence.group(1)[0] == "`" and CODE_FENCES.match(fence.group(2)):
                skipping = True
            closing.append(fence.group(1))
            continue
        kept.append(line)
    return "\n".join(kept)


def significant_digits(integer: str, fraction: str | None) -> int:
    digits = integer.replace(",", "")
    if fraction:
        whole = digits.lstrip("0")
        return len(whole + fraction) if whole else len(fraction.lstrip("0"))
    return len(digits.strip("0")) if digits.strip("0") else 1


def prose(page: Path) -> list[str]:
    """The markdown of a page, one string per cell (notebooks) or one for the page (.md)."""
    if page.suffix == ".ipynb":
        cells = json.loads(page.read_text())["cells"]
        return ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]
    text = page.read_text()
    text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)  # the jupytext header of a MyST notebook
    return [text]


def typed_numbers(text: str) -> list[str]:
    """The numbers of two or more significant digits typed in ``text`` that are neither references nor allowed."""
    text = without_code_fences(text)
    for pattern in NOT_PROSE:
        text = pattern.sub(" ", text)
    text = REFERENCE.sub(" ", text)
    text = YEAR.sub(" ", text)
    found = []
    for match in NUMBER.finditer(text):
        integer, fraction = match.group(1), match.group(2)
        number = match.group(0)
        if number in ALLOWED_NUMBERS or significant_digits(integer, fraction) < 2:
            continue
        start = max(0, match.start() - 40)
        found.append(f"{number!r} in ...{text[start:match.end() + 20]!r}...")
    return found


def test_the_scanner_finds_typed_numbers_and_passes_the_rest():
    """The rules themselves: what counts as typed, and what does not."""
    assert [found.split(" in ")[0] for found in typed_numbers("the error is 0.35 after 6,000 steps")] == ["'0.35'"]
    assert len(typed_numbers("ratio $r \\approx 167$ and 1.81e-1 and 2.5x")) == 3
    assert typed_numbers("3 hidden layers of 50, $10^{-3}$, 40,000 steps, 0.9 and 100 x 100") == []
    assert typed_numbers("the error is {glue:text}`m4_error` (paper Eqs. 14-15, Fig. 17, Table 2, section 2.3)") == []
    assert typed_numbers("`build(layers=[2, 100, 100, 100, 1])` in 1982 and 2021") == []
    assert typed_numbers("```python\nx = 0.123\n```\n    y = 4.56\n```{code-cell} ipython3\nz = 7.89\n```") == []
    assert len(typed_numbers("```{admonition} Solution 1\n:class: dropdown\nThe error is 0.35.\n```")) == 1
    assert significant_digits("0", "0012") == 2 and significant_digits("40,000", None) == 1
    assert significant_digits("128", None) == 3 and significant_digits("1", "5") == 2


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_numbers_in_the_prose_are_glued(page):
    typed = [number for text in prose(page) for number in typed_numbers(text)]
    assert not typed, (
        f"{page.name}: {len(typed)} typed number(s); glue them from the chapter's own computation "
        "(myst_nb.glue) or, for a constant, add them to ALLOWED_NUMBERS with the reason:\n" + "\n".join(typed)
    )


def glue_keys(page: Path) -> tuple[set[str], set[str]]:
    """The keys the page's prose pastes ({glue:...}`key`) and the keys its code glues (glue("key", ...))."""
    if page.suffix == ".ipynb":
        cells = json.loads(page.read_text())["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    else:
        code = "\n".join(re.findall(r"```\{code-cell\}.*?\n(.*?)```", page.read_text(), re.S))
    pasted = {key for text in prose(page) for key in re.findall(r"\{glue(?::\w+)?\}`([^`]+)`", text)}
    glued = set(re.findall(r"""glue\(\s*f?["']([^"']+)["']""", code))
    # Keys made in a loop, glue(f"kg_paper_{m}", ...), match by their fixed prefix.
    prefixes = {key.split("{")[0] for key in glued if "{" in key}
    return pasted, {key for key in glued if "{" not in key} | {p + "*" for p in prefixes}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_pasted_number_is_glued_by_the_page(page):
    """A glue role whose key no cell glues would render as a build warning (and fail the -W build)."""
    pasted, glued = glue_keys(page)
    prefixes = tuple(key[:-1] for key in glued if key.endswith("*"))
    missing = sorted(key for key in pasted if key not in glued and not (prefixes and key.startswith(prefixes)))
    assert not missing, f"{page.name}: pasted but never glued: {missing}"


@pytest.mark.parametrize("page", [p for p in PAGES if p.suffix == ".ipynb"], ids=lambda p: p.name)
def test_no_key_is_glued_twice(page):
    """myst-nb warns on a key glued twice (and the -W build fails): each key has one cell that makes it."""
    cells = json.loads(page.read_text())["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    keys = [key for key in re.findall(r"""glue\(\s*["']([^"']+)["']""", code)]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    assert not duplicates, f"{page.name}: glued more than once: {duplicates}"


@pytest.mark.parametrize("page", [p for p in PAGES if p.suffix == ".ipynb"], ids=lambda p: p.name)
def test_glued_text_holds_no_math(page):
    """A {glue:text} value is pasted as plain text: TeX in it would show as raw dollars on the page."""
    cells = json.loads(page.read_text())["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    calls = re.findall(r"\bglue\((.*?)display=False\)", code, re.S)
    with_math = [call.split(",")[0] for call in calls if "$" in call]
    assert not with_math, f"{page.name}: glued text with TeX in it: {with_math}"
