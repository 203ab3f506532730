"""experiments/resolutions.py: ch. 6's inputs and its fixed 128×128 model."""

import numpy as np
import pytest

from cae_lessons.config import Profile
from cae_lessons.data import Split
from cae_lessons.experiments.resolutions import DESIGN, SIZE, load_inputs, resized, train_fixed
from cae_lessons.shapes import trace


def test_inputs_share_the_held_out_positions_and_keep_native_sizes():
    inputs = load_inputs()
    assert list(inputs.tests) == ["T1 1 mm", "T1 1.5 mm", "T1 2 mm", "EPI", "DICOM"]
    positions = {tuple(row.index for row in split.info_test) for split in inputs.t1.values()}
    assert len(positions) == 1
    assert [inputs.tests[name].shape[1:] for name in ("EPI", "DICOM")] == [
        (96, 128, 1),
        (64, 64, 1),
    ]
    assert all(x.dtype == np.float32 for x in inputs.tests.values())
    assert repr(inputs).splitlines()[3] == "EPI       24 held-out slices of 96×128 px"


def _split(rows, cols):
    x = np.random.default_rng(0).random((6, rows, cols, 1), dtype=np.float32)
    return Split(
        x_train=x[:4], x_val=x[4:5], x_test=x[5:], info_train=(), info_val=(), info_test=()
    )


@pytest.mark.parametrize(("rows", "cols"), [(233, 197), (96, 128), (64, 64)])
def test_resized_fits_every_slice_into_the_fixed_size(rows, cols):
    x_train, x_val = resized(_split(rows, cols))
    assert x_train.shape == (4, *SIZE, 1) and x_val.shape == (1, *SIZE, 1)


@pytest.mark.slow
def test_train_fixed_trains_one_run_per_seed_of_the_fixed_model(tmp_path):
    x_train, x_val = resized(_split(130, 120))
    runs = train_fixed(x_train, x_val, Profile("quick", 1, None, 2), cache=tmp_path, progress=False)
    assert [(run.name, run.seed) for run in runs] == [("cae_fixed_128", 0), ("cae_fixed_128", 1)]
    bottleneck = trace(runs[0].model).bottleneck.output_shape
    assert bottleneck == (32, 32, DESIGN["latent_channels"])
