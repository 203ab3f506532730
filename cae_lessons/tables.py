"""The package's one table renderer: plain text for ``__repr__``, HTML for ``_repr_html_``.

Every result with a table (scores, comparisons, the results table, the kernel × stride sweep,
the gradient report, the perturbation summary) builds a header and rows of strings and hands
them to :func:`text_table` and :func:`html_table`, so they all look alike and escape alike.
"""

from __future__ import annotations

import html
from collections.abc import Sequence


def _alignments(align: str | None, n: int) -> str:
    align = "l" * n if align is None else align
    if len(align) != n or set(align) - {"l", "r"}:
        raise ValueError(f"align must be one 'l' or 'r' per column ({n}), got {align!r}.")
    return align


def text_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], *, align: str | None = None
) -> str:
    """A plain-text table, columns separated by two spaces, trailing spaces removed.

    ``align`` holds one letter per column: ``'l'`` (left, the default) or ``'r'`` (right).

    Examples
    --------
    >>> print(text_table(["model", "PSNR"], [["example 2", "27.1"], ["PCA", "9.5"]], align="lr"))
    model      PSNR
    example 2  27.1
    PCA         9.5
    """
    align = _alignments(align, len(headers))
    lines = [list(headers), *(list(row) for row in rows)]
    widths = [max(len(cell) for cell in column) for column in zip(*lines, strict=True)]
    return "\n".join(
        "  ".join(
            cell.ljust(width) if side == "l" else cell.rjust(width)
            for cell, width, side in zip(line, widths, align, strict=True)
        ).rstrip()
        for line in lines
    )


def html_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    caption: str = "",
    *,
    align: str | None = None,
    narrow: bool = False,
    wrap: Sequence[int] = (0,),
) -> str:
    """A minimal HTML table for Jupyter's rich display, scrolling inside its own box if wide.

    ``align`` as in :func:`text_table`. ``narrow`` puts each ``mean [low, high]`` cell's
    interval on a second line, lets the columns in ``wrap`` (the first, unless told; negative
    indices count from the end) wrap and tightens the cells, so a table of estimates fits the
    book's column.

    Examples
    --------
    >>> page = html_table(["a", "b"], [["1 [0, 2]", "<x>"]], "n=1", narrow=True)
    >>> "1<br>[0, 2]" in page, "&lt;x&gt;" in page, "<caption>n=1</caption>" in page
    (True, True, True)
    """
    align = _alignments(align, len(headers))
    pad = "0 0.3em" if narrow else "0 0.5em"
    wrapping = {i % len(headers) for i in wrap} if narrow else set()

    def style(column: int) -> str:
        wrap = "min-width:6em" if column in wrapping else "white-space:nowrap"
        right = ";text-align:right" if align[column] == "r" else ""
        return f'style="{wrap};padding:{pad}{right}"'

    def cell(text: str) -> str:
        escaped = html.escape(text)
        return escaped.replace(" [", "<br>[") if narrow else escaped

    def tr(tag: str, cells: Sequence[str]) -> str:
        return "".join(f"<{tag} {style(i)}>{c}</{tag}>" for i, c in enumerate(cells))

    head = tr("th", [html.escape(h) for h in headers])
    body = "".join(f"<tr>{tr('td', [cell(c) for c in row])}</tr>" for row in rows)
    top = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return (
        f'<div style="overflow-x:auto"><table>{top}'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def row_named(rows, attribute: str, value: str, what: str):
    """The row whose ``attribute`` is ``value``, or a KeyError that lists what there is.

    Examples
    --------
    >>> from types import SimpleNamespace as Row
    >>> row_named([Row(name="a"), Row(name="b")], "name", "b", "design").name
    'b'
    >>> row_named([Row(name="a")], "name", "c", "design")
    Traceback (most recent call last):
    ...
    KeyError: "no design 'c'; the designs are ['a']."
    """
    for row in rows:
        if getattr(row, attribute) == value:
            return row
    names = [getattr(row, attribute) for row in rows]
    raise KeyError(f"no {what} {value!r}; the {what}s are {names}.")
