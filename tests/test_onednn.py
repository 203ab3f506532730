"""What TensorFlow's oneDNN CPU kernels cannot run, and that the package refuses it.

TensorFlow turns these kernels on by itself on many CPUs (AVX-512 VNNI or BF16: AMD Zen 4, recent
Intel). The package leaves that choice to TensorFlow (``TF_ENABLE_ONEDNN_OPTS`` decides) and
guards the shapes the kernels fail on: a pooling whose output would be empty, a 1-wide
strided (transposed) convolution, and a ZeroPadding3D feeding a 'same' Conv3D, where the default
kernels compute the right answer. Each case runs in
a fresh process (TensorFlow reads the variable once, and one case kills the process). The day the
oneDNN tests fail, TensorFlow has fixed the kernels and the guard can go
(``shapes.cpu_kernel_problems``).
"""

import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import pytest

ZEROS = "(np.zeros((1, {0}, {0}, 1), 'f'))"
CASES = {
    # A pooling whose output would be empty (the default kernels return a (1, 0, 0, 1) tensor).
    "pool_to_empty": "keras.layers.MaxPooling2D(2)" + ZEROS.format(1),
    "pool_to_empty_stride_1": "keras.layers.MaxPooling2D(2, strides=1)" + ZEROS.format(1),
    # A 1-wide transposed convolution with a stride (shapes.cpu_kernel_problems refuses it).
    # A 1-wide stride-2 transposed convolution, forward and backward as a training step runs it,
    # on inputs of 1 to 12 pixels: oneDNN corrupts the heap. What follows varies from run to run
    # (glibc aborts, a segfault, a hang, an exception from oneDNN's own kernel -- "MklNative...
    # Operation received an exception" -- or now and then a run that ends with the right
    # numbers), so the test runs it up to ATTEMPTS times and asserts that it goes wrong at least
    # once.
    "transpose_1_wide_stride_2": "[stepped(keras.layers.Conv2DTranspose(1, 1, strides=2), "
    "np.zeros((1, n, n, 1), 'f')) for n in range(1, 13)][-1]",
    # A ZeroPadding3D feeding a 'same' Conv3D, run in graph mode (predict): oneDNN fuses the two
    # and drops the 'same' padding; the output is silently what a 'valid' convolution gives.
    "pad_then_same_conv3d": "keras.Sequential([keras.Input((7, 7, 7, 1)), "
    "keras.layers.ZeroPadding3D(1), keras.layers.Conv3D(1, 3, padding='same')])"
    ".predict(np.zeros((1, 7, 7, 7, 1), 'f'), verbose=0)",
}
EXPECTED = {
    "pool_to_empty": "(1, 0, 0, 1)",
    "pool_to_empty_stride_1": "(1, 0, 0, 1)",
    "transpose_1_wide_stride_2": "(1, 24, 24, 1)",
    "pad_then_same_conv3d": "(1, 9, 9, 9, 1)",
}


# A run that corrupts the heap but survives: about 1 in 4 here; ATTEMPTS of them by chance, ~1e-5.
ATTEMPTS = 8
HANG = 300  # seconds: a run corrupts the heap then hangs, or it ends within a minute


def _run(case: str, onednn: str) -> subprocess.CompletedProcess:
    code = textwrap.dedent(
        f"""
        import numpy as np, keras, tensorflow as tf
        from cae_lessons.config import onednn_enabled
        def stepped(layer, x):
            x = tf.constant(x)
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = layer(x)
            tape.gradient(y, [x, *layer.trainable_weights])
            return y
        assert onednn_enabled() == {onednn == "1"}
        print(tuple({CASES[case]}.shape))
        """
    )
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": onednn, "TF_CPP_MIN_LOG_LEVEL": "3"}
    try:
        return subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=HANG
        )
    except subprocess.TimeoutExpired as hung:
        return subprocess.CompletedProcess(hung.cmd, -signal.SIGKILL, "", "hung")


_AVX512 = {"avx512f", "avx512_vnni", "avx512_bf16"}


