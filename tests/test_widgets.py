"""cae_lessons.widgets (and plots.shape_flow): explorers driven from Python, on real MRI slices.

Each test sets controls the way a reader would and checks the figure, table or message that
results against the package's own arithmetic (cae_lessons.receptive, cae_lessons.metrics).
"""

import re
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest
import widgets_js
from matplotlib.colors import to_rgba
from matplotlib.patches import Rectangle

from cae_lessons import coverage, plots, widgets
from cae_lessons.coverage import conv_stack
from cae_lessons.data import load_mri_data
from cae_lessons.receptive import support
from cae_lessons.scores import evaluate
from cae_lessons.shapes import LayerSpec, trace


@pytest.fixture(scope="module")
def x():
    return load_mri_data(plane="axial", max_slices=4, size=(32, 32))


def _box_of(explorer):
    """(top, left, bottom, right) of the rectangle drawn on the figure."""
    rectangle = explorer.figure.axes[0].patches[0]
    left, top = (v + 0.5 for v in rectangle.get_xy())
    return (round(top), round(left), round(top + rectangle.get_height()),
            round(left + rectangle.get_width()))  # fmt: skip


def test_import_does_not_load_tensorflow():
    code = "import sys, cae_lessons.widgets; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("kernel_size", "strides", "padding", "n_layers", "unit"),
    [(3, 1, "valid", 3, (0, 0)), (3, 2, "valid", 2, (2, 5)), (5, 2, "same", 2, (7, 0)),
     (2, 3, "valid", 1, (4, 9))],
)  # fmt: skip
def test_receptive_field_box_is_the_exact_support(x, kernel_size, strides, padding, n_layers, unit):
    explorer = widgets.receptive_field_explorer(image=x[1])
    for name, value in dict(
        input_size=31, kernel_size=kernel_size, strides=strides, padding=padding, n_layers=n_layers
    ).items():
        explorer.controls[name].value = value
    explorer.controls["unit_row"].value, explorer.controls["unit_col"].value = unit
    steps = trace(coverage.conv_stack(n_layers, kernel_size, strides, padding), (31, 31)).steps
    rows, cols = support(steps[0], unit[0]), support(steps[1], unit[1])
    assert explorer.view.box == (rows[0], cols[0], rows[1], cols[1])
    assert _box_of(explorer) == explorer.view.box
    assert explorer.message.startswith(f"Output unit (row {unit[0]}, col {unit[1]}) of 'conv_")
    assert f"rows {rows[0]}–{rows[1] - 1} and columns {cols[0]}–{cols[1] - 1}" in explorer.message
    assert bytes(explorer.picture.value).startswith(b"\x89PNG")


def test_unit_sliders_follow_the_output_size(x):
    explorer = widgets.receptive_field_explorer(image=x[0], input_size=20, n_layers=1)
    assert explorer.controls["unit_row"].max == 17
    explorer.controls["strides"].value = 2
    assert explorer.controls["unit_col"].max == 8
    assert explorer.view.unit == (4, 4)


@pytest.mark.parametrize(
    ("kernel_size", "strides", "n", "unseen_rows"),
    [(3, 2, 8, [7]), (1, 3, 7, [1, 2, 4, 5]), (3, 1, 8, []), (2, 2, 9, [8])],
)
def test_unseen_pixels_are_the_rows_no_unit_reads(kernel_size, strides, n, unseen_rows):
    result = trace(coverage.conv_stack(1, kernel_size, strides, "valid"), (n, n))
    unseen = coverage.unseen_pixels(result)
    assert np.flatnonzero(unseen[:, 0]).tolist() == unseen_rows
    assert np.array_equal(unseen, unseen.T)


def test_unseen_pixels_are_shaded_in_the_figure(x):
    explorer = widgets.receptive_field_explorer(image=x[0], input_size=10, strides=2, n_layers=1)
    overlay = explorer.figure.axes[0].images[1].get_array()
    assert np.array_equal(~np.ma.getmaskarray(overlay), explorer.view.unseen)
    assert explorer.view.unseen[9].all() and not explorer.view.unseen[:9, :9].any()
    assert "19 of 100 input pixels (19%) reach no output unit" in explorer.message


