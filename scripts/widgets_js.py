"""Install the ipywidgets embed bundle and MathJax that the rendered book serves itself.

``make setup`` runs this. With npm it runs ``npm ci`` (the version pinned in ``package.json`` and
``package-lock.json``) and copies ``@jupyter-widgets/html-manager``'s ``dist/embed.js``, its
licence file and its font files into ``book/_static/widgets/`` (git-ignored), which
``_config.yml`` serves (``html_static_path``) and names (``nb_ipywidgets_js``): the book's widgets
then render with no kernel and no network. Without npm it writes a small ``embed.js`` there that
loads the same pinned version from a CDN, and says so in one line, so the book still builds
cleanly (``-W``) and its widgets render when the reader is online.

MathJax (pinned in ``package.json`` too) is installed the same way into ``book/_static/mathjax/``
(``mathjax_path`` in ``_config.yml``), so the book's formulas render offline; without npm a
loader there fetches the same version from the CDN.

Usage: ``python scripts/widgets_js.py [--cdn]`` (``--cdn`` forces the fallback).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "@jupyter-widgets/html-manager"
DESTINATION = ROOT / "book" / "_static" / "widgets"
# dist/ files the bundle needs at run time: the script, its licence and the fonts it loads from
# its own folder (webpack's public path is the script's URL). The AMD builds and the source map
# are not needed.
FONT_SUFFIXES = (".woff2", ".woff", ".ttf", ".eot", ".svg")
CDN_URL = "https://cdn.jsdelivr.net/npm/{package}@{version}/dist/embed.js"
CDN_LOADER = """\
// npm was missing when the book was set up, so the book loads {package}@{version} from a CDN
// (online only). Run `make setup` with npm installed to serve the bundle from the book itself.
(function () {{
  var script = document.createElement("script");
  script.src = "{url}";
  script.crossOrigin = "anonymous";
  document.head.appendChild(script);
}})();
"""


MATHJAX = "mathjax"
MATHJAX_DESTINATION = ROOT / "book" / "_static" / "mathjax"
MATHJAX_ENTRY = "tex-mml-chtml.js"
# What tex-mml-chtml.js loads at run time from its own folder: TeX extensions (autoload), the
# CHTML fonts, and the menu and accessibility components. Not the 20 MB speech engine (sre).
MATHJAX_PARTS = (MATHJAX_ENTRY, "input", "output/chtml/fonts/woff-v2", "ui", "a11y")
MATHJAX_CDN_URL = "https://cdn.jsdelivr.net/npm/mathjax@{version}/es5/" + MATHJAX_ENTRY


def pinned_version(root: Path = ROOT, package: str = PACKAGE) -> str:
    """The exact version of ``package`` that ``package.json`` pins (no ranges allowed)."""
    version = json.loads((root / "package.json").read_text())["dependencies"][package]
    if not version[:1].isdigit():
        raise ValueError(
            f"package.json must pin {package} to an exact version such as 1.0.15, got "
            f"{version!r}; a range would let the book's bundle change without a commit."
        )
    return version


def install_from_npm(npm: str, root: Path, destination: Path) -> list[Path]:
    """``npm ci`` in ``root``, then copy the bundle's run-time files into ``destination``."""
    subprocess.run(
        [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=root,
        check=True,
    )
    dist = root / "node_modules" / PACKAGE / "dist"
    installed = json.loads((dist.parent / "package.json").read_text())["version"]
    if installed != pinned_version(root):
        raise RuntimeError(
            f"npm installed {PACKAGE} {installed}, but package.json pins "
            f"{pinned_version(root)}: run `npm install` to refresh package-lock.json."
        )
    files = [dist / "embed.js", dist / "embed.js.LICENSE.txt"]
    files += sorted(p for p in dist.iterdir() if p.suffix in FONT_SUFFIXES)
    for path in files:
        shutil.copy2(path, destination / path.name)
    return [destination / path.name for path in files]


def write_cdn_loader(version: str, destination: Path) -> Path:
    """Write ``embed.js`` that loads the pinned bundle from the CDN; return its path."""
    url = CDN_URL.format(package=PACKAGE, version=version)
    target = destination / "embed.js"
    target.write_text(CDN_LOADER.format(package=PACKAGE, version=version, url=url))
    return target


def install(root: Path = ROOT, destination: Path = DESTINATION, *, cdn: bool = False) -> str:
    """Fill ``destination`` afresh from npm, or with the CDN loader; return a one-line report."""
    version = pinned_version(root)
    shutil.rmtree(destination, ignore_errors=True)
    destination.mkdir(parents=True)
    npm = None if cdn else shutil.which("npm")
    if npm is None:
        write_cdn_loader(version, destination)
        reason = "--cdn given" if cdn else "npm not found"
        return (
            f"widgets_js: {reason}: the book's widgets will load {PACKAGE}@{version} from "
            f"{CDN_URL.split('/npm/')[0]} (they need a network connection to render)."
        )
    files = install_from_npm(npm, root, destination)
    return (
        f"widgets_js: {PACKAGE}@{version} installed from npm: {len(files)} files in "
        f"{destination.relative_to(root)}/ (served offline by the book)."
    )


def install_mathjax(
    root: Path = ROOT, destination: Path = MATHJAX_DESTINATION, *, cdn: bool = False
) -> str:
    """Fill ``destination`` with MathJax from ``node_modules`` (after :func:`install`'s ``npm ci``)
    or with a loader that fetches the pinned version from the CDN; return a one-line report."""
    version = pinned_version(root, MATHJAX)
    shutil.rmtree(destination, ignore_errors=True)
    destination.mkdir(parents=True)
    es5 = root / "node_modules" / MATHJAX / "es5"
    if cdn or not (es5 / MATHJAX_ENTRY).exists():
        url = MATHJAX_CDN_URL.format(version=version)
        (destination / MATHJAX_ENTRY).write_text(
            CDN_LOADER.format(package=MATHJAX, version=version, url=url)
        )
        return f"widgets_js: MathJax {version} will load from the CDN (formulas need a network)."
    for part in MATHJAX_PARTS:
        source, target = es5 / part, destination / part
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return (
        f"widgets_js: MathJax {version} installed from npm into {destination.relative_to(root)}/."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cdn", action="store_true", help="skip npm and load from the CDN")
    args = parser.parse_args(argv)
    print(install(cdn=args.cdn), flush=True)
    print(install_mathjax(cdn=args.cdn), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
