"""Shape arithmetic for convolutional autoencoders: sizes, traces, diagnoses and fixes.

Keras decides silently how big every layer's output is: a ``'valid'`` convolution trims the
border, pooling floors, a transposed convolution guesses. The functions here predict those sizes
exactly (they reproduce Keras 3 and TensorFlow, checked against real layers by the tests), walk a
whole model layer by layer without running it (:func:`trace`), explain in plain English why an
autoencoder's output does not match its input and list fixes that are verified by re-tracing
(:func:`diagnose`).

Importing this module, and tracing a list of :class:`LayerSpec`, imports neither TensorFlow nor
Keras. Reading a Keras model uses Keras (already loaded by whoever built the model): the path of
calls from its input to its output, and ``layer.get_config()``. The command line (:func:`main`)
imports Keras to load a ``.keras`` file::

    python -m cae_lessons.shapes model.keras --input 197x233

Used by ch. 1 "Shape arithmetic in one page" and by the examples of ch. 3 (stride
incompatibility), ch. 4 (padding and the bottleneck) and ch. 5 (transposed convolutions).
"""

from __future__ import annotations

import argparse
import functools
import html
import itertools
import math
import operator
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction

import numpy as np

from cae_lessons.receptive import AxisStep, receptive_fields, support

PADDINGS = ("valid", "same")
KINDS = (
    "conv",
    "conv_transpose",
    "max_pool",
    "avg_pool",
    "upsample",
    "resize",
    "crop",
    "zero_pad",
    "pad_to_multiple",
    "crop_to_input",
    "neutral",
)
KERAS_NAMES = {
    "conv": "Conv2D",
    "conv_transpose": "Conv2DTranspose",
    "max_pool": "MaxPooling2D",
    "avg_pool": "AveragePooling2D",
    "upsample": "UpSampling2D",
    "resize": "Resizing",
    "crop": "Cropping2D",
    "zero_pad": "ZeroPadding2D",
    "pad_to_multiple": "PadToMultiple",
    "crop_to_input": "CropToInput",
}
NEUTRAL_LAYERS = (
    "Activation",
    "BatchNormalization",
    "Dropout",
    "SpatialDropout2D",
    "GaussianNoise",
    "GaussianDropout",
    "LayerNormalization",
    "GroupNormalization",
    "ReLU",
    "LeakyReLU",
    "PReLU",
    "ELU",
    "Softmax",
    "Rescaling",
)
INTERPOLATIONS = (
    "nearest",
    "bilinear",
    "bicubic",
    "area",
    "lanczos3",
    "lanczos5",
    "gaussian",
    "mitchellcubic",
)
"""What ``UpSampling2D`` and ``Resizing`` accept (a model read from Keras may add a note)."""
AXES = ("height", "width")
_POOLS = ("max_pool", "avg_pool")
_WINDOWS = ("conv", *_POOLS)
_SEARCH_LIMIT = 4096

Pair = tuple[int, int]


def _is_int(value) -> bool:
    """An int as Keras accepts one: Python or NumPy integers, never a bool."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def _pair(value, name: str, minimum: int = 1) -> Pair:
    """``3 -> (3, 3)``, ``(3, 5) -> (3, 5)``; other types: TypeError; too small: ValueError.

    NumPy integers and lists are accepted, as Keras accepts them.
    """
    items = (value, value) if _is_int(value) else value
    if (
        isinstance(value, bool)
        or not isinstance(items, tuple | list)
        or len(items) != 2
        or not all(_is_int(v) for v in items)
    ):
        raise TypeError(
            f"{name} must be an int or a tuple of 2 ints, got {type(value).__name__} {value!r}."
        )
    if min(items) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}.")
    return (int(items[0]), int(items[1]))


def _margins(value, name: str) -> tuple[Pair, Pair]:
    """Keras' Cropping2D / ZeroPadding2D margins: int, (rows, cols) or ((top, bottom), (l, r))."""
    if isinstance(value, tuple | list) and len(value) == 2 and not isinstance(value[0], int):
        return (_pair(value[0], name, 0), _pair(value[1], name, 0))
    rows, cols = _pair(value, name, 0)
    return ((rows, rows), (cols, cols))


@dataclass(frozen=True)
class LayerSpec:
    """One layer's shape-relevant arguments, spelled as Keras spells them.

    ``trace`` and ``diagnose`` accept a list of these (or of dicts with these keys) in place of a
    Keras model. Ints are accepted for every pair and stored as ``(rows, cols)`` tuples. Used by
    ch. 1 (tracing an architecture before building it) and by the fixes of :func:`diagnose`.

    Attributes
    ----------
    kind : str
        One of ``'conv'``, ``'conv_transpose'``, ``'max_pool'``, ``'avg_pool'``, ``'upsample'``,
        ``'resize'``, ``'crop'``, ``'zero_pad'``, ``'pad_to_multiple'``, ``'crop_to_input'`` (the
        two layers of :func:`fit_layers`), ``'neutral'`` (activation, normalisation, ...).
    name : str
        Layer name shown in tables and messages.
    kernel_size : tuple of int
        Kernel size; the ``pool_size`` for pooling.
    strides : tuple of int or None
        ``None`` means ``pool_size`` for pooling (as in Keras) and 1 otherwise.
    padding : {'valid', 'same'}
    dilation_rate : tuple of int
    output_padding : tuple of int or None
        Transposed convolutions only.
    size : tuple of int
        UpSampling2D factor.
    target : tuple of int or None
        Resizing output ``(height, width)``.
    margins : tuple of tuple of int
        ``((top, bottom), (left, right))``: Keras' ``cropping`` for Cropping2D, ``padding`` for
        ZeroPadding2D.
    filters : int or None
        Output channels of a convolution (``None``: as many as its input).
    interpolation : str
        UpSampling2D / Resizing interpolation.
    multiple : tuple of int
        ``'pad_to_multiple'``: pad height and width up to a multiple of these.

    Examples
    --------
    >>> LayerSpec("max_pool", kernel_size=2, strides=3).strides
    (3, 3)
    >>> LayerSpec("max_pool", kernel_size=2).strides
    (2, 2)
    >>> LayerSpec("dense")
    Traceback (most recent call last):
    ...
    ValueError: LayerSpec kind must be one of ('conv', ..., 'neutral'), got 'dense'.
    """

    kind: str
    name: str = ""
    kernel_size: Pair = (1, 1)
    strides: Pair | None = None
    padding: str = "valid"
    dilation_rate: Pair = (1, 1)
    output_padding: Pair | None = None
    size: Pair = (1, 1)
    target: Pair | None = None
    margins: tuple[Pair, Pair] = ((0, 0), (0, 0))
    filters: int | None = None
    interpolation: str = "nearest"
    multiple: Pair = (1, 1)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"LayerSpec kind must be one of {KINDS}, got {self.kind!r}.")
        if not isinstance(self.padding, str):
            raise TypeError(
                f"padding must be 'valid' or 'same', got {type(self.padding).__name__} "
                f"{self.padding!r}."
            )
        padding = self.padding.lower()
        if padding not in PADDINGS:
            raise ValueError(f"padding must be 'valid' or 'same', got {self.padding!r}.")
        kernel = _pair(self.kernel_size, "kernel_size")
        default_strides = kernel if self.kind in _POOLS else 1
        strides = _pair(default_strides if self.strides is None else self.strides, "strides")
        dilation = _pair(self.dilation_rate, "dilation_rate")
        if self.kind in ("conv", "conv_transpose") and max(strides) > 1 and max(dilation) > 1:
            raise ValueError(
                f"Keras does not support strides > 1 together with dilation_rate > 1; got "
                f"strides={strides} and dilation_rate={dilation}. Use one of them."
            )
        if self.kind in _POOLS and dilation != (1, 1):
            raise ValueError(
                f"Keras' pooling layers have no dilation_rate; got dilation_rate={dilation} for "
                f"{self.kind!r}. Leave it at 1."
            )
        if self.filters is not None and (not _is_int(self.filters) or self.filters < 1):
            raise ValueError(
                f"filters must be None (as many as the input) or an int >= 1, got {self.filters!r}."
            )
        if self.interpolation.split(" ")[0] not in INTERPOLATIONS:
            raise ValueError(
                f"interpolation must be one of {INTERPOLATIONS}, got {self.interpolation!r}."
            )
        if self.kind == "resize" and self.target is None:
            raise ValueError(
                "A 'resize' LayerSpec needs target=(height, width), as keras.layers.Resizing "
                "needs its height and width."
            )
        output_padding = self.output_padding
        if output_padding is not None:
            output_padding = _pair(output_padding, "output_padding", 0)
            if any(p >= s for p, s in zip(output_padding, strides, strict=True)):
                raise ValueError(
                    f"output_padding must be smaller than strides, got "
                    f"output_padding={output_padding} and strides={strides}. Use values in "
                    f"[0, strides)."
                )
        for name, value in (
            ("kernel_size", kernel),
            ("strides", strides),
            ("padding", padding),
            ("dilation_rate", dilation),
            ("output_padding", output_padding),
            ("size", _pair(self.size, "size")),
            ("target", None if self.target is None else _pair(self.target, "target")),
            ("margins", _margins(self.margins, "margins")),
            ("multiple", _pair(self.multiple, "multiple")),
            ("filters", None if self.filters is None else int(self.filters)),
        ):
            object.__setattr__(self, name, value)

    def describe(self) -> str:
        """The layer as a Keras call, e.g. ``"MaxPooling2D(pool_size=(2, 2), ...)"``."""
        label = f"{self.name!r} " if self.name else ""
        if self.kind in _WINDOWS or self.kind == "conv_transpose":
            window = "pool_size" if self.kind in _POOLS else "kernel_size"
            args = f"{window}={self.kernel_size}, strides={self.strides}, padding={self.padding!r}"
            if self.dilation_rate != (1, 1):
                args += f", dilation_rate={self.dilation_rate}"
            if self.kind == "conv_transpose":
                args += f", output_padding={self.output_padding}"
        elif self.kind == "upsample":
            args = f"size={self.size}"
        elif self.kind == "resize":
            args = f"height={self.target[0]}, width={self.target[1]}"
        elif self.kind in ("crop", "zero_pad"):
            args = f"{'cropping' if self.kind == 'crop' else 'padding'}={self.margins}"
        elif self.kind == "pad_to_multiple":
            args = f"multiple={self.multiple}"
        elif self.kind == "crop_to_input":
            args = ""
        else:
            return f"{label}shape-neutral layer"
        return f"{label}{KERAS_NAMES[self.kind]}({args})"


