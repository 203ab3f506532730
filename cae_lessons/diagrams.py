"""One-axis pictures of what the layers compute, drawn from computed numbers (ch. 1 and ch. 5).

A learner sees a window slide along one row before reading the output-size formula, and a
transposed convolution paint overlapping copies of its kernel before reading about
checkerboards. This module computes those pictures' contents on one axis and draws them:

- :func:`windows` / :func:`window_diagram`: where each unit of a convolution or pooling reads
  along a row of ``n`` pixels: ``'valid'`` trimming, ``'same'`` zero padding, a stride that skips
  pixels (ch. 1).
- :func:`transposed_conv_1d` / :func:`transposed_conv_diagram`: a tiny numeric transposed
  convolution, each input's weighted copy of the kernel and their sum, and the same map as a
  matrix, the transpose of the strided convolution's (ch. 5).
- :func:`overlap_counts` / :func:`overlap_diagram`: how many kernel taps reach each output
  pixel through one and through two stacked transposed convolutions (ch. 5).

The sizes follow Keras (``Conv1D``, ``MaxPooling1D``, ``Conv1DTranspose`` with
``padding='valid'``); the tests hold every number against the real layers. Plain NumPy and
matplotlib: this module never imports TensorFlow.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from cae_lessons.plots import LINE_COLOURS

_UNREAD = LINE_COLOURS[1]
_WINDOW = LINE_COLOURS[0]
_PADDING = "#dddddd"


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}.")
    return int(value)


@dataclass(frozen=True)
class WindowLayout:
    """Where each unit of a 1-D convolution or pooling reads along one axis.

    Attributes
    ----------
    n, kernel_size, strides : int
    padding : {'valid', 'same'}
    pad_before, pad_after : int
        Zeros Keras adds before and after the input (``'same'`` only).
    starts : tuple of int
        First input position of each output unit's window (``-pad_before`` for the first unit
        with padding).
    read : tuple of bool
        For each input position: whether some unit's window covers it.
    """

    n: int
    kernel_size: int
    strides: int
    padding: str
    pad_before: int
    pad_after: int
    starts: tuple[int, ...]
    read: tuple[bool, ...]

    @property
    def n_out(self) -> int:
        """Output units: what ``Conv1D`` (or ``MaxPooling1D``) gives for this input."""
        return len(self.starts)

    @property
    def unread(self) -> tuple[int, ...]:
        """Input positions no unit reads."""
        return tuple(i for i, seen in enumerate(self.read) if not seen)

    def __repr__(self) -> str:
        pad = f", {self.pad_before}+{self.pad_after} zeros" if self.padding == "same" else ""
        lost = f", never read: {list(self.unread)}" if self.unread else ""
        return (
            f"WindowLayout(n={self.n}, kernel_size={self.kernel_size}, strides={self.strides}, "
            f"padding={self.padding!r}{pad}: {self.n_out} units{lost})"
        )


def windows(n, kernel_size, strides=1, padding: str = "valid") -> WindowLayout:
    """Lay out the windows of a 1-D convolution or pooling over ``n`` positions, as Keras does.

    ``'valid'``: ``floor((n - kernel_size) / strides) + 1`` units, no padding. ``'same'``:
    ``ceil(n / strides)`` units and ``max((n_out - 1) * strides + kernel_size - n, 0)`` zeros,
    the smaller half before the input.

    Parameters
    ----------
    n, kernel_size, strides : int
    padding : {'valid', 'same'}

    Returns
    -------
    WindowLayout

    Raises
    ------
    ValueError
        If an argument is not a positive int, ``padding`` is unknown, or ``'valid'`` leaves no
        unit (``kernel_size > n``).

    Examples
    --------
    >>> windows(8, 3)
    WindowLayout(n=8, kernel_size=3, strides=1, padding='valid': 6 units)
    >>> windows(8, 3, strides=3)
    WindowLayout(n=8, kernel_size=3, strides=3, padding='valid': 2 units, never read: [6, 7])
    >>> windows(8, 3, padding="same").starts
    (-1, 0, 1, 2, 3, 4, 5, 6)
    """
    n, k, s = (_positive_int(v, name) for v, name in ((n, "n"), (kernel_size, "kernel_size"),
                                                      (strides, "strides")))  # fmt: skip
    if padding == "valid":
        if k > n:
            raise ValueError(
                f"a {k}-wide 'valid' window does not fit {n} positions: no output unit; use "
                f"n >= {k}, padding='same' or a smaller kernel_size."
            )
        n_out, before, after = (n - k) // s + 1, 0, 0
    elif padding == "same":
        n_out = math.ceil(n / s)
        total = max((n_out - 1) * s + k - n, 0)
        before, after = total // 2, total - total // 2
    else:
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}.")
    starts = tuple(j * s - before for j in range(n_out))
    read = np.zeros(n, bool)
    for start in starts:
        read[max(start, 0) : min(start + k, n)] = True
    return WindowLayout(n, k, s, padding, before, after, starts, tuple(bool(r) for r in read))


def _cell(ax, x: float, y: float, text: str, face: str, *, edge: str = "#444444", dashed=False):
    ax.add_patch(
        Rectangle((x, y), 1, 1, facecolor=face, edgecolor=edge, lw=1, ls="--" if dashed else "-")
    )
    ax.text(x + 0.5, y + 0.5, text, ha="center", va="center", fontsize=10)


def window_diagram(layouts: Sequence[WindowLayout], *, titles: Sequence[str]) -> Figure:
    """Draw each layout: the input row, its zero padding, and every unit's window below it.

    Input cells (labelled with their index) that no window reads are orange; padding cells, whose
    value is 0, are grey and dashed, labelled "pad". Each
    output unit is a bar under the cells it reads, staggered so overlapping windows stay apart.

    Parameters
    ----------
    layouts : sequence of WindowLayout
    titles : sequence of str
        One per layout.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per layout, top to bottom.

    Examples
    --------
    >>> fig = window_diagram([windows(8, 3, strides=3)], titles=["pool 3, stride 3"])
    >>> [t.get_text() for t in fig.axes[0].texts][:3]
    ['0', '1', '2']
    """
    if len(layouts) != len(titles) or not layouts:
        raise ValueError(
            f"give one title per layout, got {len(layouts)} layouts and {len(titles)} titles."
        )
    lanes = [
        min(layout.n_out, math.ceil(layout.kernel_size / layout.strides)) for layout in layouts
    ]
    most = max(lanes)  # every panel as tall as the tallest: one scale for all cells
    heights = [1.6 + 0.55 * most] * len(layouts)
    width = max(layout.n + layout.pad_before + layout.pad_after for layout in layouts)
    fig, axes = plt.subplots(
        len(layouts), 1, figsize=(7.0, 0.42 * sum(heights) + 0.3),
        gridspec_kw={"height_ratios": heights}, squeeze=False, layout="constrained",
    )  # fmt: skip
    for ax, layout, title, lane in zip(axes[:, 0], layouts, titles, lanes, strict=True):
        top = most * 0.55 + 0.2
        for i in range(-layout.pad_before, layout.n + layout.pad_after):
            if 0 <= i < layout.n:
                _cell(ax, i, top, str(i), "white" if layout.read[i] else _UNREAD)
            else:
                _cell(ax, i, top, "pad", _PADDING, edge="#888888", dashed=True)
        for j, start in enumerate(layout.starts):
            y = top - 0.55 * (j % lane) - 0.45
            ax.add_patch(Rectangle((start + 0.08, y), layout.kernel_size - 0.16, 0.32,
                                   facecolor=_WINDOW, alpha=0.85))  # fmt: skip
            ax.text(start + layout.kernel_size / 2, y + 0.16, f"unit {j}", ha="center",
                    va="center", fontsize=9, color="white")  # fmt: skip
        ax.set_xlim(-layout.pad_before - 0.3, width - layout.pad_before + 0.3)
        ax.set_ylim(top - 0.55 * most - 0.1, top + 1.1)
        ax.set_aspect("equal")
        ax.axis("off")
        ax.set_title(f"{title}: {layout.n} in, {layout.n_out} out", fontsize=10, loc="left")
    return fig


@dataclass(frozen=True)
class TransposedConv1D:
    """A 1-D transposed convolution (``Conv1DTranspose``, ``padding='valid'``, no bias), worked.

    Attributes
    ----------
    x : (n,) float64
        The input.
    kernel : (k,) float64
    strides : int
    contributions : (n, m) float64
        Row ``j``: ``x[j] * kernel`` painted from position ``j * strides``; ``m = n * strides +
        max(k - strides, 0)``, Keras' output length.
    output : (m,) float64
        The column sums: what the layer returns.
    matrix : (m, n) float64
        ``output = matrix @ x``. Its transpose is the matrix of the strided convolution
        (``Conv1D`` with the same kernel and ``strides``) that maps ``output``'s size back to
        ``n``: a transposed convolution is that convolution's transpose, not its inverse.
    """

    x: np.ndarray
    kernel: np.ndarray
    strides: int
    contributions: np.ndarray
    output: np.ndarray
    matrix: np.ndarray

    def __repr__(self) -> str:
        return (
            f"TransposedConv1D(x={self.x.tolist()}, kernel={self.kernel.tolist()}, "
            f"strides={self.strides} -> output={self.output.tolist()})"
        )


def _vector(values, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or array.size == 0 or not np.all(np.isfinite(array)):
        raise ValueError(
            f"{name} must be a non-empty 1-D sequence of finite numbers, got {values!r}."
        )
    return array


def transposed_conv_1d(x, kernel, strides=2) -> TransposedConv1D:
    """Work a 1-D transposed convolution by hand: each input paints a weighted kernel.

    Parameters
    ----------
    x, kernel : sequence of float
    strides : int

    Returns
    -------
    TransposedConv1D

    Examples
    --------
    >>> t = transposed_conv_1d([1, 2, 3], [1, 1, 1], strides=2)
    >>> t.output.tolist()
    [1.0, 1.0, 3.0, 2.0, 5.0, 3.0, 3.0]
    >>> t.matrix.shape
    (7, 3)
    """
    x, kernel = _vector(x, "x"), _vector(kernel, "kernel")
    s = _positive_int(strides, "strides")
    n_out = len(x) * s + max(len(kernel) - s, 0)  # Keras' 'valid' length
    matrix = np.zeros((n_out, len(x)))
    for j in range(len(x)):
        matrix[j * s : j * s + len(kernel), j] = kernel
    contributions = (matrix * x).T
    return TransposedConv1D(x, kernel, s, contributions, matrix @ x, matrix)


def _number(value: float) -> str:
    return f"{value:g}"


def transposed_conv_diagram(worked: TransposedConv1D, *, title: str) -> Figure:
    """Draw a worked transposed convolution: the painted copies, their sum, and the matrix.

    Left: one row per input value ``x[j]``, its copy of the kernel placed ``strides`` further
    along each row; the bottom row sums the columns, darker where copies overlap. Right: the
    matrix that does the same in one product, each column one placed kernel.

    Examples
    --------
    >>> fig = transposed_conv_diagram(transposed_conv_1d([1, 2], [1, 2, 1]), title="t")
    >>> len(fig.axes)
    2
    """
    n, n_out = worked.contributions.shape
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(7.0, 0.5 * (n_out + 1) + 0.6),
        gridspec_kw={"width_ratios": [n_out + 2, n + 2]}, layout="constrained",
    )  # fmt: skip
    for j in range(n):
        row = n - j
        left.text(-0.3, row + 0.5, f"x[{j}] = {_number(worked.x[j])}", ha="right", va="center",
                  fontsize=9)  # fmt: skip
        for i in range(n_out):
            value = worked.contributions[j, i]
            if worked.matrix[i, j] != 0:
                _cell(left, i, row, _number(value), "#dbe9f6")
            else:
                left.add_patch(Rectangle((i, row), 1, 1, fill=False, edgecolor="#cccccc", lw=0.5))
    copies = (worked.matrix != 0).sum(axis=1)
    for i, value in enumerate(worked.output):  # darker where two or more copies add up
        _cell(left, i, -0.3, _number(value), "#f5b041" if copies[i] > 1 else "#ffe6b3")
    left.text(-0.3, 0.2, "sum", ha="right", va="center", fontsize=9, weight="bold")
    left.set_xlim(-3.2, n_out + 0.2)
    left.set_ylim(-0.5, n + 1.2)
    left.set_aspect("equal")
    left.axis("off")
    kernel = ", ".join(_number(w) for w in worked.kernel)
    left.set_title(f"each input paints kernel [{kernel}], stride {worked.strides}",
                   fontsize=10, loc="left")  # fmt: skip
    for i in range(n_out):
        for j in range(n):
            value = worked.matrix[i, j]
            _cell(right, j, n_out - 1 - i, _number(value) if value else "·",
                  "#dbe9f6" if value else "white", edge="#bbbbbb")  # fmt: skip
    right.set_xlim(-0.2, n + 0.2)
    right.set_ylim(-0.2, n_out + 0.2)
    right.set_aspect("equal")
    right.axis("off")
    right.set_title(f"as a matrix: y = M x\n({n_out}×{n}; Mᵀ is the conv)", fontsize=10)
    fig.suptitle(title, fontsize=11)
    return fig


def overlap_counts(n, kernel_size, strides=2, layers=1) -> np.ndarray:
    """How many kernel taps reach each output position through ``layers`` transposed convs.

    All-ones input and kernels, ``padding='valid'``: after one layer, the number of kernel
    copies covering each pixel; after two, the number of paths of taps from the input, which is
    how stacked layers compound an uneven overlap.

    Returns
    -------
    (n_out,) int64

    Examples
    --------
    >>> overlap_counts(4, 3, 2).tolist()
    [1, 1, 2, 1, 2, 1, 2, 1, 1]
    >>> overlap_counts(2, 4, 2).tolist()
    [1, 1, 2, 2, 1, 1]
    """
    counts = np.ones(_positive_int(n, "n"), np.int64)
    kernel = np.ones(_positive_int(kernel_size, "kernel_size"), np.int64)
    s = _positive_int(strides, "strides")
    for _ in range(_positive_int(layers, "layers")):
        out = np.zeros(len(counts) * s + max(len(kernel) - s, 0), np.int64)
        for j, value in enumerate(counts):
            out[j * s : j * s + len(kernel)] += value * kernel
        counts = out
    return counts


def overlap_diagram(kernel_sizes: Sequence[int], *, n: int, strides: int = 2) -> Figure:
    """Bars of :func:`overlap_counts` for each kernel size, through one and two layers.

    Examples
    --------
    >>> fig = overlap_diagram([3, 4], n=6)
    >>> len(fig.axes)
    4
    """
    fig, axes = plt.subplots(
        len(kernel_sizes), 2, figsize=(7.0, 1.6 * len(kernel_sizes) + 0.4), squeeze=False,
        layout="constrained",
    )  # fmt: skip
    for row, k in zip(axes, kernel_sizes, strict=True):
        for ax, layers in zip(row, (1, 2), strict=True):
            counts = overlap_counts(n, k, strides, layers)
            ax.bar(np.arange(len(counts)), counts, width=0.85, color=_WINDOW)
            ax.set_title(f"kernel {k}, stride {strides}: {layers} layer{'s' * (layers > 1)}",
                         fontsize=10)  # fmt: skip
            ax.set_ylabel("taps", fontsize=9)
            ax.tick_params(labelsize=9)
            ax.set_ylim(0, counts.max() * 1.15)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    for ax in axes[-1]:
        ax.set_xlabel("output position", fontsize=9)
    return fig
