"""Markdown tables: aligned columns that render in a notebook and read as text; bad rows refused."""

import pytest

from pinn_tutorial.reproduction.tables import markdown_table


def test_a_table_pads_columns_and_aligns_names_left_and_numbers_right():
    text = markdown_table(["method", "error"], [["M1", "0.143"], ["M4", "1.2e-3"]])
    assert text.splitlines() == ["| method |  error |",
                                 "|:-------|-------:|",
                                 "| M1     |  0.143 |",
                                 "| M4     | 1.2e-3 |"]


@pytest.mark.parametrize("rows, message", [([["M1"]], "a row of 1 cells in a table of 2 columns"),
                                           ([["M1", "a | b"]], "holds '|'")])
def test_a_bad_row_is_refused_with_what_is_wrong(rows, message):
    with pytest.raises(ValueError, match=message):
        markdown_table(["method", "error"], rows)
