"""Keras models built from layer specs (one Keras layer per LayerSpec)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from cae_lessons.shapes.fitting import fit_layers
from cae_lessons.shapes.graph import is_chain, wiring
from cae_lessons.shapes.reading import _as_specs
from cae_lessons.shapes.specs import _POOLS, LayerSpec, keras_name


def build_model(
    layers: Sequence[LayerSpec],
    input_shape,
    *,
    activation=None,
    output_activation=None,
    name: str | None = None,
):
    """Build a Keras model from layer specs, e.g. to run a :class:`Fix` for real.

    A chain becomes a ``Sequential`` model; specs whose ``inputs`` make a graph become a
    functional model (``'concatenate'`` a ``Concatenate``, ``'elementwise'`` an ``Add``, each
    ``'input'`` another ``keras.Input``, after the first, of the size of what it takes).
    Convolutions get ``filters`` (default: the channels of their input); every convolution but
    the last gets ``activation`` and the last gets ``output_activation`` (both linear by
    default); a ``'neutral'`` spec becomes ``Activation('linear')``. Imports Keras. Used by
    ch. 3-5 and by :func:`cae_lessons.models.build_cae`.

    Parameters
    ----------
    layers : sequence of LayerSpec or dict
    input_shape : tuple of int
        ``(H, W, C)``; ``(D, H, W, C)`` for 3-D layers, ``(L, C)`` for 1-D.
    activation, output_activation : str, optional
        Keras activation names.
    name : str, optional
        The model's name.

    Returns
    -------
    keras.Sequential or keras.Model
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
    wires = wiring(specs)

    def activation_of(index):
        return output_activation if convs and index == convs[-1] else activation

    if is_chain(wires) and all(spec.kind != "input" for spec in specs):  # a Sequential
        built, channels = [], shape[-1]
        for index, spec in enumerate(specs):
            label = spec.name or f"{spec.kind}_{index}"
            built.append(_keras_layer(keras.layers, spec, label, channels, activation_of(index)))
            channels = (spec.filters or channels) if index in convs else channels
        return keras.Sequential([keras.Input(shape), *built], name=name)
    inputs = [keras.Input(shape)]
    tensors = []
    for index, (spec, sources) in enumerate(zip(specs, wires, strict=True)):
        args = [inputs[0] if j < 0 else tensors[j] for j in sources]
        label = spec.name or f"{spec.kind}_{index}"
        if spec.kind == "input":  # another model input, of the size of what it takes
            channels = spec.filters or args[0].shape[-1]
            inputs.append(keras.Input((*args[0].shape[1:-1], channels), name=label))
            tensors.append(inputs[-1])
        elif spec.kind == "concatenate":
            tensors.append(keras.layers.Concatenate(name=label)(args))
        elif spec.kind == "elementwise":
            tensors.append(keras.layers.Add(name=label)(args))
        elif spec.kind == "crop_to_input":
            tensors.append(fit_layers()[1](name=label)([args[0], inputs[0]]))
        else:
            channels = args[0].shape[-1]
            layer = _keras_layer(keras.layers, spec, label, channels, activation_of(index))
            tensors.append(layer(args[0]))
    return keras.Model(inputs if len(inputs) > 1 else inputs[0], tensors[-1], name=name)


def _keras_layer(layers, spec: LayerSpec, name: str, channels: int, activation=None):
    window = {"strides": spec.strides, "padding": spec.padding, "name": name}
    if spec.kind in _POOLS:
        return getattr(layers, keras_name(spec.kind, spec.rank))(spec.kernel_size, **window)
    if spec.kind in ("conv", "conv_transpose"):
        conv = getattr(layers, keras_name(spec.kind, spec.rank))
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
        if spec.rank == 1:  # UpSampling1D and 3D have no interpolation argument
            return layers.UpSampling1D(spec.size[0], name=name)
        if spec.rank == 3:
            return layers.UpSampling3D(spec.size, name=name)
        return layers.UpSampling2D(spec.size, interpolation=spec.interpolation, name=name)
    if spec.kind == "dense":  # Flatten (or global pooling), Dense, Dense, Reshape, nested
        import keras

        pooling = getattr(layers, f"GlobalAveragePooling{spec.rank}D")
        inner = [layers.Flatten() if spec.expects is not None else pooling()]
        inner += [layers.Dense(spec.units)] if spec.units else []
        inner += [
            layers.Dense(math.prod(spec.target) * spec.filters),
            layers.Reshape((*spec.target, spec.filters)),
        ]
        return keras.Sequential(inner, name=name)
    if spec.kind == "resize":
        return layers.Resizing(*spec.target, interpolation=spec.interpolation, name=name)
    if spec.kind in ("crop", "zero_pad"):
        margins = spec.margins[0] if spec.rank == 1 else spec.margins  # 1-D: (before, after)
        return getattr(layers, keras_name(spec.kind, spec.rank))(margins, name=name)
    if spec.kind == "pad_to_multiple":
        return fit_layers()[0](spec.multiple, name=name)
    if spec.kind == "crop_to_input":
        raise ValueError(
            f"{spec.describe()} crops back to the model input, which a keras.Sequential cannot "
            f"pass to it. Build a functional model (cae_lessons.models.build_cae(input_shape="
            f"(None, None, C), fit_input='pad') does), or trace the layer list instead."
        )
    return layers.Activation("linear", name=name)
