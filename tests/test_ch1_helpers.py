"""Helpers added for ch. 1 "Shape arithmetic in one page": the formulas-against-Keras table."""

from __future__ import annotations

import keras
import pytest

from cae_lessons.shapes import LayerSpec, SizeCheck, check_sizes_against_keras


@pytest.fixture(autouse=True)
def _seeded():
    keras.utils.set_random_seed(0)


def test_every_kind_agrees_with_keras_on_even_and_odd_sizes():
    layers = [
        LayerSpec("conv", kernel_size=3, strides=2, padding="valid"),
        LayerSpec("conv", kernel_size=4, strides=2, padding="same"),
        LayerSpec("max_pool", kernel_size=2),
        LayerSpec("avg_pool", kernel_size=3, strides=2, padding="same"),
        LayerSpec("upsample", size=3),
        LayerSpec("conv_transpose", kernel_size=3, strides=2, padding="valid"),
        LayerSpec("conv_transpose", kernel_size=3, strides=2, padding="same", output_padding=0),
    ]
    check = check_sizes_against_keras(layers, [9, 64, 129])
    assert check.agree
    assert (check.n_cases, check.n_agree) == (21, 21)
    assert check.formula[0] == (4, 31, 64)
    assert check.keras[-1] == (17, 127, 257)
    assert check.labels[4] == "UpSampling2D ×3"
    assert check.labels[-1] == "Conv2DTranspose k3 s2 same op0"


def test_an_input_both_refuse_is_shown_as_a_dash_and_counts_as_agreement():
    check = check_sizes_against_keras([LayerSpec("conv", kernel_size=5)], [3, 5])
    assert check.formula == ((None, 1),)
    assert check.keras == ((None, 1),)
    assert check.agree
    assert str(check).splitlines()[1].split() == ["Conv2D", "k5", "s1", "valid", "-", "1"]


def test_a_disagreement_is_marked_in_text_and_html():
    check = SizeCheck(("Conv2D k3 s1 valid",), (8, 9), ((6, 7),), ((6, 8),))
    assert not check.agree
    assert check.n_agree == 1
    text = str(check)
    assert "7≠8" in text
    assert text.endswith("1 of 2 cases agree with Keras (≠: formula≠Keras; -: refused).")
    assert ">7≠8</td>" in check._repr_html_()


def test_dilated_labels_and_dict_layers():
    check = check_sizes_against_keras(
        [{"kind": "conv", "kernel_size": 3, "dilation_rate": 2}], [10]
    )
    assert check.labels == ("Conv2D k3 s1 valid d2",)
    assert check.formula == check.keras == ((6,),)


@pytest.mark.parametrize("sizes", [[], [0], [8, 2.5], [True]])
def test_bad_sizes_are_rejected(sizes):
    with pytest.raises(ValueError, match="sizes must be a non-empty list of ints >= 1"):
        check_sizes_against_keras([LayerSpec("conv", kernel_size=3)], sizes)


def test_non_square_layers_are_rejected():
    with pytest.raises(ValueError, match="differs between height and width"):
        check_sizes_against_keras([LayerSpec("conv", kernel_size=(3, 5))], [9])
