# ruff: noqa: E501  (the source answer's code blocks are copied verbatim, long lines included)
"""The book's example1/2/3 are the source answer's three models, layer by layer.

The three code blocks below are copied verbatim from the source answer (the Q&A answer the book
examines). Each is executed up to its ``load_mri_data()`` line (the source's data loader is
fictional) and compared with the book's function: layer classes, every argument that decides a
shape or a value, the compiled loss and the parameter count.
"""

import textwrap
import warnings

import pytest

EXAMPLE_1 = """
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras.layers import Conv2D, MaxPooling2D, UpSampling2D

# Incorrect configuration: stride not considered
model = keras.Sequential([
    Conv2D(32, (3, 3), activation='relu', input_shape=(128, 128, 1)),  # Input shape is (128, 128, 1)
    MaxPooling2D((2, 2), strides=(3,3)), # stride of 3 leads to a non-integer output size
    Conv2D(16, (3, 3), activation='relu'),
    UpSampling2D((2, 2)),
    Conv2D(1, (3, 3), activation='sigmoid')
])

# This will lead to a ValueError due to size mismatch
model.compile(optimizer='adam', loss='binary_crossentropy')
mri_data = load_mri_data()
model.fit(mri_data, mri_data, epochs=10)
"""

EXAMPLE_2 = """
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras.layers import Conv2D, MaxPooling2D, UpSampling2D

# Improved configuration: addressing size mismatch and padding
model = keras.Sequential([
    Conv2D(32, (3, 3), activation='relu', padding='same', input_shape=(128, 128, 1)),
    MaxPooling2D((2, 2)),
    Conv2D(16, (3, 3), activation='relu', padding='same'),
    UpSampling2D((2, 2)),
    Conv2D(1, (3, 3), activation='sigmoid', padding='same')
])

model.compile(optimizer='adam', loss='binary_crossentropy')
mri_data = load_mri_data()
model.fit(mri_data, mri_data, epochs=10)
"""

EXAMPLE_3 = """
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras.layers import Conv2D, Conv2DTranspose

# Using transposed convolutions for upsampling
model = keras.Sequential([
    Conv2D(32, (3, 3), activation='relu', padding='same', input_shape=(128, 128, 1)),
    Conv2D(16, (3, 3), activation='relu', padding='same', strides=(2,2)), # Downsample using stride
    Conv2DTranspose(32, (3, 3), activation='relu', padding='same', strides=(2,2)), # Upsample with Conv2DTranspose
    Conv2D(1, (3, 3), activation='sigmoid', padding='same')
])

model.compile(optimizer='adam', loss='binary_crossentropy')
mri_data = load_mri_data()
model.fit(mri_data, mri_data, epochs=10)

"""

# Every configuration entry that decides a shape or a value (names and dtypes aside).
COMPARED = (
    "filters",
    "kernel_size",
    "strides",
    "padding",
    "activation",
    "use_bias",
    "dilation_rate",
    "output_padding",
    "pool_size",
    "size",
    "interpolation",
    "data_format",
)


def _source_model(block: str):
    """Run a source block up to its data loading; return its compiled model."""
    code = textwrap.dedent(block).split("mri_data = load_mri_data()")[0]
    namespace: dict = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exec(compile(code, "<source answer>", "exec"), namespace)
    # Keras 3 builds the Keras 2 style `input_shape=` argument and says so (ch. 3 shows it).
    assert {type(w.message) for w in caught} <= {UserWarning}, [str(w.message) for w in caught]
    return namespace["model"]


def _layers(model):
    return [
        (type(layer).__name__, {k: v for k, v in layer.get_config().items() if k in COMPARED})
        for layer in model.layers
    ]


@pytest.mark.parametrize(
    ("block", "name"), [(EXAMPLE_1, "example1"), (EXAMPLE_2, "example2"), (EXAMPLE_3, "example3")]
)
def test_the_books_example_is_the_source_answers_model(block, name):
    from cae_lessons import models

    source = _source_model(block)
    book = getattr(models, name)()
    assert _layers(book) == _layers(source)
    assert book.input_shape == source.input_shape == (None, 128, 128, 1)
    assert book.output_shape == source.output_shape
    assert book.count_params() == source.count_params()
    assert book.loss == source.loss == "binary_crossentropy"
    assert type(book.optimizer) is type(source.optimizer)


def test_the_source_answers_example_3_has_9873_parameters():
    assert _source_model(EXAMPLE_3).count_params() == 9873
