"""The book's example autoencoders, as Keras 3 models.

Each example is a small convolutional autoencoder for ``(N, H, W, C) float32`` images in [0, 1],
compiled as the source answer compiles them (``optimizer='adam'``,
``loss='binary_crossentropy'``), with readable layer names
(``enc_conv1``, ``enc_pool1``, ``bottleneck``, ``dec_up1``, ``output``, ...) so that
:func:`cae_lessons.shapes.trace` tables and Keras error messages point at the right layer.

TensorFlow is imported inside the functions: importing this module is cheap.
"""

from __future__ import annotations

SOURCE_LOSS = "binary_crossentropy"
"""The loss the source answer compiles its three examples with (the book trains with MSE)."""


def _compiled(name: str, input_shape, layers):
    """The source answer's examples: a ``keras.Input`` in place of its Keras 2 ``input_shape=``
    argument (the same model; Keras 3 warns about the argument), compiled as the source does."""
    import keras

    model = keras.Sequential([keras.Input(shape=tuple(input_shape)), *layers], name=name)
    model.compile(optimizer="adam", loss=SOURCE_LOSS)
    return model


def example1(input_shape=(128, 128, 1)):
    """Ch. 3 (stride incompatibility): valid convolutions and a pooling stride of 3.

    ``Conv2D(32, 3)`` → ``MaxPooling2D(2, strides=3)`` → ``Conv2D(16, 3)`` (the bottleneck) →
    ``UpSampling2D(2)`` → ``Conv2D(1, 3, activation='sigmoid')``, all ``padding='valid'``: a
    128×128 input comes out 78×78, so ``fit`` against the 128×128 inputs fails.

    Parameters
    ----------
    input_shape : tuple of int
        ``(H, W, C)`` of one image.

    Returns
    -------
    keras.Sequential
        Compiled as the source answer compiles it: ``optimizer='adam'``,
        ``loss='binary_crossentropy'``. :func:`cae_lessons.training.train` recompiles with its own
        ``loss`` (MSE unless told otherwise).

    Examples
    --------
    >>> from cae_lessons.shapes import trace
    >>> trace(example1()).output_shape
    (78, 78, 1)
    """
    from keras import layers

    return _compiled(
        "example1",
        input_shape,
        [
            layers.Conv2D(32, (3, 3), activation="relu", name="enc_conv1"),
            layers.MaxPooling2D((2, 2), strides=(3, 3), name="enc_pool1"),
            layers.Conv2D(16, (3, 3), activation="relu", name="bottleneck"),
            layers.UpSampling2D((2, 2), name="dec_up1"),
            layers.Conv2D(1, (3, 3), activation="sigmoid", name="output"),
        ],
    )


def example2(input_shape=(128, 128, 1)):
    """Ch. 4 (padding and the bottleneck): 'same' padding, one 2× pooling and upsampling.

    The 64×64×16 bottleneck holds 4× MORE values than a 128×128×1 input: the model round-trips
    the size but is not forced to compress.

    Parameters
    ----------
    input_shape : tuple of int
        ``(H, W, C)`` of one image.

    Returns
    -------
    keras.Sequential
        Compiled as the source answer compiles it: ``optimizer='adam'``,
        ``loss='binary_crossentropy'``. :func:`cae_lessons.training.train` recompiles with its own
        ``loss`` (MSE unless told otherwise).

    Examples
    --------
    >>> from cae_lessons.shapes import trace
    >>> t = trace(example2())
    >>> t.matches_input, t.bottleneck.name, t.compression_ratio
    (True, 'bottleneck', 0.25)
    """
    from keras import layers

    return _compiled(
        "example2",
        input_shape,
        [
            layers.Conv2D(32, 3, padding="same", activation="relu", name="enc_conv1"),
            layers.MaxPooling2D(2, name="enc_pool1"),
            layers.Conv2D(16, 3, padding="same", activation="relu", name="bottleneck"),
            layers.UpSampling2D(2, name="dec_up1"),
            layers.Conv2D(1, 3, padding="same", activation="sigmoid", name="output"),
        ],
    )


