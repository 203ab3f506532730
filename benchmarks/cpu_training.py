"""What makes training on two CPU cores faster, and how close to the CPU's peak it runs.

1. ``train()`` creates Adam's slot variables before ``fit``. Created lazily, inside the first
   traced step, they make TensorFlow trace that step twice. Measured on chapter 4's sweep model
   (64×64 MRI, 20 epochs, batch 8): ``fit`` after a plain ``compile`` against ``fit`` after
   ``compile`` plus ``optimizer.build``, each twice, the faster of the two.
2. TensorFlow's oneDNN CPU kernels (``TF_ENABLE_ONEDNN_OPTS=1``; TensorFlow turns them on by
   itself on CPUs with AVX-512 VNNI or BF16, recent Intel and AMD Zen 4 or later). TensorFlow
   reads the variable once, at import, so each setting runs in its own child process: the
   median milliseconds of one training step (after warm-up) for three models the chapters
   train, and one whole ``train()`` of the sweep model.
   The package leaves TensorFlow's choice alone and refuses the shapes oneDNN cannot run
   (``tests/test_onednn.py``; the README says how).
3. Training throughput of the same three models, with each setting: images per second
   (batch / step time) and the arithmetic rate, ``3 × 2 × MACs × images/s`` (a training step is
   about three forward passes' worth of work: the forward pass, the gradient with respect to the
   inputs and the one with respect to the weights; two FLOP per multiply-accumulate). MACs per
   image come from :func:`cae_lessons.models.count_macs`: convolution taps only, so biases,
   activations, pooling, the loss and Adam's update are left out. The rate is shown as a
   percentage of this CPU's fp32 peak, ``cores × FLOP/cycle × GHz``, derived from the flags,
   vendor and family in ``/proc/cpuinfo``, the usable cores (``os.sched_getaffinity``) and the
   maximum clock (cpufreq's ``cpuinfo_max_freq``, else ``/proc/cpuinfo``'s ``cpu MHz``, which can
   be below the boost clock, so the percentage is then an upper bound). The peak's formula is
   printed with its numbers; a value that cannot be read is reported as such, never guessed.

Prints the peak with where each factor came from, the slots line, one table (per model: MACs
per image, and for oneDNN off and on the milliseconds per batch, images/s, GFLOP/s and % of
peak, with the off/on time ratio), then the ``train()`` line, all measured in this one run.
``--steps N`` sets the number of timed steps (default 30); ``--no-train`` skips the slots and
``train()`` measurements (a quick smoke run: ``--steps 2 --no-train``). Not a test:
``make benchmarks``.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow loads: no start-up log
STEPS = 30
BATCH = 8
# Training ≈ 3 forward passes' worth of arithmetic: forward, d/d inputs, d/d weights.
TRAINING_PASSES = 3
CPUINFO = Path("/proc/cpuinfo")
MAX_FREQ_KHZ = Path("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")
ZEN4_FAMILY = 0x19  # AMD family 25: Zen 3 (no AVX-512) and Zen 4 (AVX-512 on 256-bit units)
MODELS = {
    "ch. 3-4 example2, 128×128": "example2",
    "ch. 4 sweep (pool, ratio 4), 64×64": "sweep",
    "ch. 8 k=5 s=2, 48×48": "kernel_stride",
}


def fp32_flops_per_cycle(flags: set[str], vendor: str, family: int | None) -> int:
    """fp32 floating-point operations one core can issue per cycle, from its ISA flags.

    Two FMA units on every x86 core this handles, each doing ``lanes`` fused multiply-adds (two
    FLOP each) per cycle: AVX-512 ``2 × 16 × 2 = 64``, AVX2 with FMA ``2 × 8 × 2 = 32``, AVX
    alone (one add and one multiply port) ``2 × 8 = 16``, SSE ``2 × 4 = 8``. AMD Zen 4
    (``AuthenticAMD``, family 25 = 0x19) has AVX-512 but runs each 512-bit operation as two
    256-bit halves, so it stays at 32.

    Parameters
    ----------
    flags : set of str
        The ``flags`` of ``/proc/cpuinfo``, e.g. ``{"avx2", "fma"}``.
    vendor : str
        ``vendor_id``: ``"GenuineIntel"``, ``"AuthenticAMD"``, …
    family : int or None
        ``cpu family`` (decimal); None when unknown.

    Returns
    -------
    int

    Examples
    --------
    >>> fp32_flops_per_cycle({"avx", "avx2", "fma", "avx512f"}, "GenuineIntel", 6)
    64
    >>> fp32_flops_per_cycle({"avx", "avx2", "fma", "avx512f"}, "AuthenticAMD", 25)
    32
    """
    if "avx512f" in flags:
        return 32 if vendor == "AuthenticAMD" and family == ZEN4_FAMILY else 64
    if "avx2" in flags and "fma" in flags:
        return 32
    if "avx" in flags:
        return 16
    return 8


def _isa(flags: set[str], vendor: str, family: int | None) -> str:
    if "avx512f" in flags:
        if vendor == "AuthenticAMD" and family == ZEN4_FAMILY:
            return "avx512f on Zen 4: 512-bit ops as two 256-bit halves, 2 FMA × 8 lanes × 2"
        return "avx512f: 2 FMA × 16 lanes × 2"
    if "avx2" in flags and "fma" in flags:
        return "avx2+fma: 2 FMA × 8 lanes × 2"
    if "avx" in flags:
        return "avx: 8 lanes × (1 add + 1 mul)"
    return "sse: 4 lanes × (1 add + 1 mul)"


@dataclass(frozen=True)
class Peak:
    """A CPU's fp32 peak, ``cores × flops_per_cycle × ghz``, and how it was found.

    Attributes
    ----------
    cores : int
        Cores this process may run on.
    flops_per_cycle : int or None
        fp32 FLOP per cycle per core (:func:`fp32_flops_per_cycle`); None if no flags were read.
    ghz : float or None
        Clock in GHz; None if none was read.
    gflops : float or None
        The peak in GFLOP/s; None if a factor is unknown.
    formula : str
        The formula with its numbers, ``?`` for an unknown one.
    notes : tuple of str
        Where each factor came from, and what could not be read.
    """

    cores: int
    flops_per_cycle: int | None
    ghz: float | None
    gflops: float | None
    formula: str
    notes: tuple[str, ...] = ()


def _processors(cpuinfo_text: str) -> list[dict[str, str]]:
    blocks, current = [], {}
    for line in [*cpuinfo_text.splitlines(), ""]:
        key, sep, value = line.partition(":")
        if sep:
            current[key.strip()] = value.strip()
        elif not line.strip() and current:
            blocks.append(current)
            current = {}
    return blocks


def cpu_peak(cpuinfo_text: str, cores: int, max_mhz: float | None) -> Peak:
    r"""fp32 peak of ``cores`` cores of the CPU that ``/proc/cpuinfo`` describes.

    Flags, ``vendor_id`` and ``cpu family`` come from the first processor listed. The clock is
    ``max_mhz`` when given (cpufreq's ``cpuinfo_max_freq``), else the highest ``cpu MHz`` listed:
    the current clock on bare metal, the nominal one in most virtual machines, either of which can
    be below the boost clock (said so in :attr:`Peak.notes`).

    Parameters
    ----------
    cpuinfo_text : str
        Contents of ``/proc/cpuinfo``.
    cores : int
        Usable cores, e.g. ``len(os.sched_getaffinity(0))``.
    max_mhz : float or None
        Maximum clock in MHz, None if unknown.

    Returns
    -------
    Peak

    Examples
    --------
    >>> text = "processor : 0\nvendor_id : GenuineIntel\ncpu family : 6\nflags : avx fma avx2\n"
    >>> cpu_peak(text, 2, 3000.0).formula
    'peak = 2 cores × 32 FLOP/cycle × 3.00 GHz = 192.0 GFLOP/s'
    """
    processors = _processors(cpuinfo_text)
    first = processors[0] if processors else {}
    notes = []
    vendor = first.get("vendor_id", "")
    family = int(first["cpu family"]) if first.get("cpu family", "").isdigit() else None
    cpu = first.get("model name", "unknown model")
    notes.append(
        f"CPU: {cpu}, vendor {vendor or 'unknown'}, family "
        + (f"{family} (0x{family:x})" if family is not None else "unknown")
    )
    if "flags" in first:
        flags = set(first["flags"].split())
        flops_per_cycle = fp32_flops_per_cycle(flags, vendor, family)
        notes.append(f"fp32 FLOP/cycle/core: {flops_per_cycle} ({_isa(flags, vendor, family)})")
    else:
        flops_per_cycle = None
        notes.append("no 'flags' line in /proc/cpuinfo: FLOP/cycle unknown")
    listed = [float(p["cpu MHz"]) for p in processors if "cpu MHz" in p]
    if max_mhz:
        ghz = max_mhz / 1000
        notes.append(f"clock: {ghz:.2f} GHz, cpufreq cpuinfo_max_freq")
    elif listed:
        ghz = max(listed) / 1000
        notes.append(
            f"clock: {ghz:.2f} GHz, /proc/cpuinfo 'cpu MHz' (no cpufreq maximum readable: current"
            " or nominal clock, may be below the boost clock, so % of peak may be overstated)"
        )
    else:
        ghz = None
        notes.append("no clock readable (no cpufreq maximum, no 'cpu MHz'): peak unknown")
    known = flops_per_cycle is not None and ghz is not None
    gflops = cores * flops_per_cycle * ghz if known else None
    formula = (
        f"peak = {cores} cores × {flops_per_cycle if flops_per_cycle is not None else '?'}"
        f" FLOP/cycle × {f'{ghz:.2f}' if ghz is not None else '?'} GHz"
        f" = {f'{gflops:.1f}' if gflops is not None else '?'} GFLOP/s"
    )
    return Peak(cores, flops_per_cycle, ghz, gflops, formula, tuple(notes))


def throughput(macs: int, batch: int, step_seconds: float) -> tuple[float, float]:
    """Images per second and GFLOP/s of training steps of ``batch`` images.

    ``GFLOP/s = 3 × 2 × macs × images/s / 1e9``: a training step does about three forward
    passes' worth of multiply-accumulates (forward, gradient with respect to the inputs and with
    respect to the weights), two FLOP each.

    Parameters
    ----------
    macs : int
        Multiply-accumulates per image in one forward pass.
    batch : int
        Images per step.
    step_seconds : float
        Time of one step.

    Returns
    -------
    images_per_s, gflops : float

    Examples
    --------
    >>> throughput(1_000_000, 8, 0.5)
    (16.0, 0.096)
    """
    images_per_s = batch / step_seconds
    return images_per_s, TRAINING_PASSES * 2 * macs * images_per_s / 1e9


def _usable_cores() -> tuple[int, str]:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)), "os.sched_getaffinity(0)"
    return os.cpu_count() or 1, "os.cpu_count() (no sched_getaffinity)"


def _max_mhz() -> float | None:
    try:
        return int(MAX_FREQ_KHZ.read_text()) / 1000
    except (OSError, ValueError):
        return None


def this_cpu_peak() -> Peak:
    """:func:`cpu_peak` of this machine, from ``/proc/cpuinfo``, affinity and cpufreq."""
    cores, how = _usable_cores()
    try:
        text = CPUINFO.read_text()
    except OSError:
        text = ""
    peak = cpu_peak(text, cores, _max_mhz())
    extra = [f"usable cores: {cores}, {how}"]
    if not text:
        extra.append(f"{CPUINFO} not readable")
    return replace(peak, notes=(*peak.notes, *extra))


def _build(which: str):
    from cae_lessons.experiments.kernel_stride import build_kernel_stride_cae
    from cae_lessons.models import build_cae, example2

    if which == "example2":
        return example2()
    if which == "sweep":
        return build_cae((64, 64, 1), filters=(8, 16, 32), down="pool", latent_channels=16)
    return build_kernel_stride_cae((48, 48, 1), kernel_size=5, strides=2)


def _step(which: str, steps: int) -> tuple[float, int]:
    """Median ms of one training step on a batch of ``BATCH``, and the model's MACs per image."""
    import keras
    import numpy as np

    from cae_lessons.config import seed_everything
    from cae_lessons.models import count_macs

    seed_everything(0)
    model = _build(which)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    x = np.random.default_rng(0).random((BATCH, *model.input_shape[1:]), dtype=np.float32)
    for _ in range(5):
        model.train_on_batch(x, x)
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        model.train_on_batch(x, x)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times), count_macs(model)


