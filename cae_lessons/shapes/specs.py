"""LayerSpec: one layer's shape-relevant arguments, spelled as Keras spells them, in 1, 2 or 3
spatial dimensions, and the argument coercion behind it (ints, NumPy integers and lists, as Keras
accepts them)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

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
    "elementwise",
    "concatenate",
    "neutral",
    "input",
    "dense",
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

MERGE_LAYERS = {
    "Add": "elementwise",
    "Subtract": "elementwise",
    "Multiply": "elementwise",
    "Average": "elementwise",
    "Maximum": "elementwise",
    "Minimum": "elementwise",
    "Concatenate": "concatenate",
}
"""Keras' merging layers by kind: ``'elementwise'`` needs equal sizes (or 1, broadcast);
``'concatenate'`` (on the channel axis) equal sizes along every spatial axis. The same names in
``keras.ops`` (``a + b`` is ``ops.add``) are read as the same kinds."""
MERGES = ("elementwise", "concatenate")
NEUTRAL_LAYERS = (
    "Activation",
    "BatchNormalization",
    "Dropout",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "SpatialDropout3D",
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
    "Identity",
    "Normalization",
    "UnitNormalization",
    "ActivityRegularization",
    "AlphaDropout",
    "RandomContrast",
    "RandomBrightness",
    "RandomFlip",
    "RandomRotation",
    "RandomTranslation",
    "RandomZoom",
)
"""Layers that keep every pixel where it is: element-wise, per-channel or per-pixel. The random
spatial augmentations (flip, rotation, translation, zoom) move pixels only while training; at
inference, which the shapes and receptive fields describe, they are the identity."""

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

AXIS_NAMES = {1: ("length",), 2: ("height", "width"), 3: ("depth", "height", "width")}
_AXIS_UNITS = {1: ("sample",), 2: ("row", "column"), 3: ("slice", "row", "column")}
"""What one step along each axis is, for notes such as "drops the last column"."""
"""The spatial axes of a 1-D, 2-D and 3-D layer, as this package names them in messages."""
AXES = AXIS_NAMES[2]
RANKS = tuple(AXIS_NAMES)

_ANY_RANK = ("neutral", "crop_to_input", "input", *MERGES)
"""Kinds without per-axis arguments: they take the rank of the layers around them."""
_RANK_2_ONLY = {"resize": "Resizing", "pad_to_multiple": "PadToMultiple"}
_PER_AXIS = (
    "kernel_size",
    "strides",
    "dilation_rate",
    "output_padding",
    "size",
    "target",
    "margins",
    "multiple",
)
"""The LayerSpec fields that hold one value per spatial axis."""

_POOLS = ("max_pool", "avg_pool")

_WINDOWS = ("conv", *_POOLS)

Pair = tuple[int, ...]
"""One int per spatial axis: ``(rows, cols)`` for a 2-D layer, ``(depth, rows, cols)`` for 3-D."""


def _is_int(value) -> bool:
    """An int as Keras accepts one: Python or NumPy integers, never a bool."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def _per_axis(value, name: str, minimum: int = 1, rank: int = 2) -> Pair:
    """``3 -> (3, 3)``, ``(3, 5) -> (3, 5)`` (``rank`` ints); other types: TypeError; too small:
    ValueError.

    NumPy integers and lists are accepted, as Keras accepts them.
    """
    items = (value,) * rank if _is_int(value) else value
    if (
        isinstance(value, bool)
        or not isinstance(items, tuple | list)
        or len(items) != rank
        or not all(_is_int(v) for v in items)
    ):
        raise TypeError(
            f"{name} must be an int or a tuple of {rank} ints, got {type(value).__name__} "
            f"{value!r}."
        )
    if min(items) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}.")
    return tuple(int(v) for v in items)


def _pair(value, name: str, minimum: int = 1) -> Pair:
    """:func:`_per_axis` of a 2-D layer."""
    return _per_axis(value, name, minimum, 2)


