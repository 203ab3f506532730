"""A fix as an edit of the user's own Keras model, checked by one forward pass.

:func:`cae_lessons.shapes.diagnose` proposes fixes as changed layer specs, verified by
re-tracing. :func:`apply_fix` makes the same change to the Keras model itself: a layer's
arguments changed in a clone (every other argument, activation, normalisation layer and name kept,
weights copied wherever their shapes still fit), layers added in front of and after the model
(the model itself inside, weights and all), or the model rebuilt for another input size.
:func:`check_fix` runs that model once on zeros and says whether the output has the input's shape.
"""

from __future__ import annotations

from cae_lessons.shapes.reading import _as_specs, data_format
from cae_lessons.shapes.specs import _POOLS, LayerSpec

_CONFIG_KEYS = {
    "kernel_size": "kernel_size",
    "strides": "strides",
    "padding": "padding",
    "dilation_rate": "dilation_rate",
    "output_padding": "output_padding",
    "size": "size",
}
"""The LayerSpec fields a fix may change, by the Keras config key that holds them."""


def _changes(original: tuple[LayerSpec, ...], fixed: tuple[LayerSpec, ...]) -> dict:
    """``{spec name: {config key: new value}}`` for the layers whose arguments the fix changed."""
    by_name = {spec.name: spec for spec in fixed}
    changes = {}
    for spec in original:
        new = by_name.get(spec.name)
        if new is None or new == spec:
            continue
        keys = {
            ("pool_size" if field == "kernel_size" and spec.kind in _POOLS else key): getattr(
                new, field
            )
            for field, key in _CONFIG_KEYS.items()
            if getattr(new, field) != getattr(spec, field)
        }
        if not keys:  # only the layers it takes were renamed (a layer added in front)
            continue
        if spec.rank == 1 and "size" in keys:  # UpSampling1D takes an int
            keys["size"] = keys["size"][0]
        changes[spec.name] = keys
    return changes


def _layer_at(model, path: str):
    """The layer a spec name denotes: ``'inner/conv#2'`` is ``conv`` in the nested ``inner``."""
    layer = model
    for part in path.split("/"):
        layer = layer.get_layer(part.split("#")[0])
    return layer


def apply_fix(fix, model):
    """The user's Keras model with ``fix`` made to it.

    Parameters
    ----------
    fix : Fix
        From ``diagnose(model, ...)``.
    model : keras.Model
        The model that was diagnosed.

    Returns
    -------
    keras.Model
        Not compiled. For ``'input_size'``, the model rebuilt for ``fix.input_shape``.

    Examples
    --------
    >>> import keras
    >>> from cae_lessons.shapes import diagnose
    >>> model = keras.Sequential([keras.Input((9, 9, 1)), keras.layers.MaxPooling2D(2),
    ...                           keras.layers.UpSampling2D(2, name="up")])
    >>> fix = next(f for f in diagnose(model).fixes if f.kind == "pad_to_multiple")
    >>> apply_fix(fix, model).output_shape
    (None, 9, 9, 1)
    """
    import keras

    from cae_lessons.shapes.building import _keras_layer

    if data_format(model) == "channels_first":
        raise ValueError(
            f"apply_fix edits channels_last models; {model.name!r} is channels_first (and "
            "TensorFlow's CPU kernels cannot run its convolutions to check a fix). Make the "
            "change the fix describes by hand, or rebuild the model channels_last."
        )
    original, shape = _as_specs(model, fix.input_shape)
    if fix.kind == "input_size":
        return _rebuilt(model, fix.input_shape)
    changes = {
        id(_layer_at(model, name)): keys for name, keys in _changes(original, fix.layers).items()
    }

    def edit(layer):  # nested models too: clone_model(..., recursive=True) edits their layers
        config = layer.get_config()
        config.update(changes.get(id(layer), {}))
        return type(layer).from_config(config)

    names = {spec.name for spec in original}
    added = [i for i, spec in enumerate(fix.layers) if spec.name not in names]
    if added:
        first = next(i for i, spec in enumerate(fix.layers) if spec.name in names)
        inputs = xs = _inputs_like(model, shape)
        for i in added:  # in front: the same padding for every input
            if i < first:
                layer = _keras_layer(keras.layers, fix.layers[i], fix.layers[i].name, shape[-1])
                xs = [layer(x) for x in xs]
        x = _rebuilt(model, tuple(xs[0].shape[1:]), edit)(_one_or_list(xs, model))
        for i in added:
            if i > first:
                x = _keras_layer(keras.layers, fix.layers[i], fix.layers[i].name, shape[-1])(x)
        return keras.Model(inputs if len(inputs) > 1 else inputs[0], x, name=f"{model.name}_fixed")
    clone = keras.models.clone_model(model, clone_function=edit, recursive=True)
    return _with_weights(model, clone)


def _rebuilt(model, input_shape, edit=None):
    """The model, weights and all, rebuilt for inputs of ``input_shape`` (every other input at
    its spatial size; each layer made by ``edit``, if given, as ``keras.models.clone_model``'s
    ``clone_function``)."""
    import keras

    inputs = _one_or_list(_inputs_like(model, input_shape), model)
    clone = keras.models.clone_model(
        model, input_tensors=inputs, clone_function=edit, recursive=True
    )
    return _with_weights(model, clone)


def _input_list(model) -> list:
    """The model's inputs as a list; empty for a Sequential model never built."""
    try:
        inputs = model.input
    except AttributeError:  # a Sequential model without an Input
        return []
    return list(inputs) if isinstance(inputs, list | tuple) else [inputs]


def _inputs_like(model, shape) -> list:
    """One ``keras.Input`` per input of ``model``: ``shape`` for the first, the spatial size of
    ``shape`` and its own channels for every other."""
    import keras

    extra = _input_list(model)[1:]
    return [keras.Input(shape), *(keras.Input((*shape[:-1], t.shape[-1])) for t in extra)]


def _one_or_list(tensors: list, model):
    """What ``model`` takes: a tensor, or a list where it holds its inputs in one (a functional
    model may hold even one input in a list)."""
    try:
        listed = isinstance(model.input, list | tuple)
    except AttributeError:  # a Sequential model without an Input
        listed = False
    return list(tensors) if listed else tensors[0]


def _with_weights(model, clone):
    """``clone`` with ``model``'s weights, layer by layer, wherever their shapes still fit."""
    for old, new in zip(model.layers, clone.layers, strict=True):
        weights = old.get_weights()
        if [w.shape for w in weights] == [w.shape for w in new.get_weights()]:
            new.set_weights(weights)
    return clone


def check_fix(fix, model) -> bool:
    """Run the fixed model once on zeros of ``fix.input_shape``: is the output that shape?

    Examples
    --------
    >>> import keras
    >>> from cae_lessons.shapes import diagnose
    >>> model = keras.Sequential([keras.Input((9, 9, 1)), keras.layers.MaxPooling2D(2),
    ...                           keras.layers.UpSampling2D(2)])
    >>> [check_fix(fix, model) for fix in diagnose(model).fixes]
    [True, True, True]
    """
    import numpy as np

    from cae_lessons.shapes.cpu import check_cpu_kernels

    fixed = apply_fix(fix, model)
    check_cpu_kernels(fix.layers, fix.input_shape)
    spatial = fix.input_shape[:-1]
    zeros = [np.zeros((1, *spatial, t.shape[-1]), np.float32) for t in fixed.inputs]
    out = fixed(_one_or_list(zeros, fixed))
    return tuple(out.shape[1:]) == tuple(fix.input_shape)
