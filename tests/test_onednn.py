"""Why the book leaves TensorFlow's oneDNN CPU kernels as TensorFlow sets them.

With ``TF_ENABLE_ONEDNN_OPTS=1`` a training step of the book's models is about twice as fast on
our CI's AMD CPUs (``benchmarks/cpu_training.py``), but its pooling fails on shapes that the book
teaches learners to try (an output that would be empty), where TensorFlow's default kernels
return an empty tensor. Each case runs in a fresh process (TensorFlow reads the variable once,
and one case kills the process). The day these tests fail, TensorFlow has fixed the kernels and
the book can turn them on (performance page).
"""

import os
import signal
import subprocess
import sys
import textwrap

import pytest

ZEROS = "(np.zeros((1, {0}, {0}, 1), 'f'))"
CASES = {
    # A pooling whose output would be empty (the default kernels return a (1, 0, 0, 1) tensor).
    "pool_to_empty": "keras.layers.MaxPooling2D(2)" + ZEROS.format(1),
    "pool_to_empty_stride_1": "keras.layers.MaxPooling2D(2, strides=1)" + ZEROS.format(1),
}


def _run(case: str, onednn: str) -> subprocess.CompletedProcess:
    code = textwrap.dedent(
        f"""
        import numpy as np, keras
        from cae_lessons.config import onednn_enabled
        assert onednn_enabled() == {onednn == "1"}
        print(tuple({CASES[case]}.shape))
        """
    )
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": onednn, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)


@pytest.mark.parametrize("case", sorted(CASES))
def test_default_kernels_run_every_case(case):
    run = _run(case, "0")
    assert run.returncode == 0, run.stderr[-1500:]
    assert run.stdout.strip() == "(1, 0, 0, 1)"


@pytest.mark.parametrize(
    ("case", "failure"),
    [
        ("pool_to_empty", "AbortedError"),
        ("pool_to_empty_stride_1", None),  # killed by SIGFPE: no Python error at all
    ],
)
def test_onednn_kernels_fail_where_the_default_ones_work(case, failure):
    run = _run(case, "1")
    if failure is None:
        assert run.returncode == -signal.SIGFPE
    else:
        assert run.returncode == 1 and failure in run.stderr
