"""Re-execute the book's chapters in place and store their outputs (``make execute``).

Runs every notebook listed in ``_toc.yml`` (or the paths given) with nbclient in the notebook's own
folder, stores ipywidgets state so the rendered book can show widgets, and drops per-cell timing
metadata so a re-run changes only what the code changed. Every figure a chapter names (cell
metadata ``mystnb.figure.name``) is also written to ``book/_static/figures/<name>.png``, where the
README finds it; ``tests/test_book.py`` checks the two stay identical.
"""

from __future__ import annotations

import argparse
import base64
import sys
import time
from pathlib import Path

import nbformat
import yaml
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent


def toc_notebooks(root: Path = ROOT) -> list[Path]:
    """Return the ``.ipynb`` chapters named in ``_toc.yml``, in book order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files: list[str] = []

    def walk(entries: list[dict]) -> None:
        for entry in entries:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("chapters", []) + entry.get("sections", []))

    walk(toc.get("parts", []) + toc.get("chapters", []))
    return [root / f"{name}.ipynb" for name in files if (root / f"{name}.ipynb").exists()]


FIGURES = ROOT / "book" / "_static" / "figures"


def named_figures(notebook) -> dict[str, bytes]:
    """The PNG output of every code cell whose metadata names its figure."""
    figures = {}
    for cell in notebook.cells:
        name = cell.get("metadata", {}).get("mystnb", {}).get("figure", {}).get("name")
        pngs = [
            o["data"]["image/png"]
            for o in cell.get("outputs", [])
            if "image/png" in o.get("data", {})
        ]
        if name and pngs:
            figures[name] = base64.b64decode(pngs[-1])
    return figures


def execute(path: Path, timeout: int = 1800) -> float:
    """Execute one notebook in place; return the wall time in seconds."""
    notebook = nbformat.read(path, as_version=4)
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
    for path in [p.resolve() for p in args.notebooks] or toc_notebooks():
        print(f"executing {path.relative_to(ROOT)} ...", flush=True)
        print(f"  done in {execute(path):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
