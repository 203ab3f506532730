"""experiments/kernel_stride.py: the one-level kernel × stride autoencoder and its sweep (ch. 8)."""

from __future__ import annotations

import math

import keras
import matplotlib.pyplot as plt
import numpy as np
import pytest

from cae_lessons.experiments.kernel_stride import (
    KernelStrideCell,
    build_kernel_stride_cae,
    kernel_stride_design,
    kernel_stride_layers,
    kernel_stride_sweep,
)
from cae_lessons.metrics import psnr
from cae_lessons.shapes import build_model
from cae_lessons.training import reconstruct


@pytest.fixture(autouse=True)
def _seeded():
    keras.utils.set_random_seed(0)
    yield
    plt.close("all")


def _images(n=4, side=12, seed=0):
    return np.random.default_rng(seed).random((n, side, side, 1), dtype=np.float32)


# --- the design: layers, Keras model, analytic numbers --------------------------------------------


@pytest.mark.parametrize("strides", [1, 2, 3, 4])
@pytest.mark.parametrize("kernel_size", [3, 5, 7, 9])
def test_every_grid_cell_round_trips_48_in_real_keras(kernel_size, strides):
    model = build_kernel_stride_cae((48, 48, 1), kernel_size=kernel_size, strides=strides)
    design = kernel_stride_design(kernel_size, strides)
    assert model.output_shape == (None, 48, 48, 1)
    assert model.get_layer("bottleneck").output.shape[1:] == design.latent_shape
    assert model.count_params() == design.parameters == 8 * kernel_size**2 + 5
    assert design.macs == 2 * 4 * kernel_size**2 * (48 // strides) ** 2
    assert design.compression_ratio == strides**2 / 4


def test_layers_are_a_strided_conv_and_a_matching_transposed_conv():
    encoder, decoder = kernel_stride_layers(
        (24, 24, 3), kernel_size=5, strides=2, latent_channels=6
    )
    assert (encoder.kind, encoder.kernel_size, encoder.strides, encoder.filters) == (
        "conv",
        (5, 5),
        (2, 2),
        6,
    )
    assert (decoder.kind, decoder.kernel_size, decoder.strides, decoder.filters) == (
        "conv_transpose",
        (5, 5),
        (2, 2),
        3,
    )
    assert encoder.padding == decoder.padding == "same"


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"kernel_size": 3.0, "strides": 2}, TypeError, "kernel_size must be an int, got float"),
        ({"kernel_size": True, "strides": 2}, TypeError, "kernel_size must be an int, got bool"),
        ({"kernel_size": 3, "strides": 0}, ValueError, "strides must be >= 1, got 0"),
        ({"kernel_size": 3, "strides": 2, "latent_channels": 0}, ValueError, "latent_channels"),
    ],
)
def test_layers_refuse_bad_settings(kwargs, error, message):
    with pytest.raises(error, match=message):
        kernel_stride_layers((48, 48, 1), **kwargs)


def test_an_input_that_is_not_a_multiple_of_the_stride_is_refused_with_a_size_that_works():
    with pytest.raises(ValueError, match=r"50×50 input does not round-trip.*e\.g\. 52×52"):
        build_kernel_stride_cae((50, 50, 1), kernel_size=3, strides=4)
    with pytest.raises(ValueError, match="multiples of 3"):
        kernel_stride_design(5, 3, (48, 50, 1))


def test_default_name_says_kernel_stride_and_channels():
    assert (
        build_kernel_stride_cae(kernel_size=7, strides=3, latent_channels=2).name == "ks_k7_s3_c2"
    )
    assert build_kernel_stride_cae(kernel_size=3, strides=1, name="mine").name == "mine"


def test_receptive_field_follows_the_overlap_formula():
    for k in range(1, 10):
        for s in (1, 2, 3, 4, 6):
            expected = k + (math.ceil(k / s) - 1) * s
            assert kernel_stride_design(k, s, (24, 24, 1)).receptive_field == expected, (k, s)


