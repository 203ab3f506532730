"""The two custom Keras layers that let a model take images of any size: PadToMultiple and
CropToInput."""

from __future__ import annotations

import functools

from cae_lessons.shapes.specs import _pair


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