def _raw_axis_size(spec: LayerSpec, axis: int, n: int, origin: int | None = None) -> int | None:
    """Output size along one axis as Keras computes it; ``None`` if TensorFlow rejects any input.

    ``origin`` is the model input's size along the axis, which ``'crop_to_input'`` crops back to.
    """
    k, s = spec.kernel_size[axis], spec.strides[axis]
    dilated = spec.dilation_rate[axis] * (k - 1) + 1
    if spec.kind in _WINDOWS:
        if spec.padding == "same":
            return -(-n // s)
        return (n - (dilated if spec.kind == "conv" else k)) // s + 1
    if spec.kind == "conv_transpose":
        extra = None if spec.output_padding is None else spec.output_padding[axis]
        if spec.padding == "valid":
            return (n - 1) * s + dilated + (max(dilated, s) - dilated if extra is None else extra)
        if extra is None:
            return n * s
        # TensorFlow checks that a 'same' convolution maps the output back to n: it does not
        # when the kernel is even and output_padding is 0, whatever n is.
        return None if dilated % 2 + extra == 0 else (n - 1) * s + dilated % 2 + extra
    if spec.kind == "upsample":
        return n * spec.size[axis]
    if spec.kind == "resize":
        return spec.target[axis]
    if spec.kind in ("crop", "zero_pad"):
        sign = -1 if spec.kind == "crop" else 1
        return n + sign * sum(spec.margins[axis])
    if spec.kind == "pad_to_multiple":
        return -(-n // spec.multiple[axis]) * spec.multiple[axis]
    if spec.kind == "crop_to_input":
        return min(n, origin)
    return n


def _axis_size(spec: LayerSpec, axis: int, n: int, origin: int | None = None) -> int:
    """Like :func:`_raw_axis_size` but raising a ValueError that says how to fix a bad size."""
    out = _raw_axis_size(spec, axis, n, origin)
    if out is not None and out > 0:
        return out
    if out is None:
        raise ValueError(
            f"{spec.describe()} fails for every input {AXES[axis]}: with an even kernel and "
            f"output_padding=0 TensorFlow cannot map a 'same' transposed convolution back to its "
            f"input. Use output_padding=None (or 1), an odd kernel_size or padding='valid'."
        )
    smallest = next(
        (
            m
            for m in range(n + 1, _SEARCH_LIMIT)
            if (_raw_axis_size(spec, axis, m, origin) or 0) > 0
        ),
        None,
    )
    hint = (
        f"The smallest input {AXES[axis]} that works is {smallest}"
        if smallest
        else f"No input {AXES[axis]} below {_SEARCH_LIMIT} works"
    )
    remedy = "smaller cropping" if spec.kind == "crop" else "padding='same' or a smaller window"
    raise ValueError(
        f"{spec.describe()} cannot take an input {AXES[axis]} of {n}: the output would be {out} "
        f"(zero or negative). {hint}; use a larger input, {remedy}."
    )


def _as_size(size) -> tuple[Pair, bool]:
    if _is_int(size):
        return _pair(size, "size"), True
    if isinstance(size, tuple | list) and len(size) == 2:
        return _pair(size, "size"), False
    raise TypeError(
        f"size must be an int or an (H, W) tuple of ints, got {type(size).__name__} {size!r}."
    )


def _output_size(spec: LayerSpec, size):
    pair, scalar = _as_size(size)
    out = tuple(_axis_size(spec, axis, n) for axis, n in enumerate(pair))
    if scalar and out[0] != out[1]:
        raise ValueError(
            f"{spec.describe()} gives {out} for a square input of {size}: its arguments differ "
            f"between height and width, so pass an (H, W) size such as {pair}."
        )
    return out[0] if scalar else out


def conv_output_size(size, kernel_size, strides=1, padding="valid", dilation_rate=1):
    """Output size of ``keras.layers.Conv2D``, as Keras computes it.

    ``'valid'``: ``floor((size - dilation_rate * (kernel_size - 1) - 1) / strides) + 1``;
    ``'same'``: ``ceil(size / strides)``. Used by ch. 1 and ch. 3-4.

    Parameters
    ----------
    size : int or tuple of int
        Input size, or ``(H, W)``; the result has the same form.
    kernel_size, strides, dilation_rate : int or tuple of int
    padding : {'valid', 'same'}

    Returns
    -------
    int or tuple of int

    Raises
    ------
    ValueError
        If the output would be zero or negative; the message names the smallest input that works.
    TypeError
        If ``size`` or an argument has the wrong type.

    Examples
    --------
    >>> conv_output_size(128, 3)
    126
    >>> conv_output_size((197, 233), 3, strides=2, padding="same")
    (99, 117)
    >>> conv_output_size(2, 3)
    Traceback (most recent call last):
    ...
    ValueError: Conv2D(kernel_size=(3, 3), ...) cannot take an input height of 2: the output
    would be 0 (zero or negative). The smallest input height that works is 3; ...
    """
    spec = LayerSpec(
        "conv",
        kernel_size=kernel_size,
        strides=strides,
        padding=padding,
        dilation_rate=dilation_rate,
    )
    return _output_size(spec, size)


def pool_output_size(size, pool_size, strides=None, padding="valid"):
    """Output size of ``MaxPooling2D`` / ``AveragePooling2D`` (``strides=None``: ``pool_size``).

    ``'valid'``: ``floor((size - pool_size) / strides) + 1``; ``'same'``: ``ceil(size / strides)``.
    Used by ch. 1 and ch. 3.

    Parameters
    ----------
    size : int or tuple of int
        Input size, or ``(H, W)``; the result has the same form.
    pool_size : int or tuple of int
    strides : int or tuple of int, optional
        Default: ``pool_size``.
    padding : {'valid', 'same'}

    Returns
    -------
    int or tuple of int

    Examples
    --------
    >>> pool_output_size(126, 2, strides=3)
    42
    >>> pool_output_size((129, 128), 2)
    (64, 64)
    """
    return _output_size(
        LayerSpec("max_pool", kernel_size=pool_size, strides=strides, padding=padding), size
    )


def upsample_output_size(size, size_factor):
    """Output size of ``UpSampling2D(size=size_factor)``: ``size * size_factor``. Used by ch. 1, 3.

    Parameters
    ----------
    size : int or tuple of int
        Input size, or ``(H, W)``; the result has the same form.
    size_factor : int or tuple of int
        Keras' ``size`` argument of UpSampling2D.

    Returns
    -------
    int or tuple of int

    Examples
    --------
    >>> upsample_output_size(40, 2)
    80
    >>> upsample_output_size((64, 64), (2, 3))
    (128, 192)
    """
    return _output_size(LayerSpec("upsample", size=size_factor), size)


def conv_transpose_output_size(
    size, kernel_size, strides=1, padding="valid", output_padding=None, dilation_rate=1
):
    """Output size of ``keras.layers.Conv2DTranspose``, as Keras and TensorFlow compute it.

    With ``output_padding=None``: ``'same'`` gives ``size * strides`` and ``'valid'`` gives
    ``(size - 1) * strides + max(k, strides)`` with ``k = dilation_rate * (kernel_size - 1) + 1``.
    With an ``output_padding``: ``(size - 1) * strides + k + output_padding`` (``'valid'``) or
    ``(size - 1) * strides + k % 2 + output_padding`` (``'same'``). Used by ch. 1 and ch. 5.

    Parameters
    ----------
    size : int or tuple of int
        Input size, or ``(H, W)``; the result has the same form.
    kernel_size, strides, dilation_rate : int or tuple of int
    padding : {'valid', 'same'}
    output_padding : int or tuple of int, optional
        Each value in ``[0, strides)``.

    Returns
    -------
    int or tuple of int

    Raises
    ------
    ValueError
        If the output would be zero or negative, or TensorFlow rejects the combination ('same',
        even kernel, ``output_padding=0``).

    Examples
    --------
    >>> conv_transpose_output_size(64, 3, strides=2, padding="same")
    128
    >>> conv_transpose_output_size(65, 3, strides=2, padding="same", output_padding=0)
    129
    """
    spec = LayerSpec(
        "conv_transpose",
        kernel_size=kernel_size,
        strides=strides,
        padding=padding,
        output_padding=output_padding,
        dilation_rate=dilation_rate,
    )
    return _output_size(spec, size)


def crop_output_size(size, cropping):
    """Output size of ``Cropping2D(cropping)``. Used by ch. 3 (cropping the output to fit).

    Parameters
    ----------
    size : int or tuple of int
        Input size, or ``(H, W)``; the result has the same form.
    cropping : int, tuple of int or tuple of tuple of int
        As Keras: ``c``, ``(rows, cols)`` or ``((top, bottom), (left, right))``.

    Returns
    -------
    int or tuple of int

    Examples
    --------
    >>> crop_output_size(130, 1)
    128
    >>> crop_output_size((130, 131), ((1, 1), (2, 1)))
    (128, 128)
    """
    return _output_size(LayerSpec("crop", margins=cropping), size)


def pad_output_size(size, padding):
    """Output size of ``ZeroPadding2D(padding)``. Used by ch. 3 (padding the input to fit).

    Parameters
    ----------
    size : int or tuple of int
        Input size, or ``(H, W)``; the result has the same form.
    padding : int, tuple of int or tuple of tuple of int
        As Keras: ``p``, ``(rows, cols)`` or ``((top, bottom), (left, right))``.

    Returns
    -------
    int or tuple of int

    Examples
    --------
    >>> pad_output_size(126, 1)
    128
    >>> pad_output_size((127, 126), ((0, 1), (1, 1)))
    (128, 128)
    """
    return _output_size(LayerSpec("zero_pad", margins=padding), size)


def output_padding_for(size, kernel_size, strides, padding="valid"):
    """The ``output_padding`` that makes a transposed convolution give back ``size`` (ch. 5).

    A ``Conv2D(kernel_size, strides, padding)`` maps ``strides`` consecutive input sizes to one
    encoded size, so the ``Conv2DTranspose`` with the same arguments cannot know which to
    restore; ``output_padding`` tells it. Dumoulin & Visin (2016, relationship 14):
    ``a = (size + 2p - kernel_size) mod strides``, with ``p = 0`` for ``'valid'`` and
    ``p = (kernel_size - 1) / 2`` for ``'same'`` (odd kernels). Even kernels with ``'same'`` are
    padded asymmetrically by TensorFlow; the value returned is then the one Keras needs,
    ``size - (encoded - 1) * strides``, when it lies in ``[0, strides)``.

    Parameters
    ----------
    size : int
        Height or width of the encoder's input, the size to restore.
    kernel_size, strides : int
        Of the encoder's ``Conv2D`` and of the decoder's ``Conv2DTranspose`` (the same).
    padding : {'valid', 'same'}

    Returns
    -------
    int
        ``output_padding`` in ``[0, strides)`` for ``Conv2DTranspose``.

    Raises
    ------
    ValueError
        If no ``output_padding`` restores ``size`` (``'same'`` with an even kernel and ``size`` a
        multiple of ``strides``: use ``output_padding=None``, which gives ``encoded * strides``),
        or ``size`` is too small for the convolution.

    References
    ----------
    V. Dumoulin and F. Visin, "A guide to convolution arithmetic for deep learning", 2016,
    relationship 14. https://arxiv.org/abs/1603.07285

    Examples
    --------
    >>> output_padding_for(128, 3, 2, "same"), output_padding_for(129, 3, 2, "same")
    (1, 0)
    >>> output_padding_for(129, 3, 2, "valid")
    0
    >>> output_padding_for(128, 4, 2, "same")
    Traceback (most recent call last):
    ...
    ValueError: No output_padding in [0, 2) makes Conv2DTranspose(kernel_size=4, strides=2, ...
    """
    spec = LayerSpec("conv", kernel_size=kernel_size, strides=strides, padding=padding)
    if not isinstance(size, int) or isinstance(size, bool):
        raise TypeError(f"size must be an int, got {type(size).__name__} {size!r}.")
    (k, _), (s, _) = spec.kernel_size, spec.strides
    encoded = _axis_size(spec, 0, size)
    # Keras' transposed convolution: (encoded - 1) * s + k - 2p + a, with 2p = k - k % 2 for 'same'.
    cropped = k - k % 2 if spec.padding == "same" else 0
    needed = size - ((encoded - 1) * s + k - cropped)
    if not 0 <= needed < s:
        raise ValueError(
            f"No output_padding in [0, {s}) makes Conv2DTranspose(kernel_size={k}, strides={s}, "
            f"padding={spec.padding!r}) give back {size} from {encoded} (it would need {needed}). "
            f"Use output_padding=None ({encoded * s}), an odd kernel_size or padding='valid'."
        )
    return needed


def transpose_overlap(size, kernel_size, strides, padding="valid", output_padding=None):
    """How many kernel taps land on each output pixel of a transposed convolution (ch. 5).

    A transposed convolution paints a copy of its kernel, scaled by each input value, every
    ``strides`` output pixels. With a constant input and an all-ones kernel its output is this
    count; when ``kernel_size`` is not a multiple of ``strides`` the count alternates (uneven
    overlap), which is where checkerboard artifacts come from (Odena et al., 2016). A 2-D layer's
    count is the outer product of the counts along height and width.

    Parameters
    ----------
    size : int
        Input height or width.
    kernel_size, strides : int
    padding : {'valid', 'same'}
    output_padding : int, optional
        As Keras.

    Returns
    -------
    tuple of int
        One count per output pixel (the length is :func:`conv_transpose_output_size`).

    References
    ----------
    A. Odena, V. Dumoulin and C. Olah, "Deconvolution and Checkerboard Artifacts", Distill,
    2016. https://doi.org/10.23915/distill.00003

    Examples
    --------
    >>> transpose_overlap(4, 3, 2, "same")
    (1, 1, 2, 1, 2, 1, 2, 1)
    >>> transpose_overlap(4, 4, 2, "same")
    (1, 2, 2, 2, 2, 2, 2, 1)
    """
    if not _is_int(size):
        raise TypeError(
            f"transpose_overlap counts along one axis: size must be an int (the input height or "
            f"width), got {type(size).__name__} {size!r}. For a 2-D layer take the outer product "
            "of the counts along each axis."
        )
    size = int(size)
    spec = LayerSpec(
        "conv_transpose",
        kernel_size=kernel_size,
        strides=strides,
        padding=padding,
        output_padding=output_padding,
    )
    n_out = _output_size(spec, size)
    k, s = spec.kernel_size[0], spec.strides[0]
    before = _axis_step(spec, 0, size, n_out).offset
    counts = [0] * n_out
    for position in range(size):
        for tap in range(k):
            pixel = position * s + tap - before
            if 0 <= pixel < n_out:
                counts[pixel] += 1
    return tuple(counts)


# --------------------------------------------------------------------------- Keras in and out


@functools.cache
def fit_layers():
    """The two Keras layers that let a model take images of any height and width.

    ``PadToMultiple(multiple)`` zero-pads the bottom rows and right columns of an
    ``(N, H, W, C)`` batch up to the next multiple of ``multiple`` (an int or ``(rows, cols)``),
    computed at run time, so ``H`` and ``W`` may be ``None``. ``CropToInput()``, called on
    ``[output, model_input]``, keeps the top-left ``H × W`` of ``output``. Padding only at the
    bottom and right leaves every pixel at its index: output pixel ``(i, j)`` reconstructs input
    pixel ``(i, j)`` and receptive fields are unchanged. :func:`trace` reads both (kinds
    ``'pad_to_multiple'`` and ``'crop_to_input'``).

    The classes are created and registered with
    ``keras.saving.register_keras_serializable(package="cae_lessons")`` on the first call (which
    imports Keras; importing this module does not). To load a saved model that uses them in a new
    process, call this first or use :func:`cae_lessons.models.load_model`; the command line does
    it itself. Used by :func:`cae_lessons.models.build_cae` (``input_shape=(None, None, C)``) for
    ch. 6 "MRI of varying resolutions".

    Returns
    -------
    tuple of type
        ``(PadToMultiple, CropToInput)``, subclasses of ``keras.layers.Layer``.

    Examples
    --------
    >>> import numpy as np
    >>> PadToMultiple, CropToInput = fit_layers()
    >>> x = np.ones((1, 5, 7, 1), np.float32)
    >>> padded = PadToMultiple(4)(x)
    >>> tuple(padded.shape), float(padded[0, 5, 0, 0]), float(padded[0, 0, 7, 0])
    ((1, 8, 8, 1), 0.0, 0.0)
    >>> tuple(CropToInput()([padded, x]).shape)
    (1, 5, 7, 1)
    """
    import keras
    from keras import ops

    register = keras.saving.register_keras_serializable(package="cae_lessons")

    @register
    class PadToMultiple(keras.layers.Layer):
        """Zero-pad height and width at the bottom and right up to a multiple of ``multiple``."""

        def __init__(self, multiple, **kwargs):
            super().__init__(**kwargs)
            self.multiple = _pair(multiple, "multiple")

        def call(self, inputs):
            shape = ops.shape(inputs)
            rows, cols = ((-shape[axis]) % m for axis, m in zip((1, 2), self.multiple, strict=True))
            return ops.pad(inputs, [[0, 0], [0, rows], [0, cols], [0, 0]])

        def compute_output_shape(self, input_shape):
            sizes = (
                None if n is None else -(-n // m) * m
                for n, m in zip(input_shape[1:3], self.multiple, strict=True)
            )
            return (input_shape[0], *sizes, input_shape[3])

        def get_config(self):
            return {**super().get_config(), "multiple": self.multiple}

    @register
    class CropToInput(keras.layers.Layer):
        """Crop ``output`` to the height and width of ``reference``: call on ``[output, ref]``."""

        def call(self, inputs):
            output, reference = inputs
            shape = ops.shape(reference)
            return output[:, : shape[1], : shape[2], :]

        def compute_output_shape(self, input_shape):
            output, reference = input_shape
            sizes = (
                None if None in (n, limit) else min(n, limit)
                for n, limit in zip(output[1:3], reference[1:3], strict=True)
            )
            return (output[0], *sizes, output[3])

    return PadToMultiple, CropToInput


def build_model(
    layers: Sequence[LayerSpec],
    input_shape,
    *,
    activation=None,
    output_activation=None,
    name: str | None = None,
):
    """Build a Keras Sequential model from layer specs, e.g. to run a :class:`Fix` for real.

    Convolutions get ``filters`` (default: the input channels); every convolution but the last
    gets ``activation`` and the last gets ``output_activation`` (both linear by default); a
    ``'neutral'`` spec becomes ``Activation('linear')``. Imports Keras. Used by ch. 3-5 and by
    :func:`cae_lessons.models.build_cae`.

    Parameters
    ----------
    layers : sequence of LayerSpec or dict
    input_shape : tuple of int
        ``(H, W, C)``.
    activation, output_activation : str, optional
        Keras activation names.
    name : str, optional
        The model's name.

    Returns
    -------
    keras.Sequential
        Not compiled.

    Examples
    --------
    >>> model = build_model([LayerSpec("conv", kernel_size=3, filters=4)], (9, 9, 1))
    >>> model.output_shape
    (None, 7, 7, 4)
    """
    import keras

    specs, shape = _as_specs(layers, input_shape)
    convs = [i for i, spec in enumerate(specs) if spec.kind in ("conv", "conv_transpose")]
    built = [
        _keras_layer(
            keras.layers,
            spec,
            spec.name or f"{spec.kind}_{index}",
            shape[2],
            output_activation if convs and index == convs[-1] else activation,
        )
        for index, spec in enumerate(specs)
    ]
    return keras.Sequential([keras.Input(shape), *built], name=name)


def _keras_layer(layers, spec: LayerSpec, name: str, channels: int, activation=None):
    window = {"strides": spec.strides, "padding": spec.padding, "name": name}
    if spec.kind in _POOLS:
        pool = layers.MaxPooling2D if spec.kind == "max_pool" else layers.AveragePooling2D
        return pool(spec.kernel_size, **window)
    if spec.kind in ("conv", "conv_transpose"):
        conv = layers.Conv2D if spec.kind == "conv" else layers.Conv2DTranspose
        extra = {"output_padding": spec.output_padding} if spec.kind == "conv_transpose" else {}
        filters = spec.filters or channels
        return conv(
            filters,
            spec.kernel_size,
            dilation_rate=spec.dilation_rate,
            activation=activation,
            **window,
            **extra,
        )
    if spec.kind == "upsample":
        return layers.UpSampling2D(spec.size, interpolation=spec.interpolation, name=name)
    if spec.kind == "resize":
        return layers.Resizing(*spec.target, interpolation=spec.interpolation, name=name)
    if spec.kind in ("crop", "zero_pad"):
        margin = layers.Cropping2D if spec.kind == "crop" else layers.ZeroPadding2D
        return margin(spec.margins, name=name)
    if spec.kind == "pad_to_multiple":
        return fit_layers()[0](spec.multiple, name=name)
    if spec.kind == "crop_to_input":
        raise ValueError(
            f"{spec.describe()} crops back to the model input, which a keras.Sequential cannot "
            f"pass to it. Build a functional model (cae_lessons.models.build_cae(input_shape="
            f"(None, None, C), fit_input='pad') does), or trace the layer list instead."
        )
    return layers.Activation("linear", name=name)


def _short_label(spec: LayerSpec) -> str:
    """A layer in a few characters, e.g. ``'Conv2D k3 s2 same'`` or ``'UpSampling2D ×2'``."""
    if spec.kind == "upsample":
        return f"UpSampling2D ×{_both(*spec.size)}"
    if spec.kind not in _WINDOWS and spec.kind != "conv_transpose":
        return spec.describe()
    label = (
        f"{KERAS_NAMES[spec.kind]} k{_both(*spec.kernel_size)} s{_both(*spec.strides)} "
        f"{spec.padding}"
    )
    if spec.dilation_rate != (1, 1):
        label += f" d{_both(*spec.dilation_rate)}"
    if spec.output_padding is not None:
        label += f" op{_both(*spec.output_padding)}"
    return label


@dataclass(frozen=True)
class SizeCheck:
    """Output sizes of one-layer models by this module's formulas and by real Keras layers.

    Built by :func:`check_sizes_against_keras` (ch. 1). A size is ``None`` where the formula
    raises (a zero or negative output) or Keras refuses the input.

    Attributes
    ----------
    labels : tuple of str
        One short layer description per row.
    sizes : tuple of int
        The square input sizes, one per column.
    formula, keras : tuple of tuple of int or None
        ``[row][column]`` output side from the formula and from the Keras layer's forward pass.
    """

    labels: tuple[str, ...]
    sizes: tuple[int, ...]
    formula: tuple[tuple[int | None, ...], ...]
    keras: tuple[tuple[int | None, ...], ...]

    @property
    def n_cases(self) -> int:
        """Number of (layer, input size) cases."""
        return len(self.labels) * len(self.sizes)

    @property
    def n_agree(self) -> int:
        """Cases in which the formula and Keras give the same size (or both refuse)."""
        return sum(
            f == k
            for fs, ks in zip(self.formula, self.keras, strict=True)
            for f, k in zip(fs, ks, strict=True)
        )

    @property
    def agree(self) -> bool:
        """True when every case agrees."""
        return self.n_agree == self.n_cases

    def _cells(self) -> list[list[str]]:
        def cell(f, k):
            show = "-" if f is None else str(f)
            return show if f == k else f"{show}≠{'-' if k is None else k}"

        return [
            [label, *(cell(f, k) for f, k in zip(fs, ks, strict=True))]
            for label, fs, ks in zip(self.labels, self.formula, self.keras, strict=True)
        ]

    def _verdict(self) -> str:
        return f"{self.n_agree} of {self.n_cases} cases agree with Keras" + (
            "." if self.agree else " (≠: formula≠Keras; -: refused)."
        )

    def __str__(self) -> str:
        header = ["layer \\ input", *(str(n) for n in self.sizes)]
        lines = [header, *self._cells()]
        widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
        text = [
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(line, widths, strict=True))
            )
            for line in lines
        ]
        return "\n".join([*text, self._verdict()])

    __repr__ = __str__

    def _repr_html_(self) -> str:
        def row(tag: str, cells) -> str:
            left, *numbers = (html.escape(c) for c in cells)
            pad = "padding:0 0.6em"
            return (
                f'<tr><{tag} style="{pad};text-align:left">{left}</{tag}>'
                + "".join(f'<{tag} style="{pad};text-align:right">{n}</{tag}>' for n in numbers)
                + "</tr>"
            )

        head = row("th", ["layer \\ input", *map(str, self.sizes)])
        body = "".join(row("td", line) for line in self._cells())
        return (
            f"<table><thead>{head}</thead><tbody>{body}</tbody></table>"
            f"<p>{html.escape(self._verdict())}</p>"
        )


def _keras_height(layer, n: int) -> int | None:
    """The height of ``layer``'s output on a ``(1, n, n, 1)`` zero image, or None if empty.

    The forward pass runs only where Keras' own shape rule promises a non-empty output: on an
    empty one TensorFlow's oneDNN pooling kernels abort or kill the process (SIGFPE), where the
    default kernels return an empty tensor, so the answer is read without running them.
    """
    import numpy as np

    try:
        declared = layer.compute_output_shape((1, n, n, 1))
    except ValueError:  # Keras refusing the input is a result here
        return None
    if min(declared[1:3]) < 1:
        return None
    try:
        out = int(layer(np.zeros((1, n, n, 1), np.float32)).shape[1])
    except Exception:  # Keras or TensorFlow refusing the input is a result here
        return None
    return out if out > 0 else None


def check_sizes_against_keras(
    layers: Sequence[LayerSpec | dict], sizes: Sequence[int]
) -> SizeCheck:
    """Compare the output-size formulas with real Keras layers on square inputs.

    For every layer and every input side ``n``, the formula's answer (:func:`trace` of the
    one-layer list) is set against the height of a real Keras layer's output on an
    ``(1, n, n, 1)`` zero image (a forward pass, not ``compute_output_shape``). Imports Keras.
    Used by ch. 1 "Shape arithmetic in one page" for its table of formulas against Keras.

    Parameters
    ----------
    layers : sequence of LayerSpec or dict
        Layers with square arguments (the same along both axes).
    sizes : sequence of int
        Input sides, each ``>= 1``.

    Returns
    -------
    SizeCheck

    Raises
    ------
    ValueError
        If ``sizes`` is empty or holds a side below 1, or a layer's arguments differ between
        height and width.

    Examples
    --------
    >>> check = check_sizes_against_keras(
    ...     [LayerSpec("conv", kernel_size=3), LayerSpec("max_pool", kernel_size=2, strides=3)],
    ...     [128, 129])
    >>> print(check)
    layer \\ input              128  129
    Conv2D k3 s1 valid         126  127
    MaxPooling2D k2 s3 valid    43   43
    4 of 4 cases agree with Keras.
    """
    import keras

    specs, _ = _as_specs(layers, (1, 1, 1))
    check_cpu_kernels(specs, (1, 1, 1))
    if not sizes or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in sizes
    ):
        raise ValueError(f"sizes must be a non-empty list of ints >= 1, got {sizes!r}.")
    for spec in specs:
        flipped = replace(
            spec,
            kernel_size=spec.kernel_size[::-1],
            strides=spec.strides[::-1],
            dilation_rate=spec.dilation_rate[::-1],
            size=spec.size[::-1],
        )
        if flipped != spec:
            raise ValueError(
                f"{spec.describe()} differs between height and width; check_sizes_against_keras "
                "compares square layers on square inputs. Give one value per argument."
            )
    formula, real = [], []
    for index, spec in enumerate(specs):
        layer = _keras_layer(keras.layers, spec, f"size_check_{index}", 1)
        row_formula, row_keras = [], []
        for n in sizes:
            try:
                row_formula.append(_output_size(spec, n))
            except ValueError:
                row_formula.append(None)
            row_keras.append(_keras_height(layer, n))
        formula.append(tuple(row_formula))
        real.append(tuple(row_keras))
    return SizeCheck(
        tuple(_short_label(s) for s in specs), tuple(sizes), tuple(formula), tuple(real)
    )


