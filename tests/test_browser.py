"""The rendered book's widgets in a real browser, with no kernel and no network.

Builds a throwaway one-page book (same widget configuration as ``_config.yml``) from a notebook
that nbclient executes with its widget state stored, serves it on 127.0.0.1 and opens it in
headless Chromium (Debian's ``chromium``, driven by Playwright; every request that leaves
127.0.0.1 is blocked). Checks that the page has no console errors, every image loads, MathJax
(served by the book itself) typesets its formula, and that both static explorers follow their
controls: the receptive-field box moves with the unit's row and column and changes with the
layer, the reconstruction frame changes with the slice, the epoch and the models. Screenshots go
to ``_build/screenshots/``.

Needs ``apt-get install chromium`` and ``pip install playwright`` (which never downloads a
browser here: it is pointed at ``/usr/bin/chromium``), and the embed bundle installed by
``scripts/widgets_js.py``.
"""

import functools
import json
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import nbformat
import pytest
import yaml
from execute_notebooks import execute, toc_notebooks

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "book" / "_static" / "widgets" / "embed.js"
SCREENSHOTS = ROOT / "_build" / "screenshots"
# Console errors that come from the theme and its extensions, not from the book's content:
# pydata-sphinx-theme logs the first when the browser has no stored light/dark choice yet;
# sphinx-thebe (jupyter-book's launch buttons) declares its URL constant in two script tags.
THEME_NOISE = ("Got invalid theme mode", "Identifier 'THEBE_JS_URL' has already been declared")
FRAME = "img.widget-image"
SHOWN_FRAME_CHANGED = (
    "src => [...document.querySelectorAll('img.widget-image')]"
    ".some(i => i.offsetParent !== null && i.src !== src)"
)
# the receptive-field box on show: x, y, width, height of the one visible <rect>
SHOWN_BOX = (
    "() => [...document.querySelectorAll('svg[role=img] rect')]"
    ".filter(r => r.getBoundingClientRect().width > 0)"
    ".map(r => ['x', 'y', 'width', 'height'].map(a => +r.getAttribute(a)))"
)

if not CHROMIUM.exists():
    pytest.skip(
        f"{CHROMIUM} is missing: `apt-get install -y chromium` to run the browser test",
        allow_module_level=True,
    )
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="`pip install playwright` to run the browser test"
)

NOTEBOOK_CELLS = [
    "import numpy as np\n"
    "from cae_lessons.data import load_mri_data\n"
    "from cae_lessons.widgets import receptive_field_explorer, reconstruction_explorer\n"
    "x = load_mri_data(plane='axial', max_slices=3, size=(32, 32))",
    "receptive_field_explorer(image=x[1], input_size=24, strides=2, n_layers=2, static=True,\n"
    "                         max_frames=4)",
    "rng = np.random.default_rng(0)\n"
    "noisy = [np.clip(x + rng.normal(0, s, x.shape), 0, 1).astype(np.float32) for s in (.2, .05)]\n"
    "reconstruction_explorer({'noisy': noisy, 'dim': [x * 0.5, x * 0.8]}, x, static=True,\n"
    "                        groups=[['noisy'], ['noisy', 'dim']])",
]


