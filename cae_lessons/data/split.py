"""Splits that keep neighbouring slices apart: :func:`split_by_slab` assigns whole slabs of
adjacent slices to train, validation or test, so that no test slice has a near-copy in training.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from cae_lessons.config import split_seed
from cae_lessons.tables import html_table


@dataclass(frozen=True)
class SliceInfo:
    """Where one slice came from.

    Attributes
    ----------
    source : str
        Bundled source name or the file (folder for a DICOM series) it was read from.
    plane : str
        ``'axial'``, ``'coronal'``, ``'sagittal'`` or ``'image'`` for 2-D files.
    index : int
        Slice index along the plane's axis (after any ``voxel_size`` resampling).
    depth : int
        Number of slices along that axis, so ``depth - 1 - index`` is the mirror slice.
    native_size : tuple of int
        ``(H, W)`` of the slice before ``fit``.
    voxel_size : tuple of float or None
        In-plane pixel spacing ``(row, column)`` in mm, ``None`` when the file has none.
    volume : int or None
        Index into a 4-D file's volumes.
    """

    source: str
    plane: str
    index: int
    depth: int
    native_size: tuple[int, int]
    voxel_size: tuple[float, float] | None
    volume: int | None = None

    @property
    def group(self) -> tuple[str, int | None, str]:
        """``(source, volume, plane)``: slices that share it are neighbours in one volume."""
        return (self.source, self.volume, self.plane)


@dataclass(frozen=True)
class SliceTable:
    """Per-slice :class:`SliceInfo` of a :func:`load_mri_data` result, row ``i`` for ``x[i]``.

    Examples
    --------
    >>> from cae_lessons.data import load_mri_data
    >>> x, info = load_mri_data(plane="axial", max_slices=4, return_info=True)
    >>> info
    SliceTable(4 slices: mni152 axial 4 x (233, 197) at 1 x 1 mm)
    >>> info[0].index
    12
    """

    rows: tuple[SliceInfo, ...]

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[SliceInfo]:
        return iter(self.rows)

    def __getitem__(self, i: int) -> SliceInfo:
        return self.rows[i]

    def take(self, indices: Sequence[int] | np.ndarray) -> SliceTable:
        """Return the rows at ``indices`` as a new table."""
        return SliceTable(tuple(self.rows[int(i)] for i in indices))

    def summary(self) -> list[tuple[str, str, int, str, str]]:
        """Group rows by source, volume, plane and native size: ``(source, plane, n, size, mm)``."""
        groups: dict[tuple, int] = {}
        for row in self.rows:
            key = (row.source, row.volume, row.plane, row.native_size, row.voxel_size)
            groups[key] = groups.get(key, 0) + 1
        return [
            (
                source if volume is None else f"{source}[{volume}]",
                plane,
                n,
                str(size),
                "unknown" if mm is None else f"{mm[0]:.4g} x {mm[1]:.4g} mm",
            )
            for (source, volume, plane, size, mm), n in groups.items()
        ]

    def __repr__(self) -> str:
        parts = [f"{s} {p} {n} x {size} at {mm}" for s, p, n, size, mm in self.summary()]
        return f"SliceTable({len(self)} slices: {'; '.join(parts)})"

    def _repr_html_(self) -> str:
        rows = [[str(c) for c in row] for row in self.summary()]
        return html_table(("source", "plane", "slices", "size", "pixel"), rows, align="llrll")


@dataclass(frozen=True)
class Split:
    """Train / validation / test arrays and their :class:`SliceTable` rows."""

    x_train: np.ndarray | list[np.ndarray]
    x_val: np.ndarray | list[np.ndarray]
    x_test: np.ndarray | list[np.ndarray]
    info_train: SliceTable
    info_val: SliceTable
    info_test: SliceTable

    def __repr__(self) -> str:
        return (
            f"Split(train={len(self.info_train)}, val={len(self.info_val)}, "
            f"test={len(self.info_test)} slices)"
        )


def _slab_position(row: SliceInfo) -> int:
    """Sagittal slices k and depth-1-k share a position, so mirror pairs are never split."""
    if row.plane == "sagittal":
        return min(row.index, row.depth - 1 - row.index)
    return row.index


def split_by_slab(
    x,
    info: SliceTable,
    fractions: tuple[float, float, float] = (0.7, 0.15, 0.15),
    seed: int | None = None,
    gap: int = 4,
) -> Split:
    """Split slices into train / val / test by contiguous slabs of each volume and plane.

    Within each ``(source, volume, plane)`` group the slice positions are cut into three
    contiguous slabs in proportion to ``fractions``, in an order drawn from ``seed``, and ``gap``
    positions at every border are dropped, so no held-out slice has a 1 mm neighbour in training.
    Sagittal positions are folded about the midline: the bundled MNI152 is *symmetric*, its
    sagittal slice k equals slice 196 - k pixel for pixel, and a split that put one in training
    and its mirror in test would leak. Groups of one slice go whole to a split drawn with
    probabilities ``fractions``. Used by all training chapters.

    Parameters
    ----------
    x : (N, H, W, 1) float32 ndarray or list of arrays
    info : SliceTable
        From ``load_mri_data(..., return_info=True)``.
    fractions : (float, float, float)
        Shares of train, validation and test; must sum to 1.
    seed : int, optional
        Chooses which slab of each group goes to which split. Default:
        ``$CAE_LESSONS_SPLIT_SEED``, or 0 when it is unset (``config.split_seed``; the book is
        re-executed with another split to show that its claims do not hang on one).
    gap : int
        Slice positions dropped at each border between slabs.

    Returns
    -------
    Split

    Examples
    --------
    >>> from cae_lessons.data import load_mri_data
    >>> x, info = load_mri_data(plane="axial", return_info=True)
    >>> split_by_slab(x, info)
    Split(train=87, val=17, test=17 slices)
    """
    fractions_array = np.asarray(fractions, dtype=float)
    if (
        fractions_array.shape != (3,)
        or (fractions_array < 0).any()
        or not np.isclose(fractions_array.sum(), 1)
    ):
        raise ValueError(
            f"fractions must be three non-negative shares summing to 1, got {fractions}."
        )
    if len(x) != len(info):
        raise ValueError(
            f"x has {len(x)} slices but info has {len(info)} rows; pass both from one call."
        )
    rng = np.random.default_rng(split_seed() if seed is None else seed)
    parts: list[list[int]] = [[], [], []]
    groups: dict[tuple, list[int]] = {}
    for i, row in enumerate(info):
        groups.setdefault(row.group, []).append(i)
    for members in groups.values():
        positions = [_slab_position(info[i]) for i in members]
        unique, rank = np.unique(positions, return_inverse=True)
        if len(unique) == 1:
            parts[rng.choice(3, p=fractions_array)] += members
            continue
        order = rng.permutation(3)
        stops = np.round(np.cumsum(fractions_array[order]) * len(unique)).astype(int)
        for split, start, stop in zip(order, [0, *stops[:-1]], stops, strict=True):
            lo = start + gap if start > 0 else 0
            hi = stop - gap if stop < len(unique) else stop
            parts[split] += [i for i, r in zip(members, rank, strict=True) if lo <= r < hi]

    def take(indices: list[int]):
        indices = sorted(indices)
        chosen = [x[i] for i in indices]
        if isinstance(x, np.ndarray):
            chosen = x[indices] if indices else x[:0]
        return chosen, info.take(indices)

    (x_train, i_train), (x_val, i_val), (x_test, i_test) = (take(p) for p in parts)
    return Split(x_train, x_val, x_test, i_train, i_val, i_test)