# No 1-wide kernel with a stride: oneDNN's kernels cannot run it (tests/test_onednn.py).
@pytest.mark.parametrize(("kernel_size", "strides"), [(3, 4), (2, 4), (2, 3), (5, 4), (3, 3)])
def test_unseen_and_unreached_pixels_match_real_keras(kernel_size, strides):
    side = 12
    design = kernel_stride_design(kernel_size, strides, (side, side, 1))
    layers = kernel_stride_layers((side, side, 1), kernel_size=kernel_size, strides=strides)
    linear = build_model(layers, (side, side, 1))  # no activations: every read pixel shows
    for layer in linear.layers:
        kernel, bias = layer.get_weights()
        rng = np.random.default_rng(1)
        layer.set_weights([rng.uniform(0.5, 1.5, kernel.shape), rng.normal(size=bias.shape)])
    encoder = build_model(layers[:1], (side, side, 1))
    encoder.layers[0].set_weights(linear.layers[0].get_weights())

    base = _images(1, side)
    changed = np.repeat(base, side * side, axis=0)
    changed.reshape(side * side, -1)[np.arange(side * side), np.arange(side * side)] += 1
    latent = np.asarray(encoder(changed)) - np.asarray(encoder(base))
    unseen = np.all(np.abs(latent.reshape(side * side, -1)) < 1e-6, axis=1)
    assert unseen.mean() == design.unseen_fraction

    outputs = np.asarray(linear(_images(8, side, seed=2)))
    unreached = np.ptp(outputs, axis=0)[..., 0] < 1e-6
    assert unreached.mean() == design.unreached_fraction
    assert (design.unseen_fraction > 0) == (kernel_size < strides)


def test_design_repr_is_one_readable_line():
    text = repr(kernel_stride_design(3, 4))
    assert text.startswith("KernelStrideDesign(k=3, s=4: latent 12×12×4, compression 4×")
    assert "unseen 0.4375" in text and "\n" not in text


# --- the trained sweep ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sweep():
    keras.utils.set_random_seed(0)
    x = _images(6, 12)
    return kernel_stride_sweep(
        x[:4],
        x[4:5],
        x[5:],
        epochs=1,
        kernel_sizes=(
            2,
            3,
        ),  # no 1-wide strided kernel: oneDNN cannot run it (tests/test_onednn.py)
        strides=(2, 3),
        seeds=2,
        cache=False,
        progress=False,
    )


def test_sweep_grid_rows_are_strides_and_columns_kernels(sweep):
    assert sweep.grid("receptive field").tolist() == [[2, 5], [2, 3]]
    assert sweep.grid("unseen").tolist() == [[0.0, 0.0], [1 - 4 / 9, 0.0]]
    assert sweep.grid("PSNR").shape == (2, 2)
    cell = sweep.cell(3, 2)
    assert (cell.design.kernel_size, cell.design.strides) == (3, 2)
    assert len(cell.psnr) == len(cell.hf_retention) == len(cell.seconds) == len(cell.runs) == 2
    assert sweep.grid("PSNR")[0, 1] == pytest.approx(np.mean(cell.psnr))


def test_sweep_trains_one_model_per_cell_and_seed(sweep):
    names = [run.name for cell in sweep.cells for run in cell.runs]
    assert names == [f"ks_k{k}_s{s}_c4" for s in (2, 3) for k in (2, 3) for _ in range(2)]
    assert [run.seed for run in sweep.cell(2, 3).runs] == [0, 1]
    assert sweep.epochs == 1 and sweep.seeds == 2


def test_sweep_tables_show_every_cell(sweep):
    text = repr(sweep)
    assert text.count("\n") == 1 + 4
    assert "12×12×1" not in text and "6×6×4" in text
    assert "<table>" in sweep._repr_html_() and sweep._repr_html_().count("<tr>") == 5
    grid = sweep.format_grid("parameters")
    assert grid.splitlines() == [
        "parameters",
        "stride  k=2  k=3",
        "s=2      37   77",
        "s=3      37   77",
    ]
    assert sweep.format_grid("PSNR").startswith("PSNR (dB), mean of 2 seeds")