@pytest.mark.parametrize(
    ("control", "value", "expected"),
    [
        ("kernel_size", 7, "'conv_1' Conv2D(kernel_size=(7, 7), strides=(2, 2), padding='valid') "
         "cannot take an input height of 5"),
        ("n_layers", 3, "'conv_3' Conv2D(kernel_size=(2, 2), strides=(2, 2), padding='valid') "
         "cannot take an input height of 1"),
    ],
)  # fmt: skip
def test_invalid_combinations_give_a_sentence_not_a_traceback(x, control, value, expected):
    explorer = widgets.receptive_field_explorer(image=x[0], input_size=5, kernel_size=2, strides=2)
    explorer.controls["n_layers"].value = 1
    explorer.controls[control].value = value
    assert explorer.message.startswith(f"This combination does not work: {expected}")
    assert explorer.message.endswith(".")
    assert explorer.picture.layout.display == "none"
    assert explorer.table.value == ""
    explorer.controls["input_size"].value = 40
    assert explorer.view.ok and explorer.picture.layout.display is None


def test_table_highlights_the_first_layer_that_loses_pixels():
    explorer = widgets.receptive_field_explorer(input_size=16, padding="same", n_layers=3)
    assert "background" not in explorer.table.value
    explorer.controls["input_size"].value = 15
    explorer.controls["strides"].value = 2  # 15 → 8 → 4 → 2: 'same' pads, nothing is lost
    assert "background" not in explorer.table.value
    explorer.controls["padding"].value = "valid"  # 15 → 7 → 3 → 1: floors nothing either
    explorer.controls["input_size"].value = 16  # 16 → 7 drops the last row
    highlighted = re.findall(
        r'<tr style="background:#fdd"><td[^>]*>(\w+)</td>', explorer.table.value
    )
    assert highlighted == ["conv_1"]


def test_a_given_model_fixes_the_layers_and_its_input_size(x):
    layers = [LayerSpec("conv", "enc", 3), LayerSpec("max_pool", "pool", 2)]
    model = SimpleNamespace(layers=layers, inputs=[SimpleNamespace(shape=(None, 12, 10, 1))])
    explorer = widgets.receptive_field_explorer(model, image=x[2])
    disabled = [name for name, control in explorer.controls.items() if control.disabled]
    assert disabled == ["input_size", "kernel_size", "strides", "padding", "n_layers"]
    assert explorer.view.trace.output_shape == (5, 4, 1)
    assert explorer.view.box == (4, 4, 8, 8)  # unit (2, 2): pool rows 4-5, conv rows 4-7


def test_static_receptive_field_moves_row_and_column_of_every_layer(x):
    static = widgets.receptive_field_explorer(
        image=x[1], input_size=24, strides=2, n_layers=2, static=True, max_frames=4
    )
    menu = static.controls["layer"]
    assert [label for label, _ in menu.options] == ["conv_1 (11×11)", "conv_2 (5×5)"]
    assert menu.index == 1 == static.stack.selected_index  # the last layer first
    links = [(link.source, link.target) for link in static.links]
    assert ((menu, "index"), (static.stack, "selected_index")) in links
    frames = 0
    for layer, child in enumerate(static.stack.children):
        (row, col), rows = child.children[0].children, child.children[1]
        assert [len(r.children) for r in rows.children] == [len(col.options)] * len(row.options)
        assert ((row, "index"), (rows, "selected_index")) in links
        assert all(((col, "index"), (r, "selected_index")) in links for r in rows.children)
        frames += len(row.options) * len(col.options)
        # the frame of unit (r, c) draws exactly the support the trace computes
        r, c = int(row.options[-1][0]), int(col.options[0][0])
        view = coverage.receptive_field_view(conv_stack(2, 3, 2, "valid"), (24, 24), layer=layer)
        top, left, bottom, right = view.at((r, c)).box
        shown = rows.children[-1].children[0].value
        assert f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top}"' in shown
    assert len(static.frames) == frames == 4 * 4 + 4 * 4
    assert len(set(static.frames)) == len(static.frames)
    assert static.table.value.count("<image id=") == 2  # one picture per layer, shared by frames
    assert "background" in static.table.value