def _margins(value, name: str, rank: int = 2) -> tuple[Pair, ...]:
    """Keras' Cropping / ZeroPadding margins: an int, one int per axis, or ``(before, after)``
    per axis (``((top, bottom), (left, right))`` in 2-D). In 1-D, as in Cropping1D, a pair of
    ints is ``(before, after)``."""
    if isinstance(value, tuple | list) and value and isinstance(value[0], tuple | list):
        if len(value) != rank:
            raise TypeError(
                f"{name} must give (before, after) for each of {rank} axes, got {value!r}."
            )
        return tuple(_per_axis(v, name, 0) for v in value)
    if rank == 1 and isinstance(value, tuple | list) and len(value) == 2:
        return (_per_axis(value, name, 0),)
    return tuple((n, n) for n in _per_axis(value, name, 0, rank))


def _rank_of(values: dict) -> int | None:
    """The number of spatial axes that tuple-valued arguments imply; None when all are ints."""
    ranks = {}
    for name, value in values.items():
        if name == "margins" and isinstance(value, tuple | list) and value:
            if isinstance(value[0], tuple | list):
                ranks[name] = len(value)
        elif isinstance(value, tuple | list):
            ranks[name] = len(value)
    if len(set(ranks.values())) > 1:
        raise ValueError(
            f"The arguments of one layer must give one value per spatial axis, but they give "
            f"{ranks} values; pass the same number for each (or ints)."
        )
    return next(iter(ranks.values()), None)


def keras_name(kind: str, rank: int = 2) -> str:
    """The Keras class of a kind in ``rank`` spatial dimensions, e.g. ``'Conv3D'``.

    Examples
    --------
    >>> keras_name("conv_transpose", 3), keras_name("max_pool", 1)
    ('Conv3DTranspose', 'MaxPooling1D')
    """
    return KERAS_NAMES[kind].replace("2D", f"{rank}D")