def example3(input_shape=(128, 128, 1)):
    """Ch. 5 (transposed convolutions): a strided convolution undone by a transposed one.

    As the source answer writes it: ``Conv2D(32, 3, 'same')`` → ``Conv2D(16, 3, 'same',
    strides=2)`` (the 64×64×16 bottleneck) → ``Conv2DTranspose(32, 3, 'same', strides=2)`` →
    ``Conv2D(1, 3, 'same', sigmoid)``, ReLU elsewhere: 9,873 parameters.

    Parameters
    ----------
    input_shape : tuple of int
        ``(H, W, C)`` of one image.

    Returns
    -------
    keras.Sequential
        Compiled as the source answer compiles it: ``optimizer='adam'``,
        ``loss='binary_crossentropy'``. :func:`cae_lessons.training.train` recompiles with its own
        ``loss`` (MSE unless told otherwise).

    Examples
    --------
    >>> from cae_lessons.shapes import trace
    >>> [row.output_shape for row in trace(example3()).rows]
    [(128, 128, 32), (64, 64, 16), (128, 128, 32), (128, 128, 1)]
    >>> example3().count_params()
    9873
    """
    from keras import layers

    return _compiled(
        "example3",
        input_shape,
        [
            layers.Conv2D(32, (3, 3), activation="relu", padding="same", name="enc_conv1"),
            layers.Conv2D(
                16, (3, 3), activation="relu", padding="same", strides=(2, 2), name="bottleneck"
            ),
            layers.Conv2DTranspose(
                32, (3, 3), activation="relu", padding="same", strides=(2, 2), name="dec_deconv1"
            ),
            layers.Conv2D(1, (3, 3), activation="sigmoid", padding="same", name="output"),
        ],
    )


DOWNSAMPLING = ("pool", "stride")
UPSAMPLING = ("upsample", "transpose", "resize_conv")
FIT_INPUT = ("none", "pad", "crop")


def _choice(value, name: str, options: tuple[str, ...]) -> str:
    if value not in options:
        raise ValueError(f"{name} must be one of {options}, got {value!r}.")
    return value