@functools.cache
def _keras_classes() -> tuple[tuple[str, type], ...]:
    """``(kind, class)`` for every layer trace reads; subclasses count as their base."""
    import keras

    pad_to_multiple, crop_to_input = fit_layers()
    ours = {"pad_to_multiple": pad_to_multiple, "crop_to_input": crop_to_input}
    classes = [("input", keras.layers.InputLayer)]
    classes += [
        (kind, ours.get(kind) or getattr(keras.layers, name)) for kind, name in KERAS_NAMES.items()
    ]
    classes += [("neutral", getattr(keras.layers, name)) for name in NEUTRAL_LAYERS]
    return tuple(classes)


def layer_kind(layer) -> str | None:
    """The LayerSpec kind of a Keras layer: ``'input'`` for an InputLayer, ``None`` if unknown.

    A layer counts as the Keras class it is an instance of, so a subclass of ``Conv2D`` is a
    ``'conv'``. Imports Keras.

    Examples
    --------
    >>> import keras
    >>> class MyConv(keras.layers.Conv2D):
    ...     pass
    >>> layer_kind(MyConv(4, 3)), layer_kind(keras.layers.ReLU()), layer_kind(keras.layers.Dense(2))
    ('conv', 'neutral', None)
    """
    # Conv2DTranspose is not a Conv2D in Keras 3, so the first match is the only one.
    return next((kind for kind, cls in _keras_classes() if isinstance(layer, cls)), None)


