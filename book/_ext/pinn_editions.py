"""Two editions of the book from one source: the instructor's, with the solutions, and the student's, without.

Every solution (and every quiz's answers) in the chapters is an admonition with the class ``solution``::

    ```{admonition} Solution 1
    :class: dropdown solution
    ...
    ```

With ``pinn_edition: student`` in ``sphinx.config`` (``_config_student.yml`` sets it), this extension removes
those admonitions from every page right after it is read, before anything is written or indexed: the pages,
the search index and the table of contents hold no solution text. The instructor's edition (``_config.yml``,
``pinn_edition: instructor``) keeps them, folded.
"""

from __future__ import annotations

from docutils import nodes

EDITIONS = ("instructor", "student")


def remove_solutions(app, doctree: nodes.document) -> None:
    """In the student edition, drop every element with the class ``solution``."""
    if app.config.pinn_edition == "instructor":
        return
    for node in list(doctree.findall(nodes.Element)):
        if "solution" in node.get("classes", []) and node.parent is not None:
            node.parent.remove(node)


def check_edition(app, config) -> None:
    """Refuse an unknown edition; the student edition copies no sources (a chapter's source holds its solutions)."""
    if config.pinn_edition not in EDITIONS:
        raise ValueError(f"pinn_edition must be one of {EDITIONS}, got {config.pinn_edition!r}")
    if config.pinn_edition == "student":
        config.html_copy_source = False


def setup(app):
    app.add_config_value("pinn_edition", "instructor", "env", [str])
    app.connect("config-inited", check_edition)
    app.connect("doctree-read", remove_solutions)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
