"""Ch. 6: one small CAE, MRI of five sizes, and the 128×128 model's training runs.

The chapter "MRI of varying resolutions" and its section "Resize or pad: the same held-out
slices" load the same five held-out sets with :func:`load_inputs` and train the fixed 128×128
model with :func:`train_fixed`; the section finds the chapter's runs in the training cache.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from cae_lessons.data import Split, fit_stack, load_mri_data, split_by_slab
from cae_lessons.experiments.registry import BATCH_SIZE, PATIENCE, START_FROM_EPOCH
from cae_lessons.models import build_cae

SIZE = (128, 128)
"""The fixed model's input height and width."""

DESIGN = {"filters": (8, 16), "latent_channels": 4}
"""``build_cae``'s arguments of both of the chapter's models: two 2×2 poolings (total stride 4)
and a 32×32×4 bottleneck at 128×128."""

T1_MM = (1, 1.5, 2)
"""The in-plane pixel sizes (mm) the MNI152 T1 template is resampled to."""


@dataclass(frozen=True)
class Inputs:
    """The chapter's five inputs: the T1 template at three pixel sizes, an EPI run and a DICOM
    slice.

    Attributes
    ----------
    t1 : dict of str to Split
        ``'T1 1 mm'``, ``'T1 1.5 mm'``, ``'T1 2 mm'`` → the axial slices at their native size,
        split into slabs (the same held-out positions at every pixel size).
    tests : dict of str to ndarray
        The five held-out sets, each (N, H, W, 1) float32 at its native size: the three T1 test
        slabs, every EPI slice (``'EPI'``) and the DICOM slice (``'DICOM'``).
    epi_info, dicom_info : tuple of SliceInfo
        Where the EPI and DICOM slices come from.
    """

    t1: dict
    tests: dict
    epi_info: tuple
    dicom_info: tuple

    def __repr__(self) -> str:
        rows = [
            f"{name:9s} {len(x):2d} held-out slices of {x.shape[1]}×{x.shape[2]} px"
            for name, x in self.tests.items()
        ]
        return "\n".join(rows)


def load_inputs() -> Inputs:
    """Load the chapter's five inputs at their native sizes (no download: bundled files).

    Returns
    -------
    Inputs

    Examples
    --------
    >>> inputs = load_inputs()
    >>> {name: x.shape[1:] for name, x in inputs.tests.items()}["EPI"]
    (96, 128, 1)
    """
    t1 = {}
    for mm in T1_MM:
        x, info = load_mri_data(plane="axial", size=None, voxel_size=(mm, mm, 1), return_info=True)
        t1[f"T1 {mm} mm"] = split_by_slab(np.stack(x), info, seed=0)
    epi, epi_info = load_mri_data("epi", plane="axial", size=None, volume=0, return_info=True)
    dicom, dicom_info = load_mri_data("dicom", size=None, return_info=True)
    tests = {name: split.x_test for name, split in t1.items()}
    tests |= {"EPI": np.stack(epi), "DICOM": np.stack(dicom)}
    return Inputs(t1=t1, tests=tests, epi_info=epi_info, dicom_info=dicom_info)


def resized(split: Split) -> tuple[np.ndarray, np.ndarray]:
    """The training and validation slabs of ``split`` resized to fit :data:`SIZE`.

    Each slice is scaled by one factor, keeping its aspect ratio, and zero-padded on its short
    side (``fit_stack(..., fit='resize')``).

    Returns
    -------
    x_train, x_val : (N, 128, 128, 1) float32
    """
    return tuple(
        fit_stack(x[..., 0], SIZE, "resize")[..., None] for x in (split.x_train, split.x_val)
    )


def train_fixed(x_train: np.ndarray, x_val: np.ndarray, profile, **kwargs) -> list:
    """Train the fixed 128×128 model (``'cae_fixed_128'``) with the profile's seeds.

    Each run uses batch size 8 and stops once its validation loss has not improved for
    :data:`~cae_lessons.experiments.registry.PATIENCE` epochs after the book's warm-up, or at
    the profile's epoch cap (:func:`cae_lessons.workers.train_seeds`, cached).

    Parameters
    ----------
    x_train, x_val : (N, 128, 128, 1) float32
        From :func:`resized`.
    profile : Profile
        ``profile.seeds`` runs of at most ``profile.epochs`` epochs.
    **kwargs
        Passed to ``train_seeds`` (``cache``, ``progress``, ``workers``).

    Returns
    -------
    list of TrainResult
        One run per seed, in seed order.
    """
    from cae_lessons.workers import train_seeds

    build = functools.partial(build_cae, (*SIZE, 1), name="cae_fixed_128", **DESIGN)
    runs = train_seeds(
        {"fixed": build},
        x_train,
        x_val,
        seeds=range(profile.seeds),
        epochs=profile.epochs,
        batch_size=BATCH_SIZE,
        patience=PATIENCE,
        start_from_epoch=START_FROM_EPOCH,
        **kwargs,
    )
    return runs["fixed"]