def _spec_from_keras(layer) -> LayerSpec | None:
    """LayerSpec of a Keras layer, ``None`` for an InputLayer; ValueError for unknown layers."""
    kind = layer_kind(layer)
    config = layer.get_config()
    if kind == "input":
        return None
    if config.get("data_format", "channels_last") not in ("channels_last", None):
        raise ValueError(
            f"Layer {layer.name!r} uses data_format={config['data_format']!r}; trace reads "
            f"channels_last models only (N, H, W, C). Rebuild it with data_format='channels_last'."
        )
    if kind == "neutral":
        return LayerSpec("neutral", name=layer.name)
    if kind == "resize":
        interpolation = config["interpolation"]
        if config["crop_to_aspect_ratio"] or config["pad_to_aspect_ratio"]:
            interpolation += " with aspect-ratio crop/pad"
        target = (config["height"], config["width"])
        return LayerSpec(kind, name=layer.name, target=target, interpolation=interpolation)
    if kind in ("crop", "zero_pad"):
        return LayerSpec(
            kind, name=layer.name, margins=config["cropping" if kind == "crop" else "padding"]
        )
    if kind == "upsample":
        return LayerSpec(
            kind, name=layer.name, size=config["size"], interpolation=config["interpolation"]
        )
    if kind == "pad_to_multiple":
        return LayerSpec(kind, name=layer.name, multiple=config["multiple"])
    if kind == "crop_to_input":
        return LayerSpec(kind, name=layer.name)
    args = {
        "kernel_size": config["pool_size" if kind in _POOLS else "kernel_size"],
        "strides": config["strides"],
        "padding": config["padding"],
    }
    if kind != "max_pool" and kind != "avg_pool":
        args.update(dilation_rate=config["dilation_rate"], filters=config["filters"])
    if kind == "conv_transpose":
        args["output_padding"] = config["output_padding"]
    return LayerSpec(kind, name=layer.name, **args)