def test_the_layer_picture_tints_what_that_layer_never_reads():
    view = coverage.receptive_field_view(conv_stack(2, 3, 2, "valid"), (8, 8), layer=0)
    # conv_1 (3 units) reads rows 0-6; conv_2 (1 unit) reads conv_1's units 0-2, rows 0-6 too
    assert coverage.unseen_pixels(view.trace, 0)[:, 0].tolist() == [False] * 7 + [True]
    t = trace(conv_stack(2, 3, 3, "valid"), input_shape=(12, 12))
    # stride 3: conv_1 has 4 units reading 0-11; conv_2 one unit reading conv_1's 0-2 = rows 0-8
    assert coverage.unseen_pixels(t, 0)[:, 0].sum() == 0
    assert coverage.unseen_pixels(t)[:, 0].sum() == 3


@pytest.mark.parametrize("layer", [2, -3, 1.0, True, "conv_1"])
def test_a_layer_outside_the_trace_is_refused(layer):
    t = trace(conv_stack(2, 3, 1, "valid"), input_shape=(9, 9))
    with pytest.raises(ValueError, match=r"layer must be an index into the trace's 2 layers"):
        coverage.unseen_pixels(t, layer)


def test_the_live_explorer_picks_the_layer_and_fits_its_sliders(x):
    explorer = widgets.receptive_field_explorer(image=x[1], input_size=24, strides=2, n_layers=2)
    layer, row, col = (explorer.controls[n] for n in ("layer", "unit_row", "unit_col"))
    assert layer.options == (("conv_1", 0), ("conv_2", 1)) and layer.value == 1
    assert (row.max, col.max) == (4, 4)
    layer.value = 0
    assert (row.max, col.max, explorer.view.unit) == (10, 10, (5, 5))
    assert explorer.view.box == (10, 10, 13, 13)
    assert explorer.message.startswith("Unit (row 5, col 5) of 'conv_1' sees input rows 10–12")
    col.value = 0
    assert explorer.view.box == (10, 0, 13, 3)
    explorer.controls["n_layers"].value = 1  # a new architecture: back to its last layer
    assert layer.options == (("conv_1", 0),) and explorer.view.layer == 0


def test_static_mode_of_an_invalid_combination_is_a_sentence():
    static = widgets.receptive_field_explorer(input_size=4, kernel_size=5, static=True)
    assert static.stack is None and static.frames == []
    assert static.message.startswith("This combination does not work:")


# --------------------------------------------------------------------------- reconstructions


@pytest.fixture(scope="module")
def reconstructions(x):
    rng = np.random.default_rng(0)
    noisy = [np.clip(x + rng.normal(0, s, x.shape), 0, 1).astype(np.float32) for s in (0.2, 0.05)]
    border = x.copy()
    border[:, :2] = 0
    return {"noisy": noisy, "border": border}


def test_reconstruction_controls_redraw_images_and_metrics(x, reconstructions):
    explorer = widgets.reconstruction_explorer(reconstructions, x)
    explorer.controls["slice"].value = 2
    explorer.controls["epoch"].value = 0
    expected = evaluate(x[2:3], reconstructions["noisy"][0][2:3])
    assert explorer.scores["noisy"].psnr == pytest.approx(expected.psnr)
    assert explorer.scores["border"].mae[0] == pytest.approx(x[2, :2].sum() / x[2].size)
    axes = explorer.figure.axes
    error = axes[3].images[0].get_array()
    assert np.allclose(error, np.abs(reconstructions["noisy"][0][2] - x[2])[..., 0])
    assert axes[3].images[0].get_clim() == axes[7].images[0].get_clim()
    titles = [axes[i].get_title(loc="left") for i in (1, 5)]
    assert titles == ["noisy, epoch 1/2", "border"]
    assert explorer.message == "slice 2: noisy, epoch 1/2, border"
    assert ">noisy</td>" in explorer.table.value and ">border</td>" in explorer.table.value
    (link,) = explorer.links
    assert link.source == (explorer.controls["play"], "value")


def test_blitted_redraws_equal_a_full_draw_pixel_for_pixel(x, reconstructions):
    explorer = widgets.reconstruction_explorer(reconstructions, x)
    for index, epoch in [(2, 0), (1, 1), (0, 0)]:
        explorer.controls["slice"].value = index
        explorer.controls["epoch"].value = epoch
        assert explorer.picture.value == widgets.render_png(explorer.figure)
    explorer.controls["models"].value = ("border",)  # a new figure gets a new background
    assert explorer.picture.value == widgets.render_png(explorer.figure)


