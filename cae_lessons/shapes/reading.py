"""Reading a Keras model: the kind of each layer, its LayerSpec, and the graph of calls from the
model's input to its output (shared layers once per call, nested models inlined, merges written
as layers, as operators or as ``keras.ops``)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import fields, replace

from cae_lessons.shapes.fitting import fit_layers
from cae_lessons.shapes.graph import INPUT, is_chain
from cae_lessons.shapes.specs import (
    _ANY_RANK,
    _PER_AXIS,
    _POOLS,
    AXIS_NAMES,
    KERAS_NAMES,
    MERGE_LAYERS,
    MERGES,
    NEUTRAL_LAYERS,
    RANKS,
    LayerSpec,
    _listed,
    keras_name,
)
from cae_lessons.shapes.vectors import VECTOR_KINDS, collapse

_SEPARABLE = {1: ("SeparableConv1D", "DepthwiseConv1D"), 2: ("SeparableConv2D", "DepthwiseConv2D")}
"""Keras' separable and depthwise convolutions (there are no 3-D ones), read as convolutions."""


@functools.cache
def _keras_classes() -> tuple[tuple[str, int | None, type], ...]:
    """``(kind, rank, class)`` for every layer trace reads; subclasses count as their base.
    ``rank`` is ``None`` for layers of any rank (merges, activations, ...)."""
    import keras

    pad_to_multiple, crop_to_input = fit_layers()
    ours = {"pad_to_multiple": pad_to_multiple, "crop_to_input": crop_to_input}
    classes: list[tuple[str, int | None, type]] = [("input", None, keras.layers.InputLayer)]
    for kind, name in KERAS_NAMES.items():
        if kind in ours:
            classes.append((kind, None if kind == "crop_to_input" else 2, ours[kind]))
        elif "2D" not in name:  # Resizing
            classes.append((kind, 2, getattr(keras.layers, name)))
        else:
            classes += [(kind, r, getattr(keras.layers, keras_name(kind, r))) for r in RANKS]
    classes += [
        ("conv", rank, getattr(keras.layers, name))
        for rank, names in _SEPARABLE.items()
        for name in names
    ]
    classes += [(kind, None, getattr(keras.layers, name)) for name, kind in MERGE_LAYERS.items()]
    classes += [("neutral", None, getattr(keras.layers, name)) for name in NEUTRAL_LAYERS]
    classes += [
        ("flatten", None, keras.layers.Flatten),
        ("dense_layer", None, keras.layers.Dense),
        ("reshape", None, keras.layers.Reshape),
    ]
    classes += [
        ("global_pool", rank, getattr(keras.layers, f"Global{how}Pooling{rank}D"))
        for how in ("Average", "Max")
        for rank in RANKS
    ]
    return tuple(classes)


def _kind_and_rank(layer) -> tuple[str | None, int | None]:
    # Conv2DTranspose is not a Conv2D in Keras 3, so the first match is the only one.
    return next(
        ((kind, rank) for kind, rank, cls in _keras_classes() if isinstance(layer, cls)),
        (None, None),
    )


def layer_kind(layer) -> str | None:
    """The LayerSpec kind of a Keras layer: ``'input'`` for an InputLayer, ``None`` if unknown.

    A layer counts as the Keras class it is an instance of, so a subclass of ``Conv2D`` is a
    ``'conv'``. The layers of a dense bottleneck have kinds of their own
    (:data:`cae_lessons.shapes.vectors.VECTOR_KINDS`: ``'flatten'``, ``'global_pool'``,
    ``'dense_layer'``, ``'reshape'``), which trace reads together as one ``'dense'``. Imports
    Keras.

    Examples
    --------
    >>> import keras
    >>> class MyConv(keras.layers.Conv2D):
    ...     pass
    >>> layer_kind(MyConv(4, 3)), layer_kind(keras.layers.ReLU()), layer_kind(keras.layers.Dense(2))
    ('conv', 'neutral', 'dense_layer')
    >>> layer_kind(keras.layers.LSTM(2)) is None
    True
    """
    return _kind_and_rank(layer)[0]


