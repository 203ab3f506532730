"""The appendices: cae_lessons.reproduce, the freshness of the stored figure table, and the errors
and behaviours the appendices show (pinned here as well as by nbval)."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import numpy as np
import pytest

from cae_lessons import reproduce
from cae_lessons.config import resolve_profile

ROOT = Path(__file__).resolve().parent.parent
APPENDIX = ROOT / "book" / "appendix_reproduce.ipynb"
PNG = b"\x89PNG\r\n\x1a\n not a real image"


def _cell(name=None, caption="A caption.", pngs=()):
    metadata = {"mystnb": {"figure": {"name": name, "caption": caption}}} if name else {}
    outputs = [
        {"output_type": "display_data", "data": {"image/png": base64.b64encode(p).decode()}}
        for p in pngs
    ]
    return {"cell_type": "code", "source": "plot()", "metadata": metadata, "outputs": outputs}


def _repo(tmp_path: Path, chapters: dict[str, list[dict]], title="# A chapter") -> Path:
    """A minimal repository: _toc.yml listing ``chapters`` (and one .md page) in one part."""
    entries = "".join(f"      - file: book/{stem}\n" for stem in [*chapters, "page"])
    (tmp_path / "_toc.yml").write_text(f"root: intro\nparts:\n  - chapters:\n{entries}")
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "page.md").write_text("# A page\n")
    for stem, cells in chapters.items():
        heading = {"cell_type": "markdown", "source": f"{title} {stem}\n\n## Overview"}
        notebook = {"cells": [heading, *cells], "metadata": {}, "nbformat": 4}
        (tmp_path / "book" / f"{stem}.ipynb").write_text(json.dumps(notebook))
    return tmp_path


def _export(root: Path, name: str, data: bytes) -> None:
    folder = root / reproduce.FIGURES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.png").write_bytes(data)


# --- toc_notebooks and named_figures ---------------------------------------------------------


def test_toc_notebooks_follow_book_order_through_parts_and_sections(tmp_path):
    (tmp_path / "_toc.yml").write_text(
        "root: intro\nparts:\n"
        "  - chapters:\n      - file: b\n        sections:\n          - file: a\n"
        "  - chapters:\n      - file: c\n      - file: notes\n"
    )
    for stem in ("a", "b", "c"):
        (tmp_path / f"{stem}.ipynb").write_text("{}")
    (tmp_path / "notes.md").write_text("# Notes\n")
    assert [p.name for p in reproduce.toc_notebooks(tmp_path)] == ["b.ipynb", "a.ipynb", "c.ipynb"]


def test_toc_notebooks_of_this_book_include_the_appendices():
    stems = [p.stem for p in reproduce.toc_notebooks(ROOT)]
    assert stems[-3:] == ["appendix_gpu", "appendix_distribute", "appendix_reproduce"]


def test_a_folder_without_toc_says_which_folder_to_pass(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"No _toc.yml in .*pass the repository root"):
        reproduce.toc_notebooks(tmp_path)


def test_root_must_be_a_path():
    with pytest.raises(TypeError, match=r"root must be a path to the repository .* got int 3"):
        reproduce.figure_index(3)


def test_named_figures_keep_the_last_png_of_named_cells_only():
    notebook = {
        "cells": [
            _cell("fig-a", pngs=(b"first", b"last")),
            _cell(None, pngs=(b"anonymous",)),
            _cell("fig-empty"),
        ]
    }
    assert reproduce.named_figures(notebook) == {"fig-a": b"last"}


def test_named_figures_read_base64_split_over_lines():
    encoded = base64.b64encode(PNG).decode()
    cell = _cell("fig-a")
    cell["outputs"] = [{"data": {"image/png": [encoded[:8] + "\n", encoded[8:]]}}]
    assert reproduce.named_figures({"cells": [cell]}) == {"fig-a": PNG}


def test_named_figures_work_on_nbformat_notebooks():
    notebook = nbformat.from_dict({"cells": [_cell("fig-a", pngs=(PNG,))]})
    assert reproduce.named_figures(notebook) == {"fig-a": PNG}


# --- regenerate_command ----------------------------------------------------------------------


def test_regenerate_command_runs_the_execute_script_on_one_chapter():
    command = reproduce.regenerate_command(Path("book") / "start.ipynb")
    assert command == ".venv/bin/python scripts/execute_notebooks.py book/start.ipynb"


def test_regenerate_command_refuses_markdown_pages():
    with pytest.raises(ValueError, match=r"got 'book/data.md', expected a path ending in .ipynb"):
        reproduce.regenerate_command("book/data.md")


# --- figure_index ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pngs", "exported", "status"),
    [
        ((PNG,), PNG, "exported"),
        ((PNG,), b"an older figure", "differs"),
        ((PNG,), None, "missing"),
        ((), PNG, "not executed"),
    ],
)
def test_figure_index_compares_the_exported_png_with_the_stored_figure(
    tmp_path, pngs, exported, status
):
    root = _repo(tmp_path, {"ch": [_cell("fig-a", pngs=pngs)]})
    if exported is not None:
        _export(root, "fig-a", exported)
    (row,) = reproduce.figure_index(root).rows
    assert row.status == status


def test_figure_index_rows_name_chapter_title_caption_png_and_command(tmp_path):
    root = _repo(
        tmp_path,
        {
            "one": [_cell("fig-b", "B."), _cell(None), _cell("fig-a", "A.")],
            "two": [_cell()],
            "three": [_cell("fig-c", "C.")],
        },
    )
    index = reproduce.figure_index(root)
    assert index.names == ("fig-b", "fig-a", "fig-c")
    assert index.chapters == ("book/one.ipynb", "book/three.ipynb")
    first = index.rows[0]
    assert (first.chapter, first.title, first.caption) == ("book/one.ipynb", "A chapter one", "B.")
    assert first.png == "book/_static/figures/fig-b.png"
    assert first.command == ".venv/bin/python scripts/execute_notebooks.py book/one.ipynb"
    page = index._repr_html_()
    assert page.count("<tr>") == 4  # the header and one row per figure
    assert page.count('rowspan="2"') == 1 and page.count('rowspan="1"') == 1


def test_a_chapter_without_a_title_is_named_after_its_file(tmp_path):
    root = _repo(tmp_path, {"untitled": [_cell("fig-a")]}, title="Not a heading:")
    assert reproduce.figure_index(root).rows[0].title == "untitled"


@pytest.mark.parametrize(("text", "kind"), [("{not json", "JSONDecodeError"), ("[1]", "list")])
def test_an_unreadable_chapter_is_a_value_error_naming_the_file(tmp_path, text, kind):
    root = _repo(tmp_path, {"broken": []})
    (root / "book" / "broken.ipynb").write_text(text)
    with pytest.raises(ValueError, match=rf"broken\.ipynb .*{kind}"):
        reproduce.figure_index(root)


def test_index_repr_is_one_line_per_figure_and_html_is_a_table(tmp_path):
    root = _repo(tmp_path, {"ch": [_cell("fig-a", "Uses `example1` & <b>.", pngs=(PNG,))]})
    _export(root, "fig-a", PNG)
    index = reproduce.figure_index(root)
    lines = repr(index).splitlines()
    assert lines[0].startswith("FigureIndex(1 named figures in 1 chapters; all: `make execute`")
    assert lines[1].split() == ["ch", "fig-a", "exported"]
    page = index._repr_html_()
    assert page.count("<tr>") == 2
    assert "Uses <code>example1</code> &amp; &lt;b&gt;." in page
    assert "scripts/execute_notebooks.py book/ch.ipynb" in page


def test_an_empty_index_says_so(tmp_path):
    index = reproduce.figure_index(_repo(tmp_path, {"ch": [_cell()]}))
    assert len(index) == 0
    assert repr(index).startswith("FigureIndex(0 named figures in 0 chapters")


# --- the stored table in book/appendix_reproduce.ipynb ---------------------------------------


def _stored_table() -> str:
    notebook = nbformat.read(APPENDIX, as_version=4)
    (cell,) = [c for c in notebook.cells if c.cell_type == "code" and "figure_index(" in c.source]
    assert "nbval-check-output" in cell.metadata.get("tags", [])
    (result,) = [o for o in cell.outputs if o.output_type == "execute_result"]
    return result["data"]["text/plain"]


def test_stored_table_lists_every_named_figure_of_every_chapter():
    listed = {line.split()[1] for line in _stored_table().splitlines()[1:]}
    named = {
        (path.stem, figure["name"])
        for path in reproduce.toc_notebooks(ROOT)
        for cell in nbformat.read(path, as_version=4).cells
        if (figure := cell.metadata.get("mystnb", {}).get("figure", {})).get("name")
    }
    missing = sorted(f"{stem}: {name}" for stem, name in named if name not in listed)
    assert not missing, (
        f"book/appendix_reproduce.ipynb does not list {missing}: re-execute it with "
        ".venv/bin/python scripts/execute_notebooks.py book/appendix_reproduce.ipynb"
    )


def test_stored_table_matches_a_fresh_one():
    assert _stored_table() == repr(reproduce.figure_index(ROOT)), (
        "the figure table in book/appendix_reproduce.ipynb is stale: re-execute it with "
        ".venv/bin/python scripts/execute_notebooks.py book/appendix_reproduce.ipynb"
    )


# --- what the appendices show ----------------------------------------------------------------


def test_misspelt_profile_error_shown_in_the_gpu_appendix():
    message = (
        "Unknown profile 'fulll'; expected one of ('quick', 'full', 'auto'). "
        "Set CAE_LESSONS_PROFILE=quick (CPU) or full (GPU)."
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        resolve_profile("fulll")


def test_nondeterminism_warning_as_error_stops_training_before_the_fallback(monkeypatch):
    """The GPU appendix's exercise: with the warning made an error, nothing retrains."""
    import warnings

    import keras
    import tensorflow as tf
    from tensorflow.python.framework import config as tf_config

    from cae_lessons.training import NondeterminismWarning, train

    calls = []

    def fit_without_deterministic_kernel(self, *args, **kwargs):
        calls.append(1)
        raise tf.errors.UnimplementedError(None, None, "No deterministic GPU implementation.")

    monkeypatch.setattr(keras.Model, "fit", fit_without_deterministic_kernel)
    x = np.random.default_rng(0).random((8, 8, 8, 1), dtype=np.float32)

    def build():
        return keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(1, 3, padding="same")])

    with warnings.catch_warnings():
        warnings.simplefilter("error", NondeterminismWarning)
        with pytest.raises(NondeterminismWarning) as raised:
            train(build, x, x, epochs=1, batch_size=4, cache=False, progress=False)
    assert len(calls) == 1
    assert isinstance(raised.value.__context__, tf.errors.UnimplementedError)
    assert tf_config.is_op_determinism_enabled()