def _widget_config() -> dict:
    """The repository's widget keys, with the static folder made absolute for the tmp book."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]["config"]
    return {
        "nb_ipywidgets_js": config["nb_ipywidgets_js"],
        "html_static_path": [str(ROOT / path) for path in config["html_static_path"]],
        "mathjax_path": config["mathjax_path"],
        "html_js_files": config["html_js_files"],
    }


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Build the one-page book and serve its HTML on 127.0.0.1; yield the page's URL."""
    if not BUNDLE.exists():
        pytest.fail(f"{BUNDLE.relative_to(ROOT)} is missing: run `python scripts/widgets_js.py`.")
    if "cdn.jsdelivr.net" in BUNDLE.read_text()[:2000]:
        pytest.skip("npm was missing at set-up: the widgets load from a CDN this test cannot reach")
    book = tmp_path_factory.mktemp("book")
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell(
                "# Widgets offline\n\nA formula: $\\lfloor n/s \\rfloor$."
            )
        ]
        + [nbformat.v4.new_code_cell(source) for source in NOTEBOOK_CELLS],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    )
    nbformat.write(notebook, book / "page.ipynb")
    execute(book / "page.ipynb", timeout=120)
    (book / "_toc.yml").write_text("format: jb-book\nroot: page\n")
    config = {
        "title": "widgets",
        "execute": {"execute_notebooks": "off"},
        "sphinx": {"config": _widget_config()},
    }
    (book / "_config.yml").write_text(yaml.safe_dump(config))
    build = subprocess.run(
        [str(Path(sys.executable).parent / "jupyter-book"), "build", str(book), "-W", "-n"],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    html = book / "_build" / "html"
    handler = functools.partial(QuietHandler, directory=str(html))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/page.html", html
    server.shutdown()
    server.server_close()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output clean
        pass


def test_page_serves_the_bundle_itself(site):
    _, html = site
    page = (html / "page.html").read_text()
    assert 'src="_static/widgets/embed.js' in page
    assert "require.min.js" not in page and "cdn.jsdelivr.net" not in page
    assert "application/vnd.jupyter.widget-state+json" in page
    assert (html / "_static" / "widgets" / "embed.js").stat().st_size > 1_000_000


def _press(page, handle, key: str = "ArrowRight") -> None:
    handle.focus()
    page.keyboard.press(key)


def test_static_explorers_render_and_follow_their_controls_offline(site):
    url, _ = site
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    errors, blocked = [], []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        page = browser.new_page(viewport={"width": 1280, "height": 1400})
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.on("pageerror", lambda e: errors.append(str(e)))

        def offline(route):
            blocked.append(route.request.url)
            route.abort()

        page.route(lambda u: not u.startswith("http://127.0.0.1"), offline)
        page.goto(url, wait_until="load")
        page.locator(".widget-slider").first.wait_for(state="visible", timeout=15_000)
        page.locator(f"{FRAME}:visible").first.wait_for(timeout=10_000)
        page.locator("mjx-container").first.wait_for(timeout=15_000)  # MathJax typeset offline
        loaded = page.evaluate(
            "Array.from(document.images).map(i => [i.src.slice(0, 60), i.complete && "
            "i.naturalWidth > 0])"
        )
        rf, recon = (page.locator(".cell_output").nth(i) for i in (0, 1))

        # receptive fields: the last layer first; its row slider, then the first layer
        rf.screenshot(path=SCREENSHOTS / "rf-static-0.png")
        boxes = [page.evaluate(SHOWN_BOX)]
        row_handle = rf.locator(".noUi-handle:visible").first
        _press(page, row_handle)
        page.wait_for_function(
            f"b => JSON.stringify(({SHOWN_BOX})()) !== b", arg=json.dumps(boxes[0])
        )
        boxes.append(page.evaluate(SHOWN_BOX))
        rf.screenshot(path=SCREENSHOTS / "rf-static-1.png")
        rf.locator("select").select_option(index=0)
        page.wait_for_function(
            f"b => JSON.stringify(({SHOWN_BOX})()) !== b", arg=json.dumps(boxes[1])
        )
        boxes.append(page.evaluate(SHOWN_BOX))
        rf.screenshot(path=SCREENSHOTS / "rf-static-layer.png")

        # reconstructions: slice, then epoch, then the side-by-side pair
        sources = [recon.locator(f"{FRAME}:visible").first.get_attribute("src")]
        for handle, key in enumerate(("ArrowRight", "ArrowLeft")):  # slice 0 -> 1, last epoch -> 1
            _press(page, recon.locator(".noUi-handle:visible").nth(handle), key)
            page.wait_for_function(SHOWN_FRAME_CHANGED, arg=sources[-1], timeout=5_000)
            sources.append(recon.locator(f"{FRAME}:visible").first.get_attribute("src"))
        recon.locator("select").select_option(index=1)
        page.wait_for_function(SHOWN_FRAME_CHANGED, arg=sources[-1], timeout=5_000)
        sources.append(recon.locator(f"{FRAME}:visible").first.get_attribute("src"))
        recon.screenshot(path=SCREENSHOTS / "reconstruction-static.png")
        page.screenshot(path=SCREENSHOTS / "page.png", full_page=True)
        browser.close()
    content_errors = [e for e in errors if not any(n in e for n in THEME_NOISE)]
    assert content_errors == []
    assert loaded and all(ok for _, ok in loaded), loaded
    assert all(len(b) == 1 for b in boxes), boxes  # one box on show at a time
    (last, moved, first_layer) = (b[0] for b in boxes)
    # conv_2 of two 3×3 stride-2 convs on 24: unit (0, 0) reads rows and columns 0-6
    assert last == [0, 0, 7, 7]
    assert moved[0] == last[0] and moved[1] != last[1] and moved[2:] == last[2:]  # row moved
    assert first_layer[2:] == [3, 3]  # conv_1's units see 3×3 pixels
    assert len(set(sources)) == len(sources) == 4, "slice, epoch and models each change the frame"
    assert blocked == []  # the page asked for nothing outside the book


def test_screenshots_are_not_blank():
    from PIL import Image

    shots = [SCREENSHOTS / f"rf-static-{i}.png" for i in (0, 1)]
    assert all(p.exists() for p in shots)
    first, second = (Image.open(p).convert("L") for p in shots)
    assert first.getextrema()[0] < 50 < first.getextrema()[1]  # the dark MRI background shows
    assert first.tobytes() != second.tobytes()


BOOK_HTML = ROOT / "_build" / "check" / "_build" / "html"  # what `make check-book` builds
WIDER_THAN_THE_PAGE = """() => {
  const limit = document.documentElement.clientWidth;
  const clipped = e => { for (let p = e.parentElement; p; p = p.parentElement)
    if (getComputedStyle(p).overflowX !== 'visible') return true; return false; };
  const wide = [...document.querySelectorAll('article *')].filter(
    e => e.getBoundingClientRect().right > limit + 1 && !clipped(e));
  return {scroll: document.documentElement.scrollWidth, limit,
          wide: wide.slice(0, 3).map(e => `${e.tagName}.${e.className}`)};
}"""


# Tables whose last columns carry a verdict, by px each would scroll sideways: on ch. 9 every
# table outside its "All columns" toggle, elsewhere the tables of verdicts over seeds.
VERDICT_TABLES_SCROLL = """everyTable => [...document.querySelectorAll('div[style*="overflow-x"]')]
  .filter(d => d.querySelector('table') && !d.closest('details') && d.offsetParent)
  .filter(d => everyTable || d.innerText.startsWith('a − b: difference of the means'))
  .map(d => d.scrollWidth - d.clientWidth).filter(extra => extra > 0)"""


@pytest.fixture(scope="module")
def book_html(tmp_path_factory):
    """The whole book rendered from the stored notebooks: `make check-book`'s build when it is
    newer than every chapter, else a fresh one."""
    newest = max(p.stat().st_mtime for p in (ROOT / "book").glob("*.ipynb"))
    index = BOOK_HTML / "index.html"
    if index.exists() and index.stat().st_mtime > newest:
        return BOOK_HTML
    out = tmp_path_factory.mktemp("book")
    build = subprocess.run(
        [str(Path(sys.executable).parent / "jupyter-book"), "build", str(ROOT),
         "--path-output", str(out)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    return out / "_build" / "html"


@pytest.mark.parametrize("width", [1280, 390])
def test_no_page_is_wider_than_the_viewport(book_html, width):
    """Every figure, table and widget fits the page or scrolls inside its own box, on a laptop
    (1280 px) and a phone (390 px)."""
    pages = sorted(book_html.glob("book/*.html"))
    assert len(pages) >= len(toc_notebooks(ROOT))
    handler = functools.partial(QuietHandler, directory=str(book_html))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    too_wide = {}
    try:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.route(lambda u: not u.startswith("http://127.0.0.1"), lambda r: r.abort())
            for path in pages:
                url = f"http://127.0.0.1:{server.server_port}/book/{path.name}"
                page.goto(url, wait_until="load")
                page.wait_for_timeout(300)  # widgets render after load
                found = page.evaluate(WIDER_THAN_THE_PAGE)
                if found["scroll"] > found["limit"] + 1:  # the page scrolls sideways
                    too_wide[path.stem] = found
                if width == 1280:  # the verdict columns, unscrolled
                    scrolled = page.evaluate(VERDICT_TABLES_SCROLL, path.stem == "results")
                    if scrolled:
                        too_wide[f"{path.stem} tables"] = scrolled
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    assert too_wide == {}, json.dumps(too_wide, indent=1)