def test_a_blitted_figure_still_saves_everything(x, reconstructions):
    explorer = widgets.reconstruction_explorer(reconstructions, x)
    explorer.controls["slice"].value = 1
    assert not any(artist.get_animated() for artist in explorer.figure.findobj())


def test_picking_models_changes_the_rows(x, reconstructions):
    explorer = widgets.reconstruction_explorer(reconstructions, x, models=["border"])
    assert len(explorer.figure.axes) == 4 + 2
    explorer.controls["models"].value = ()
    assert explorer.message.startswith("Pick at least one model")
    assert explorer.picture.layout.display == "none"
    explorer.controls["models"].value = ("noisy", "border")
    assert len(explorer.figure.axes) == 8 + 2


@pytest.mark.parametrize(
    ("reconstructions", "x", "error", "message"),
    [
        ({"a": np.zeros((2, 8, 8, 1))}, np.zeros((2, 8, 8)), ValueError,
         "x must be an (N, H, W, 1) array of input slices, got ndarray of shape (2, 8, 8)"),
        ({"a": np.zeros((2, 6, 6, 1))}, np.zeros((2, 8, 8, 1)), ValueError,
         "reconstructions['a'] (epoch 1) has shape (2, 6, 6, 1), x has (2, 8, 8, 1)"),
        ({"a": []}, np.zeros((2, 8, 8, 1)), ValueError, "reconstructions['a'] is an empty list"),
        ([np.zeros((2, 8, 8, 1))], np.zeros((2, 8, 8, 1)), TypeError,
         "reconstructions must be a non-empty dict"),
    ],
)  # fmt: skip
def test_reconstruction_inputs_are_checked(reconstructions, x, error, message):
    with pytest.raises(error, match=re.escape(message)):
        widgets.reconstruction_explorer(reconstructions, x)


def test_unknown_model_names_are_refused(x, reconstructions):
    with pytest.raises(ValueError, match=re.escape("models must name some of ['noisy', 'border']")):
        widgets.reconstruction_explorer(reconstructions, x, models=["nosy"])


def test_static_reconstructions_nest_slices_and_epochs(x, reconstructions):
    static = widgets.reconstruction_explorer(reconstructions, x, static=True, slices=[0, 3])
    assert len(static.frames) == 2 * 2 == len(set(static.frames))
    assert "models" not in static.controls  # one group: nothing to pick
    (by_slice,) = static.stack.children
    assert [len(inner.children) for inner in by_slice.children] == [2, 2]
    assert list(static.controls) == ["slice", "epoch"]  # no Play: its static view fails
    slider, epoch = static.controls.values()
    targets = [(link.source, link.target) for link in static.links]
    assert ((slider, "index"), (by_slice, "selected_index")) in targets
    assert static.message == "2 slices × 2 epochs, precomputed."
    assert all(((epoch, "index"), (inner, "selected_index")) in targets
               for inner in by_slice.children)  # fmt: skip


def test_static_groups_offer_each_model_alone_or_side_by_side(x, reconstructions):
    groups = [["noisy"], ["border"], ["noisy", "border"]]
    static = widgets.reconstruction_explorer(
        reconstructions, x, static=True, slices=[0, 3], groups=groups
    )
    menu = static.controls["models"]
    assert [label for label, _ in menu.options] == ["noisy", "border", "noisy + border"]
    assert ((menu, "index"), (static.stack, "selected_index")) in [
        (link.source, link.target) for link in static.links
    ]
    # "border" has one epoch, shown at every epoch position: 2 slices x 2 epochs per group
    assert len(static.frames) == 3 * 2 * 2
    assert len(set(static.frames[:4])) == 4 and len(set(static.frames[4:8])) == 2
    tables = [frame.children[1].value for frame in static.stack.children[2].children[0].children]
    assert all(t.count("<tr>") == 3 for t in tables)  # header + both models