def data_format(model_or_layers) -> str:
    """``'channels_last'`` or ``'channels_first'``: the ``data_format`` of every layer that has one.

    Nested models are searched too. A model that mixes the two is refused, and so is a
    channels_first model with PadToMultiple or CropToInput (they pad and crop ``(N, H, W, C)``).

    Examples
    --------
    >>> import keras
    >>> data_format([keras.layers.Conv2D(1, 3, data_format="channels_first")])
    'channels_first'
    """
    layers = list(getattr(model_or_layers, "layers", model_or_layers))
    formats, ours = {}, []
    while layers:
        layer = layers.pop()
        layers.extend(getattr(layer, "layers", []) if hasattr(layer, "operations") else [])
        value = getattr(layer, "data_format", None)  # set by every Keras layer that has one
        if isinstance(value, str):
            formats.setdefault(value, layer.name)
        if layer_kind(layer) in ("pad_to_multiple", "crop_to_input"):
            ours.append(layer.name)
    if len(formats) > 1:
        raise ValueError(
            "The model mixes data formats: "
            + ", ".join(f"{layer!r} is {value}" for value, layer in sorted(formats.items()))
            + "; trace reads one. Give every layer the same data_format."
        )
    value = next(iter(formats), "channels_last")
    if value == "channels_first" and ours:
        raise ValueError(
            f"{ours[0]!r} pads or crops (N, H, W, C) batches, but the model is channels_first; "
            "use data_format='channels_last' throughout."
        )
    return value