def _chain_of_calls(model) -> list:
    """The layers of a Keras model in the order its one path from input to output calls them.

    A ``Sequential`` model is its ``layers``. A functional model is walked from its output back
    through the calls that made it (a layer called twice appears twice). Anything that is not
    one chain is refused with the reason rather than traced wrongly: several inputs or outputs,
    a merge (``Add``, ``Concatenate``, ``a + b``, ``keras.ops``), or a subclassed model, whose
    call order cannot be read from its attributes.
    """
    import keras

    name = getattr(model, "name", type(model).__name__)
    if isinstance(model, keras.Sequential):
        return list(model.layers)
    if not hasattr(model, "operations"):
        raise ValueError(
            f"trace cannot read the model {name!r} ({type(model).__name__}): a subclassed "
            "keras.Model's call order is not in its attributes, and its layers in attribute "
            "order may not be the order call() uses them. Trace the list of its layers in call "
            "order (trace([layer, ...], input_shape=(H, W, C))) or rebuild it as a Sequential or "
            "functional model."
        )
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ValueError(
            f"trace reads a model with one input and one output; {name!r} has "
            f"{len(model.inputs)} input(s) {[tuple(t.shape) for t in model.inputs]} and "
            f"{len(model.outputs)} output(s) {[tuple(t.shape) for t in model.outputs]}. Trace "
            "each path from an input to an output as a list of its layers."
        )
    # Keras 3 has no public graph API: walk the nodes its functional models are made of (the
    # data keras.Model.get_config serialises), one node per call of a layer.
    calls, tensor = [], model.outputs[0]
    while True:
        operation, node_index, _ = tensor._keras_history
        if isinstance(operation, keras.layers.InputLayer):
            break
        inputs = operation._inbound_nodes[node_index].input_tensors
        what = f"{operation.name!r} ({type(operation).__name__})"
        if not isinstance(operation, keras.layers.Layer):
            raise ValueError(
                f"trace reads chains of layers; {name!r} applies the operation {what}, written "
                "as an operator or a keras.ops call (e.g. a + b). Trace the main path as a list "
                "of its layers and check the merge's shapes with trace() on each branch."
            )
        if layer_kind(operation) == "crop_to_input" and len(inputs) == 2:
            if inputs[1] is not model.inputs[0]:
                raise ValueError(
                    f"In {name!r}, {what} crops to a tensor other than the model's input; trace "
                    "reads CropToInput()([output, model_input]) only."
                )
            inputs = inputs[:1]  # the reference is the model's input: the path is inputs[0]
        if len(inputs) != 1:
            raise ValueError(
                f"trace reads chains of layers; in {name!r}, {what} merges {len(inputs)} "
                f"tensors of shapes {[tuple(t.shape) for t in inputs]}. Trace each branch as a "
                "list of its layers."
            )
        calls.append(operation)
        tensor = inputs[0]
    return [operation, *reversed(calls)]


def _as_specs(model_or_layers, input_shape) -> tuple[tuple[LayerSpec, ...], tuple[int, int, int]]:
    """Layer specs and the ``(H, W, C)`` input shape of a model, a layer list or a spec list."""
    if hasattr(model_or_layers, "layers") and hasattr(model_or_layers, "get_config"):
        layers = _chain_of_calls(model_or_layers)  # a Keras model: the path it calls
    else:
        layers = getattr(model_or_layers, "layers", model_or_layers)
    if isinstance(layers, str | bytes) or not isinstance(layers, Sequence):
        raise TypeError(
            f"trace expects a Keras model or a list of layers / LayerSpec / dicts, got "
            f"{type(model_or_layers).__name__}."
        )
    unknown = [
        f"{layer.name!r} ({type(layer).__name__})"
        for layer in layers
        if hasattr(layer, "get_config") and layer_kind(layer) is None
    ]
    if unknown:
        known = ", ".join(["InputLayer", *KERAS_NAMES.values(), *NEUTRAL_LAYERS])
        raise ValueError(
            f"trace does not know the layer(s) {', '.join(unknown)}: it reads only {known}. "
            f"Remove them or trace a list of LayerSpec that describes their effect on the shape."
        )
    specs = []
    for item in layers:
        if isinstance(item, LayerSpec):
            specs.append(item)
        elif isinstance(item, dict):
            specs.append(LayerSpec(**item))
        elif hasattr(item, "get_config"):
            spec = _spec_from_keras(item)
            if spec is not None:
                specs.append(spec)
        else:
            raise TypeError(
                f"Layer entries must be Keras layers, LayerSpec or dicts, got "
                f"{type(item).__name__} {item!r}."
            )
    return tuple(specs), _input_shape(model_or_layers, layers, input_shape)


def _input_shape(model, layers, input_shape) -> tuple[int, int, int]:
    declared = None
    if getattr(model, "inputs", None):
        declared = tuple(model.inputs[0].shape[1:])
    elif layers and hasattr(layers[0], "get_config") and layer_kind(layers[0]) == "input":
        declared = tuple(layers[0].get_config()["batch_shape"][1:])
    shape = declared if input_shape is None else tuple(input_shape)
    if shape is None:
        raise ValueError(
            "The input shape is unknown: pass input_shape=(H, W) or (H, W, C), e.g. "
            "trace(layers, input_shape=(128, 128, 1))."
        )
    if len(shape) == 2:
        shape = (*shape, declared[-1] if declared and declared[-1] else 1)
    if (
        len(shape) != 3
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in shape)
        or min(shape) < 1
    ):
        raise ValueError(
            f"input_shape must be (H, W) or (H, W, C) with positive ints, got {shape}. "
            "A model built with keras.Input((None, None, 1)) needs input_shape=(H, W), e.g. "
            "trace(model, input_shape=(197, 233)); on the command line, --input 197x233."
        )
    return shape


# --------------------------------------------------------------------------- trace


@dataclass(frozen=True)
class TraceRow:
    """One layer of a :class:`ShapeTrace`.

    Attributes
    ----------
    name, kind : str
    kernel_size, strides : tuple of int or None
        ``None`` for layers without a window.
    padding : str or None
    input_shape, output_shape : tuple of int
        ``(H, W, C)``.
    kept : float
        Output values (H * W * C) over the model input's values.
    receptive_field : tuple of int or None
        Receptive field ``(rows, cols)`` in input pixels (largest over the layer's units);
        ``None`` after a resize whose interpolation is not modelled (bicubic, area, ...).
    jump : tuple of fractions.Fraction
        Effective stride ``(rows, cols)`` in input pixels.
    note : str
        What the layer does to the size when it loses, adds or mismatches pixels, else ``''``.
    loses : bool
        True when the layer drops, trims or crops pixels, or does not undo its encoder partner.
    """

    name: str
    kind: str
    kernel_size: Pair | None
    strides: Pair | None
    padding: str | None
    input_shape: tuple[int, int, int]
    output_shape: tuple[int, int, int]
    kept: float
    receptive_field: Pair | None
    jump: tuple[Fraction, Fraction]
    note: str
    loses: bool


def _hw(shape) -> str:
    return f"{shape[0]}×{shape[1]}"


def _hwc(shape) -> str:
    return "×".join(str(v) for v in shape)


def _both(rows, cols) -> str:
    """``'2'`` when both axes agree, else ``'2×3'``."""
    return str(rows) if rows == cols else f"{rows}×{cols}"