def test_groups_can_carry_labels_for_the_menu(x, reconstructions):
    groups = {"noisy alone": ["noisy"], "both": ["noisy", "border"]}
    static = widgets.reconstruction_explorer(reconstructions, x, static=True, groups=groups)
    assert [label for label, _ in static.controls["models"].options] == ["noisy alone", "both"]
    assert static.message.startswith("2 model sets × ")


def test_unknown_names_in_groups_are_refused(x, reconstructions):
    with pytest.raises(ValueError, match=re.escape("each of groups must name some of ['noisy'")):
        widgets.reconstruction_explorer(reconstructions, x, static=True, groups=[["noisy", "x"]])


# --------------------------------------------------------------------------- plots.shape_flow


def test_shape_flow_marks_lossy_layers_and_the_mismatch_in_red():
    layers = [LayerSpec("conv", "enc", 3, filters=8), LayerSpec("max_pool", "pool", 2),
              LayerSpec("upsample", "up", size=2), LayerSpec("conv", "out", 3, padding="same",
              filters=1)]  # fmt: skip
    fig = plots.shape_flow(layers, (33, 33, 1))
    fronts = [p for p in fig.axes[0].patches if isinstance(p, Rectangle)]
    red = to_rgba(plots.MISMATCH_COLOUR)
    assert [(p.get_label(), p.get_edgecolor() == red) for p in fronts] == [
        ("input", False), ("enc", True), ("pool", True), ("up", True), ("out", True)
    ]  # fmt: skip
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert {"33×33×1", "31×31×8", "15×15×8", "30×30×8", "30×30×1"} <= set(texts)
    heights = [p.get_height() for p in fronts]
    assert heights[0] > heights[3] > heights[2]


def test_shape_flow_of_a_matching_model_has_no_red_and_refuses_two_shapes():
    result = trace([LayerSpec("max_pool", "pool", 2), LayerSpec("upsample", "up", size=2)], (8, 8))
    fig = plots.shape_flow(result)
    assert fig.axes[0].get_title() == "input 8×8×1 → output 8×8×1: matches"
    assert to_rgba(plots.MISMATCH_COLOUR) not in [p.get_edgecolor() for p in fig.axes[0].patches]
    with pytest.raises(ValueError, match="input_shape was given with a ShapeTrace"):
        plots.shape_flow(result, (8, 8))


# --------------------------------------------------------------------------- the embed bundle


def test_without_npm_the_bundle_falls_back_to_the_pinned_cdn_copy(tmp_path, root):
    (tmp_path / "package.json").write_text((root / "package.json").read_text())
    report = widgets_js.install(tmp_path, tmp_path / "static", cdn=True)
    version = widgets_js.pinned_version(root)
    assert report.startswith(
        f"widgets_js: --cdn given: the book's widgets will load {widgets_js.PACKAGE}@{version}"
    )
    loader = (tmp_path / "static" / "embed.js").read_text()
    assert f"/npm/@jupyter-widgets/html-manager@{version}/dist/embed.js" in loader


def test_without_npm_mathjax_falls_back_to_the_pinned_cdn_copy(tmp_path, root):
    (tmp_path / "package.json").write_text((root / "package.json").read_text())
    report = widgets_js.install_mathjax(tmp_path, tmp_path / "mathjax", cdn=True)
    version = widgets_js.pinned_version(root, widgets_js.MATHJAX)
    assert (
        report == f"widgets_js: MathJax {version} will load from the CDN (formulas need a network)."
    )
    loader = (tmp_path / "mathjax" / widgets_js.MATHJAX_ENTRY).read_text()
    assert f"/npm/mathjax@{version}/es5/tex-mml-chtml.js" in loader


def test_mathjax_is_copied_from_npm_with_its_fonts(root):
    """make setup ran scripts/widgets_js.py with npm: the book serves MathJax itself."""
    served = widgets_js.MATHJAX_DESTINATION
    assert (served / widgets_js.MATHJAX_ENTRY).stat().st_size > 1_000_000
    assert list((served / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))


def test_a_version_range_is_refused(tmp_path):
    (tmp_path / "package.json").write_text(
        '{"dependencies": {"@jupyter-widgets/html-manager": "^1.0.15"}}'
    )
    with pytest.raises(
        ValueError, match=re.escape("must pin @jupyter-widgets/html-manager to an exact")
    ):
        widgets_js.pinned_version(tmp_path)
