"""The book's example autoencoders, as Keras 3 models.

Each example is a small convolutional autoencoder for ``(N, H, W, C) float32`` images in [0, 1],
compiled with ``optimizer='adam'`` and ``loss='mse'``, with readable layer names
(``enc_conv1``, ``enc_pool1``, ``bottleneck``, ``dec_up1``, ``output``, ...) so that
:func:`cae_lessons.shapes.trace` tables and Keras error messages point at the right layer.

TensorFlow is imported inside the functions: importing this module is cheap.
"""

from __future__ import annotations


def _compiled(name: str, input_shape, layers):
    import keras

    model = keras.Sequential([keras.Input(shape=tuple(input_shape)), *layers], name=name)
    model.compile(optimizer="adam", loss="mse")
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
        Compiled with ``optimizer='adam'``, ``loss='mse'``.

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
        Compiled with ``optimizer='adam'``, ``loss='mse'``.

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

    ``Conv2D(16, 3, strides=2, 'same')`` (the 64×64×16 bottleneck) →
    ``Conv2DTranspose(16, 3, strides=2, 'same')`` → ``Conv2D(1, 3, 'same', sigmoid)``.

    Parameters
    ----------
    input_shape : tuple of int
        ``(H, W, C)`` of one image.

    Returns
    -------
    keras.Sequential
        Compiled with ``optimizer='adam'``, ``loss='mse'``.

    Examples
    --------
    >>> from cae_lessons.shapes import trace
    >>> [row.output_shape for row in trace(example3()).rows]
    [(64, 64, 16), (128, 128, 16), (128, 128, 1)]
    """
    from keras import layers

    return _compiled(
        "example3",
        input_shape,
        [
            layers.Conv2D(16, 3, strides=2, padding="same", activation="relu", name="bottleneck"),
            layers.Conv2DTranspose(
                16, 3, strides=2, padding="same", activation="relu", name="dec_deconv1"
            ),
            layers.Conv2D(1, 3, padding="same", activation="sigmoid", name="output"),
        ],
    )