def _fit_margins(size: int, multiple: int, fit_input: str) -> tuple[int, int]:
    """(before, after) rows or columns to pad up to / crop down to a multiple of ``multiple``."""
    extra = (-size) % multiple if fit_input == "pad" else size % multiple
    return (extra // 2, extra - extra // 2)


def _fit_specs(input_shape, multiple: int, fit_input: str):
    """The ``(first, last)`` LayerSpec that fit an input to ``multiple``; None for ``'none'``."""
    from cae_lessons.shapes import LayerSpec

    if None in tuple(input_shape[:2]):
        if fit_input != "pad":
            raise ValueError(
                f"input_shape={tuple(input_shape)} leaves the height or width open (None), which "
                f"only fit_input='pad' handles (pad every image to a multiple of {multiple} and "
                f"crop the output back); got fit_input={fit_input!r}. Pass fit_input='pad', or a "
                f"fixed input_shape=(H, W, C) for 'none' or 'crop'."
            )
        return (
            LayerSpec("pad_to_multiple", "fit_in", multiple=multiple),
            LayerSpec("crop_to_input", "fit_out"),
        )
    if fit_input == "none":
        return None
    margins = tuple(_fit_margins(n, multiple, fit_input) for n in input_shape[:2])
    kinds = ("zero_pad", "crop") if fit_input == "pad" else ("crop", "zero_pad")
    return tuple(
        LayerSpec(kind, name, margins=margins)
        for kind, name in zip(kinds, ("fit_in", "fit_out"), strict=True)
    )


def cae_layers(
    input_shape=(128, 128, 1),
    *,
    filters=(32, 64, 128),
    kernel_size=3,
    padding="same",
    down="pool",
    up="upsample",
    latent_channels=None,
    decoder_filters=None,
    fit_input="none",
):
    """The layer list of a symmetric CAE, as :class:`~cae_lessons.shapes.LayerSpec` (no Keras).

    :func:`build_cae` builds exactly these layers; use this to trace or diagnose a design before
    building it. Every level halves (encoder) or doubles (decoder) the height and width.

    Parameters
    ----------
    input_shape : tuple of int
        ``(H, W, C)``; ``H`` and ``W`` may be ``None`` with ``fit_input='pad'``.
    filters : sequence of int
        Filters per encoder level; the decoder mirrors them.
    kernel_size : int
    padding : {'same', 'valid'}
    down : {'pool', 'stride'}
        ``MaxPooling2D(2)`` after each encoder convolution, or the convolution itself strided 2.
    up : {'upsample', 'transpose', 'resize_conv'}
        ``UpSampling2D(2)`` (nearest) + convolution, ``Conv2DTranspose(strides=2)``, or bilinear
        ``UpSampling2D(2)`` + convolution (resize-convolution, Odena et al. 2016).
    latent_channels : int, optional
        Channels of the bottleneck convolution (default: the last of ``filters``).
    decoder_filters : sequence of int, optional
        Filters per decoder level, from the bottleneck up (default: ``filters`` reversed, the
        mirror image). Ch. 5 narrows an upsampling decoder to match a transposed one's
        multiply-accumulates.
    fit_input : {'none', 'pad', 'crop'}
        ``'pad'`` zero-pads H and W up to the next multiple of ``2 ** len(filters)`` and crops
        the output back; ``'crop'`` crops down to the multiple and zero-pads the output back (the
        cropped border is lost). With a known size the margins are fixed and split evenly
        (``'zero_pad'`` and ``'crop'`` specs); with ``H`` or ``W`` ``None`` they are computed at
        run time, at the bottom and right (``'pad_to_multiple'`` and ``'crop_to_input'``).

    Returns
    -------
    tuple of LayerSpec

    Raises
    ------
    ValueError
        For an unknown option, or ``None`` in ``input_shape`` with ``fit_input`` other than
        ``'pad'``.

    Examples
    --------
    >>> from cae_lessons.shapes import trace
    >>> t = trace(cae_layers((128, 128, 1), filters=(8, 16), latent_channels=4), (128, 128, 1))
    >>> t.bottleneck.output_shape, t.compression_ratio, t.matches_input
    ((32, 32, 4), 4.0, True)
    >>> t = trace(cae_layers((None, None, 1), filters=(8, 16), fit_input="pad"), (197, 233, 1))
    >>> t.rows[0].output_shape, t.rows[-1].output_shape
    ((200, 236, 1), (197, 233, 1))
    """
    from cae_lessons.shapes import LayerSpec

    _choice(down, "down", DOWNSAMPLING)
    _choice(up, "up", UPSAMPLING)
    _choice(fit_input, "fit_input", FIT_INPUT)
    if not filters:
        raise ValueError("filters must name at least one level, e.g. (32, 64, 128); got ().")
    decoder = tuple(reversed(filters)) if decoder_filters is None else tuple(decoder_filters)
    if len(decoder) != len(filters):
        raise ValueError(
            f"decoder_filters must name one width per level, as filters does ({len(filters)}), "
            f"got {decoder_filters!r}; e.g. decoder_filters={tuple(reversed(filters))!r}."
        )
    conv = {"kernel_size": kernel_size, "padding": padding}
    fit = _fit_specs(input_shape, 2 ** len(filters), fit_input)
    layers = [fit[0]] if fit else []
    for level, width in enumerate(filters, start=1):
        strides = 2 if down == "stride" else 1
        layers.append(LayerSpec("conv", f"enc_conv{level}", filters=width, strides=strides, **conv))
        if down == "pool":
            layers.append(LayerSpec("max_pool", f"enc_pool{level}", kernel_size=2))
    layers.append(LayerSpec("conv", "bottleneck", filters=latent_channels or filters[-1], **conv))
    for level, width in enumerate(decoder, start=1):
        if up == "transpose":
            layers.append(
                LayerSpec("conv_transpose", f"dec_deconv{level}", filters=width, strides=2, **conv)
            )
        else:
            interpolation = "nearest" if up == "upsample" else "bilinear"
            layers.append(
                LayerSpec("upsample", f"dec_up{level}", size=2, interpolation=interpolation)
            )
            layers.append(LayerSpec("conv", f"dec_conv{level}", filters=width, **conv))
    layers.append(LayerSpec("conv", "output", filters=input_shape[2], **conv))
    return tuple([*layers, fit[1]] if fit else layers)


def decoder_suffix(decoder_filters) -> str:
    """What a model name gains for decoder widths other than the encoder's: ``'_d16-8'``.

    Examples
    --------
    >>> decoder_suffix((16, 8)), decoder_suffix(None)
    ('_d16-8', '')
    """
    return "" if decoder_filters is None else "_d" + "-".join(str(f) for f in decoder_filters)


def build_cae(
    input_shape=(128, 128, 1),
    *,
    filters=(32, 64, 128),
    kernel_size=3,
    padding="same",
    down="pool",
    up="upsample",
    latent_channels=None,
    decoder_filters=None,
    activation="relu",
    output_activation="sigmoid",
    fit_input="none",
    name=None,
):
    """A symmetric convolutional autoencoder whose shapes are checked before it is built.

    The layers are :func:`cae_layers`; they are traced with :func:`cae_lessons.shapes.diagnose`
    first, so a request that cannot reproduce its input's size raises the diagnosis (which layer
    loses which rows, and fixes verified by re-tracing) instead of a TensorFlow error at ``fit``.
    Used by ch. 3-9.

    With ``input_shape=(None, None, C)`` and ``fit_input='pad'`` one model takes MRI of any
    resolution: the layers of :func:`cae_lessons.shapes.fit_layers` zero-pad each batch at the
    bottom and right to the next multiple of ``2 ** len(filters)`` and crop the output back to
    the input's height and width (ch. 6 "MRI of varying resolutions"). The symmetric core is
    diagnosed at a representative size, the smallest multiple of ``2 ** len(filters)`` that is at
    least 128 (where the padding is a no-op). Trace such a model with
    ``trace(model, input_shape=(H, W))`` and load a saved one with :func:`load_model`.

    Parameters
    ----------
    input_shape : tuple of int
        ``(H, W, C)`` of one image; ``(None, None, C)`` for any size (needs ``fit_input='pad'``).
    activation, output_activation : str
        Hidden convolutions' activation and the output's (``'sigmoid'`` for images in [0, 1]).
    name : str, optional
        Default: a name built from the settings, e.g. ``'cae_pool_upsample_32-64-128_l128'``.
    **other parameters
        As :func:`cae_layers`.

    Returns
    -------
    keras.Sequential or keras.Model
        Compiled with Adam and ``loss='mse'``; a functional ``keras.Model`` for an any-size input.

    Raises
    ------
    ValueError
        If the design does not reproduce ``input_shape`` (for an any-size input: the
        representative size); the message is the diagnosis. If ``H`` or ``W`` is ``None`` and
        ``fit_input`` is not ``'pad'``.

    Examples
    --------
    >>> model = build_cae((64, 64, 1), filters=(8, 16), latent_channels=4)
    >>> model.output_shape, model.get_layer("bottleneck").output.shape
    ((None, 64, 64, 1), (None, 16, 16, 4))
    >>> import numpy as np
    >>> any_size = build_cae((None, None, 1), filters=(8, 16), fit_input="pad")
    >>> [tuple(any_size(np.zeros((1, h, w, 1), np.float32)).shape) for h, w in [(197, 233), (9, 9)]]
    [(1, 197, 233, 1), (1, 9, 9, 1)]
    >>> build_cae((66, 66, 1), filters=(8, 16, 32))
    Traceback (most recent call last):
    ...
    ValueError: build_cae(...) cannot reproduce a 66×66×1 input: ...
    """
    from cae_lessons.shapes import build_model, diagnose

    shape = tuple(input_shape)
    settings = {
        "filters": tuple(filters),
        "kernel_size": kernel_size,
        "padding": padding,
        "down": down,
        "up": up,
        "latent_channels": latent_channels,
        "decoder_filters": decoder_filters,
        "fit_input": fit_input,
    }
    layers = cae_layers(shape, **settings)
    any_size = layers[0].kind == "pad_to_multiple"
    if any_size:
        multiple = layers[0].multiple[0]
        side = -(-128 // multiple) * multiple
        core, checked = layers[1:-1], (side, side, shape[2])
        hint = f"\n(Inputs of any size are padded to a multiple of {multiple}, checked at {side}.)"
    else:
        core, checked = layers, shape
        hint = "\nOr pass fit_input='pad' to pad the input to a size the design accepts."
    diagnosis = diagnose(core, checked)
    if not diagnosis.ok:
        raise ValueError(
            f"build_cae(...) cannot reproduce a {'×'.join(map(str, checked))} input: {diagnosis}"
            + (hint if fit_input == "none" or any_size else "")
        )
    if name is None:
        widths = "-".join(str(f) for f in filters)
        name = f"cae_{down}_{up}_{widths}_l{latent_channels or filters[-1]}"
        name += decoder_suffix(decoder_filters)
    model = build_model(
        core, checked, activation=activation, output_activation=output_activation, name=name
    )
    if any_size:
        model = _between_fit_layers(model, layers[0], layers[-1], shape)
    model.compile(optimizer="adam", loss="mse")
    return model


def _between_fit_layers(core, pad, crop, input_shape):
    """Fresh copies of ``core``'s layers between the PadToMultiple and CropToInput specs."""
    import keras

    from cae_lessons.shapes import fit_layers

    pad_to_multiple, crop_to_input = fit_layers()
    inputs = keras.Input(input_shape)
    x = pad_to_multiple(pad.multiple, name=pad.name)(inputs)
    for layer in core.layers:
        x = type(layer).from_config(layer.get_config())(x)
    outputs = crop_to_input(name=crop.name)([x, inputs])
    return keras.Model(inputs, outputs, name=core.name)


def build_unet(
    input_shape=(None, None, 1),
    depth: int = 3,
    filters: int = 8,
    *,
    batch_norm: bool = False,
    name: str = "unet",
):
    """A small 'same' U-Net: skip connections join each decoder level to the encoder's.

    Per level, two 3×3 ``'same'`` ReLU convolutions (``enc{level}_conv{k}``) and a 2×2 max
    pooling (``pool{level}``); a bottom block; then per level a 2×2 stride-2 transposed
    convolution (``up{level}``), a ``Concatenate`` with the encoder block of the same level
    (``skip{level}``) and two convolutions; a sigmoid 1×1 output (``output``). Its input sizes
    must be multiples of ``2 ** depth``: at any other size a ``skip`` gets two sizes and Keras
    raises. The rank follows ``input_shape``: ``(L, C)`` builds 1-D layers, ``(H, W, C)`` 2-D
    and ``(X, Y, Z, C)`` 3-D ones (3×3×3 convolutions, 2×2×2 poolings). Not compiled. Used by
    ch. 6's sections "A U-Net meets the same slice" and "A 3-D U-Net meets the whole volume" and
    ``benchmarks/shapes.py``.

    Parameters
    ----------
    input_shape : tuple
        ``(H, W, C)``, or ``(L, C)`` or ``(X, Y, Z, C)``; ``None`` for any size along an axis.
    depth : int
        Number of poolings.
    filters : int
        Channels of every convolution but the output.
    batch_norm : bool
        A ``BatchNormalization`` after every convolution of the blocks (``{block}_norm{k}``).
    name : str

    Returns
    -------
    keras.Model

    Examples
    --------
    >>> from cae_lessons.shapes import input_sizes
    >>> print(input_sizes(build_unet(depth=3)))
    height and width: runs for n ≡ 0 (mod 8), n ≥ 8 (n → n); round-trips for n ≡ 0 (mod 8), n ≥ 8
    >>> build_unet((None, None, None, 1), depth=2).get_layer("pool0").__class__.__name__
    'MaxPooling3D'
    """
    import keras
    from keras import layers

    from cae_lessons.validate import check_int

    check_int(depth, "depth", low=1)
    check_int(filters, "filters", low=1)
    input_shape = tuple(input_shape)
    if len(input_shape) not in (2, 3, 4):
        raise ValueError(
            f"build_unet needs input_shape (L, C), (H, W, C) or (X, Y, Z, C); got {input_shape} "
            f"({len(input_shape)} axes). Give the sizes without the batch axis, channels last."
        )
    rank = len(input_shape) - 1
    conv = getattr(layers, f"Conv{rank}D")
    pool = getattr(layers, f"MaxPooling{rank}D")
    up = getattr(layers, f"Conv{rank}DTranspose")

    def block(x, prefix):
        for k in range(2):
            x = conv(filters, 3, padding="same", activation="relu", name=f"{prefix}_conv{k}")(x)
            if batch_norm:
                x = layers.BatchNormalization(name=f"{prefix}_norm{k}")(x)
        return x

    x = inputs = keras.Input(input_shape)
    skips = []
    for level in range(depth):
        x = block(x, f"enc{level}")
        skips.append(x)
        x = pool(2, name=f"pool{level}")(x)
    x = block(x, "bottom")
    for level in reversed(range(depth)):
        x = up(filters, 2, strides=2, name=f"up{level}")(x)
        x = layers.Concatenate(name=f"skip{level}")([x, skips[level]])
        x = block(x, f"dec{level}")
    outputs = conv(input_shape[-1], 1, activation="sigmoid", name="output")(x)
    return keras.Model(inputs, outputs, name=name)


def load_model(path, **kwargs):
    """``keras.saving.load_model`` that also reads any-size :func:`build_cae` models.

    Such a model uses the layers of :func:`cae_lessons.shapes.fit_layers`, which Keras can only
    rebuild once they are registered; this registers them first, so it works in a new process.
    For ch. 6 "MRI of varying resolutions" and any chapter that reloads a saved autoencoder.

    Parameters
    ----------
    path : str or pathlib.Path
        A ``.keras`` file.
    **kwargs
        Passed to ``keras.saving.load_model`` (``compile``, ``safe_mode``, ...).

    Returns
    -------
    keras.Model

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     build_cae((None, None, 1), filters=(8,), fit_input="pad").save(f"{folder}/cae.keras")
    ...     load_model(f"{folder}/cae.keras", compile=False).input_shape
    (None, None, None, 1)
    """
    import keras

    from cae_lessons.shapes import fit_layers

    fit_layers()
    return keras.saving.load_model(path, **kwargs)


def count_parameters(model_or_layers, input_shape=None) -> int:
    """Trainable weights of the convolutions, counted from the shapes alone (ch. 8).

    A convolution or transposed convolution with a ``kh × kw`` kernel from ``C_in`` to
    ``C_out`` channels has ``kh·kw·C_in·C_out`` weights plus ``C_out`` biases (every convolution
    has a bias, as :func:`cae_lessons.shapes.build_model` and Keras build them by default); other
    layers have none.

    Parameters
    ----------
    model_or_layers : keras.Model or sequence of LayerSpec
        Anything :func:`cae_lessons.shapes.trace` reads.
    input_shape : tuple of int, optional
        ``(H, W, C)``; default: the model's own.

    Returns
    -------
    int

    Examples
    --------
    >>> from cae_lessons.shapes import LayerSpec
    >>> window = {"kernel_size": 3, "strides": 2, "padding": "same"}
    >>> layers = [LayerSpec("conv", "enc", filters=4, **window),
    ...           LayerSpec("conv_transpose", "dec", filters=1, **window)]
    >>> count_parameters(layers, (48, 48, 1))
    77
    """
    from cae_lessons.shapes import trace

    total = 0
    for row in trace(model_or_layers, input_shape).rows:
        if row.kind in ("conv", "conv_transpose"):
            c_in, c_out = row.input_shape[2], row.output_shape[2]
            total += row.kernel_size[0] * row.kernel_size[1] * c_in * c_out + c_out
    return total


def count_macs(model_or_layers, input_shape=None) -> int:
    """Multiply-accumulates per image in the convolutions, from the shapes alone (ch. 8).

    A convolution computes ``kh·kw·C_in`` products for each of its ``H_out·W_out·C_out`` outputs;
    a transposed convolution paints a ``kh × kw × C_out`` patch for each of its ``H_in·W_in·C_in``
    inputs. Taps on the zero padding are counted, as most FLOP counters do; biases, activations,
    pooling and upsampling are not. Deterministic, unlike a measured time.

    Parameters
    ----------
    model_or_layers : keras.Model or sequence of LayerSpec
        Anything :func:`cae_lessons.shapes.trace` reads.
    input_shape : tuple of int, optional
        ``(H, W, C)``; default: the model's own.

    Returns
    -------
    int

    Examples
    --------
    >>> from cae_lessons.shapes import LayerSpec
    >>> window = {"kernel_size": 3, "strides": 2, "padding": "same"}
    >>> layers = [LayerSpec("conv", "enc", filters=4, **window),
    ...           LayerSpec("conv_transpose", "dec", filters=1, **window)]
    >>> count_macs(layers, (48, 48, 1))
    41472
    """
    import math

    from cae_lessons.shapes import trace

    total = 0
    for row in trace(model_or_layers, input_shape).rows:
        window = row.kernel_size[0] * row.kernel_size[1] if row.kernel_size else 0
        if row.kind == "conv":
            total += math.prod(row.output_shape) * window * row.input_shape[2]
        elif row.kind == "conv_transpose":
            total += math.prod(row.input_shape) * window * row.output_shape[2]
    return total