def test_sweep_held_out_scores_every_run_of_every_cell(sweep):
    comparison = sweep.held_out
    assert [label for label, _ in comparison.rows] == [
        "k=2, s=2",
        "k=3, s=2",
        "k=2, s=3",
        "k=3, s=3",
    ]
    for cell in sweep.cells:
        scores = comparison.per_seed(sweep.label(cell.design.kernel_size, cell.design.strides))
        assert tuple(scores["PSNR"]) == cell.psnr
        assert tuple(scores["HF retention"]) == cell.hf_retention
    verdicts = comparison.verdicts(("k=3, s=2", "k=2, s=3"))
    assert [v.metric for v in verdicts] == ["PSNR", "SSIM", "MAE"]
    assert verdicts[0].runs == (2, 2)


def test_sweep_psnr_is_each_runs_mean_over_the_held_out_images(sweep):
    x_test = _images(6, 12)[5:]  # the sweep fixture's held-out image
    cell = sweep.cell(3, 2)
    expected = [float(psnr(x_test, reconstruct(run, x_test)).mean()) for run in cell.runs]
    assert cell.psnr == pytest.approx(expected, rel=1e-6)


def test_sweep_with_patience_stops_early_and_says_so():
    keras.utils.set_random_seed(0)
    x = _images(6, 12)
    common = dict(kernel_sizes=(3,), strides=(2,), cache=False, progress=False, epochs=6)
    stopped = kernel_stride_sweep(
        x[:4], x[4:5], x[5:], patience=1, start_from_epoch=1, learning_rate=0.0, **common
    )
    run = stopped.cell(3, 2).runs[0]
    assert len(run.history["loss"]) < 6  # a learning rate of 0 never improves: it stops
    assert stopped.patience == 1
    assert "until its validation loss stopped improving (6 epochs at most)" in repr(stopped)
    assert "6 epochs each" in repr(kernel_stride_sweep(x[:4], x[4:5], x[5:], **common))


def test_sweep_refuses_unknown_cells_and_metrics(sweep):
    with pytest.raises(KeyError, match="no cell kernel_size=5"):
        sweep.cell(5, 2)
    with pytest.raises(KeyError, match="unknown metric 'SSIM'"):
        sweep.grid("SSIM")
    with pytest.raises(KeyError, match="unknown metric"):
        KernelStrideCell(kernel_stride_design(3, 2, (12, 12, 1)), (1.0,), (1.0,), (1.0,)).value("x")


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"strides": (2, 5)}, ValueError, "does not round-trip.*strides=5"),
        ({"kernel_sizes": (3, 3)}, ValueError, "must not repeat"),
        ({"kernel_sizes": 3}, TypeError, "non-empty sequence of ints"),
        ({"strides": ()}, TypeError, "non-empty sequence"),
        ({"strides": (0, 2)}, ValueError, "ints >= 1"),
        ({"seeds": 0}, ValueError, "seeds must be >= 1"),
        ({"seeds": 2.0}, TypeError, "seeds must be an int"),
    ],
)
def test_sweep_refuses_bad_grids_before_training(kwargs, error, message):
    x = _images(2, 12)
    with pytest.raises(error, match=message):
        kernel_stride_sweep(x, x, x, epochs=1, cache=False, progress=False, **kwargs)


def test_sweep_refuses_images_of_another_kind():
    x = _images(2, 12)
    with pytest.raises(
        TypeError, match=r"x_test must be a NumPy array of shape \(N, H, W, C\), got list"
    ):
        kernel_stride_sweep(x, x, list(x), epochs=1)
    with pytest.raises(TypeError, match=r"x_val must be float32 .*got dtype float64"):
        kernel_stride_sweep(x, x.astype(np.float64), x, epochs=1)
    with pytest.raises(ValueError, match="images of one size"):
        kernel_stride_sweep(x, x, _images(2, 24), epochs=1)
