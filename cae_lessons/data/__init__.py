"""Real MRI as ``(N, H, W, 1) float32`` arrays in [0, 1]: loaders, a phantom, splits, tf.data.

Every source is real data that ships inside an installed package (nothing is downloaded), or the
user's own files, or a synthetic phantom:

``'mni152'`` (default)
    The 1 mm T1-weighted ICBM 2009a *symmetric* MNI152 template bundled with nilearn,
    197 x 233 x 189 voxels.
``'epi'``
    nibabel's test EPI ``example4d.nii.gz``: 128 x 96 x 24 voxels of 2 x 2 x 2.2 mm, 2 volumes.
``'dicom'``
    pydicom's test slice ``MR_small.dcm``: one 64 x 64 axial slice of 0.3125 mm pixels.
``'dipy_t1'``, ``'dipy_b0'``, ``'dipy_aniso'``
    dipy's ``t1_coronal_slice.npy`` (256 x 256), ``S0_10slices.nii.gz`` (128 x 128 x 10) and
    ``aniso_vox.nii.gz`` (58 x 58 x 24 voxels of 4 x 4 x 5 mm).

Orientation. Volumes are reoriented to RAS+ (nibabel's closest canonical orientation) and every
slice is shown the radiological way up with neurological left-right: axial slices have anterior
at the top and the patient's right on the image's right; coronal and sagittal slices have superior
at the top (sagittal: anterior on the right). 2-D images (PNG, TIFF, 2-D arrays) are taken as they
are, with plane ``'image'``.

Intensities are normalised per volume (per image for 2-D files), so a dark slice at the edge of the
brain stays dark. The user's files are only ever read.

The package holds one module per step: :mod:`~cae_lessons.data.read`,
:mod:`~cae_lessons.data.preprocess`, :mod:`~cae_lessons.data.synthetic`,
:mod:`~cae_lessons.data.split`, :mod:`~cae_lessons.data.load` and
:mod:`~cae_lessons.data.pipeline`; their public names are importable from here.

Used by ch. 2 "The data", ch. 6 "MRI of varying resolutions" and all training chapters. Imports
only :mod:`cae_lessons.config`, :mod:`cae_lessons.validate` and :mod:`cae_lessons.tables` from
the package (nothing above them); TensorFlow is imported by :func:`as_dataset` alone.
"""

from cae_lessons.data.load import (
    load_mri_data,
    load_mri_volumes,
)
from cae_lessons.data.pipeline import (
    as_dataset,
)
from cae_lessons.data.preprocess import (
    DEFAULT_SIZE,
    FITS,
    FOREGROUND_LEVEL,
    NORMALIZATIONS,
    PERCENTILES,
    PLANES,
    block_mean,
    evenly_spaced,
    fit_stack,
    foreground_fraction,
    mid_planes,
    resample_matrix,
    resampled_shape,
    unfit_stack,
)
from cae_lessons.data.read import (
    ARRAY_SUFFIXES,
    DICOM_SUFFIXES,
    IMAGE_SUFFIXES,
    NIBABEL_SUFFIXES,
    SOURCES,
    SUPPORTED,
    DataWarning,
)
from cae_lessons.data.split import (
    SliceInfo,
    SliceTable,
    Split,
    split_by_slab,
)
from cae_lessons.data.synthetic import (
    PHANTOM_DOT_DIAMETERS,
    phantom,
    phantom_dots,
)

__all__ = [
    "ARRAY_SUFFIXES",
    "DEFAULT_SIZE",
    "DICOM_SUFFIXES",
    "FITS",
    "FOREGROUND_LEVEL",
    "IMAGE_SUFFIXES",
    "NIBABEL_SUFFIXES",
    "NORMALIZATIONS",
    "PERCENTILES",
    "PHANTOM_DOT_DIAMETERS",
    "PLANES",
    "SOURCES",
    "SUPPORTED",
    "DataWarning",
    "SliceInfo",
    "SliceTable",
    "Split",
    "as_dataset",
    "block_mean",
    "evenly_spaced",
    "fit_stack",
    "foreground_fraction",
    "load_mri_data",
    "load_mri_volumes",
    "mid_planes",
    "phantom",
    "phantom_dots",
    "resample_matrix",
    "resampled_shape",
    "split_by_slab",
    "unfit_stack",
]
