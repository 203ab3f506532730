"""What an input size that the total stride does not divide costs at the boundary (ch. 6).

The source answer says such a size "typically results in information loss at the boundaries of
the feature maps". Two costs meet at the border and must be kept apart:

- **Boundary loss**, which depends on the size: a floored stride (``'valid'`` pooling) leaves the
  last rows of the input unread by every bottleneck unit, and an output shorter than the input
  leaves the last rows unbuilt. :func:`boundary_loss` finds both exactly from the layer
  configurations; :func:`fit_output` crops or zero-pads an output to the input's size the way a
  ``Cropping2D`` or ``ZeroPadding2D`` fix at the bottom and right would.
- **Zero-padding cost**, which every ``'same'`` layer pays at all four edges whatever the size:
  near the edge a unit computes partly from zeros. :func:`edge_errors` measures the error in a
  band at each edge, so the top and left bands (padding only) can be compared with the bottom and
  right ones (padding and, for a size the stride does not divide, boundary loss).

Only NumPy and :mod:`cae_lessons.shapes` are used; nothing here runs TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cae_lessons.receptive import read_positions
from cae_lessons.shapes import trace

AXES = ("rows", "columns")


def _indices(mask: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) for i in np.flatnonzero(mask))


def _span(indices: tuple[int, ...]) -> str:
    if not indices:
        return "none"
    runs, start = [], indices[0]
    for previous, current in zip(indices, (*indices[1:], None), strict=True):
        if current != previous + 1:
            runs.append(str(start) if start == previous else f"{start}-{previous}")
            start = current
    return ", ".join(runs)


@dataclass(frozen=True)
class BoundaryLoss:
    """Which input rows and columns an autoencoder never reads or never rebuilds.

    Attributes
    ----------
    input_shape, output_shape : (H, W, C)
    unread : (tuple of int, tuple of int)
        Input rows, then columns, that no bottleneck unit reads.
    unbuilt : (tuple of int, tuple of int)
        Input rows, then columns, without an output row (column) fed by the bottleneck: beyond the
        end of a shorter output, or left to padding and biases.
    extra : (int, int)
        Output rows and columns beyond the input's size (0 when the output is not longer).
    """

    input_shape: tuple[int, int, int]
    output_shape: tuple[int, int, int]
    unread: tuple[tuple[int, ...], tuple[int, ...]]
    unbuilt: tuple[tuple[int, ...], tuple[int, ...]]
    extra: tuple[int, int]

    @property
    def lost(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Rows, then columns, that are unread or unbuilt."""
        return tuple(
            tuple(sorted(set(a) | set(b))) for a, b in zip(self.unread, self.unbuilt, strict=True)
        )

    @property
    def lost_pixels(self) -> int:
        """Input pixels in a lost row or a lost column."""
        (height, width), (rows, columns) = self.input_shape[:2], self.lost
        return height * width - (height - len(rows)) * (width - len(columns))

    def __repr__(self) -> str:
        (h, w, _), (oh, ow, _) = self.input_shape, self.output_shape
        parts = [
            f"{axis} unread: {_span(unread)}, unbuilt: {_span(unbuilt)}, extra: {extra}"
            for axis, unread, unbuilt, extra in zip(
                AXES, self.unread, self.unbuilt, self.extra, strict=True
            )
        ]
        return f"BoundaryLoss({h}×{w} → {oh}×{ow}; {'; '.join(parts)}; {self.lost_pixels} px lost)"


def boundary_loss(model_or_layers, input_shape=None) -> BoundaryLoss:
    """Find the input rows and columns an autoencoder never reads or never rebuilds, exactly.

    Walks every bottleneck unit's taps back to the input (what the encoder reads) and every
    output unit's taps back to the bottleneck (what the decoder builds from the code), as
    :func:`cae_lessons.shapes.trace` reads them from the layer configurations. Output row ``i``
    stands for input row ``i`` (outputs are aligned at the top left, as Keras' layers align them).

    Parameters
    ----------
    model_or_layers : keras.Model or sequence of LayerSpec
        What :func:`cae_lessons.shapes.trace` accepts.
    input_shape : (H, W) or (H, W, C), optional
        Required for a model without a fixed input size and for a list of layers.

    Returns
    -------
    BoundaryLoss

    Raises
    ------
    ValueError, TypeError
        As :func:`cae_lessons.shapes.trace` raises them (for example when a layer cannot take the
        size).

    Examples
    --------
    Two 2×2 poolings floor 131 rows to 32. The 3×3 convolution before each pooling still reads
    rows 128-130 into the code, but the 128-row output leaves them unbuilt.

    >>> from cae_lessons.models import cae_layers
    >>> boundary_loss(cae_layers((131, 128, 1), filters=(8, 16)), (131, 128, 1))
    BoundaryLoss(131×128 → 128×128; rows unread: none, unbuilt: 128-130, extra: 0; columns \
unread: none, unbuilt: none, extra: 0; 384 px lost)
    """
    result = trace(model_or_layers, input_shape)
    layer = result.rows.index(result.bottleneck)
    unread, unbuilt, extra = [], [], []
    for steps, n_in, n_out in zip(
        result.steps, result.input_shape[:2], result.output_shape[:2], strict=True
    ):
        unread.append(_indices(~read_positions(steps[: layer + 1])))
        decoder = steps[layer + 1 :]
        built = np.zeros(n_in, bool)
        for i in range(min(n_in, n_out)):
            built[i] = not decoder or bool(read_positions(decoder, units=[i]).any())
        unbuilt.append(_indices(~built))
        extra.append(max(0, n_out - n_in))
    return BoundaryLoss(
        input_shape=result.input_shape,
        output_shape=result.output_shape,
        unread=tuple(unread),
        unbuilt=tuple(unbuilt),
        extra=tuple(extra),
    )