@dataclass(frozen=True)
class ShapeTrace:
    """Layer-by-layer shapes of a model, computed without running it.

    Attributes
    ----------
    input_shape, output_shape : tuple of int
        ``(H, W, C)`` of the model input and of the last layer.
    rows : tuple of TraceRow
        One per layer (the InputLayer excluded).
    bottleneck : TraceRow
        The layer with the smallest height × width (ties: not the last layer, whose output is the
        reconstruction, then the fewest values).
    compression_ratio : float
        Input values over bottleneck values; below 1 the bottleneck is LARGER than the input.
    matches_input : bool
        True when the output shape equals the input shape.
    first_problem : int or None
        Index into ``rows`` of the first layer that loses pixels or mismatches, or of the last
        layer when only the final size is wrong.
    """

    input_shape: tuple[int, int, int]
    output_shape: tuple[int, int, int]
    rows: tuple[TraceRow, ...]
    bottleneck: TraceRow
    compression_ratio: float
    matches_input: bool
    first_problem: int | None
    steps: tuple[tuple[AxisStep, ...], tuple[AxisStep, ...]] = field(repr=False, compare=False)

    def support(self, layer: int | str, position: tuple[int, int]):
        """Input pixels that can change one unit, as ``((first_row, stop_row), (first_col,
        stop_col))`` (inclusive-exclusive, clipped to the image); ``None`` if no pixel reaches it.

        Parameters
        ----------
        layer : int or str
            Index into ``rows`` or a layer name.
        position : tuple of int
            ``(row, col)`` of the unit in that layer's output.

        Examples
        --------
        >>> t = trace([LayerSpec("conv", kernel_size=3), LayerSpec("max_pool", kernel_size=2)],
        ...           input_shape=(8, 8))
        >>> t.support(1, (0, 2))
        ((0, 4), (4, 8))
        """
        names = [row.name for row in self.rows]
        index = names.index(layer) if isinstance(layer, str) else layer
        boxes = tuple(
            support(axis[: index + 1], p) for axis, p in zip(self.steps, position, strict=True)
        )
        return None if None in boxes else boxes

    def summary(self) -> str:
        """One paragraph: round trip, bottleneck and compression."""
        verdict = (
            "round-trips"
            if self.matches_input
            else f"does NOT round-trip: output {_hwc(self.output_shape)}"
        )
        bigger = (
            " (the bottleneck is LARGER than the input: nothing forces compression)"
            if self.compression_ratio < 1
            else ""
        )
        return (
            f"Input {_hwc(self.input_shape)} {verdict}. Bottleneck {self.bottleneck.name!r} "
            f"{_hwc(self.bottleneck.output_shape)}: compression {self.compression_ratio:.2f}×"
            f"{bigger}."
        )

    def _cells(self) -> list[list[str]]:
        cells = []
        for row in self.rows:
            window = "" if row.kernel_size is None else _both(*row.kernel_size)
            stride = "" if row.strides is None else _both(*row.strides)
            cells.append(
                [
                    row.name,
                    row.kind,
                    window,
                    stride,
                    row.padding or "",
                    _hwc(row.input_shape),
                    _hwc(row.output_shape),
                    f"{row.kept:.2f}",
                    "?" if row.receptive_field is None else _both(*row.receptive_field),
                    _both(*row.jump),
                    row.note,
                ]
            )
        return cells

    _HEADER = (
        "layer",
        "kind",
        "kernel",
        "strides",
        "padding",
        "input",
        "output",
        "kept",
        "RF",
        "jump",
        "note",
    )

    def __str__(self) -> str:
        cells = [list(self._HEADER), *self._cells()]
        widths = [max(len(line[i]) for line in cells) for i in range(len(self._HEADER))]
        lines = []
        for index, line in enumerate(cells):
            mark = ">>" if index - 1 == self.first_problem else "  "
            lines.append(
                mark + " " + "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True))
            )
        return "\n".join([*(line.rstrip() for line in lines), self.summary()])

    __repr__ = __str__

    def _repr_html_(self) -> str:
        # Numbers stay on one line; only the last column (the note) wraps, and the table
        # scrolls sideways in a narrow page instead of growing very tall rows.
        fixed, note = "white-space:nowrap;padding:0 0.5em", "min-width:22em;padding:0 0.5em"
        head = "".join(
            f'<th style="{note if i == len(self._HEADER) - 1 else fixed}">{html.escape(h)}</th>'
            for i, h in enumerate(self._HEADER)
        )
        body = []
        for index, line in enumerate(self._cells()):
            style = ' style="background:#fdd"' if index == self.first_problem else ""
            tds = "".join(
                f'<td style="{note if i == len(line) - 1 else fixed}">{html.escape(c)}</td>'
                for i, c in enumerate(line)
            )
            body.append(f"<tr{style}>{tds}</tr>")
        return (
            f'<div style="overflow-x:auto"><table><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>"
            f"<p>{html.escape(self.summary())}</p>"
        )


def _axis_step(spec: LayerSpec, axis: int, n_in: int, n_out: int) -> AxisStep:
    """The receptive-field view of one layer along one axis."""
    if spec.kind in ("upsample", "resize"):
        return AxisStep("resize", n_in, n_out, interpolation=spec.interpolation)
    if spec.kind in ("crop", "zero_pad", "pad_to_multiple", "crop_to_input", "neutral"):
        # PadToMultiple and CropToInput pad and crop at the bottom and right: no offset.
        offset = {"crop": -spec.margins[axis][0], "zero_pad": spec.margins[axis][0]}
        return AxisStep("window", n_in, n_out, offset=offset.get(spec.kind, 0))
    k, s, d = spec.kernel_size[axis], spec.strides[axis], spec.dilation_rate[axis]
    dilated = d * (k - 1) + 1
    before = 0
    if spec.padding == "same":
        small, large = (n_in, n_out) if spec.kind == "conv_transpose" else (n_out, n_in)
        before = max((small - 1) * s + dilated - large, 0) // 2
    kind = "transpose" if spec.kind == "conv_transpose" else "window"
    return AxisStep(kind, n_in, n_out, kernel_size=k, strides=s, dilation_rate=d, offset=before)


def _axis_note(spec: LayerSpec, axis: int, n_in: int, n_out: int) -> tuple[str, bool]:
    """Plain-English note on what a layer does to one axis, and whether it loses pixels."""
    k, s = spec.kernel_size[axis], spec.strides[axis]
    if spec.kind == "crop" and n_out < n_in:
        return f"cropping removes {n_in - n_out} px: {n_in}→{n_out}", True
    if spec.kind == "pad_to_multiple" and n_out > n_in:
        return f"pads to a multiple of {spec.multiple[axis]}: {n_in}→{n_out}", False
    if spec.kind == "crop_to_input" and n_out < n_in:
        return f"crops back to the input: {n_in}→{n_out}", False
    if spec.kind not in _WINDOWS or (n_out == n_in and s == 1):
        return "", False
    kernel = _both(*spec.kernel_size)
    what = f"{_hw(spec.kernel_size)} conv" if spec.kind == "conv" else f"pooling {kernel}"
    if s == 1:
        return f"{spec.padding} {what} trims {n_in - n_out} px: {n_in}→{n_out}", True
    dilated = spec.dilation_rate[axis] * (k - 1) + 1
    dropped = 0 if spec.padding == "same" else (n_in - dilated) % s
    losses = []
    if dropped:
        losses.append(f"drops the last {'row' if dropped == 1 else f'{dropped} rows'}")
    if s > dilated:
        losses.append(f"skips {s - dilated} of every {s} rows between windows")
    pads = n_out * s - n_in if spec.padding == "same" else 0
    verb = "floors" if dropped else "pads" if pads > 0 else "maps"
    note = f"{what} with stride {s} {verb} {n_in}→{n_out}"
    return ", ".join([note, *losses[:-1]]) + (f" and {losses[-1]}" if losses else ""), bool(losses)


def _is_down(spec: LayerSpec) -> bool:
    return spec.kind in _WINDOWS and max(spec.strides) > 1


def _is_up(spec: LayerSpec) -> bool:
    return (spec.kind == "upsample" and max(spec.size) > 1) or (
        spec.kind == "conv_transpose" and max(spec.strides) > 1
    )


def _up_note(spec: LayerSpec, n_out: int, target: int | None) -> tuple[str, bool]:
    if spec.kind == "upsample":
        what = f"upsampling ×{_both(*spec.size)}"
    else:
        what = f"transposed {_hw(spec.kernel_size)} conv with stride {_both(*spec.strides)}"
    if target is None or target == n_out:
        return "", False
    return f"{what} gives {n_out}, not {target}", True


def _merge(notes: Sequence[str]) -> str:
    if notes[0] == notes[1]:
        return notes[0]
    return "; ".join(f"{axis}: {note}" for axis, note in zip(AXES, notes, strict=True) if note)


