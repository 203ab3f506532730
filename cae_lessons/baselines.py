"""The baselines a CAE has to beat at the same latent size: PCA and bicubic interpolation.

:func:`pca_baseline` keeps as many principal components as the CAE's latent holds values
(:func:`latent_size_to_pca_components`); :func:`bicubic_baseline` stores an image shrunk by the
CAE's total stride and enlarges it again. Both return a :class:`Baseline` holding the
reconstructions, scored like a model's (ch. 4, 9). scikit-learn is imported only by
:func:`pca_baseline`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from skimage.transform import resize

from cae_lessons.validate import check_images, check_int, read_only


@dataclass(frozen=True, eq=False)
class Baseline:
    """Reconstruction by a classical method that stores a fixed number of values per image.

    Attributes
    ----------
    method : str
        ``'PCA'`` or ``'bicubic'``.
    reconstruction : (N, H, W, C) float32
        Reconstructed images in [0, 1] (read-only).
    latent_values : int
        Values stored per image: the number of PCA components, or ``h * w * C`` pixels of the
        downsampled image.
    compression_ratio : float
        ``H * W * C / latent_values``.
    """

    method: str
    reconstruction: np.ndarray
    latent_values: int
    compression_ratio: float

    @property
    def label(self) -> str:
        """Row label for :func:`compare`, e.g. ``'PCA (64 values)'``."""
        return f"{self.method} ({self.latent_values} values)"

    def __repr__(self) -> str:
        return (
            f"Baseline({self.method}: {self.latent_values} values per image, compression "
            f"{self.compression_ratio:g}x, reconstruction {self.reconstruction.shape})"
        )


def latent_size_to_pca_components(latent_shape) -> int:
    """Number of PCA components that store as many values per image as a CAE latent (ch. 4).

    A CAE whose bottleneck is ``h x w x c`` stores ``h * w * c`` values per image; PCA with
    ``k`` components stores ``k``. So "the same latent size" means ``k = h * w * c``.

    Parameters
    ----------
    latent_shape : int or tuple of int
        The latent's value count, or its shape as Keras reports it (a leading ``None`` batch
        axis is ignored).

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If the shape is empty or holds anything but positive ints.

    Examples
    --------
    >>> latent_size_to_pca_components((None, 16, 16, 8))
    2048
    >>> latent_size_to_pca_components(64)
    64
    """
    dims = (latent_shape,) if isinstance(latent_shape, int | np.integer) else tuple(latent_shape)
    dims = dims[1:] if dims and dims[0] is None else dims
    if not dims or not all(
        isinstance(d, int | np.integer) and not isinstance(d, bool) and d > 0 for d in dims
    ):
        raise ValueError(
            "latent_shape must be a positive int or a shape of positive ints such as "
            f"(16, 16, 8) or (None, 16, 16, 8); got {latent_shape!r}."
        )
    return math.prod(int(d) for d in dims)


def pca_baseline(x_train, x_test, n_components: int) -> Baseline:
    """Reconstruct ``x_test`` from ``n_components`` principal components of ``x_train`` (ch. 4).

    Fits ``sklearn.decomposition.PCA(n_components, svd_solver='full')`` (exact and
    deterministic) on the flattened training images, projects the test images and maps them
    back; the result is clipped to [0, 1].

    Parameters
    ----------
    x_train, x_test : (N, H, W, C) float32
        Images in [0, 1] with the same ``(H, W, C)``.
    n_components : int
        Between 1 and ``min(n_samples, n_features)`` of ``x_train``.

    Returns
    -------
    Baseline

    Raises
    ------
    TypeError
        If ``n_components`` is not an int, or as in :func:`cae_lessons.scores.evaluate`.
    ValueError
        If ``n_components`` is out of range, or the image sizes differ.

    Examples
    --------
    >>> x = np.random.default_rng(0).random((6, 4, 4, 1)).astype(np.float32)
    >>> pca = pca_baseline(x, x, 6)
    >>> pca
    Baseline(PCA: 6 values per image, compression 2.66667x, reconstruction (6, 4, 4, 1))
    >>> bool(np.allclose(pca.reconstruction, x, atol=1e-6))
    True
    """
    train = check_images(x_train, "x_train", unit_range=True).astype(np.float64)
    test = check_images(x_test, "x_test", unit_range=True).astype(np.float64)
    if train.shape[1:] != test.shape[1:]:
        raise ValueError(
            f"x_train and x_test must hold images of the same (H, W, C), got {train.shape[1:]} "
            f"and {test.shape[1:]}. Load both with the same crop."
        )
    n_samples, n_features = train.shape[0], math.prod(train.shape[1:])
    bounds = f"min(n_samples, n_features) for x_train of shape {train.shape}; use fewer components"
    k = check_int(
        n_components, "n_components", low=1, high=min(n_samples, n_features), bounds=bounds
    )
    from sklearn.decomposition import PCA

    pca = PCA(n_components=k, svd_solver="full").fit(train.reshape(n_samples, -1))
    flat = pca.inverse_transform(pca.transform(test.reshape(len(test), -1)))
    reconstruction = np.clip(flat, 0.0, 1.0).astype(np.float32).reshape(test.shape)
    return Baseline("PCA", read_only(reconstruction), k, n_features / k)


def bicubic_baseline(x, factor: int) -> Baseline:
    """Downsample by ``factor`` per side and upsample back with cubic interpolation (ch. 4).

    Uses ``skimage.transform.resize`` with ``order=3`` (cubic spline interpolation, scikit-image's
    "bicubic"; not the Keys kernel of PIL or ``tf.image.resize``), ``mode='reflect'``,
    Gaussian anti-aliasing on the way down and none on the way up. Values stay within the input
    range, so in [0, 1]. The small image is ``ceil(H / factor) x ceil(W / factor)``, so the
    compression ratio is exactly ``factor**2`` when ``factor`` divides both sides.

    Parameters
    ----------
    x : (N, H, W, C) float32
        Images in [0, 1].
    factor : int
        Downsampling factor per side, from 1 to ``min(H, W)``.

    Returns
    -------
    Baseline

    Raises
    ------
    TypeError
        If ``factor`` is not an int, or as in :func:`cae_lessons.scores.evaluate`.
    ValueError
        If ``factor`` is out of range, or as in :func:`cae_lessons.scores.evaluate`.

    Examples
    --------
    >>> x = np.random.default_rng(0).random((2, 8, 8, 1)).astype(np.float32)
    >>> bicubic_baseline(x, 2)
    Baseline(bicubic: 16 values per image, compression 4x, reconstruction (2, 8, 8, 1))
    """
    images = check_images(x, "x", unit_range=True).astype(np.float64)
    _, height, width, channels = images.shape
    bounds = f"at most the shorter side of {(height, width)} images"
    factor = check_int(factor, "factor", low=1, high=min(height, width), bounds=bounds)
    small = (math.ceil(height / factor), math.ceil(width / factor))
    reconstruction = np.stack(
        [
            resize(
                resize(image, small, order=3, mode="reflect", anti_aliasing=True),
                (height, width),
                order=3,
                mode="reflect",
                anti_aliasing=False,
            )
            for image in images
        ]
    ).astype(np.float32)
    latent_values = small[0] * small[1] * channels
    return Baseline(
        "bicubic", read_only(reconstruction), latent_values, height * width / math.prod(small)
    )
