"""Execution profiles, the environment report and seeding.

The bottom layer of the package: every other module may import it, it imports none of them.
TensorFlow is imported only inside the functions that need it, so ``import cae_lessons`` stays
cheap.

Used by every chapter (the first, hidden cell prints :func:`environment_report`).
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass

import numpy as np

PROFILE_VARIABLE = "CAE_LESSONS_PROFILE"
REQUIRE_GPU_VARIABLE = "CAE_LESSONS_REQUIRE_GPU"
PROFILES = ("quick", "full", "auto")
SPLIT_SEED_VARIABLE = "CAE_LESSONS_SPLIT_SEED"


@dataclass(frozen=True)
class Profile:
    """How much work a chapter does: ``quick`` on a CPU (and in CI), ``full`` on a GPU.

    Chapters read sizes from here and never hard-code a number that only fits one profile.

    Attributes
    ----------
    name : str
        ``'quick'`` or ``'full'``.
    epochs : int
        Training epochs for one model.
    max_slices : int or None
        Cap on MRI slices used for training (``None``: all of them).
    seeds : int
        Training seeds behind every comparison (ch. 4's sweep: one, in the quick profile).
    """

    name: str
    epochs: int
    max_slices: int | None
    seeds: int


QUICK = Profile(name="quick", epochs=20, max_slices=192, seeds=3)
FULL = Profile(name="full", epochs=60, max_slices=None, seeds=5)


def gpu_available() -> bool:
    """Return True when TensorFlow can see at least one GPU.

    Examples
    --------
    >>> isinstance(gpu_available(), bool)
    True
    """
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def resolve_profile(name: str | None = None) -> Profile:
    """Return the execution profile named by ``name`` or by ``$CAE_LESSONS_PROFILE``.

    Parameters
    ----------
    name : {'quick', 'full', 'auto'}, optional
        ``'auto'`` (the default when the variable is unset) means ``full`` when TensorFlow sees a
        GPU and ``quick`` otherwise.

    Returns
    -------
    Profile

    Raises
    ------
    ValueError
        If the name is not one of ``'quick'``, ``'full'``, ``'auto'``.

    Examples
    --------
    >>> resolve_profile("quick")
    Profile(name='quick', epochs=20, max_slices=192, seeds=3)
    >>> resolve_profile("fast")
    Traceback (most recent call last):
    ...
    ValueError: Unknown profile 'fast'; expected one of ('quick', 'full', 'auto'). Set ...
    """
    chosen = (name or os.environ.get(PROFILE_VARIABLE) or "auto").strip().lower()
    if chosen not in PROFILES:
        raise ValueError(
            f"Unknown profile {chosen!r}; expected one of {PROFILES}. "
            f"Set {PROFILE_VARIABLE}=quick (CPU) or full (GPU)."
        )
    if chosen == "auto":
        chosen = "full" if gpu_available() else "quick"
    return FULL if chosen == "full" else QUICK


def split_seed() -> int:
    """The seed of the train/validation/test split: ``$CAE_LESSONS_SPLIT_SEED``, default 0.

    The book's numbers come from split seed 0; ``scripts/perturb.py`` sets another seed to check
    that the chapters' claims do not hang on one particular split.

    Returns
    -------
    int
        A non-negative integer (0 when the variable is unset or empty).

    Raises
    ------
    ValueError
        If the variable is set to something other than a non-negative integer.

    Examples
    --------
    >>> import os
    >>> _ = os.environ.pop(SPLIT_SEED_VARIABLE, None)
    >>> split_seed()
    0
    >>> os.environ[SPLIT_SEED_VARIABLE] = "3"
    >>> split_seed()
    3
    >>> os.environ[SPLIT_SEED_VARIABLE] = "-1"
    >>> split_seed()
    Traceback (most recent call last):
    ...
    ValueError: CAE_LESSONS_SPLIT_SEED='-1' is not a valid split seed; expected ...
    >>> del os.environ[SPLIT_SEED_VARIABLE]
    """
    value = os.environ.get(SPLIT_SEED_VARIABLE, "").strip()
    if not value:
        return 0
    try:
        seed = int(value)
    except ValueError:
        seed = -1
    if seed < 0:
        raise ValueError(
            f"{SPLIT_SEED_VARIABLE}={value!r} is not a valid split seed; expected a non-negative "
            f"integer such as 0 or 1 (unset means 0)."
        )
    return seed


@dataclass(frozen=True)
class Environment:
    """What a notebook runs on: library versions, devices and the profile."""

    python: str
    tensorflow: str
    keras: str
    devices: tuple[str, ...]
    profile: Profile
    onednn: bool

    def __repr__(self) -> str:
        return (
            f"Python {self.python} | TensorFlow {self.tensorflow} | Keras {self.keras} | "
            f"devices: {', '.join(self.devices)} | oneDNN CPU kernels: "
            f"{'on' if self.onednn else 'off'} | profile: {self.profile.name} "
            f"({self.profile.epochs} epochs, seeds={self.profile.seeds})"
        )


def onednn_enabled() -> bool:
    """Whether TensorFlow runs its oneDNN CPU kernels in this process.

    TensorFlow turns them on by itself on many CPUs (those with AVX-512 VNNI or BF16: recent
    Intel, AMD Zen 4) and leaves them off elsewhere; ``TF_ENABLE_ONEDNN_OPTS=1`` or ``0``, set
    before TensorFlow is imported, decides. The package leaves that choice alone: they round
    differently from the default kernels, so trained numbers differ slightly between the two, and
    the shapes they cannot run are refused by :func:`cae_lessons.shapes.check_cpu_kernels`
    whichever kernels are on (README, "On a CPU"). Used by every chapter's environment report.

    Examples
    --------
    >>> onednn_enabled() in (True, False)
    True
    """
    import tensorflow as tf  # noqa: F401 (oneDNN's state is fixed when TensorFlow loads)

    # No public API reports it: tf.sysconfig.get_build_info() says how TensorFlow was built,
    # not whether this process turned the kernels on.
    from tensorflow.python.util import _pywrap_util_port

    return bool(_pywrap_util_port.IsMklEnabled())


def environment_report(profile: str | None = None) -> Environment:
    """Describe the running environment; fail loudly if a GPU is required and missing.

    With ``CAE_LESSONS_REQUIRE_GPU=1`` (set by the GPU CI job) a machine without a visible GPU
    raises instead of silently running the quick profile on the CPU. Called before anything else
    imports TensorFlow, it also quiets TensorFlow's C++ log (``TF_CPP_MIN_LOG_LEVEL=3``) unless
    that variable is already set, so chapters do not fill with start-up messages.

    Raises
    ------
    RuntimeError
        If ``$CAE_LESSONS_REQUIRE_GPU`` is ``1`` and TensorFlow sees no GPU.

    Examples
    --------
    >>> env = environment_report("quick")
    >>> env.profile.name
    'quick'
    """
    import platform

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import tensorflow as tf

    devices = tuple(d.device_type for d in tf.config.list_physical_devices())
    if os.environ.get(REQUIRE_GPU_VARIABLE) == "1" and "GPU" not in devices:
        raise RuntimeError(
            f"{REQUIRE_GPU_VARIABLE}=1 but TensorFlow sees no GPU (devices: {devices}). "
            "Install the GPU build with `pip install -e .[gpu]` and check `nvidia-smi`, "
            f"or unset {REQUIRE_GPU_VARIABLE} to run the quick profile on the CPU."
        )
    return Environment(
        python=platform.python_version(),
        tensorflow=tf.__version__,
        keras=keras.__version__,
        devices=devices,
        profile=resolve_profile(profile),
        onednn=onednn_enabled(),
    )


def seed_everything(seed: int, *, deterministic: bool = True) -> None:
    """Seed Python, NumPy and TensorFlow; optionally request deterministic TF kernels.

    Parameters
    ----------
    seed : int
        Non-negative integer seed.
    deterministic : bool
        Turn on ``tf.config.experimental.enable_op_determinism`` so that the same seed gives the
        same numbers on the same machine.

    Raises
    ------
    TypeError
        If ``seed`` is not an integer.
    ValueError
        If ``seed`` is negative.

    Examples
    --------
    >>> seed_everything(0)
    >>> a = np.random.rand()
    >>> seed_everything(0)
    >>> a == np.random.rand()
    True
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"seed must be an int, got {type(seed).__name__} {seed!r}.")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}.")
    import keras
    import tensorflow as tf

    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 (libraries still draw from the legacy global generator)
    keras.utils.set_random_seed(int(seed))
    if deterministic:
        tf.config.experimental.enable_op_determinism()