def _spec_from_keras(layer) -> LayerSpec | None:
    """LayerSpec of a Keras layer, ``None`` for an InputLayer; ValueError for unknown layers."""
    kind, rank = _kind_and_rank(layer)
    config = layer.get_config()
    if kind == "input":
        return None
    if kind == "neutral":
        return LayerSpec("neutral", name=layer.name)
    if config.get("padding") == "causal":
        raise ValueError(
            f"{layer.name!r} ({type(layer).__name__}) has padding='causal'; trace reads 'valid' "
            "and 'same' only. Trace a LayerSpec list with padding='same' for its sizes (causal "
            "padding gives the same sizes but shifts the receptive field)."
        )
    if kind == "resize":
        interpolation = config["interpolation"]
        if config["crop_to_aspect_ratio"] or config["pad_to_aspect_ratio"]:
            interpolation += " with aspect-ratio crop/pad"
        target = (config["height"], config["width"])
        return LayerSpec(kind, name=layer.name, target=target, interpolation=interpolation)
    if kind in ("crop", "zero_pad"):
        margins = config["cropping" if kind == "crop" else "padding"]
        return LayerSpec(kind, name=layer.name, margins=margins, rank=rank)
    if kind == "upsample":  # UpSampling1D and 3D have no interpolation argument
        interpolation = config.get("interpolation", "nearest")
        return LayerSpec(
            kind, name=layer.name, size=config["size"], interpolation=interpolation, rank=rank
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
        multiplier = config.get("depth_multiplier", 1)  # DepthwiseConv2D: no filters
        if "filters" not in config and multiplier != 1:
            raise ValueError(
                f"{layer.name!r} (DepthwiseConv2D) has depth_multiplier={multiplier}: its "
                "output channels depend on its input's, which trace does not follow through a "
                "depthwise convolution. Use depth_multiplier=1, or a SeparableConv2D."
            )
        args.update(dilation_rate=config["dilation_rate"], filters=config.get("filters"))
    if kind == "conv_transpose":
        args["output_padding"] = config["output_padding"]
    return LayerSpec(kind, name=layer.name, rank=rank, **args)


_BINARY_OPS = frozenset(
    {"Add", "Subtract", "Multiply", "Divide", "TrueDivide", "Maximum", "Minimum", "Power"}
)
"""``keras.ops`` classes that apply element by element to two operands (``a + b`` is ``Add``)."""
_UNARY_OPS = frozenset(
    {
        "Relu",
        "Relu6",
        "Sigmoid",
        "Tanh",
        "Softplus",
        "Silu",
        "Gelu",
        "LeakyRelu",
        "Elu",
        "Selu",
        "HardSigmoid",
        "Absolute",
        "Negative",
        "Square",
        "Sqrt",
        "Exp",
        "Log",
        "Clip",
        "Cast",
    }
)
"""``keras.ops`` classes that apply element by element to one tensor: shape-neutral."""


def _op_kind(operation, node, what: str) -> str:
    """The LayerSpec kind of a ``keras.ops`` call in a functional model, or a ValueError."""
    import numpy as np

    name = type(operation).__name__
    tensors = node.input_tensors
    if name == "Concatenate":
        return "concatenate"
    if name in _BINARY_OPS and len(tensors) == 2:
        return "elementwise"
    constants = [a for a in node.arguments.args if not hasattr(a, "_keras_history")]
    if (name in _BINARY_OPS and all(np.size(c) == 1 for c in constants)) or name in _UNARY_OPS:
        return "neutral"  # a tensor with a scalar, or one tensor element by element
    raise ValueError(
        f"trace does not know the operation {what}: it reads keras.ops merges "
        f"({', '.join(sorted(_BINARY_OPS))}, Concatenate on channels), element-wise functions of "
        "one tensor, and arithmetic with a scalar. Rebuild that step as a Keras layer trace "
        "reads, or trace the model as a list of LayerSpec that describes it."
    )


def _graph_of_calls(model) -> list[tuple[object, str, str, tuple[int, ...]]]:
    """Every call in a Keras model, in an order that computes each after what it takes.

    Returns ``(layer or operation, kind, unique name, sources)`` per call; a source is the
    index of an earlier call or -1 for the model input. A ``Sequential`` model is its
    ``layers``; a functional model is walked from its output back through the nodes that made
    it: a layer called twice appears twice (its second call named ``'name#2'``), a nested model
    (in a functional or a built ``Sequential`` model) is inlined (its layers named
    ``'model/layer'``), every input after the first is a call of kind ``'input'`` (source -1:
    it has the first input's size). Refused with the reason rather than read wrongly: inputs
    that may differ in size, several outputs, a subclassed model (its call order is not in its
    attributes), a ``keras.ops`` call trace does not know, and ``CropToInput`` to anything but
    the model input.
    """
    import keras

    name = getattr(model, "name", type(model).__name__)
    _refuse_unreadable(model, name)
    nests = any(isinstance(layer, keras.Model) for layer in model.layers)
    if isinstance(model, keras.Sequential) and not (nests and hasattr(model, "outputs")):
        layers = [layer for layer in model.layers if layer_kind(layer) != "input"]
        calls = [
            (layer, layer_kind(layer) or "unknown", layer.name, (i - 1,))
            for i, layer in enumerate(layers)
        ]
        if not any(kind in VECTOR_KINDS for _, kind, _, _ in calls):
            return calls
        if not hasattr(model, "outputs"):
            raise ValueError(
                f"{name!r} is not built, and trace reads a dense bottleneck (Flatten, Dense, "
                "Reshape) from the shapes Keras built: give it a keras.Input first."
            )
        shapes = [(tuple(layer.input.shape), tuple(layer.output.shape)) for layer in layers]
        return collapse(calls, shapes, name, data_format(model) == "channels_first")
    channels_first = data_format(model) == "channels_first"
    extras = _extra_inputs(model, name, channels_first)
    if len(model.outputs) != 1:
        raise ValueError(
            f"trace reads a model with one output; {name!r} has {len(model.outputs)} outputs "
            f"{_outputs_of(model)}. Trace each head on its own: "
            "for head in cae_lessons.shapes.heads(model): trace(head)."
        )
    calls: list[tuple[object, str, str, tuple[int, ...]]] = []
    shapes: list[tuple[tuple, tuple]] = []  # per call: its input's and its output's shape
    seen: dict[tuple[int, int], int] = {}  # (id(tensor), id(scope)) -> index
    counts: dict[int, int] = {}
    scopes: list = []  # keeps every scope alive, so no id is reused during the walk

    def visit(tensor, scope: dict, prefix: str) -> int:
        key = (id(tensor), id(scope))
        if key in seen:
            return seen[key]
        operation, node_index, tensor_index = tensor._keras_history
        what = f"{operation.name!r} ({type(operation).__name__})"
        if isinstance(operation, keras.layers.InputLayer):
            if scope is top and id(tensor) in extras:  # another input: a call of its own
                calls.append((operation, "input", operation.name, (-1,)))
                shapes.append((tuple(tensor.shape), tuple(tensor.shape)))
                scope[id(tensor)] = len(calls) - 1
                del extras[id(tensor)]
            if id(tensor) not in scope:
                raise ValueError(f"In {name!r}, {what} is an input other than the model's own.")
            seen[key] = scope[id(tensor)]
            return seen[key]
        node = operation._inbound_nodes[node_index]
        sources = [visit(t, scope, prefix) for t in node.input_tensors]
        if isinstance(operation, keras.Model):  # a nested model: inline its calls
            _refuse_unreadable(operation, f"{prefix}{operation.name}")
            if isinstance(operation, keras.Sequential) and not hasattr(operation, "outputs"):
                raise ValueError(f"In {name!r}, the nested model {what} is not built.")
            inner = {id(t): s for t, s in zip(operation.inputs, sources, strict=True)}
            scopes.append(inner)
            result = visit(operation.outputs[tensor_index], inner, f"{prefix}{operation.name}/")
        else:
            if isinstance(operation, keras.layers.Layer):
                kind = layer_kind(operation) or "unknown"
            else:
                kind = _op_kind(operation, node, what)
            if kind == "concatenate" and operation.axis not in _channel_axes(node, channels_first):
                raise ValueError(
                    f"trace reads concatenations along the channel axis only; {what} in "
                    f"{name!r} concatenates along axis={operation.axis}."
                )
            if kind == "crop_to_input" and len(sources) == 2:
                if sources[1] != -1:
                    raise ValueError(
                        f"In {name!r}, {what} crops to a tensor other than the model's input; "
                        "trace reads CropToInput()([output, model_input]) only."
                    )
                sources = sources[:1]  # the reference is the model's input
            if len(sources) != 1 and kind not in MERGES:
                raise ValueError(
                    f"trace does not know how {what} in {name!r} combines {len(sources)} tensors."
                )
            counts[id(operation)] = counts.get(id(operation), 0) + 1
            call = counts[id(operation)]
            label = f"{prefix}{operation.name}" + (f"#{call}" if call > 1 else "")
            calls.append((operation, kind, label, tuple(sources)))
            shapes.append((tuple(node.input_tensors[0].shape), tuple(tensor.shape)))
            result = len(calls) - 1
        seen[key] = result
        return result

    top = {id(model.inputs[0]): -1}
    try:
        visit(model.outputs[0], top, "")
    except RecursionError:
        raise ValueError(
            f"{name!r} is too deep for trace to walk; trace it as a list of LayerSpec."
        ) from None
    if any(kind in VECTOR_KINDS for _, kind, _, _ in calls):
        return collapse(calls, shapes, name, channels_first)
    return calls


def _outputs_of(model) -> str:
    return ", ".join(f"{t._keras_history[0].name!r} {tuple(t.shape)}" for t in model.outputs)


def _extra_inputs(model, name: str, channels_first: bool) -> dict:
    """``{id(tensor): channels}`` of every input after the first; inputs whose spatial sizes
    may differ from the first's are refused (each size would be an unknown of its own)."""
    first, *others = model.inputs
    spatial = slice(2, None) if channels_first else slice(1, -1)
    extras = {}
    for tensor in others:
        shape, reference = tuple(tensor.shape), tuple(first.shape)
        channels = shape[1 if channels_first else -1]
        if len(shape) != len(reference) or shape[spatial] != reference[spatial] or not channels:
            raise ValueError(
                f"trace reads a model with several inputs when they are all one size (an image "
                f"and its mask, two scans to register): the size of every input is then the one "
                f"unknown. {name!r} has inputs {_inputs_of(model)}: "
                f"{tensor._keras_history[0].name!r} is not declared with the first one's "
                "spatial size (and its channels). Declare every input with the same spatial "
                "size (None for any), or trace a list of LayerSpec in which an input of another "
                "layer's size is LayerSpec('input', inputs=['that_layer'], filters=C)."
            )
        extras[id(tensor)] = channels
    return extras


def _inputs_of(model) -> str:
    return ", ".join(f"{t._keras_history[0].name!r} {tuple(t.shape[1:])}" for t in model.inputs)


def heads(model) -> tuple:
    """One single-output Keras model per output of ``model``, sharing its layers and weights.

    A model with several outputs (a reconstruction head and a segmentation head, say) is
    traced, diagnosed and fixed one head at a time: each head is the part of the graph that
    computes that output, as ``keras.Model(model.input, output)``. A model with one output is
    its own only head. Used by the ``cae-shapes`` command line.

    Parameters
    ----------
    model : keras.Model
        A functional model (a built ``Sequential`` one is its own only head).

    Returns
    -------
    tuple of keras.Model
        In the order of ``model.outputs``, each named ``'<model>_<output layer>'``.

    Examples
    --------
    >>> import keras
    >>> from cae_lessons.shapes import heads, trace
    >>> x = inputs = keras.Input((None, None, 1))
    >>> x = keras.layers.Conv2D(4, 3, padding="same", name="enc")(x)
    >>> pooled = keras.layers.MaxPooling2D(2, name="pool")(x)
    >>> outputs = [keras.layers.Conv2D(1, 1, name="rec")(x), pooled]
    >>> model = keras.Model(inputs, outputs, name="two")
    >>> [head.name for head in heads(model)]
    ['two_rec', 'two_pool']
    >>> [trace(head, input_shape=(28, 28, 1)).output_shape for head in heads(model)]
    [(28, 28, 1), (14, 14, 4)]
    """
    import keras

    name = getattr(model, "name", type(model).__name__)
    _refuse_unreadable(model, name)
    if isinstance(model, keras.Sequential) and not hasattr(model, "outputs"):
        raise ValueError(f"{name!r} is not built: give it a keras.Input first.")
    if len(model.outputs) == 1:
        return (model,)
    return tuple(
        keras.Model(model.input, output, name=f"{name}_{output._keras_history[0].name}")
        for output in model.outputs
    )


def _channel_axes(node, channels_first: bool) -> tuple[int, int]:
    """The two ways to name the channel axis of the tensors a node takes."""
    ndim = len(node.input_tensors[0].shape)
    return (1, 1 - ndim) if channels_first else (-1, ndim - 1)


def _refuse_unreadable(model, name: str) -> None:
    import keras

    if not isinstance(model, keras.Sequential) and not hasattr(model, "operations"):
        raise ValueError(
            f"trace cannot read the model {name!r} ({type(model).__name__}): a subclassed "
            "keras.Model's call order is not in its attributes, and its layers in attribute "
            "order may not be the order call() uses them. Trace the list of its layers in call "
            "order (trace([layer, ...], input_shape=(H, W, C))) or rebuild it as a Sequential or "
            "functional model."
        )


def _specs_of_model(model) -> tuple[LayerSpec, ...]:
    """The layer specs of a Keras model, with ``inputs`` wherever it is not one chain."""
    calls = _graph_of_calls(model)
    unknown = [
        f"{op.name!r} ({type(op).__name__})" for op, kind, _, _ in calls if kind == "unknown"
    ]
    if unknown:
        _refuse_unknown(unknown)
    wires = [sources for _, _, _, sources in calls]
    chain = is_chain(wires) and all(kind != "input" for _, kind, _, _ in calls)
    channels_first = data_format(model) == "channels_first"
    names = [label for _, _, label, _ in calls]
    specs = []
    for operation, kind, label, sources in calls:
        inputs = () if chain else tuple(INPUT if j < 0 else names[j] for j in sources)
        if kind in MERGES or kind == "neutral":  # every keras.ops call is one of these
            specs.append(LayerSpec(kind, name=label, inputs=inputs))
        elif kind == "dense":  # Flatten or global pooling … Reshape (vectors.collapse)
            specs.append(
                LayerSpec(
                    kind,
                    name=label,
                    target=operation.target,
                    filters=operation.filters,
                    expects=operation.expects,
                    units=operation.units,
                    rank=len(operation.target),
                    inputs=inputs,
                )
            )
        elif kind == "dense_layer":  # a Dense on an image: each pixel's channels, as a 1×1 conv
            units, rank = operation.get_config()["units"], len(operation.input.shape) - 2
            specs.append(LayerSpec("conv", name=label, filters=units, rank=rank, inputs=inputs))
        elif kind == "input":  # another model input, of the first one's size
            channels = operation.batch_shape[1 if channels_first else -1]
            specs.append(LayerSpec(kind, name=label, filters=channels))
        else:
            specs.append(replace(_spec_from_keras(operation), name=label, inputs=inputs))
    return tuple(specs)


def _refuse_unknown(unknown) -> None:
    vectors = ["Flatten", "Dense", "Reshape", "GlobalAveragePooling2D", "GlobalMaxPooling2D"]
    known = ", ".join(["InputLayer", *KERAS_NAMES.values(), *MERGE_LAYERS, *NEUTRAL_LAYERS])
    known += f" and, as dense bottlenecks, {', '.join(vectors)}"
    raise ValueError(
        f"trace does not know the layer(s) {', '.join(unknown)}: it reads only {known}. "
        f"Remove them or trace a list of LayerSpec that describes their effect on the shape."
    )


def _as_specs(model_or_layers, input_shape) -> tuple[tuple[LayerSpec, ...], tuple[int, ...]]:
    """Layer specs, all of one rank, and the ``(*spatial, C)`` input shape of a model, a layer
    list or a spec list (``(H, W, C)`` for a 2-D model)."""
    specs = _specs(model_or_layers)
    rank = _rank(specs)
    layers = getattr(model_or_layers, "layers", model_or_layers)
    shape = _input_shape(model_or_layers, layers, input_shape, rank)
    return _with_rank(specs, len(shape) - 1), shape


def _ranked_specs(model_or_layers) -> tuple[LayerSpec, ...]:
    """The layer specs, all of one rank (2 when no layer has a rank of its own), for the
    functions that need no input shape."""
    specs = _specs(model_or_layers)
    return _with_rank(specs, _rank(specs) or 2)


def _specs(model_or_layers) -> tuple[LayerSpec, ...]:
    """The layer specs of a model, a layer list or a spec list (:func:`_as_specs` without the
    input shape; merges and shape-neutral layers may still have another rank than the rest)."""
    if hasattr(model_or_layers, "layers") and hasattr(model_or_layers, "get_config"):
        return _specs_of_model(model_or_layers)  # a Keras model: the graph of its calls
    layers = getattr(model_or_layers, "layers", model_or_layers)
    if isinstance(layers, str | bytes) or not isinstance(layers, Sequence):
        raise TypeError(
            f"trace expects a Keras model or a list of layers / LayerSpec / dicts, got "
            f"{type(model_or_layers).__name__}."
        )
    keras_layers = [layer for layer in layers if hasattr(layer, "get_config")]
    unknown = [f"{x.name!r} ({type(x).__name__})" for x in keras_layers if layer_kind(x) is None]
    if unknown:
        _refuse_unknown(unknown)
    vectors = [
        f"{x.name!r} ({type(x).__name__})" for x in keras_layers if layer_kind(x) in VECTOR_KINDS
    ]
    if vectors:
        raise ValueError(
            f"A list of Keras layers holds {', '.join(vectors)}: trace reads a dense bottleneck "
            "(Flatten or global pooling, Dense, Reshape) from a model, whose shapes say what its "
            "Dense was built for. Trace the model, or a list of LayerSpec with "
            "LayerSpec('dense', target=(H, W), filters=C, expects=(H, W, C))."
        )
    merges = [f"{x.name!r} ({type(x).__name__})" for x in keras_layers if layer_kind(x) in MERGES]
    if merges:
        raise ValueError(
            f"A list of Keras layers is a chain, but {', '.join(merges)} merges several tensors; "
            "trace the model itself, or a list of LayerSpec whose merges name their inputs "
            "(LayerSpec('concatenate', inputs=['up_1', 'enc_1']))."
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
    return tuple(specs)


def _rank(specs: Sequence[LayerSpec]) -> int | None:
    """The spatial rank of the layers that have one; None if none has; a mix is refused."""
    first: dict[int, LayerSpec] = {}
    for spec in specs:
        if spec.kind not in _ANY_RANK:
            first.setdefault(spec.rank, spec)
    if len(first) > 1:
        mix = _listed(f"{spec.describe()} is {rank}-D" for rank, spec in sorted(first.items()))
        raise ValueError(
            f"The layers mix spatial ranks: {mix}; trace reads models of one rank (1-D, 2-D or "
            "3-D). Use layers of one rank throughout."
        )
    return next(iter(first), None)


_DEFAULTS = {f.name: f.default for f in fields(LayerSpec) if f.name in _PER_AXIS}


def _with_rank(specs: Sequence[LayerSpec], rank: int) -> tuple[LayerSpec, ...]:
    """The specs, with merges and shape-neutral layers given ``rank`` like the rest."""
    return tuple(
        replace(spec, rank=rank, **_DEFAULTS)
        if spec.kind in _ANY_RANK and spec.rank != rank
        else spec
        for spec in specs
    )


def _input_shape(model, layers, input_shape, rank: int | None) -> tuple[int, ...]:
    declared = None
    if getattr(model, "inputs", None):
        declared = tuple(model.inputs[0].shape[1:])
    elif layers and hasattr(layers[0], "get_config") and layer_kind(layers[0]) == "input":
        declared = tuple(layers[0].get_config()["batch_shape"][1:])
    if declared is not None and data_format(layers) == "channels_first":
        declared = (*declared[1:], declared[0])  # (C, *spatial) read as (*spatial, C)
    if rank is None:  # no layer with a rank of its own: a Keras input's, else (H, W[, C])
        if declared is not None and len(declared) - 1 in RANKS:
            rank = len(declared) - 1
        else:
            rank = 3 if input_shape is not None and len(input_shape) == 4 else 2
    names = AXIS_NAMES[rank]
    letters = ", ".join(name[0].upper() for name in names)
    example = {1: (1000,), 2: (197, 233), 3: (197, 233, 189)}[rank]
    if declared is not None and len(declared) != rank + 1:
        raise ValueError(
            f"The model's input is {declared}, but its layers are {rank}-D and take "
            f"({letters}, C) inputs; give it an input of {rank + 1} axes, e.g. "
            f"keras.Input(({'None, ' * rank}1))."
        )
    shape = declared if input_shape is None else tuple(input_shape)
    if shape is None:
        raise ValueError(
            f"The input shape is unknown: pass input_shape=({letters}) or ({letters}, C), e.g. "
            f"trace(layers, input_shape={(*example, 1)})."
        )
    if len(shape) == rank:
        shape = (*shape, declared[-1] if declared and declared[-1] else 1)
    if (
        len(shape) != rank + 1
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in shape)
        or min(shape) < 1
    ):
        raise ValueError(
            f"input_shape must be ({letters}) or ({letters}, C) with positive ints, got "
            f"{shape}. A model built with keras.Input(({'None, ' * rank}1)) needs "
            f"input_shape=({letters}), e.g. trace(model, input_shape={example}); on the command "
            f"line, --input {'x'.join(map(str, example))}."
        )
    return shape
