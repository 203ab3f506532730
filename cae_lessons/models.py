"""The book's example autoencoders, as Keras 3 models.

Each example is a small convolutional autoencoder for ``(N, H, W, C) float32`` images in [0, 1],
compiled as the source answer compiles them (``optimizer='adam'``,
``loss='binary_crossentropy'``), with readable layer names
(``enc_conv1``, ``enc_pool1``, ``bottleneck``, ``dec_up1``, ``output``, ...) so that
:func:`cae_lessons.shapes.trace` tables and Keras error messages point at the right layer.

TensorFlow is imported inside the functions: importing this module is cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

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


# --------------------------------------------------------------------- ch. 9: the book's models

AXIAL_128 = "axial 128×128"
"""Data key: ``load_mri_data(plane='axial', fit='crop')`` split with ``split_by_slab(seed=0)``."""
AXIAL_64 = "axial 64×64"
"""Data key: the :data:`AXIAL_128` split averaged down with ``block_mean(x, 2)`` (ch. 4-5)."""


@dataclass(frozen=True)
class BookModel:
    """One architecture that a chapter trains, and how it trains it (ch. 9 results table).

    Calling :attr:`build` gives the same model name and architecture as the chapter's own call, so
    ``train(book_model.build, ...)`` with the chapter's data and settings (``epochs=profile.epochs,
    batch_size=8``, each seed of :meth:`seeds`) finds the chapter's run in the training cache.

    Attributes
    ----------
    name : str
        The Keras model name (and prefix of its training-cache entry).
    label : str
        Row label for tables.
    chapter : int
        Chapter the architecture comes from: 3 stride incompatibility, 4 padding and the
        bottleneck, 5 transposed convolutions. Each trains its models, except example 3, which
        chapter 5 only traces and the results chapter trains.
    doc : str
        That chapter's document, e.g. ``'padding_bottleneck'`` (for ``{doc}`` links).
    data : str
        :data:`AXIAL_128` or :data:`AXIAL_64`: the images it is trained and tested on.
    build : callable
        Zero-argument function returning the compiled, untrained model.
    seeds_quick, seeds_full : int or None
        Training seeds ``0, 1, ...`` the chapter uses in the quick and the full profile; ``None``
        means ``profile.seeds``.
    """

    name: str
    label: str
    chapter: int
    doc: str
    data: str
    build: Callable[[], Any] = field(repr=False, compare=False)
    seeds_quick: int | None = 1
    seeds_full: int | None = 1

    def seeds(self, profile) -> range:
        """The training seeds for an execution profile (from ``resolve_profile()``).

        Examples
        --------
        >>> from cae_lessons.config import QUICK, FULL
        >>> sweep = book_models()["cae_pool_upsample_8-16-32_l16"]
        >>> sweep.seeds(QUICK), sweep.seeds(FULL)
        (range(0, 1), range(0, 5))
        """
        name, seeds = getattr(profile, "name", None), getattr(profile, "seeds", None)
        if name not in ("quick", "full") or not isinstance(seeds, int):
            raise TypeError(
                f"profile must be an execution profile with name 'quick' or 'full' and an int "
                f"seeds (from cae_lessons.config.resolve_profile()), got {profile!r}."
            )
        count = self.seeds_quick if name == "quick" else self.seeds_full
        return range(seeds if count is None else count)


def _example1_shape_only_fix():
    """Ch. 3: example 1 with its 78×78 output zero-padded to 128×128 (the shape-only fix)."""
    from cae_lessons.shapes import build_model, diagnose

    fix = next(f for f in diagnose(example1()).fixes if f.kind == "crop_or_pad_output")
    return build_model(
        fix.layers,
        fix.input_shape,
        activation="relu",
        output_activation="sigmoid",
        name="example1_fix_crop_or_pad_output",
    )


def _ch4_sweep(down: str, channels: int):
    def build():
        return build_cae((64, 64, 1), filters=(8, 16, 32), down=down, latent_channels=channels)

    return build


def book_models(data: str | None = None) -> dict[str, BookModel]:
    """Every architecture that chapters 3 and 4 train, and example 3, by model name (ch. 9).

    Chapter 3 trains its real fix as ``example2()`` and the shape-only fix of example 1; chapter
    4 trains example 2 and a 64×64 sweep of ``build_cae`` designs (max pooling or strided
    convolutions, latent ratio 4, 16 or 64); the results chapter (ch. 9) trains example 3, which
    chapter 5 only traces. Chapter 5's decoders are an experiment that both chapters call
    (:func:`cae_lessons.experiments.decoders.compare_decoders`), not a registry entry. A test checks
    that each builder gives the chapter's model name and architecture, which is what the
    training cache keys on.

    Parameters
    ----------
    data : {AXIAL_128, AXIAL_64}, optional
        Keep only the models trained on these images.

    Returns
    -------
    dict of str to BookModel

    Raises
    ------
    ValueError
        If ``data`` is not one of the data keys.

    Examples
    --------
    >>> models = book_models(AXIAL_64)
    >>> list(models)[:2]
    ['cae_pool_upsample_8-16-32_l16', 'cae_stride_upsample_8-16-32_l16']
    >>> models["cae_pool_upsample_8-16-32_l16"]
    BookModel(name='cae_pool_upsample_8-16-32_l16', label='CAE pool, ratio 4', chapter=4, \
doc='padding_bottleneck', data='axial 64×64', seeds_quick=1, seeds_full=None)
    >>> book_models()["example2"].build().count_params()
    5089
    """
    if data is not None and data not in (AXIAL_128, AXIAL_64):
        raise ValueError(
            f"data must be None or one of {(AXIAL_128, AXIAL_64)} (cae_lessons.models.AXIAL_128 "
            f"or AXIAL_64), got {data!r}."
        )
    ch3, ch4, ch5 = "stride_incompatibility", "padding_bottleneck", "transposed_convolutions"
    models = [
        BookModel("example2", "example 2 = ch. 3 real fix", 4, ch4, AXIAL_128, example2),
        BookModel(
            "example1_fix_crop_or_pad_output",
            "example 1, shape-only fix",
            3,
            ch3,
            AXIAL_128,
            _example1_shape_only_fix,
        ),
        BookModel("example3", "example 3", 5, ch5, AXIAL_128, example3),
    ]
    for ratio, channels in {4: 16, 16: 4, 64: 1}.items():
        for down in ("pool", "stride"):
            name = f"cae_{down}_upsample_8-16-32_l{channels}"
            label = f"CAE {down}, ratio {ratio}"
            build = _ch4_sweep(down, channels)
            models.append(BookModel(name, label, 4, ch4, AXIAL_64, build, 1, None))
    return {m.name: m for m in models if data is None or m.data == data}


# --------------------------------------------------------------- ch. 8: kernel size against stride


def _positive_int(value, name: str, hint: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}. {hint}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}. {hint}")
    return value


def kernel_stride_layers(input_shape=(48, 48, 1), *, kernel_size, strides, latent_channels=4):
    """The two layers of ch. 8's one-level autoencoder, as LayerSpec (no Keras).

    ``Conv2D(latent_channels, kernel_size, strides=strides, padding='same')`` named
    ``'bottleneck'``, then ``Conv2DTranspose(C, kernel_size, strides=strides, padding='same')``
    named ``'output'`` (``C`` = the input's channels): the decoder undoes the encoder with the
    same kernel and stride. Used by ch. 8 "Kernel size against stride" through
    :func:`build_kernel_stride_cae` and :func:`kernel_stride_design`.

    Parameters
    ----------
    input_shape : tuple of int
        ``(H, W, C)``.
    kernel_size, strides : int
        Square kernel side and stride of both layers.
    latent_channels : int
        Channels of the bottleneck.

    Returns
    -------
    tuple of LayerSpec

    Raises
    ------
    TypeError, ValueError
        If ``kernel_size``, ``strides`` or ``latent_channels`` is not a positive int.

    Examples
    --------
    >>> from cae_lessons.shapes import trace
    >>> t = trace(kernel_stride_layers(kernel_size=5, strides=3), (48, 48, 1))
    >>> t.bottleneck.output_shape, t.output_shape, t.compression_ratio
    ((16, 16, 4), (48, 48, 1), 2.25)
    """
    from cae_lessons.shapes import LayerSpec

    hint = "Pass e.g. kernel_size=3, strides=2, latent_channels=4."
    kernel_size = _positive_int(kernel_size, "kernel_size", hint)
    strides = _positive_int(strides, "strides", hint)
    latent_channels = _positive_int(latent_channels, "latent_channels", hint)
    window = {"kernel_size": kernel_size, "strides": strides, "padding": "same"}
    return (
        LayerSpec("conv", "bottleneck", filters=latent_channels, **window),
        LayerSpec("conv_transpose", "output", filters=input_shape[2], **window),
    )


def _checked_kernel_stride_trace(input_shape, kernel_size, strides, latent_channels):
    from cae_lessons.shapes import trace

    shape = tuple(input_shape)
    layers = kernel_stride_layers(
        shape, kernel_size=kernel_size, strides=strides, latent_channels=latent_channels
    )
    traced = trace(layers, shape)
    if not traced.matches_input:
        out = "×".join(map(str, traced.output_shape))
        fitting = [-(-n // strides) * strides for n in shape[:2]]
        raise ValueError(
            f"A {shape[0]}×{shape[1]} input does not round-trip through kernel_size={kernel_size},"
            f" strides={strides}: 'same' padding rounds {shape[0]}/{strides} up and the output is "
            f"{out}. Use a height and width that are multiples of {strides}, e.g. "
            f"{fitting[0]}×{fitting[1]}."
        )
    return layers, traced


def build_kernel_stride_cae(
    input_shape=(48, 48, 1), *, kernel_size, strides, latent_channels=4, name=None
):
    """Ch. 8's one-level autoencoder as a compiled Keras model, checked before it is built.

    The layers of :func:`kernel_stride_layers`, with ``relu`` on the bottleneck and ``sigmoid``
    on the output, compiled with Adam and ``loss='mse'``. Used by ch. 8 "Kernel size against
    stride" (through :func:`cae_lessons.training.kernel_stride_sweep`).

    Parameters
    ----------
    input_shape : tuple of int
        ``(H, W, C)``; ``H`` and ``W`` must be multiples of ``strides``.
    kernel_size, strides, latent_channels : int
        As :func:`kernel_stride_layers`.
    name : str, optional
        Default ``'ks_k{kernel_size}_s{strides}_c{latent_channels}'``.

    Returns
    -------
    keras.Sequential

    Raises
    ------
    ValueError
        If the input does not round-trip (the message names a size that does), or as
        :func:`kernel_stride_layers`.

    Examples
    --------
    >>> model = build_kernel_stride_cae((48, 48, 1), kernel_size=9, strides=4)
    >>> model.name, model.get_layer("bottleneck").output.shape, model.count_params()
    ('ks_k9_s4_c4', (None, 12, 12, 4), 653)
    >>> build_kernel_stride_cae((50, 50, 1), kernel_size=3, strides=4)
    Traceback (most recent call last):
    ...
    ValueError: A 50×50 input does not round-trip through kernel_size=3, strides=4: ...
    """
    from cae_lessons.shapes import build_model

    layers, _ = _checked_kernel_stride_trace(input_shape, kernel_size, strides, latent_channels)
    model = build_model(
        layers,
        tuple(input_shape),
        activation="relu",
        output_activation="sigmoid",
        name=name or f"ks_k{kernel_size}_s{strides}_c{latent_channels}",
    )
    model.compile(optimizer="adam", loss="mse")
    return model


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
    >>> count_parameters(kernel_stride_layers(kernel_size=3, strides=2), (48, 48, 1))
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
    >>> count_macs(kernel_stride_layers(kernel_size=3, strides=2), (48, 48, 1))
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


@dataclass(frozen=True)
class KernelStrideDesign:
    """What the shapes alone say about one cell of ch. 8's kernel × stride grid.

    Attributes
    ----------
    kernel_size, strides, latent_channels : int
    input_shape, latent_shape : tuple of int
        ``(H, W, C)`` of the input and of the bottleneck.
    compression_ratio : float
        Input values over bottleneck values (below 1: the bottleneck is larger).
    receptive_field : int
        Side of the largest receptive field of an output pixel, in input pixels.
    parameters : int
        From :func:`count_parameters`.
    macs : int
        Multiply-accumulates per image, from :func:`count_macs`.
    unseen_fraction : float
        Fraction of input pixels that no bottleneck unit reads (the kernel is narrower than the
        stride, so the windows leave gaps).
    unreached_fraction : float
        Fraction of output pixels that no bottleneck unit writes to: the transposed convolution
        leaves them to its bias alone.
    """

    kernel_size: int
    strides: int
    latent_channels: int
    input_shape: tuple[int, int, int]
    latent_shape: tuple[int, int, int]
    compression_ratio: float
    receptive_field: int
    parameters: int
    macs: int
    unseen_fraction: float
    unreached_fraction: float

    def __repr__(self) -> str:
        latent = "×".join(map(str, self.latent_shape))
        return (
            f"KernelStrideDesign(k={self.kernel_size}, s={self.strides}: latent {latent}, "
            f"compression {self.compression_ratio:g}×, RF {self.receptive_field}, "
            f"{self.parameters} parameters, {self.macs} MACs, unseen {self.unseen_fraction:.4g}, "
            f"unreached {self.unreached_fraction:.4g})"
        )


def _rows_read(encoder) -> int:
    """Input rows (or columns) that at least one window of a convolution step reads."""
    return len(
        {m for unit in range(encoder.n_out) for m in encoder.taps(unit) if 0 <= m < encoder.n_in}
    )


def _rows_written(decoder) -> int:
    """Output rows (or columns) of a transposed-convolution step that some input unit paints."""
    return sum(any(0 <= m < decoder.n_in for m in decoder.taps(i)) for i in range(decoder.n_out))


def kernel_stride_design(kernel_size, strides, input_shape=(48, 48, 1), latent_channels=4):
    """Shapes, compression, receptive field, cost and coverage of one ch. 8 design, untrained.

    Parameters
    ----------
    kernel_size, strides : int
        As :func:`kernel_stride_layers`.
    input_shape : tuple of int
        ``(H, W, C)``; ``H`` and ``W`` must be multiples of ``strides``.
    latent_channels : int

    Returns
    -------
    KernelStrideDesign

    Raises
    ------
    ValueError
        If the input does not round-trip, as :func:`build_kernel_stride_cae`.

    Examples
    --------
    >>> kernel_stride_design(3, 4)
    KernelStrideDesign(k=3, s=4: latent 12×12×4, compression 4×, RF 3, 77 parameters, 10368 \
MACs, unseen 0.4375, unreached 0.4375)
    >>> d = kernel_stride_design(9, 1)
    >>> d.latent_shape, d.compression_ratio, d.receptive_field
    ((48, 48, 4), 0.25, 17)
    """
    layers, traced = _checked_kernel_stride_trace(
        input_shape, kernel_size, strides, latent_channels
    )
    shape, latent = traced.input_shape, traced.bottleneck.output_shape
    seen, reached = 1.0, 1.0
    for axis, (encoder, decoder) in enumerate(traced.steps):
        seen *= _rows_read(encoder) / shape[axis]
        reached *= _rows_written(decoder) / shape[axis]
    return KernelStrideDesign(
        kernel_size=kernel_size,
        strides=strides,
        latent_channels=latent_channels,
        input_shape=shape,
        latent_shape=latent,
        compression_ratio=traced.compression_ratio,
        receptive_field=max(traced.rows[-1].receptive_field),
        parameters=count_parameters(layers, shape),
        macs=count_macs(layers, shape),
        unseen_fraction=1.0 - seen,
        unreached_fraction=1.0 - reached,
    )