@dataclass(frozen=True)
class LayerSpec:
    """One layer's shape-relevant arguments, spelled as Keras spells them.

    ``trace`` and ``diagnose`` accept a list of these (or of dicts with these keys) in place of a
    Keras model. Ints are accepted for every per-axis argument and stored as tuples of one int
    per spatial axis: ``(rows, cols)`` in 2-D, ``(depth, rows, cols)`` in 3-D. Used by ch. 1
    (tracing an architecture before building it) and by the fixes of :func:`diagnose`.

    Attributes
    ----------
    kind : str
        One of ``'conv'``, ``'conv_transpose'``, ``'max_pool'``, ``'avg_pool'``, ``'upsample'``,
        ``'resize'``, ``'crop'``, ``'zero_pad'``, ``'pad_to_multiple'``, ``'crop_to_input'`` (the
        two layers of :func:`fit_layers`), ``'elementwise'`` and ``'concatenate'`` (merges, see
        ``MERGE_LAYERS``), ``'neutral'`` (activation, normalisation, ...), ``'input'`` (another
        input of a model with several: the size of the layer it takes, by default ``'input'``,
        the first input, with ``filters`` channels).
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
        UpSampling factor.
    target : tuple of int or None
        Resizing output ``(height, width)``.
    margins : tuple of tuple of int
        ``(before, after)`` per axis, ``((top, bottom), (left, right))`` in 2-D: Keras'
        ``cropping`` for Cropping2D, ``padding`` for ZeroPadding2D.
    filters : int or None
        Output channels of a convolution (``None``: as many as its input); the channels of an
        ``'input'``.
    interpolation : str
        UpSampling2D / Resizing interpolation.
    multiple : tuple of int
        ``'pad_to_multiple'``: pad height and width up to a multiple of these.
    expects : tuple of int or None
        ``'dense'`` (a Flatten or global pooling, Dense layers and a Reshape, read as one): the
        ``(*spatial, C)`` input its first Dense was built for after a Flatten; ``None`` after a
        global pooling, which takes any size. ``target`` and ``filters`` are what its Reshape
        gives.
    units : int or None
        ``'dense'``: the values at its narrowest point (its narrowest Dense, or the vector the
        Flatten or global pooling gives); None: as many as it gives.
    inputs : tuple of str
        The names of the earlier layers this one takes, ``'input'`` for the model input; empty
        (the default) means the layer before it, so a plain list is a chain. A merge takes two
        or more. ``trace`` fills these in for a Keras model with branches.
    rank : int or None
        Spatial axes: 1 (Conv1D, ...), 2 or 3 (Conv3D, ...). ``None`` (the default): as many as
        the tuples given have, else 2.

    Examples
    --------
    >>> LayerSpec("max_pool", kernel_size=2, strides=3).strides
    (3, 3)
    >>> LayerSpec("max_pool", kernel_size=2).strides
    (2, 2)
    >>> LayerSpec("flatten")
    Traceback (most recent call last):
    ...
    ValueError: LayerSpec kind must be one of ('conv', ..., 'dense'), got 'flatten'.

    A skip connection names the layers it joins:

    >>> LayerSpec("concatenate", "skip", inputs=["up", "enc"]).describe()
    "'skip' Concatenate(['up', 'enc'])"

    A 3-D layer:

    >>> LayerSpec("conv", kernel_size=(3, 3, 3), strides=2).describe()
    "Conv3D(kernel_size=(3, 3, 3), strides=(2, 2, 2), padding='valid')"
    """

    kind: str
    name: str = ""
    kernel_size: Pair | int = 1
    strides: Pair | int | None = None
    padding: str = "valid"
    dilation_rate: Pair | int = 1
    output_padding: Pair | int | None = None
    size: Pair | int = 1
    target: Pair | None = None
    margins: tuple[Pair, ...] | int = 0
    filters: int | None = None
    interpolation: str = "nearest"
    multiple: Pair | int = 1
    expects: tuple[int, ...] | None = None
    units: int | None = None
    inputs: tuple[str, ...] = ()
    rank: int | None = field(default=None, repr=False)

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
        implied = _rank_of({name: getattr(self, name) for name in _PER_AXIS})
        rank = self.rank if self.rank is not None else implied or 2
        if rank not in RANKS or (implied is not None and implied != rank):
            raise ValueError(
                f"rank must be 1, 2 or 3 and agree with the arguments, got rank={self.rank!r} "
                f"and arguments with {implied} values per axis."
            )
        if self.kind in _RANK_2_ONLY and rank != 2:
            raise ValueError(
                f"A {self.kind!r} LayerSpec is 2-D ({_RANK_2_ONLY[self.kind]} works on "
                f"(N, H, W, C) batches), got rank={rank}."
            )
        kernel = _per_axis(self.kernel_size, "kernel_size", rank=rank)
        default_strides = kernel if self.kind in _POOLS else 1
        strides = default_strides if self.strides is None else self.strides
        strides = _per_axis(strides, "strides", rank=rank)
        dilation = _per_axis(self.dilation_rate, "dilation_rate", rank=rank)
        if self.kind in ("conv", "conv_transpose") and max(strides) > 1 and max(dilation) > 1:
            raise ValueError(
                f"Keras does not support strides > 1 together with dilation_rate > 1; got "
                f"strides={strides} and dilation_rate={dilation}. Use one of them."
            )
        if self.kind in _POOLS and max(dilation) > 1:
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
        if self.kind == "dense" and (self.target is None or self.filters is None):
            raise ValueError(
                "A 'dense' LayerSpec needs target=(H, W) and filters=C: the spatial size and "
                "channels its Reshape gives."
            )
        expects = self.expects
        if expects is not None:
            expects = tuple(expects)
            if len(expects) != rank + 1 or not all(_is_int(v) and v >= 1 for v in expects):
                raise ValueError(
                    f"expects must be None (any size: a global pooling) or the {rank + 1} positive "
                    f"ints (*spatial, C) of the input the first Dense was built for, got "
                    f"{self.expects!r}."
                )
        if self.units is not None and (not _is_int(self.units) or self.units < 1):
            raise ValueError(f"units must be None or an int >= 1, got {self.units!r}.")
        if self.kind == "resize" and self.target is None:
            raise ValueError(
                "A 'resize' LayerSpec needs target=(height, width), as keras.layers.Resizing "
                "needs its height and width."
            )
        output_padding = self.output_padding
        if output_padding is not None:
            output_padding = _per_axis(output_padding, "output_padding", 0, rank)
            if any(p >= s for p, s in zip(output_padding, strides, strict=True)):
                raise ValueError(
                    f"output_padding must be smaller than strides, got "
                    f"output_padding={output_padding} and strides={strides}. Use values in "
                    f"[0, strides)."
                )
        inputs = self.inputs
        if isinstance(inputs, str) or not all(isinstance(v, str) for v in inputs):
            raise TypeError(
                f"inputs must be a list of layer names, got {type(inputs).__name__} {inputs!r}; "
                "e.g. inputs=['up_1', 'enc_1']."
            )
        inputs = ("input",) if self.kind == "input" and not inputs else inputs
        needed = "two or more" if self.kind in MERGES else "at most one"
        if (len(inputs) >= 2) != (self.kind in MERGES):
            raise ValueError(
                f"A {self.kind!r} LayerSpec takes {needed} inputs, got inputs={tuple(inputs)}."
            )
        for name, value in (
            ("inputs", tuple(inputs)),
            ("kernel_size", kernel),
            ("strides", strides),
            ("padding", padding),
            ("dilation_rate", dilation),
            ("output_padding", output_padding),
            ("size", _per_axis(self.size, "size", rank=rank)),
            (
                "target",
                None if self.target is None else _per_axis(self.target, "target", rank=rank),
            ),
            ("expects", None if expects is None else tuple(int(v) for v in expects)),
            ("units", None if self.units is None else int(self.units)),
            ("margins", _margins(self.margins, "margins", rank)),
            ("multiple", _per_axis(self.multiple, "multiple", rank=rank)),
            ("filters", None if self.filters is None else int(self.filters)),
            ("rank", rank),
        ):
            object.__setattr__(self, name, value)

    def describe(self) -> str:
        """The layer as a Keras call, e.g. ``"MaxPooling2D(pool_size=(2, 2), ...)"``."""
        label = f"{self.name!r} " if self.name else ""
        if self.kind in _WINDOWS or self.kind == "conv_transpose":
            window = "pool_size" if self.kind in _POOLS else "kernel_size"
            args = f"{window}={self.kernel_size}, strides={self.strides}, padding={self.padding!r}"
            if max(self.dilation_rate) > 1:
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
        elif self.kind == "concatenate":
            return f"{label}Concatenate({list(self.inputs)!r})"
        elif self.kind == "elementwise":
            return f"{label}elementwise merge (Add, Multiply, ...) of {list(self.inputs)!r}"
        elif self.kind == "dense":
            takes = "any size" if self.expects is None else _joined(self.expects)
            through = f" through {self.units} values" if self.units else ""
            gives = _joined((*self.target, self.filters))
            return f"{label}dense bottleneck{through} taking {takes}, giving {gives}"
        elif self.kind == "input":
            size = "the first input's" if self.inputs == ("input",) else f"{self.inputs[0]!r}'s"
            channels = f" with {self.filters} channels" if self.filters else ""
            return f"{label}another model input of {size} size{channels}"
        else:
            return f"{label}shape-neutral layer"
        return f"{label}{keras_name(self.kind, self.rank)}({args})"


def _joined(values) -> str:
    """``'233×197×1'``: sizes joined by ×."""
    return "×".join(str(v) for v in values)


def _both(*values) -> str:
    """``'2'`` when every axis agrees, else ``'2×3'``."""
    return str(values[0]) if len(set(values)) == 1 else _joined(values)


def _listed(words) -> str:
    """``'a'``, ``'a and b'``, ``'a, b and c'``."""
    words = list(words)
    return " and ".join(words) if len(words) < 3 else f"{', '.join(words[:-1])} and {words[-1]}"