def _check_images(x, name: str) -> np.ndarray:
    array = np.asarray(x)
    if array.ndim != 4:
        raise ValueError(
            f"{name} must be (N, H, W, C) images, got an array of shape {array.shape}; add the "
            "batch and channel axes, e.g. x[None, ..., None]."
        )
    return array


def fit_output(y, shape) -> np.ndarray:
    """Crop or zero-pad outputs at the bottom and right to ``shape`` (H, W).

    What a ``Cropping2D`` or ``ZeroPadding2D`` appended to the model would do: rows the model did
    not build come back as zeros, extra rows are dropped. The top-left pixel stays in place.

    Parameters
    ----------
    y : (N, H', W', C) float32
        Model outputs.
    shape : (H, W)
        The inputs' height and width; ints (NumPy integers too).

    Returns
    -------
    (N, H, W, C) float32

    Examples
    --------
    >>> fit_output(np.ones((1, 3, 5, 1), np.float32), (4, 4))[0, ..., 0].astype(int)
    array([[1, 1, 1, 1],
           [1, 1, 1, 1],
           [1, 1, 1, 1],
           [0, 0, 0, 0]])
    """
    y = _check_images(y, "y")
    try:
        height, width = (int(v) for v in shape)
    except (TypeError, ValueError):
        raise TypeError(f"shape must be (height, width) ints, got {shape!r}.") from None
    if height < 1 or width < 1:
        raise ValueError(f"shape must be positive, got {(height, width)}.")
    out = np.zeros((y.shape[0], height, width, y.shape[3]), y.dtype)
    h, w = min(height, y.shape[1]), min(width, y.shape[2])
    out[:, :h, :w] = y[:, :h, :w]
    return out


@dataclass(frozen=True)
class EdgeErrors:
    """Mean absolute error in a band along each edge and in the interior.

    Attributes
    ----------
    width : int
        Band width in pixels.
    top, bottom, left, right : float
        Mean over images and band pixels (the corners count in both of their bands).
    interior : float
        Mean over the pixels at least ``width`` from every edge.
    """

    width: int
    top: float
    bottom: float
    left: float
    right: float
    interior: float

    def __repr__(self) -> str:
        bands = ", ".join(
            f"{name} {getattr(self, name):.4f}"
            for name in ("top", "bottom", "left", "right", "interior")
        )
        return f"EdgeErrors({self.width} px bands: {bands})"


def edge_errors(x_true, x_pred, width: int = 4) -> EdgeErrors:
    """Mean absolute error along each edge, to tell boundary loss from the padding's cost.

    Parameters
    ----------
    x_true, x_pred : (N, H, W, C) float32
        Inputs and reconstructions of the same shape (see :func:`fit_output`).
    width : int
        Band width in pixels, at least 1 and less than half the smaller side.

    Returns
    -------
    EdgeErrors

    Raises
    ------
    ValueError
        If the shapes differ or ``width`` does not leave an interior.

    Examples
    --------
    >>> x = np.zeros((1, 8, 8, 1), np.float32)
    >>> y = x.copy(); y[:, -1] = 1.0          # the last row is wrong
    >>> edge_errors(x, y, width=2)
    EdgeErrors(2 px bands: top 0.0000, bottom 0.5000, left 0.1250, right 0.1250, interior 0.0000)
    """
    true, pred = _check_images(x_true, "x_true"), _check_images(x_pred, "x_pred")
    if true.shape != pred.shape:
        raise ValueError(
            f"x_true has shape {true.shape} but x_pred {pred.shape}; bring the outputs to the "
            "inputs' size first, e.g. with fit_output(x_pred, x_true.shape[1:3])."
        )
    if isinstance(width, bool) or not isinstance(width, (int, np.integer)):
        raise TypeError(f"width must be an int, got {type(width).__name__} {width!r}.")
    width = int(width)
    if not 1 <= width < min(true.shape[1:3]) / 2:
        raise ValueError(
            f"width must be >= 1 and leave an interior in {true.shape[1]}×{true.shape[2]} "
            f"images (width < {min(true.shape[1:3]) / 2:g}), got {width}."
        )
    error = np.abs(true.astype(np.float64) - pred.astype(np.float64)).mean(axis=3)
    band = slice(None, width), slice(-width, None)
    return EdgeErrors(
        width=width,
        top=float(error[:, band[0]].mean()),
        bottom=float(error[:, band[1]].mean()),
        left=float(error[:, :, band[0]].mean()),
        right=float(error[:, :, band[1]].mean()),
        interior=float(error[:, width:-width, width:-width].mean()),
    )
