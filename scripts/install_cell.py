"""Write every chapter's install cell from _config.yml's repository URL (``--check``: only compare).

The second cell (index 1, tag ``remove-cell``) of every notebook in ``_toc.yml`` installs
cae_lessons where it is missing (Colab, a bare Jupyter). Its URL comes from one place,
``_config.yml``'s ``repository.url``, which the book's repository button uses too;
``tests/test_install_cell.py`` checks the chapters and ``[project.urls]`` in pyproject.toml agree.

    python scripts/install_cell.py          # rewrite the cells that differ, print how many
    python scripts/install_cell.py --check  # exit 1 listing the chapters whose cell differs
    python scripts/install_cell.py --print --url file:///path/to/clone  # the cell, another URL
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Index and tag of the install cell in every chapter (cell 0 is the chapter's title).
INDEX = 1
TAG = "remove-cell"

TEMPLATE = """\
# Colab or any Jupyter without cae_lessons: install the helper package from the repository.
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("cae_lessons") is None:
    package = "cae-lessons @ {url}"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", package], check=True)"""


def repository_url(root: str | Path) -> str:
    """``repository.url`` of ``root/_config.yml``, the one place the repository's URL is written."""
    import yaml  # imported here so that --print --url runs with no third-party package

    config = yaml.safe_load((Path(root) / "_config.yml").read_text())
    url = (config.get("repository") or {}).get("url")
    if not url:
        raise ValueError(f"{Path(root) / '_config.yml'} has no repository: url:")
    return str(url).rstrip("/")


def install_cell_source(root: str | Path, url: str | None = None) -> str:
    """The install cell's code: pip installs ``git+<repository.url>`` when cae_lessons is missing.

    ``url`` replaces the whole pip URL (e.g. ``file:///path/to/clone`` to try the cell on a
    local clone); by default it is ``git+`` and ``_config.yml``'s ``repository.url``.
    """
    if url is None:
        url = f"git+{repository_url(root)}"
    return TEMPLATE.format(url=url)


def _is_install_cell(cell) -> bool:
    return cell.get("cell_type") == "code" and TAG in cell.get("metadata", {}).get("tags", [])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 on a diff")
    parser.add_argument("--print", action="store_true", help="print the cell's code and exit")
    parser.add_argument("--url", help="with --print: the pip URL to use instead of git+<url>")
    args = parser.parse_args(argv)
    if args.url and not args.print:
        parser.error("--url only goes with --print: the chapters always use _config.yml's URL")
    if args.print:
        print(install_cell_source(ROOT, args.url))
        return 0

    import nbformat

    from cae_lessons.reproduce import toc_notebooks

    expected = install_cell_source(ROOT)
    differ = []
    for path in toc_notebooks(ROOT):
        notebook = nbformat.read(path, as_version=4)
        name = path.relative_to(ROOT)
        if len(notebook.cells) <= INDEX or not _is_install_cell(notebook.cells[INDEX]):
            print(
                f"{name}: cell {INDEX} is not a code cell tagged {TAG!r}; insert the install "
                f"cell there (python scripts/install_cell.py --print)",
                file=sys.stderr,
            )
            return 2
        if notebook.cells[INDEX].source == expected:
            continue
        differ.append(name)
        if not args.check:
            notebook.cells[INDEX].source = expected
            nbformat.write(notebook, path)
    if args.check:
        for name in differ:
            print(f"{name}: install cell differs from _config.yml's repository.url")
        if differ:
            print("run: python scripts/install_cell.py", file=sys.stderr)
        return 1 if differ else 0
    print(f"install cell rewritten in {len(differ)} notebook(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