@functools.cache
def _sweep_data():
    from cae_lessons.data import block_mean, load_mri_data, split_by_slab

    x, info = load_mri_data(plane="axial", fit="crop", return_info=True)
    split = split_by_slab(x, info, seed=0)
    return tuple(block_mean(a, 2) for a in (split.x_train, split.x_val))


def _fit_seconds(prebuild: bool) -> float:
    import keras

    from cae_lessons.config import seed_everything

    x_train, x_val = _sweep_data()
    seed_everything(0)
    model = _build("sweep")
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    if prebuild:
        model.optimizer.build(model.trainable_variables)
    start = time.perf_counter()
    model.fit(x_train, x_train, validation_data=(x_val, x_val), epochs=20, batch_size=8, verbose=0)
    return time.perf_counter() - start


def _train_seconds() -> float:
    from cae_lessons.training import train

    x_train, x_val = _sweep_data()
    start = time.perf_counter()
    train(
        lambda: _build("sweep"),
        x_train,
        x_val,
        epochs=20,
        batch_size=8,
        cache=False,
        progress=False,
    )
    return time.perf_counter() - start


def child(steps: int, train_too: bool) -> None:
    from cae_lessons.config import onednn_enabled

    result = {"ms": {}, "macs": {}}
    for label, which in MODELS.items():
        result["ms"][label], result["macs"][label] = _step(which, steps)
    if train_too:
        result["train()"] = _train_seconds()
    result["onednn"] = onednn_enabled()
    print(json.dumps(result))


