"""The size formulas against real Keras layers: one-layer models run on square inputs."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, replace

from cae_lessons.shapes.arithmetic import _axis_size
from cae_lessons.shapes.building import _keras_layer
from cae_lessons.shapes.cpu import check_cpu_kernels
from cae_lessons.shapes.reading import _ranked_specs
from cae_lessons.shapes.specs import _WINDOWS, LayerSpec, _both, keras_name


def _short_label(spec: LayerSpec) -> str:
    """A layer in a few characters, e.g. ``'Conv2D k3 s2 same'`` or ``'UpSampling2D ×2'``."""
    if spec.kind == "upsample":
        return f"{keras_name(spec.kind, spec.rank)} ×{_both(*spec.size)}"
    if spec.kind not in _WINDOWS and spec.kind != "conv_transpose":
        return spec.describe()
    label = (
        f"{keras_name(spec.kind, spec.rank)} k{_both(*spec.kernel_size)} s{_both(*spec.strides)} "
        f"{spec.padding}"
    )
    if max(spec.dilation_rate) > 1:
        label += f" d{_both(*spec.dilation_rate)}"
    if spec.output_padding is not None:
        label += f" op{_both(*spec.output_padding)}"
    return label


@dataclass(frozen=True)
class SizeCheck:
    """Output sizes of one-layer models by this module's formulas and by real Keras layers.

    Built by :func:`check_sizes_against_keras` (ch. 1). A size is ``None`` where the formula
    raises (a zero or negative output) or Keras refuses the input.

    Attributes
    ----------
    labels : tuple of str
        One short layer description per row.
    sizes : tuple of int
        The square input sizes, one per column.
    formula, keras : tuple of tuple of int or None
        ``[row][column]`` output side from the formula and from the Keras layer's forward pass.
    """

    labels: tuple[str, ...]
    sizes: tuple[int, ...]
    formula: tuple[tuple[int | None, ...], ...]
    keras: tuple[tuple[int | None, ...], ...]

    @property
    def n_cases(self) -> int:
        """Number of (layer, input size) cases."""
        return len(self.labels) * len(self.sizes)

    @property
    def n_agree(self) -> int:
        """Cases in which the formula and Keras give the same size (or both refuse)."""
        return sum(
            f == k
            for fs, ks in zip(self.formula, self.keras, strict=True)
            for f, k in zip(fs, ks, strict=True)
        )

    @property
    def agree(self) -> bool:
        """True when every case agrees."""
        return self.n_agree == self.n_cases

    def _cells(self) -> list[list[str]]:
        def cell(f, k):
            show = "-" if f is None else str(f)
            return show if f == k else f"{show}≠{'-' if k is None else k}"

        return [
            [label, *(cell(f, k) for f, k in zip(fs, ks, strict=True))]
            for label, fs, ks in zip(self.labels, self.formula, self.keras, strict=True)
        ]

    def _verdict(self) -> str:
        return f"{self.n_agree} of {self.n_cases} cases agree with Keras" + (
            "." if self.agree else " (≠: formula≠Keras; -: refused)."
        )

    def __str__(self) -> str:
        header = ["layer \\ input", *(str(n) for n in self.sizes)]
        lines = [header, *self._cells()]
        widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
        text = [
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(line, widths, strict=True))
            )
            for line in lines
        ]
        return "\n".join([*text, self._verdict()])

    __repr__ = __str__

    def _repr_html_(self) -> str:
        def row(tag: str, cells) -> str:
            left, *numbers = (html.escape(c) for c in cells)
            pad = "padding:0 0.6em"
            return (
                f'<tr><{tag} style="{pad};text-align:left">{left}</{tag}>'
                + "".join(f'<{tag} style="{pad};text-align:right">{n}</{tag}>' for n in numbers)
                + "</tr>"
            )

        head = row("th", ["layer \\ input", *map(str, self.sizes)])
        body = "".join(row("td", line) for line in self._cells())
        return (
            f"<table><thead>{head}</thead><tbody>{body}</tbody></table>"
            f"<p>{html.escape(self._verdict())}</p>"
        )


def _keras_height(layer, n: int) -> int | None:
    """The height of ``layer``'s output on a ``(1, n, n, 1)`` zero image, or None if empty.

    The forward pass runs only where Keras' own shape rule promises a non-empty output: on an
    empty one TensorFlow's oneDNN pooling kernels abort or kill the process (SIGFPE), where the
    default kernels return an empty tensor, so the answer is read without running them.
    """
    import numpy as np

    try:
        declared = layer.compute_output_shape((1, n, n, 1))
    except ValueError:  # Keras refusing the input is a result here
        return None
    if min(declared[1:3]) < 1:
        return None
    try:
        out = int(layer(np.zeros((1, n, n, 1), np.float32)).shape[1])
    except Exception:  # Keras or TensorFlow refusing the input is a result here
        return None
    return out if out > 0 else None


def check_sizes_against_keras(
    layers: Sequence[LayerSpec | dict], sizes: Sequence[int]
) -> SizeCheck:
    """Compare the output-size formulas with real Keras layers on square inputs.

    For every layer and every input side ``n``, the formula's answer (:func:`trace` of the
    one-layer list) is set against the height of a real Keras layer's output on an
    ``(1, n, n, 1)`` zero image (a forward pass, not ``compute_output_shape``). Imports Keras.
    Used by ch. 1 "Shape arithmetic in one page" for its table of formulas against Keras.

    Parameters
    ----------
    layers : sequence of LayerSpec or dict
        Layers with square arguments (the same along both axes).
    sizes : sequence of int
        Input sides, each ``>= 1``.

    Returns
    -------
    SizeCheck

    Raises
    ------
    ValueError
        If ``sizes`` is empty or holds a side below 1, or a layer's arguments differ between
        height and width.

    Examples
    --------
    >>> check = check_sizes_against_keras(
    ...     [LayerSpec("conv", kernel_size=3), LayerSpec("max_pool", kernel_size=2, strides=3)],
    ...     [128, 129])
    >>> print(check)
    layer \\ input              128  129
    Conv2D k3 s1 valid         126  127
    MaxPooling2D k2 s3 valid    43   43
    4 of 4 cases agree with Keras.
    """
    import keras

    specs = _ranked_specs(layers)
    if specs and specs[0].rank != 2:
        raise ValueError(
            f"check_sizes_against_keras compares 2-D layers on square images; got "
            f"{specs[0].rank}-D layers ({specs[0].describe()})."
        )
    check_cpu_kernels(specs, (1, 1, 1))
    if not sizes or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in sizes
    ):
        raise ValueError(f"sizes must be a non-empty list of ints >= 1, got {sizes!r}.")
    for spec in specs:
        flipped = replace(
            spec,
            kernel_size=spec.kernel_size[::-1],
            strides=spec.strides[::-1],
            dilation_rate=spec.dilation_rate[::-1],
            size=spec.size[::-1],
        )
        if flipped != spec:
            raise ValueError(
                f"{spec.describe()} differs between height and width; check_sizes_against_keras "
                "compares square layers on square inputs. Give one value per argument."
            )
    formula, real = [], []
    for index, spec in enumerate(specs):
        layer = _keras_layer(keras.layers, spec, f"size_check_{index}", 1)
        row_formula, row_keras = [], []
        for n in sizes:
            try:
                row_formula.append(_axis_size(spec, 0, n))
            except ValueError:
                row_formula.append(None)
            row_keras.append(_keras_height(layer, n))
        formula.append(tuple(row_formula))
        real.append(tuple(row_keras))
    return SizeCheck(
        tuple(_short_label(s) for s in specs), tuple(sizes), tuple(formula), tuple(real)
    )
