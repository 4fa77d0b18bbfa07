"""Tables as Markdown text, which a notebook shows (``IPython.display.Markdown``) and a terminal prints as it is."""

from __future__ import annotations

from collections.abc import Sequence


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]], left: int = 1) -> str:
    """A Markdown table, columns padded to one width so that it also reads as plain text.

    The first ``left`` columns (names) are left-aligned, the others (numbers) right-aligned. No cell may
    hold a ``|`` (it would split the cell); every row has the header's length."""
    for row in [header, *rows]:
        if len(row) != len(header):
            raise ValueError(f"a row of {len(row)} cells in a table of {len(header)} columns: {list(row)}")
        if any("|" in str(c) for c in row):
            raise ValueError(f"a table cell holds '|', which would split it: {list(row)}")
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows)]

    def line(cells: Sequence[str]) -> str:
        padded = [str(c).ljust(w) if k < left else str(c).rjust(w) for k, (c, w) in enumerate(zip(cells, widths))]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(":" + "-" * (w + 1) if k < left else "-" * (w + 1) + ":" for k, w in enumerate(widths)) + "|"
    return "\n".join([line(header), rule, *(line(r) for r in rows)])