@pytest.mark.slow
def test_distribute_appendix_errors_and_batch_rules():
    """A fresh process, because logical devices are fixed once TensorFlow has started."""
    code = textwrap.dedent(
        """
        import json
        import numpy as np, tensorflow as tf, keras
        cpu = tf.config.list_physical_devices("CPU")[0]
        split = lambda n: [tf.config.LogicalDeviceConfiguration()] * n
        tf.config.set_logical_device_configuration(cpu, split(2))
        tf.config.list_logical_devices()
        out = {}
        try:
            tf.config.set_logical_device_configuration(cpu, split(4))
        except RuntimeError as error:
            out["reconfigure"] = str(error)
        from cae_lessons.models import build_cae
        from cae_lessons.training import train
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        x = np.random.default_rng(0).random((40, 32, 32, 1), dtype=np.float32)
        tiny = lambda: build_cae((32, 32, 1), filters=(4, 8), latent_channels=2, name="tiny_cae")
        options = dict(epochs=1, strategy=strategy, cache=False, progress=False)
        with strategy.scope():
            model = tiny()
            model.compile(optimizer="adam", loss="mse")
        try:  # what Keras itself says about an uneven batch
            model.fit(x[:36], x[:36], batch_size=15, epochs=1, verbose=0)
        except tf.errors.InvalidArgumentError as error:
            out["keras15"] = str(error)
        try:
            train(tiny, x[:36], x[36:], batch_size=15, **options)
        except ValueError as error:
            out["batch15"] = str(error)
        out["val"] = {}
        for n in (5, 6, 17):
            try:
                train(tiny, x[:32], x[:n], batch_size=16, **options)
                out["val"][n] = "ok"
            except ValueError as error:
                out["val"][n] = str(error)
        print(json.dumps(out))
        """
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["reconfigure"] == "Virtual devices cannot be modified after being initialized"
    assert (
        "Inputs to operation AddN of type AddN must have the same size and shape.  "
        "Input 0: [8,32,32,1] != input 1: [7,32,32,1]"
    ) in out["keras15"]
    assert out["batch15"] == (
        "batch_size=15 does not split evenly over 2 replicas: MirroredStrategy gives each "
        "replica batch_size / 2 images. Use a multiple of 2, e.g. batch_size=14 or 16."
    )
    assert out["val"]["6"] == "ok"
    assert out["val"]["5"] == (
        "x_val has 5 images: its last batch of 5 does not split evenly over 2 replicas "
        "(batch_size=16). Drop 1 image(s) or add 1, so that len(x_val) % batch_size is a "
        "multiple of 2."
    )
    assert out["val"]["17"].startswith("x_val has 17 images: its last batch of 1 does not")
