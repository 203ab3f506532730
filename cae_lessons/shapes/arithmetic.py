"""Output sizes along one axis, as Keras and TensorFlow compute them, for every layer kind;
the public ``*_output_size`` functions, ``output_padding_for`` and ``transpose_overlap``."""

from __future__ import annotations

import numpy as np

from cae_lessons.receptive import AxisStep
from cae_lessons.shapes.specs import _WINDOWS, AXIS_NAMES, LayerSpec, _is_int, _pair

_SEARCH_LIMIT = 4096


def _raw_axis_size(spec: LayerSpec, axis: int, n: int, origin: int | None = None) -> int | None:
    """Output size along one axis as Keras computes it; ``None`` if TensorFlow rejects any input.

    ``n`` may be an int or an int64 array of sizes (the result is then an array). ``origin`` is
    the model input's size along the axis, which ``'crop_to_input'`` crops back to.
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
    if spec.kind == "resize" or (spec.kind == "dense" and spec.expects is None):
        return spec.target[axis]
    if spec.kind == "dense":  # its Dense takes one size (the other axes at theirs)
        fits = n == spec.expects[axis]
        return (
            np.where(fits, spec.target[axis], 0)
            if isinstance(n, np.ndarray)
            else (spec.target[axis] if fits else 0)
        )
    if spec.kind in ("crop", "zero_pad"):
        sign = -1 if spec.kind == "crop" else 1
        return n + sign * sum(spec.margins[axis])
    if spec.kind == "pad_to_multiple":
        return -(-n // spec.multiple[axis]) * spec.multiple[axis]
    if spec.kind == "crop_to_input":
        return np.minimum(n, origin) if isinstance(n, np.ndarray) else min(n, origin)
    return n


def _axis_size(spec: LayerSpec, axis: int, n: int, origin: int | None = None) -> int:
    """Like :func:`_raw_axis_size` but raising a ValueError that says how to fix a bad size."""
    out = _raw_axis_size(spec, axis, n, origin)
    if out is not None and out > 0:
        return out
    name = AXIS_NAMES[spec.rank][axis]
    if out is None:
        raise ValueError(
            f"{spec.describe()} fails for every input {name}: with an even kernel and "
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
        f"The smallest input {name} that works is {smallest}"
        if smallest
        else f"No input {name} below {_SEARCH_LIMIT} works"
    )
    remedy = "smaller cropping" if spec.kind == "crop" else "padding='same' or a smaller window"
    raise ValueError(
        f"{spec.describe()} cannot take an input {name} of {n}: the output would be {out} "
        f"(zero or negative). {hint}; use a larger input, {remedy}."
    )


def _output_size(input_size, kind: str, **arguments):
    """The output size of one 2-D layer of ``kind`` for an int or an ``(H, W)`` size."""
    scalar = _is_int(input_size)
    if not scalar and not (isinstance(input_size, tuple | list) and len(input_size) == 2):
        raise TypeError(
            f"size must be an int or an (H, W) tuple of ints, got {type(input_size).__name__} "
            f"{input_size!r}."
        )
    spec = LayerSpec(kind, **arguments)
    sizes = _pair(input_size, "size")
    out = tuple(_axis_size(spec, axis, n) for axis, n in enumerate(sizes))
    if scalar and out[0] != out[1]:
        raise ValueError(
            f"{spec.describe()} gives {out} for a square input of {input_size}: its arguments "
            f"differ between height and width, so pass an (H, W) size such as {sizes}."
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
    return _output_size(
        size,
        "conv",
        kernel_size=kernel_size,
        strides=strides,
        padding=padding,
        dilation_rate=dilation_rate,
    )


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
    return _output_size(size, "max_pool", kernel_size=pool_size, strides=strides, padding=padding)


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
    return _output_size(size, "upsample", size=size_factor)


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
    return _output_size(
        size,
        "conv_transpose",
        kernel_size=kernel_size,
        strides=strides,
        padding=padding,
        output_padding=output_padding,
        dilation_rate=dilation_rate,
    )


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
    return _output_size(size, "crop", margins=cropping)


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
    return _output_size(size, "zero_pad", margins=padding)


def output_padding_for(size, kernel_size, strides, padding="valid"):
    """The ``output_padding`` that makes a transposed convolution give back ``size``.

    A ``Conv2D(kernel_size, strides, padding)`` maps ``strides`` consecutive input sizes to one
    encoded size, so the ``Conv2DTranspose`` with the same arguments cannot know which to
    restore; ``output_padding`` tells it. Dumoulin & Visin (2016, relationship 14):
    ``a = (size + 2p - kernel_size) mod strides``, with ``p = 0`` for ``'valid'`` and
    ``p = (kernel_size - 1) / 2`` for ``'same'`` (odd kernels). Even kernels with ``'same'`` are
    padded asymmetrically by TensorFlow; the value returned is then the one Keras needs,
    ``size - (encoded - 1) * strides``, when it lies in ``[0, strides)``. Used by ch. 5's section
    "Odd sizes and ``output_padding``".

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
    n_out = _axis_size(spec, 0, size)
    k, s = spec.kernel_size[0], spec.strides[0]
    before = _axis_step(spec, 0, size, n_out).offset
    counts = [0] * n_out
    for position in range(size):
        for tap in range(k):
            pixel = position * s + tap - before
            if 0 <= pixel < n_out:
                counts[pixel] += 1
    return tuple(counts)


def _axis_step(spec: LayerSpec, axis: int, n_in: int, n_out: int) -> AxisStep:
    """The receptive-field view of one layer along one axis."""
    if spec.kind == "dense":
        return AxisStep("dense", n_in, n_out)
    if spec.kind in ("upsample", "resize"):
        return AxisStep("resize", n_in, n_out, interpolation=spec.interpolation)
    if spec.kind in ("crop", "zero_pad", "pad_to_multiple", "crop_to_input", "neutral", "input"):
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