def slots() -> None:
    lazy, built = (min(_fit_seconds(p) for p in (flag, flag)) for flag in (False, True))
    print("fit, ch. 4 sweep model, 20 epochs (oneDNN as TensorFlow sets it):")
    print(
        f"  Adam's slots built lazily {lazy:5.1f} s, before fit {built:5.1f} s: {lazy / built:.2f}×"
    )


def measure(setting: str, steps: int, train_too: bool) -> dict:
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": setting, "TF_CPP_MIN_LOG_LEVEL": "3"}
    args = [sys.executable, __file__, "--child", "--steps", str(steps)]
    if not train_too:
        args.append("--no-train")
    run = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
    return json.loads(run.stdout.splitlines()[-1])


def _cells(ms: float, macs: int, peak: Peak) -> str:
    images_per_s, gflops = throughput(macs, BATCH, ms / 1000)
    share = f"{100 * gflops / peak.gflops:6.1f}%" if peak.gflops else "      ?"
    return f"{ms:7.1f} {images_per_s:8.1f} {gflops:7.1f} {share}"


def main(argv: list[str] | None = None) -> None:
    args = _parse(argv)
    if args.child:
        child(args.steps, not args.no_train)
        return
    peak = this_cpu_peak()
    print("fp32 peak of this CPU:")
    for note in peak.notes:
        print(f"  {note}")
    print(f"  {peak.formula}")
    if not args.no_train:
        slots()
    off, on = (measure(setting, args.steps, not args.no_train) for setting in ("0", "1"))
    if off.pop("onednn") or not on.pop("onednn"):
        raise SystemExit("TF_ENABLE_ONEDNN_OPTS had no effect on this CPU; nothing to compare.")
    if off["macs"] != on["macs"]:
        raise SystemExit(f"MACs differ between the two runs: {off['macs']} != {on['macs']}")
    title = f"training, batch of {BATCH}, median of {args.steps} steps"
    side = f"{'ms':>7s} {'images/s':>8s} {'GFLOP/s':>7s} {'% peak':>7s}"
    print(f"{title}:")
    print(f"{'':36s} {'':>10s} | {'oneDNN off':^32s} | {'oneDNN on':^32s} |")
    print(f"{'model':36s} {'MACs/image':>10s} | {side} | {side} | off/on")
    for label in MODELS:
        macs = off["macs"][label]
        print(
            f"{label:36s} {macs / 1e6:8.2f} M | {_cells(off['ms'][label], macs, peak)} | "
            f"{_cells(on['ms'][label], macs, peak)} | {off['ms'][label] / on['ms'][label]:5.2f}"
        )
    print(f"  GFLOP/s = {TRAINING_PASSES} × 2 × MACs/image × images/s / 1e9; % of {peak.formula}")
    if not args.no_train:
        before, after = off["train()"], on["train()"]
        label = "train(): ch. 4 sweep model, 20 epochs"
        print(f"{label:42s} off {before:7.1f} s, on {after:7.1f} s: {before / after:4.2f}×")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--steps", type=_positive, default=STEPS, help=f"timed steps per model (default {STEPS})"
    )
    parser.add_argument(
        "--no-train", action="store_true", help="skip the slots and train() measurements"
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
