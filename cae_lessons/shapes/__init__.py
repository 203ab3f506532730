"""Shape arithmetic for convolutional autoencoders: sizes, traces, diagnoses and fixes.

Keras decides silently how big every layer's output is: a ``'valid'`` convolution trims the
border, pooling floors, a transposed convolution guesses. The functions here predict those sizes
exactly (they reproduce Keras 3 and TensorFlow, checked against real layers by the tests), walk a
whole model layer by layer without running it (:func:`trace`), explain in plain English why an
autoencoder's output does not match its input and list fixes that are verified by re-tracing
(:func:`diagnose`).

Importing this package, and tracing a list of :class:`LayerSpec`, imports neither TensorFlow nor
Keras. Reading a Keras model uses Keras (already loaded by whoever built the model): the path of
calls from its input to its output, and ``layer.get_config()``. The command line (:func:`main`)
imports Keras to load a ``.keras`` file::

    python -m cae_lessons.shapes model.keras --input 197x233

One concept per module: ``specs`` (LayerSpec and argument coercion), ``arithmetic`` (one layer's
output size along one axis), ``fitting`` (the PadToMultiple / CropToInput layers), ``reading``
(a Keras model as layer specs, its branches and merges included), ``graph`` (which layers each
takes; sizes of many inputs at once), ``solving`` (:func:`input_sizes`), ``building`` (layer
specs as a Keras model), ``crosscheck`` (formulas against real layers), ``tracing``
(:func:`trace`), ``cpu`` (shapes oneDNN cannot run), ``diagnosis`` (:func:`diagnose`,
:func:`compatible_sizes`), ``editing`` (a fix made to the Keras model, checked by a forward
pass) and ``cli``. Every public name is re-exported here, so
``shapes.trace`` is the way to call it.

Used by ch. 1 "Shape arithmetic in one page" and by the examples of ch. 3 (stride
incompatibility), ch. 4 (padding and the bottleneck) and ch. 5 (transposed convolutions).
"""

from cae_lessons.shapes.arithmetic import (
    conv_output_size,
    conv_transpose_output_size,
    crop_output_size,
    output_padding_for,
    pad_output_size,
    pool_output_size,
    transpose_overlap,
    upsample_output_size,
)
from cae_lessons.shapes.building import build_model
from cae_lessons.shapes.cli import main
from cae_lessons.shapes.cpu import CpuKernelError, check_cpu_kernels, cpu_kernel_problems
from cae_lessons.shapes.crosscheck import SizeCheck, check_sizes_against_keras
from cae_lessons.shapes.diagnosis import Diagnosis, Fix, compatible_sizes, diagnose
from cae_lessons.shapes.editing import apply_fix, check_fix
from cae_lessons.shapes.fitting import fit_layers
from cae_lessons.shapes.reading import heads, layer_kind
from cae_lessons.shapes.solving import AxisSizes, InputSizes, SizeRule, input_sizes
from cae_lessons.shapes.specs import (
    AXES,
    INTERPOLATIONS,
    KERAS_NAMES,
    KINDS,
    MERGE_LAYERS,
    NEUTRAL_LAYERS,
    PADDINGS,
    LayerSpec,
)
from cae_lessons.shapes.tracing import ShapeTrace, TraceRow, trace

__all__ = [
    "AXES",
    "INTERPOLATIONS",
    "KERAS_NAMES",
    "KINDS",
    "MERGE_LAYERS",
    "NEUTRAL_LAYERS",
    "PADDINGS",
    "AxisSizes",
    "CpuKernelError",
    "Diagnosis",
    "Fix",
    "InputSizes",
    "LayerSpec",
    "ShapeTrace",
    "SizeCheck",
    "SizeRule",
    "TraceRow",
    "apply_fix",
    "build_model",
    "check_cpu_kernels",
    "check_fix",
    "check_sizes_against_keras",
    "compatible_sizes",
    "conv_output_size",
    "conv_transpose_output_size",
    "cpu_kernel_problems",
    "crop_output_size",
    "diagnose",
    "fit_layers",
    "heads",
    "input_sizes",
    "layer_kind",
    "main",
    "output_padding_for",
    "pad_output_size",
    "pool_output_size",
    "trace",
    "transpose_overlap",
    "upsample_output_size",
]
