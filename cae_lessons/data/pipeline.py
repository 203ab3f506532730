""":func:`as_dataset`: a ``tf.data`` pipeline of ``(x, x)`` pairs, shuffled, batched and
optionally augmented with seeded shifts and flips. TensorFlow is imported by it alone.
"""

from __future__ import annotations

import functools

import numpy as np


def as_dataset(
    x: np.ndarray,
    batch_size: int = 32,
    augment: bool = False,
    shuffle: bool = True,
    seed: int = 0,
):
    """Return a ``tf.data.Dataset`` of ``(x, x)`` batches for training an autoencoder.

    Shuffles (reshuffled every epoch), optionally augments with left-right flips and integer
    shifts of up to ``max(1, W // 32)`` pixels (zero fill), batches and prefetches, so the CPU
    prepares the next batch while the device trains on this one. The same seed gives the same
    batches and augmentations. Used by all training chapters.

    Parameters
    ----------
    x : (N, H, W, C) float32 ndarray
    batch_size : int
    augment, shuffle : bool
    seed : int

    Returns
    -------
    tf.data.Dataset
        Elements ``(batch, batch)`` of shape ``(B, H, W, C)`` float32.

    Examples
    --------
    >>> from cae_lessons.data import phantom
    >>> ds = as_dataset(phantom(5, (32, 32)), batch_size=2, augment=True)
    >>> [tuple(a.shape) for a, _ in ds]
    [(2, 32, 32, 1), (2, 32, 32, 1), (1, 32, 32, 1)]
    """
    if not isinstance(x, np.ndarray) or x.ndim != 4:
        got = f"a list of {len(x)} arrays" if isinstance(x, list) else getattr(x, "shape", type(x))
        raise TypeError(
            f"as_dataset needs an (N, H, W, C) array, got {got}. Load with size=(H, W) so all "
            "slices share one shape, e.g. load_mri_data(size=(128, 128))."
        )
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}.")
    import tensorflow as tf

    data = tf.data.Dataset.from_tensor_slices(x.astype(np.float32, copy=False))
    if shuffle:
        data = data.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    if augment:
        shift = max(1, x.shape[2] // 32)
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        data = tf.data.Dataset.zip((data, seeds)).map(
            functools.partial(_augment, shift=shift), num_parallel_calls=tf.data.AUTOTUNE
        )
    data = data.batch(batch_size).map(lambda b: (b, b))
    return data.prefetch(tf.data.AUTOTUNE)


def _augment(image, seeds, shift: int):
    """Random left-right flip and integer shift of one ``(H, W, C)`` image (stateless ops)."""
    import tensorflow as tf

    image = tf.image.stateless_random_flip_left_right(image, seed=seeds)
    padded = tf.pad(image, [[shift, shift], [shift, shift], [0, 0]])
    return tf.image.stateless_random_crop(padded, tf.shape(image), seed=seeds[::-1])
