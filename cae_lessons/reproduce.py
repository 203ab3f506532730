"""The book's named figures and how to regenerate each one.

Reads the table of contents (``_toc.yml``) and the stored chapters of a clone of the repository
and lists every figure a chapter names (cell metadata ``mystnb.figure.name``): its chapter,
caption, the PNG that ``make execute`` exports to ``book/_static/figures/<name>.png`` and the
command that regenerates it. Used by the appendix "Reproducing every figure" and by
``scripts/execute_notebooks.py`` (``make execute``); ``tests/test_book.py`` checks the exported
PNGs.

The module imports nothing else from ``cae_lessons`` and never imports TensorFlow. Notebooks are
read as JSON; ``_toc.yml`` needs PyYAML (installed with the ``book`` and ``test`` extras).
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

FIGURES_DIR = Path("book") / "_static" / "figures"
"""Where ``make execute`` exports named figures, relative to the repository root."""

EXECUTE_ALL = "make execute"
"""The command that re-executes every chapter and exports every named figure."""


def _check_root(root) -> Path:
    if not isinstance(root, str | os.PathLike):
        raise TypeError(
            f"root must be a path to the repository (str or pathlib.Path), got "
            f"{type(root).__name__} {root!r}."
        )
    root = Path(root)
    if not (root / "_toc.yml").is_file():
        raise FileNotFoundError(
            f"No _toc.yml in {root.resolve()}: pass the repository root (the folder that holds "
            "_toc.yml), e.g. Path('..') from a notebook in book/."
        )
    return root


def toc_notebooks(root: str | os.PathLike) -> list[Path]:
    """The ``.ipynb`` chapters named in ``root/_toc.yml``, in book order.

    Entries without an ``.ipynb`` file (MyST ``.md`` pages) are left out.

    Parameters
    ----------
    root : str or path
        The repository root, the folder that holds ``_toc.yml``.

    Returns
    -------
    list of pathlib.Path

    Raises
    ------
    TypeError
        If ``root`` is not a path.
    FileNotFoundError
        If ``root`` has no ``_toc.yml``.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> _ = (root / "_toc.yml").write_text(
    ...     "root: intro\\nparts:\\n  - chapters:\\n      - file: a\\n      - file: b\\n"
    ... )
    >>> _ = (root / "b.ipynb").write_text("{}")
    >>> [p.name for p in toc_notebooks(root)]
    ['b.ipynb']
    """
    import yaml

    root = _check_root(root)
    toc = yaml.safe_load((root / "_toc.yml").read_text()) or {}
    files: list[str] = []

    def walk(entries: list[dict]) -> None:
        for entry in entries:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("chapters", []) + entry.get("sections", []))

    walk(toc.get("parts", []) + toc.get("chapters", []))
    return [root / f"{name}.ipynb" for name in files if (root / f"{name}.ipynb").exists()]


def _figure_metadata(cell: Mapping) -> dict:
    figure = cell.get("metadata", {}).get("mystnb", {}).get("figure", {})
    return figure if isinstance(figure, Mapping) else {}


def _source(cell: Mapping) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def named_figures(notebook: Mapping) -> dict[str, bytes]:
    """The PNG output of every code cell whose metadata names its figure.

    Parameters
    ----------
    notebook : mapping
        A notebook as read by ``nbformat`` or ``json``.

    Returns
    -------
    dict of str to bytes
        Figure name to the PNG bytes of the cell's last image; cells without an image (not
        executed yet) are left out.

    Examples
    --------
    >>> png = base64.b64encode(b"PNG").decode()
    >>> cell = {
    ...     "cell_type": "code",
    ...     "metadata": {"mystnb": {"figure": {"name": "fig-a", "caption": "A."}}},
    ...     "outputs": [{"output_type": "display_data", "data": {"image/png": png}}],
    ... }
    >>> named_figures({"cells": [cell]})
    {'fig-a': b'PNG'}
    """
    figures = {}
    for cell in notebook.get("cells", []):
        name = _figure_metadata(cell).get("name")
        pngs = [
            o["data"]["image/png"]
            for o in cell.get("outputs", [])
            if "image/png" in o.get("data", {})
        ]
        if name and pngs:
            png = pngs[-1]
            figures[name] = base64.b64decode("".join(png) if isinstance(png, list) else png)
    return figures


def regenerate_command(chapter: str | os.PathLike) -> str:
    """The command that re-executes one chapter and re-exports its named figures.

    Parameters
    ----------
    chapter : str or path
        The chapter's path relative to the repository root, e.g. ``'book/start.ipynb'``.

    Raises
    ------
    ValueError
        If ``chapter`` is not an ``.ipynb`` file.

    Examples
    --------
    >>> regenerate_command("book/start.ipynb")
    '.venv/bin/python scripts/execute_notebooks.py book/start.ipynb'
    >>> regenerate_command("book/data.md")
    Traceback (most recent call last):
    ...
    ValueError: Only notebooks are executed: got 'book/data.md', expected a path ending in ...
    """
    path = Path(chapter).as_posix()
    if not path.endswith(".ipynb"):
        raise ValueError(
            f"Only notebooks are executed: got {path!r}, expected a path ending in .ipynb "
            "(MyST .md pages have no outputs to regenerate)."
        )
    return f".venv/bin/python scripts/execute_notebooks.py {path}"


@dataclass(frozen=True)
class FigureRow:
    """One named figure of the book.

    Attributes
    ----------
    chapter : str
        The notebook, relative to the repository root (``'book/start.ipynb'``).
    title : str
        The chapter's title (its first ``#`` heading).
    name : str
        The figure's name (``mystnb.figure.name``), also the exported file's stem.
    caption : str
        The figure's caption.
    png : str
        The exported PNG, relative to the repository root.
    status : str
        ``'exported'`` (the PNG equals the chapter's stored figure), ``'differs'``, ``'missing'``
        (no exported PNG) or ``'not executed'`` (the chapter stores no image for it).
    """

    chapter: str
    title: str
    name: str
    caption: str
    png: str
    status: str

    @property
    def command(self) -> str:
        """The command that regenerates this figure (see :func:`regenerate_command`)."""
        return regenerate_command(self.chapter)


@dataclass(frozen=True)
class FigureIndex:
    """Every named figure of the book, in book order (see :func:`figure_index`)."""

    rows: tuple[FigureRow, ...]

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def names(self) -> tuple[str, ...]:
        """The figure names, in book order."""
        return tuple(row.name for row in self.rows)

    @property
    def chapters(self) -> tuple[str, ...]:
        """The chapters that name at least one figure, in book order."""
        return tuple(dict.fromkeys(row.chapter for row in self.rows))

    def __repr__(self) -> str:
        lines = [
            f"FigureIndex({len(self)} named figures in {len(self.chapters)} chapters; "
            f"all: `{EXECUTE_ALL}`; one chapter: `{regenerate_command('book/<chapter>.ipynb')}`)"
        ]
        if self.rows:
            width = max(len(Path(row.chapter).stem) for row in self.rows)
            name_width = max(len(row.name) for row in self.rows)
            lines += [
                f"  {Path(row.chapter).stem:<{width}}  {row.name:<{name_width}}  {row.status}"
                for row in self.rows
            ]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """One row per figure; each chapter's cell spans its figures and gives the command."""
        top = ' style="vertical-align: top"'
        head = "<tr><th>chapter and command</th><th>figure</th><th>caption</th></tr>"
        body = []
        for chapter in dict.fromkeys(row.chapter for row in self.rows):
            rows = [row for row in self.rows if row.chapter == chapter]
            for i, row in enumerate(rows):
                spanned = (
                    f'<td rowspan="{len(rows)}"{top}>{html.escape(row.title)}'
                    f"<br><code>{html.escape(row.command)}</code></td>"
                )
                status = row.status if row.status == "not executed" else f"PNG {row.status}"
                body.append(
                    "<tr>"
                    + (spanned if i == 0 else "")
                    + f"<td{top}><code>{html.escape(row.name)}</code><br>{status}</td>"
                    f"<td{top}>{_inline_code(html.escape(row.caption))}</td></tr>"
                )
        return f"<table>{head}{''.join(body)}</table>"


def _inline_code(text: str) -> str:
    """Turn the Markdown code spans of a caption (`x` in backticks) into HTML code elements."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", text)


def _read_notebook(path: Path) -> dict:
    try:
        notebook = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(
            f"{path} is not a readable notebook ({type(error).__name__}: {error}); restore it "
            "from git or re-create it."
        ) from error
    if not isinstance(notebook, dict):
        raise ValueError(f"{path} holds JSON {type(notebook).__name__}, expected a notebook.")
    return notebook


def _title(notebook: Mapping, fallback: str) -> str:
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "markdown":
            for line in _source(cell).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def figure_index(root: str | os.PathLike) -> FigureIndex:
    """List every named figure of the chapters in ``root/_toc.yml``, with how to regenerate it.

    A figure is named in its code cell's metadata (``mystnb: {figure: {name, caption}}``); it
    is listed even when the chapter has not been executed yet (status ``'not executed'``).

    Parameters
    ----------
    root : str or path
        The repository root, the folder that holds ``_toc.yml``.

    Returns
    -------
    FigureIndex

    Raises
    ------
    TypeError
        If ``root`` is not a path.
    FileNotFoundError
        If ``root`` has no ``_toc.yml``.
    ValueError
        If a chapter listed in ``_toc.yml`` is not a readable notebook.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> _ = (root / "_toc.yml").write_text("root: intro\\nchapters:\\n  - file: book/a\\n")
    >>> (root / "book").mkdir()
    >>> cell = {"cell_type": "code", "source": "plot()", "outputs": [],
    ...         "metadata": {"mystnb": {"figure": {"name": "fig-a", "caption": "A."}}}}
    >>> _ = (root / "book" / "a.ipynb").write_text(json.dumps({"cells": [cell]}))
    >>> figure_index(root)
    FigureIndex(1 named figures in 1 chapters; all: `make execute`; one chapter: ...)
      a  fig-a  not executed
    """
    root = _check_root(root)
    rows = []
    for path in toc_notebooks(root):
        notebook = _read_notebook(path)
        stored = named_figures(notebook)
        chapter = path.relative_to(root).as_posix()
        for cell in notebook.get("cells", []):
            figure = _figure_metadata(cell)
            name = figure.get("name")
            if not name:
                continue
            png = FIGURES_DIR / f"{name}.png"
            exported = root / png
            if name not in stored:
                status = "not executed"
            elif not exported.exists():
                status = "missing"
            else:
                status = "exported" if exported.read_bytes() == stored[name] else "differs"
            rows.append(
                FigureRow(
                    chapter=chapter,
                    title=_title(notebook, path.stem),
                    name=str(name),
                    caption=str(figure.get("caption", "")),
                    png=png.as_posix(),
                    status=status,
                )
            )
    return FigureIndex(tuple(rows))