def _cpu_flags() -> set[str]:
    """The CPU's feature flags (Linux), empty where /proc/cpuinfo cannot be read."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    return {f for line in text.splitlines() if line.startswith("flags") for f in line.split()}


def _went_wrong_in_onednn(run: subprocess.CompletedProcess) -> bool:
    """Killed by a signal, hung, or stopped by an exception raised inside a oneDNN kernel."""
    return run.returncode < 0 or (run.returncode == 1 and "Mkl" in run.stderr)


def _run_until_it_goes_wrong(case: str) -> list[subprocess.CompletedProcess]:
    """Run ``case`` under oneDNN until a run does not end cleanly (at most ATTEMPTS runs)."""
    runs = []
    while len(runs) < ATTEMPTS and (not runs or runs[-1].returncode == 0):
        runs.append(_run(case, "1"))
    return runs


@pytest.mark.parametrize("case", sorted(CASES))
def test_default_kernels_run_every_case(case):
    run = _run(case, "0")
    assert run.returncode == 0, run.stderr[-1500:]
    assert run.stdout.strip() == EXPECTED[case]


@pytest.mark.parametrize(
    ("case", "failure"),
    [
        ("pool_to_empty", "AbortedError"),
        ("pool_to_empty_stride_1", None),  # killed by SIGFPE: no Python error at all
        ("transpose_1_wide_stride_2", "signal"),
        ("pad_then_same_conv3d", "(1, 7, 7, 7, 1)"),  # no error: a wrong shape
    ],
)
def test_onednn_kernels_fail_where_the_default_ones_work(case, failure):
    if failure == "signal":  # killed (SIGABRT or SIGSEGV), hung, or a oneDNN kernel's exception
        if not _AVX512 & _cpu_flags():
            # Seen only on CPUs with AVX-512 (Zen 4/5 with VNNI and BF16); on AVX2-only CPUs
            # oneDNN takes another code path, and eight runs ended cleanly (2026-12-02).
            pytest.skip(f"this CPU has none of {sorted(_AVX512)}, where the crash was seen")
        runs = _run_until_it_goes_wrong(case)
        assert _went_wrong_in_onednn(runs[-1]), [(r.returncode, r.stderr[-300:]) for r in runs]
        return
    run = _run(case, "1")
    if failure is None:
        assert run.returncode == -signal.SIGFPE
    elif failure.startswith("("):
        assert (run.returncode, run.stdout.strip()) == (0, failure), run.stderr[-1500:]
    else:
        assert run.returncode == 1 and failure in run.stderr


def test_the_package_refuses_the_case_before_tensorflow_runs_it():
    from cae_lessons.shapes import check_cpu_kernels

    layer = keras.layers.Conv2DTranspose(1, 1, strides=2)
    with pytest.raises(ValueError, match="a 1-wide kernel with stride 2 along the height"):
        check_cpu_kernels([layer], (4, 4, 1))


def _padded_conv3d(*between, **conv):
    return keras.Sequential(
        [
            keras.Input((7, 7, 7, 1)),
            keras.layers.ZeroPadding3D(1, name="pad"),
            *between,
            keras.layers.Conv3D(1, name="conv", **{"kernel_size": 3, "padding": "same", **conv}),
        ]
    )


@pytest.mark.parametrize("between", [[], [keras.layers.Identity()], [keras.layers.ReLU()]])
def test_the_package_refuses_a_zero_padding_3d_that_feeds_a_same_conv3d(between):
    from cae_lessons.shapes import CpuKernelError, check_cpu_kernels

    message = (
        "'pad' ZeroPadding3D(padding=((1, 1), (1, 1), (1, 1))) feeds 'conv' Conv3D(kernel_size="
        "(3, 3, 3), strides=(1, 1, 1), padding='same'): in graph mode (predict, fit) oneDNN "
        "fuses the two and drops the convolution's 'same' padding"
    )
    with pytest.raises(CpuKernelError, match=re.escape(message)):
        check_cpu_kernels(_padded_conv3d(*between))


@pytest.mark.parametrize(
    "conv",
    [{"padding": "valid"}, {"kernel_size": 1}, {"dilation_rate": 2}],
    ids=["valid", "1-wide", "dilated"],
)
def test_the_padded_conv3d_that_onednn_runs_right_is_not_refused(conv):
    from cae_lessons.shapes import cpu_kernel_problems

    assert cpu_kernel_problems(_padded_conv3d(**conv)) == ()


def test_a_zero_padding_2d_before_a_same_conv2d_is_not_refused():
    from cae_lessons.shapes import cpu_kernel_problems

    model = keras.Sequential(
        [
            keras.Input((7, 7, 1)),
            keras.layers.ZeroPadding2D(1),
            keras.layers.Conv2D(1, 3, padding="same"),
        ]
    )
    assert cpu_kernel_problems(model) == ()
