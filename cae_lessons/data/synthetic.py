"""A synthetic phantom for tests and for ch. 2: ellipses of several intensities and bright dots
of known diameters (:data:`PHANTOM_DOT_DIAMETERS`), the fine structures a CAE may lose.
"""

from __future__ import annotations

import numpy as np

from cae_lessons.data.preprocess import DEFAULT_SIZE, _check_size

#: Diameters in pixels of the bright dots that :func:`phantom` draws (its fine structures).
PHANTOM_DOT_DIAMETERS = (1, 2, 3, 4)


def phantom_dots(size: tuple[int, int] = DEFAULT_SIZE) -> np.ndarray:
    """Return the ``(H, W)`` bool mask of :func:`phantom`'s fine structures.

    Discs of diameters ``PHANTOM_DOT_DIAMETERS`` pixels, 3 pixels apart, centred in a row at
    70 % of the height, each exactly that many pixels wide along row ``round(0.7 * H)``.
    Used by ch. 6 to measure which details a CAE keeps.

    Examples
    --------
    >>> phantom_dots((32, 32))[22].astype(int)
    array([0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0,
           1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    """
    h, w = size
    rows, cols = np.ogrid[:h, :w]
    mask = np.zeros((h, w), dtype=bool)
    gap = 3
    left = w // 2 - (sum(PHANTOM_DOT_DIAMETERS) + gap * (len(PHANTOM_DOT_DIAMETERS) - 1)) // 2
    for diameter in PHANTOM_DOT_DIAMETERS:
        centre_r = round(0.7 * h) - 0.5 * (1 - diameter % 2)  # even: centre on a pixel corner
        centre_c = left + (diameter - 1) / 2
        mask |= (rows - centre_r) ** 2 + (cols - centre_c) ** 2 <= (diameter / 2) ** 2
        left += diameter + gap
    return mask


def phantom(n: int = 8, size: tuple[int, int] = DEFAULT_SIZE, seed: int = 0) -> np.ndarray:
    """Return ``n`` synthetic brain-like T1 slices as ``(n, H, W, 1) float32`` in [0, 1].

    Scalp, skull, grey and white matter and ventricles as ellipses with T1-like contrast, whose
    extent follows a head from bottom to top slice; a row of bright dots of diameters
    ``PHANTOM_DOT_DIAMETERS`` pixels in the white matter (fine structures of known size); a smooth
    multiplicative bias field and Rician noise. Deterministic for a seed, any resolution from
    32 x 32 up. Used by ch. 6 "MRI of varying resolutions" and as a fast stand-in in tests.

    Examples
    --------
    >>> x = phantom(4, (48, 64), seed=1)
    >>> x.shape, x.dtype, float(x.min()) >= 0, float(x.max())
    ((4, 48, 64, 1), dtype('float32'), True, 1.0)
    >>> bool((phantom(2, seed=3) == phantom(2, seed=3)).all())
    True
    """
    size = _check_size(size)
    if not isinstance(n, int) or n < 1 or min(size) < 32:
        raise ValueError(f"phantom needs n >= 1 and size >= (32, 32), got n={n!r}, size={size}.")
    rng = np.random.default_rng(seed)
    h, w = size
    y = ((np.arange(h) + 0.5) / h * 2 - 1)[:, None]
    x = ((np.arange(w) + 0.5) / w * 2 - 1)[None, :]
    out = np.empty((n, h, w), dtype=np.float32)
    for i in range(n):
        extent = 0.6 + 0.35 * np.sin(np.pi * (i + 0.5) / n) + rng.uniform(-0.03, 0.03)
        cy, cx = rng.uniform(-0.03, 0.03, size=2)

        def ellipse(a, b, dy=0.0, dx=0.0, cy=cy, cx=cx, extent=extent):
            return ((y - cy - dy) / (a * extent)) ** 2 + ((x - cx - dx) / (b * extent)) ** 2 <= 1

        image = np.zeros((h, w))
        for mask, value in (
            (ellipse(0.95, 0.8), 0.9),  # scalp fat
            (ellipse(0.88, 0.73), 0.1),  # skull
            (ellipse(0.84, 0.69), 0.25),  # CSF
            (ellipse(0.8, 0.65), 0.55),  # grey matter
            (ellipse(0.62, 0.48), 0.8),  # white matter
            (ellipse(0.18, 0.06, 0.0, -0.1), 0.15),  # ventricles
            (ellipse(0.18, 0.06, 0.0, 0.1), 0.15),
        ):
            image[mask] = value
        image[phantom_dots(size)] = 1.0
        a, b, c = rng.uniform(-0.12, 0.12, size=3)
        bias = 1 + a * y + b * x + c * (x**2 + y**2)
        noise = 0.02 * rng.standard_normal((2, h, w))
        image = np.hypot(image * bias + noise[0], noise[1])
        out[i] = image / image.max()
    return out[..., None]
