"""Errors that ch. 6 "MRI of varying resolutions" and its sections show on purpose (cell tag
`raises-exception`), pinned with their exact type and message like tests/test_chapter_errors.py,
so that a Keras or package change that alters them fails a unit test, not only a notebook cell.
"""

import numpy as np
import pytest


def test_varying_resolutions_fixed_128_model_on_a_1mm_slice_fails_in_the_loss():
    """book/varying_resolutions.ipynb: a 128×128 CAE given 233×197 slices predicts 232×196
    without complaint; `evaluate` (like `fit`) fails where the loss compares the two."""
    from cae_lessons.models import build_cae

    model = build_cae((128, 128, 1), filters=(8, 16), latent_channels=4, name="cae_fixed_128")
    x = np.zeros((2, 233, 197, 1), dtype="float32")
    assert model.predict(x, verbose=0).shape == (2, 232, 196, 1)
    with pytest.raises(
        ValueError,
        match=(
            r"^Dimensions must be equal, but are 233 and 232 for '\{\{node compile_loss/mse/sub\}\}"
            r" = Sub\[T=DT_FLOAT\]\(data_1, cae_fixed_128(_\d+)?/output(_\d+)?/Sigmoid\)' with "
            r"input shapes: \[\?,233,197,1\], \[\?,232,196,1\]\.$"
        ),
    ):
        model.evaluate(x, x, verbose=0)


def test_unet_slices_unet_for_a_1mm_slice_fails_in_its_deepest_skip():
    """book/unet_slices.ipynb: a 'same' U-Net of depth 3 built for 233×197 slices: the
    deepest Concatenate gets 58×48 and 58×49 and Keras refuses to build it; built for any size,
    it fails the same way in predict."""
    from cae_lessons.models import build_unet

    with pytest.raises(
        ValueError,
        match=(
            r"^A `Concatenate` layer requires inputs with matching shapes except for the "
            r"concatenation axis\. Received: input_shape=\[\(None, 58, 48, 8\), "
            r"\(None, 58, 49, 8\)\]$"
        ),
    ):
        build_unet((233, 197, 1), depth=3, filters=8)
    any_size = build_unet((None, None, 1), depth=3, filters=8)
    with pytest.raises(ValueError, match=r"but are 48 and 49\. Shapes are \[2,58,48\]"):
        any_size.predict(np.zeros((2, 233, 197, 1), dtype="float32"), verbose=0)


def test_volumes_3d_unet_for_the_whole_1mm_volume_fails_in_its_deepest_skip():
    """book/volumes.ipynb: a 3-D U-Net of depth 3 built for the 197×233×189 volume: the deepest
    Concatenate gets 48×58×46 and 49×58×47 and Keras refuses to build it."""
    from cae_lessons.models import build_unet

    with pytest.raises(
        ValueError,
        match=(
            r"^A `Concatenate` layer requires inputs with matching shapes except for the "
            r"concatenation axis\. Received: input_shape=\[\(None, 48, 58, 46, 4\), "
            r"\(None, 49, 58, 47, 4\)\]$"
        ),
    ):
        build_unet((197, 233, 189, 1), depth=3, filters=4)
