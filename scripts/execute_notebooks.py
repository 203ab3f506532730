"""Re-execute the book's chapters in place and store their outputs (``make execute``).

Runs every notebook listed in ``_toc.yml`` (or the paths given) with nbclient in the notebook's own
folder, stores ipywidgets state so the rendered book can show widgets, and drops per-cell timing
metadata so a re-run changes only what the code changed. Every figure a chapter names (cell
metadata ``mystnb.figure.name``) is also written to ``book/_static/figures/<name>.png``, where the
README finds it; ``tests/test_book.py`` checks the two stay identical.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from cae_lessons.reproduce import FIGURES_DIR, named_figures, toc_notebooks

ROOT = Path(__file__).resolve().parent.parent


# The chapter list and the named figures come from cae_lessons.reproduce (tested there), which
# the appendix "Reproducing every figure" also uses.
FIGURES = ROOT / FIGURES_DIR


def execute(path: Path, timeout: int = 1800) -> float:
    """Execute one notebook in place; return the wall time in seconds."""
    notebook = nbformat.read(path, as_version=4)
    # nbclient stores widget state only when widgets ran: a notebook whose widgets were removed
    # would otherwise keep the old state, which the rendered page still embeds.
    notebook.metadata.pop("widgets", None)
    start = time.perf_counter()
    NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        store_widget_state=True,
        record_timing=False,
    ).execute()
    nbformat.write(notebook, path)
    FIGURES.mkdir(parents=True, exist_ok=True)
    for name, png in named_figures(notebook).items():
        (FIGURES / f"{name}.png").write_bytes(png)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "notebooks", nargs="*", type=Path, help="default: every chapter in _toc.yml"
    )
    args = parser.parse_args(argv)
    for path in [p.resolve() for p in args.notebooks] or toc_notebooks(ROOT):
        print(f"executing {path.relative_to(ROOT)} ...", flush=True)
        print(f"  done in {execute(path):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