def trace(model_or_layers, input_shape=None) -> ShapeTrace:
    """Walk a model layer by layer and report every shape, without running TensorFlow.

    Reads each layer's ``get_config()``; works on built and unbuilt Sequential and functional
    chains, or on a list of :class:`LayerSpec` (or of dicts with its fields). Used by ch. 1, 3-5.

    Parameters
    ----------
    model_or_layers : keras.Model or sequence of layers / LayerSpec / dict
    input_shape : tuple of int, optional
        ``(H, W)`` or ``(H, W, C)``; default: the model's own input shape.

    Returns
    -------
    ShapeTrace

    Raises
    ------
    ValueError
        For unknown layers (named in the message), a model that is not one chain of layers
        (several inputs or outputs, merges, a subclassed model), an unknown input shape, or a
        size that becomes zero or negative.

    Examples
    --------
    >>> layers = [LayerSpec("conv", "enc", kernel_size=3, filters=8),
    ...           LayerSpec("max_pool", "pool", 2), LayerSpec("upsample", "up", size=2),
    ...           LayerSpec("conv", "out", 3, filters=1)]
    >>> t = trace(layers, input_shape=(128, 128, 1))
    >>> t.output_shape, t.matches_input, t.rows[t.first_problem].name
    ((124, 124, 1), False, 'enc')
    >>> t.rows[0].note
    'valid 3×3 conv trims 2 px: 128→126'
    """
    specs, shape = _as_specs(model_or_layers, input_shape)
    rows = []
    steps: tuple[list[AxisStep], list[AxisStep]] = ([], [])
    pending: list[tuple[int, int]] = []
    current = shape
    values_in = math.prod(shape)
    for spec in specs:
        size = tuple(
            _axis_size(spec, axis, n, origin)
            for axis, (n, origin) in enumerate(zip(current[:2], shape[:2], strict=True))
        )
        out = (*size, spec.filters or current[2])
        notes = [_axis_note(spec, axis, current[axis], size[axis]) for axis in (0, 1)]
        if _is_down(spec):
            pending.append(current[:2])
        elif _is_up(spec):
            target = pending.pop() if pending else (None, None)
            notes = [_up_note(spec, size[axis], target[axis]) for axis in (0, 1)]
        for axis in (0, 1):
            steps[axis].append(_axis_step(spec, axis, current[axis], size[axis]))
        has_window = spec.kind in _WINDOWS or spec.kind == "conv_transpose"
        rows.append(
            dict(
                name=spec.name or f"{spec.kind}_{len(rows)}",
                kind=spec.kind,
                kernel_size=spec.kernel_size if has_window else None,
                strides=spec.strides if has_window else None,
                padding=spec.padding if has_window else None,
                input_shape=current,
                output_shape=out,
                kept=math.prod(out) / values_in,
                note=_merge([n for n, _ in notes]),
                loses=any(lost for _, lost in notes),
            )
        )
        current = out
    if not rows:
        raise ValueError("trace needs at least one layer besides the input; got none.")
    rows = tuple(
        TraceRow(**row, receptive_field=rf, jump=jump)
        for row, rf, jump in zip(rows, *_receptive_columns(steps), strict=True)
    )
    matches = current == shape
    problem = next((i for i, row in enumerate(rows) if row.loses), None)
    if problem is None and not matches:
        problem = len(rows) - 1
    last = len(rows) - 1  # the reconstruction: the bottleneck only when nothing else is as small
    bottleneck = rows[
        min(
            range(len(rows)),
            key=lambda i: (
                rows[i].output_shape[0] * rows[i].output_shape[1],
                i == last,
                math.prod(rows[i].output_shape),
            ),
        )
    ]
    return ShapeTrace(
        input_shape=shape,
        output_shape=current,
        rows=rows,
        bottleneck=bottleneck,
        compression_ratio=values_in / math.prod(bottleneck.output_shape),
        matches_input=matches,
        first_problem=problem,
        steps=(tuple(steps[0]), tuple(steps[1])),
    )


def cpu_kernel_problems(model_or_layers, input_shape=None) -> tuple[str, ...]:
    """The layers that TensorFlow's oneDNN CPU kernels cannot run, each with the reason.

    TensorFlow turns these kernels on by itself on many CPUs (those with AVX-512 VNNI or BF16,
    AMD Zen 4 among them). A convolution or transposed convolution with a 1-wide kernel and a
    stride above 1 makes them raise ``AbortedError`` or corrupt the process's memory and kill it
    (in the transposed convolution's forward pass, and in the input gradient of the
    convolution), where the default kernels compute an answer. This package never runs such a
    layer, whichever kernels are on, so that a shape gives the same result on every machine
    (``tests/test_onednn.py`` pins the case). An output that would be empty, and a transposed
    convolution that TensorFlow rejects for every input, are refused by :func:`trace` itself.
    Used by :func:`check_cpu_kernels`.

    Parameters
    ----------
    model_or_layers, input_shape
        As for :func:`trace`.

    Returns
    -------
    tuple of str
        One message per problem, empty when every layer can run.

    Examples
    --------
    >>> cpu_kernel_problems([LayerSpec("conv_transpose", "up", kernel_size=3, strides=2)], (8, 8))
    ()
    >>> (problem,) = cpu_kernel_problems(
    ...     [LayerSpec("conv_transpose", "up", kernel_size=1, strides=2)], (8, 8)
    ... )
    >>> print(problem)
    'up' Conv2DTranspose(kernel_size=(1, 1), ...): a 1-wide kernel with stride 2 along ....
    """
    specs, _ = _as_specs(model_or_layers, input_shape)
    problems = []
    for spec in specs:
        if spec.kind not in ("conv", "conv_transpose"):
            continue
        for axis, label in enumerate(("height", "width")):
            extent = spec.dilation_rate[axis] * (spec.kernel_size[axis] - 1) + 1
            if extent == 1 and spec.strides[axis] > 1:
                problems.append(
                    f"{spec.describe()}: a 1-wide kernel with stride {spec.strides[axis]} along "
                    f"the {label} (oneDNN's kernels abort or corrupt memory on it); use "
                    "kernel_size >= 2, or strides=1 followed by a pooling."
                )
                break
    return tuple(problems)


class CpuKernelError(ValueError):
    """A model that TensorFlow's oneDNN CPU kernels cannot run (:func:`check_cpu_kernels`)."""


def check_cpu_kernels(model_or_layers, input_shape=None) -> None:
    """Refuse, before TensorFlow runs it, a model that oneDNN's CPU kernels cannot run.

    Called by every function of this package that runs layers on shapes a learner chooses
    (:func:`check_sizes_against_keras`, ``receptive.empirical_receptive_field``,
    ``training.train``); see :func:`cpu_kernel_problems` for the cases.

    Raises
    ------
    CpuKernelError
        A ``ValueError`` naming each layer and why, with the fix.
    ValueError
        If :func:`trace` cannot read a layer of the model.

    Examples
    --------
    >>> check_cpu_kernels([LayerSpec("conv", kernel_size=3, strides=2)], (8, 8))
    >>> try:
    ...     check_cpu_kernels([LayerSpec("conv", "c", kernel_size=1, strides=2)], (8, 8))
    ... except ValueError as error:
    ...     print(error)
    This model cannot run on TensorFlow's oneDNN CPU kernels, ... 'c' Conv2D(kernel_size=(1, 1), ...
    """
    problems = cpu_kernel_problems(model_or_layers, input_shape)
    if problems:
        raise CpuKernelError(
            "This model cannot run on TensorFlow's oneDNN CPU kernels, which TensorFlow turns on "
            "by itself on many CPUs, so this package refuses it on every machine: "
            + " ".join(problems)
        )


def _receptive_columns(steps) -> tuple[list, list]:
    """Per-layer ``(rows, cols)`` receptive field (``None`` after an unmodelled resize) and jump."""
    sizes, jumps = [], []
    for axis_steps in steps:
        known = next((i for i, step in enumerate(axis_steps) if not step.exact), len(axis_steps))
        fields = receptive_fields(axis_steps[:known])
        sizes.append([f.size for f in fields] + [None] * (len(axis_steps) - known))
        jumps.append(list(itertools.accumulate((step.jump for step in axis_steps), operator.mul)))
    return (
        [None if None in pair else pair for pair in zip(*sizes, strict=True)],
        list(zip(*jumps, strict=True)),
    )


# --------------------------------------------------------------------------- diagnose and fix


def _axis_output(specs: Sequence[LayerSpec], axis: int, n: int) -> int | None:
    """Size after the whole layer list along one axis; None once a size is zero or negative."""
    origin = n
    for spec in specs:
        n = _raw_axis_size(spec, axis, n, origin)
        if n is None or n <= 0:
            return None
    return n


def _round_trips(specs: Sequence[LayerSpec], input_shape) -> bool:
    """Re-trace the shapes (not the receptive fields): does the output equal the input?"""
    channels = input_shape[2]
    for spec in specs:
        channels = spec.filters or channels
    spatial = [_axis_output(specs, axis, n) for axis, n in enumerate(input_shape[:2])]
    return (*spatial, channels) == tuple(input_shape)


def compatible_sizes(model_or_layers, lo: int, hi: int) -> tuple[int, ...]:
    """Square input sizes ``n`` in ``[lo, hi]`` for which an ``n × n`` input round-trips.

    Used by ch. 3 and ch. 4 ("which MRI sizes does this autoencoder accept?").

    Parameters
    ----------
    model_or_layers : keras.Model or sequence of layers / LayerSpec / dict
    lo, hi : int
        Inclusive bounds, ``lo >= 1``.

    Returns
    -------
    tuple of int

    Examples
    --------
    >>> layers = [LayerSpec("conv", kernel_size=3, padding="same"),
    ...           LayerSpec("max_pool", kernel_size=2), LayerSpec("upsample", size=2)]
    >>> compatible_sizes(layers, 125, 132)
    (126, 128, 130, 132)
    """
    specs, _ = _as_specs(model_or_layers, (1, 1, 1))
    lo, hi = _pair((lo, hi), "lo, hi")
    if lo > hi:
        raise ValueError(
            f"compatible_sizes searches lo <= n <= hi, got lo={lo} > hi={hi}; swap them, e.g. "
            f"compatible_sizes(model, {hi}, {lo})."
        )
    return tuple(
        n for n in range(lo, hi + 1) if all(_axis_output(specs, axis, n) == n for axis in (0, 1))
    )


@dataclass(frozen=True)
class Fix:
    """One change that makes the model round-trip, verified by re-tracing it.

    Attributes
    ----------
    kind : str
        ``'input_size'``, ``'padding_same'``, ``'match_strides'``, ``'padding_same+match_strides'``,
        ``'output_padding'``, ``'crop_or_pad_output'`` or ``'pad_to_multiple'``.
    description : str
        What to change, in words.
    layers : tuple of LayerSpec
        The changed layer list.
    input_shape : tuple of int
        ``(H, W, C)`` the changed model round-trips at.
    """

    kind: str
    description: str
    layers: tuple[LayerSpec, ...]
    input_shape: tuple[int, int, int]

    def __repr__(self) -> str:
        return f"Fix({self.kind}: {self.description})"


@dataclass(frozen=True)
class Diagnosis:
    """Why a model does or does not give back its input size, and verified fixes.

    Attributes
    ----------
    ok : bool
        True when the output shape equals the input shape.
    problems : tuple of str
        Plain-English steps that break the round trip, in layer order, ending with the sizes.
    fixes : tuple of Fix
        Only fixes whose re-trace round-trips; empty when ``ok``.
    trace : ShapeTrace or None
        ``None`` when a size becomes zero or negative inside the model.
    """

    ok: bool
    problems: tuple[str, ...]
    fixes: tuple[Fix, ...]
    trace: ShapeTrace | None

    @property
    def explanation(self) -> str:
        """The problems joined into one sentence."""
        return "; ".join(self.problems) if self.problems else "the output shape equals the input"

    def __str__(self) -> str:
        lines = [("OK: " if self.ok else "MISMATCH: ") + self.explanation.rstrip(".") + "."]
        if not self.ok:
            lines.append("Fixes (each verified by re-tracing):" if self.fixes else "No fix found.")
            lines += [f"  - {fix.description}" for fix in self.fixes]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{html.escape(fix.description)}</li>" for fix in self.fixes)
        verdict = "OK" if self.ok else "MISMATCH"
        heading = "Fixes (each verified by re-tracing):" if self.fixes else "No fix found."
        fixes = "" if self.ok else f"<p>{heading}</p><ul>{items}</ul>"
        explanation = html.escape(self.explanation.rstrip("."))
        return f"<p><b>{verdict}</b>: {explanation}.</p>{fixes}"


