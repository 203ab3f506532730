"""The pure arithmetic of benchmarks/cpu_training.py: FLOP per cycle, peak, throughput."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
SCRIPT = BENCHMARKS / "cpu_training.py"


def _load(name: str):
    """Import ``benchmarks/<name>.py`` as a module (the folder is not a package)."""
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


bench = _load("cpu_training")

AVX512 = {"sse", "sse2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl"}


@pytest.mark.parametrize(
    ("flags", "vendor", "family", "expected"),
    [
        pytest.param(AVX512, "AuthenticAMD", 25, 32, id="zen4-avx512-on-256-bit-halves"),
        pytest.param(AVX512, "GenuineIntel", 6, 64, id="intel-avx512f"),
        pytest.param({"sse2", "avx", "avx2", "fma"}, "GenuineIntel", 6, 32, id="avx2-fma"),
        pytest.param({"sse2", "avx", "avx2", "fma"}, "AuthenticAMD", 25, 32, id="zen3-avx2-fma"),
        pytest.param({"sse2", "avx"}, "GenuineIntel", 6, 16, id="avx-only"),
        pytest.param(set(), "GenuineIntel", 6, 8, id="none"),
        pytest.param({"sse", "sse2"}, "", None, 8, id="sse-unknown-vendor"),
    ],
)
def test_fp32_flops_per_cycle(flags, vendor, family, expected):
    assert bench.fp32_flops_per_cycle(flags, vendor, family) == expected


CPUINFO = """\
processor\t: 0
vendor_id\t: GenuineIntel
cpu family\t: 6
model name\t: Test CPU
cpu MHz\t\t: 3500.000
flags\t\t: fpu sse sse2 avx avx2 fma

processor\t: 1
vendor_id\t: GenuineIntel
cpu family\t: 6
model name\t: Test CPU
cpu MHz\t\t: 3700.000
flags\t\t: fpu sse sse2 avx avx2 fma

"""


@pytest.mark.parametrize(
    ("text", "max_mhz", "flops_per_cycle", "ghz", "gflops", "numbers"),
    [
        pytest.param(
            CPUINFO,
            None,
            32,
            3.7,
            236.8,
            ("2 cores", "32 FLOP/cycle", "3.70 GHz", "236.8"),
            id="highest-cpu-mhz",
        ),
        pytest.param(
            CPUINFO,
            4200.0,
            32,
            4.2,
            268.8,
            ("2 cores", "32 FLOP/cycle", "4.20 GHz", "268.8"),
            id="cpufreq-max",
        ),
        pytest.param(
            CPUINFO.replace("avx avx2 fma", "avx512f avx avx2 fma")
            .replace("GenuineIntel", "AuthenticAMD")
            .replace(": 6", ": 25"),
            None,
            32,
            3.7,
            236.8,
            ("32 FLOP/cycle",),
            id="zen4",
        ),
    ],
)
def test_cpu_peak(text, max_mhz, flops_per_cycle, ghz, gflops, numbers):
    peak = bench.cpu_peak(text, 2, max_mhz)
    assert peak.cores == 2
    assert peak.flops_per_cycle == flops_per_cycle
    assert peak.ghz == pytest.approx(ghz, rel=1e-12)
    assert peak.gflops == pytest.approx(gflops, rel=1e-12)
    assert peak.formula.startswith("peak = ")
    for number in numbers:
        assert number in peak.formula
    assert peak.formula == (
        f"peak = 2 cores × {flops_per_cycle} FLOP/cycle × {ghz:.2f} GHz = {gflops:.1f} GFLOP/s"
    )


def test_cpu_peak_unknowns_are_said_not_guessed():
    no_clock = bench.cpu_peak(CPUINFO.replace("cpu MHz", "bogus"), 2, None)
    assert no_clock.ghz is None and no_clock.gflops is None
    assert "? GHz" in no_clock.formula and "? GFLOP/s" in no_clock.formula
    assert any("no clock readable" in note for note in no_clock.notes)

    no_flags = bench.cpu_peak("processor : 0\nvendor_id : X\ncpu MHz : 1000\n", 1, None)
    assert no_flags.flops_per_cycle is None and no_flags.gflops is None
    assert "? FLOP/cycle" in no_flags.formula
    assert any("FLOP/cycle unknown" in note for note in no_flags.notes)


@pytest.mark.parametrize(
    ("macs", "batch", "step_seconds", "images_per_s", "gflops"),
    [
        pytest.param(1_000_000, 8, 0.5, 16.0, 0.096, id="round"),
        # ch. 3-4 example2: 26.0 M MACs, a batch of 8 in 114 ms ≈ 70 images/s, ≈ 11 GFLOP/s.
        pytest.param(26_000_000, 8, 0.114, 8 / 0.114, 6 * 26e6 * 8 / 0.114 / 1e9, id="example2"),
    ],
)
def test_throughput(macs, batch, step_seconds, images_per_s, gflops):
    got_images, got_gflops = bench.throughput(macs, batch, step_seconds)
    assert got_images == pytest.approx(images_per_s, rel=1e-12)
    assert got_gflops == pytest.approx(gflops, rel=1e-12)


def test_example2_throughput_is_about_11_gflops():
    assert bench.throughput(26_000_000, 8, 0.114)[1] == pytest.approx(10.9, abs=0.1)


def test_importing_the_script_does_not_import_tensorflow():
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('b', {str(SCRIPT)!r})\n"
        "m = importlib.util.module_from_spec(spec); sys.modules['b'] = m\n"
        "spec.loader.exec_module(m)\n"
        "print(sorted(n for n in ('tensorflow', 'keras') if n in sys.modules))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"


def test_widget_state_finds_every_frame_of_an_explorer_and_the_palette_saves_bytes():
    import numpy as np
    from ipywidgets.embed import dependency_state, embed_data

    from cae_lessons import widgets

    bench_state = _load("widget_state")
    rng = np.random.default_rng(0)
    x = rng.random((3, 32, 32, 1), dtype=np.float32)
    explorer = widgets.reconstruction_explorer({"a": [x * 0.5, x * 0.9]}, x, static=True)
    # Only this explorer's widgets: other tests' explorers may still be alive.
    state = embed_data(views=[explorer], state=dependency_state(explorer))["manager_state"]
    pngs = bench_state.frames(state)
    assert sorted(pngs) == sorted(explorer.frames)
    assert all(bench_state.as_rgb(png) > len(png) for png in pngs)


def test_training_levers_smoke_run_prints_the_workers_ratio_and_the_epochs_saved(tmp_path):
    """benchmarks/training_levers.py --quick: two short runs, in this process and in workers."""
    script = BENCHMARKS / "training_levers.py"
    env = {**os.environ, "CAE_LESSONS_CACHE": str(tmp_path), "CAE_LESSONS_PROGRESS": "0"}
    run = subprocess.run(
        [sys.executable, str(script), "--quick"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    lines = run.stdout.splitlines()
    assert any(line.startswith("1. 2 runs of ch. 4's sweep model") for line in lines)
    assert any(line.strip().startswith("ratio: ") and line.endswith("×") for line in lines)
    assert any(line.startswith("2. early stopping: epochs trained [") for line in lines)