def _nearest(n: int, works) -> int | None:
    """The size closest to n (ties: the larger, so padding beats cropping) for which works()."""
    return next(
        (m for d in range(_SEARCH_LIMIT) for m in (n + d, n - d) if m >= 1 and works(m)), None
    )


def _input_size_fix(specs, shape) -> Fix | None:
    sizes = [
        _nearest(shape[axis], lambda m, axis=axis: _axis_output(specs, axis, m) == m)
        for axis in (0, 1)
    ]
    if None in sizes:
        return None
    new = (*sizes, shape[2])
    if not _round_trips(specs, new):
        return None
    return Fix(
        "input_size",
        f"feed {_hw(new)} inputs instead of {_hw(shape)} (the nearest size that round-trips; "
        f"pad or crop the images to it)",
        specs,
        new,
    )


def _down_up_pairs(specs) -> list[tuple[int, int]]:
    pairs, pending = [], []
    for index, spec in enumerate(specs):
        if _is_down(spec):
            pending.append(index)
        elif _is_up(spec) and pending:
            pairs.append((pending.pop(), index))
    return pairs


def _with_same_padding(specs):
    return tuple(replace(s, padding="same") if s.kind in _WINDOWS else s for s in specs)


def _with_matched_strides(specs):
    changed = [replace(s, strides=s.kernel_size) if s.kind in _POOLS else s for s in specs]
    for down, up in _down_up_pairs(changed):
        factor = changed[down].strides
        if changed[up].kind == "upsample":
            changed[up] = replace(changed[up], size=factor)
        else:
            changed[up] = replace(changed[up], strides=factor, output_padding=None)
    return tuple(changed)


def _structural_fixes(specs, shape):
    candidates = [
        (
            "padding_same",
            "use padding='same' in every convolution and pooling layer",
            _with_same_padding(specs),
        ),
        (
            "match_strides",
            "give each pooling strides=pool_size and each upsampling the factor of its pooling",
            _with_matched_strides(specs),
        ),
        (
            "padding_same+match_strides",
            "use padding='same' everywhere AND give each pooling "
            "strides=pool_size and each upsampling the factor of its pooling",
            _with_matched_strides(_with_same_padding(specs)),
        ),
    ]
    tried = {tuple(specs)}
    for kind, description, layers in candidates:
        if layers not in tried and _round_trips(layers, shape):
            yield Fix(kind, description, layers, shape)
        tried.add(layers)


def _output_padding_fix(specs, shape) -> Fix | None:
    indices = [i for i, s in enumerate(specs) if s.kind == "conv_transpose"]
    options = [
        [None, *itertools.product(range(specs[i].strides[0]), range(specs[i].strides[1]))]
        for i in indices
    ]
    for choice in itertools.islice(itertools.product(*options), 1, 1024):
        layers = list(specs)
        for i, output_padding in zip(indices, choice, strict=True):
            layers[i] = replace(layers[i], output_padding=output_padding)
        if _round_trips(layers, shape):
            settings = ", ".join(
                f"{specs[i].name or i!s}: output_padding={p}"
                for i, p in zip(indices, choice, strict=True)
            )
            return Fix("output_padding", f"set {settings}", tuple(layers), shape)
    return None


def _margin_layers(kind: str, differences) -> list[LayerSpec]:
    margins = tuple((d // 2, d - d // 2) for d in differences)
    return [LayerSpec(kind, name=f"fix_{kind}", margins=margins)] if any(differences) else []


def _crop_or_pad_fix(specs, shape, out) -> Fix | None:
    extra = [max(o - i, 0) for o, i in zip(out[:2], shape[:2], strict=True)]
    missing = [max(i - o, 0) for o, i in zip(out[:2], shape[:2], strict=True)]
    added = _margin_layers("crop", extra) + _margin_layers("zero_pad", missing)
    layers = (*specs, *added)
    if not added or not _round_trips(layers, shape):
        return None
    what = "; ".join(s.describe() for s in added)
    zero = (
        " (the padded border is always zero: the model cannot reconstruct it)"
        if any(missing)
        else ""
    )
    return Fix("crop_or_pad_output", f"append {what} after the last layer{zero}", layers, shape)


def _pad_to_multiple_fix(specs, shape) -> Fix | None:
    factors = [math.prod(s.strides[axis] for s in specs if _is_down(s)) for axis in (0, 1)]
    targets = [-(-n // f) * f for n, f in zip(shape[:2], factors, strict=True)]
    differences = [t - n for t, n in zip(targets, shape[:2], strict=True)]
    if not any(differences):
        return None
    padded = (*targets, shape[2])
    layers = (
        *_margin_layers("zero_pad", differences),
        *specs,
        *_margin_layers("crop", differences),
    )
    if not (_round_trips(specs, padded) and _round_trips(layers, shape)):
        return None
    return Fix(
        "pad_to_multiple",
        f"pad the input to a multiple of {_both(*factors)} ({_hw(shape)} → {_hw(padded)}) with "
        f"{layers[0].describe()} in front and crop it back with {layers[-1].describe()}",
        layers,
        shape,
    )


def diagnose(model_or_layers, input_shape=None) -> Diagnosis:
    """Explain why a model's output does not match its input and list verified fixes.

    Every fix is applied to the layer list and re-traced; it is listed only if the re-traced
    model round-trips. Used by ch. 3-5.

    Parameters
    ----------
    model_or_layers : keras.Model or sequence of layers / LayerSpec / dict
    input_shape : tuple of int, optional
        ``(H, W)`` or ``(H, W, C)``; default: the model's own input shape.

    Returns
    -------
    Diagnosis

    Examples
    --------
    >>> layers = [LayerSpec("conv", kernel_size=3, padding="same"),
    ...           LayerSpec("max_pool", kernel_size=2), LayerSpec("upsample", size=2)]
    >>> d = diagnose(layers, (129, 129, 1))
    >>> d.explanation
    'pooling 2 with stride 2 floors 129→64 and drops the last row; upsampling ×2 gives 128,
    not 129; the output is 128×128, the input 129×129'
    >>> [fix.kind for fix in d.fixes]
    ['input_size', 'crop_or_pad_output', 'pad_to_multiple']
    """
    specs, shape = _as_specs(model_or_layers, input_shape)
    if not specs:
        raise ValueError(
            "diagnose needs at least one layer besides the input; got none. Pass the model or "
            "its list of layers."
        )
    try:
        result = trace(specs, shape)
    except ValueError as error:
        problems, result = (str(error),), None
    else:
        problems = tuple(row.note for row in result.rows if row.loses)
        if result.output_shape[:2] != shape[:2]:
            problems += (f"the output is {_hw(result.output_shape)}, the input {_hw(shape)}",)
        if result.output_shape[2] != shape[2]:
            problems += (
                f"the output has {result.output_shape[2]} channels, the input {shape[2]}: "
                f"give the last convolution filters={shape[2]}",
            )
    if result is not None and result.matches_input:
        return Diagnosis(ok=True, problems=(), fixes=(), trace=result)
    fixes = [_input_size_fix(specs, shape), *_structural_fixes(specs, shape)]
    fixes.append(_output_padding_fix(specs, shape))
    if result is not None:
        fixes.append(_crop_or_pad_fix(specs, shape, result.output_shape))
    fixes.append(_pad_to_multiple_fix(specs, shape))
    return Diagnosis(
        ok=False, problems=problems, fixes=tuple(f for f in fixes if f is not None), trace=result
    )


# --------------------------------------------------------------------------- command line


def _parse_input(text: str) -> tuple[int, ...]:
    try:
        shape = tuple(int(v) for v in text.lower().split("x"))
    except ValueError:
        shape = ()
    if len(shape) not in (2, 3) or min(shape) < 1:
        raise argparse.ArgumentTypeError(
            f"expected HxW or HxWxC with positive integers, e.g. 197x233; got {text!r}"
        )
    return shape


def main(argv=None) -> int:
    """``cae-shapes model.keras [--input HxW]``: print the trace and the diagnosis.

    Exit status: 0 when the model round-trips, 1 on a mismatch, 2 on bad usage (a missing or
    unreadable file, a malformed ``--input``, a layer trace cannot read). Used by ch. 1.

    Examples
    --------
    >>> main(["no/such/model.keras"])  # the message goes to stderr
    2
    """
    parser = argparse.ArgumentParser(
        prog="cae-shapes",
        description="Trace the shapes of a saved Keras autoencoder and diagnose size mismatches.",
    )
    parser.add_argument("model", help="path to a .keras file")
    parser.add_argument("--input", type=_parse_input, help="input size HxW or HxWxC, e.g. 197x233")
    args = parser.parse_args(argv)

    def fail(message: str) -> int:
        print(f"cae-shapes: error: {message}", file=sys.stderr)
        return 2

    from pathlib import Path

    path = Path(args.model)
    if not path.is_file():
        return fail(f"no such file: {args.model!r}")
    try:
        import keras

        fit_layers()  # registers PadToMultiple and CropToInput for models saved with them
        model = keras.saving.load_model(path, compile=False)
    except Exception as error:  # any loading failure is a usage error
        return fail(f"cannot load {args.model!r} as a Keras model: {error}")
    try:
        result = diagnose(model, args.input)
    except (TypeError, ValueError) as error:
        return fail(str(error))
    if result.trace is not None:
        print(result.trace)
    print(result)
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
