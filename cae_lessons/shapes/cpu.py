"""Shapes that TensorFlow's oneDNN CPU kernels cannot run, refused before TensorFlow runs them."""

from __future__ import annotations

from cae_lessons.shapes.graph import wiring
from cae_lessons.shapes.reading import _as_specs
from cae_lessons.shapes.specs import AXIS_NAMES, LayerSpec


def cpu_kernel_problems(model_or_layers, input_shape=None) -> tuple[str, ...]:
    """The layers that TensorFlow's oneDNN CPU kernels cannot run, each with the reason.

    TensorFlow turns these kernels on by itself on many CPUs (those with AVX-512 VNNI or BF16,
    AMD Zen 4 among them). Two cases go wrong there, where the default kernels compute the
    right answer:

    - a convolution or transposed convolution with a 1-wide kernel and a stride above 1 makes
      them raise ``AbortedError`` or corrupt the process's memory and kill it (in the transposed
      convolution's forward pass, and in the input gradient of the convolution);
    - a ``ZeroPadding3D`` that feeds a ``Conv3D`` with ``padding='same'`` (and a kernel wider
      than 1, no dilation), directly or through shape-neutral layers, is fused with it in graph
      mode (``predict``, ``fit``, ``tf.function``) into one convolution that drops the 'same'
      padding: the output is silently smaller than Keras says, and a later layer that expects
      Keras' shape raises ``AbortedError``. Called eagerly the model is right.

    This package never runs such a model, whichever kernels are on, so that a shape gives the
    same result on every machine (``tests/test_onednn.py`` pins both cases). An output that
    would be empty, and a transposed convolution that TensorFlow rejects for every input, are
    refused by :func:`trace` itself.
    Used by :func:`check_cpu_kernels`.

    Parameters
    ----------
    model_or_layers, input_shape
        As for :func:`trace`.

    Returns
    -------
    tuple of str
        One message per problem, empty when every layer can run.

    Examples
    --------
    >>> from cae_lessons.shapes import LayerSpec
    >>> cpu_kernel_problems([LayerSpec("conv_transpose", "up", kernel_size=3, strides=2)], (8, 8))
    ()
    >>> (problem,) = cpu_kernel_problems(
    ...     [LayerSpec("conv_transpose", "up", kernel_size=1, strides=2)], (8, 8)
    ... )
    >>> print(problem)
    'up' Conv2DTranspose(kernel_size=(1, 1), ...): a 1-wide kernel with stride 2 along ....
    """
    specs, _ = _as_specs(model_or_layers, input_shape)
    problems = [p for spec in specs if (p := _strided_1_wide(spec))]
    return tuple(problems) + _fused_paddings(specs)


def _strided_1_wide(spec: LayerSpec) -> str | None:
    if spec.kind not in ("conv", "conv_transpose"):
        return None
    for axis, label in enumerate(AXIS_NAMES[spec.rank]):
        extent = spec.dilation_rate[axis] * (spec.kernel_size[axis] - 1) + 1
        if extent == 1 and spec.strides[axis] > 1:
            return (
                f"{spec.describe()}: a 1-wide kernel with stride {spec.strides[axis]} along "
                f"the {label} (oneDNN's kernels abort or corrupt memory on it); use "
                "kernel_size >= 2, or strides=1 followed by a pooling."
            )
    return None


def drops_fused_padding(spec: LayerSpec) -> bool:
    """True for a layer that oneDNN fuses with a ``ZeroPadding3D`` in front of it, dropping its
    own 'same' padding: a ``Conv3D`` with ``padding='same'``, a kernel wider than 1 along some
    axis and no dilation (:func:`cpu_kernel_problems`)."""
    return (
        spec.kind == "conv"
        and spec.rank == 3
        and spec.padding == "same"
        and max(spec.kernel_size) > 1
        and set(spec.dilation_rate) == {1}
    )


def _fused_paddings(specs) -> tuple[str, ...]:
    """A ZeroPadding3D that reaches a :func:`drops_fused_padding` convolution through nothing
    but shape-neutral layers (Identity, Activation('linear'), ... are folded away too)."""
    wires = wiring(specs)
    padding: list[int | None] = []  # per spec: the ZeroPadding3D behind it, if only neutral between
    problems = []
    for i, (spec, sources) in enumerate(zip(specs, wires, strict=True)):
        behind = padding[sources[0]] if len(sources) == 1 and sources[0] >= 0 else None
        if spec.kind == "zero_pad" and spec.rank == 3:
            padding.append(i)
            continue
        padding.append(behind if spec.kind == "neutral" else None)
        if behind is not None and drops_fused_padding(spec):
            problems.append(
                f"{specs[behind].describe()} feeds {spec.describe()}: in graph mode (predict, "
                "fit) oneDNN fuses the two and drops the convolution's 'same' padding, so the "
                "output is smaller than Keras says (or a later layer aborts); give that "
                "convolution padding='valid' and add to the ZeroPadding3D the padding "
                "'same' would add ((k - 1) // 2 before and k // 2 after, at stride 1)."
            )
    return tuple(problems)


class CpuKernelError(ValueError):
    """A model that TensorFlow's oneDNN CPU kernels cannot run (:func:`check_cpu_kernels`)."""


def check_cpu_kernels(model_or_layers, input_shape=None) -> None:
    """Refuse, before TensorFlow runs it, a model that oneDNN's CPU kernels cannot run.

    Called by every function of this package that runs layers on shapes a learner chooses
    (:func:`check_sizes_against_keras`, ``receptive.empirical_receptive_field``,
    ``training.train``); see :func:`cpu_kernel_problems` for the cases.

    Raises
    ------
    CpuKernelError
        A ``ValueError`` naming each layer and why, with the fix.
    ValueError
        If :func:`trace` cannot read a layer of the model.

    Examples
    --------
    >>> from cae_lessons.shapes import LayerSpec
    >>> check_cpu_kernels([LayerSpec("conv", kernel_size=3, strides=2)], (8, 8))
    >>> try:
    ...     check_cpu_kernels([LayerSpec("conv", "c", kernel_size=1, strides=2)], (8, 8))
    ... except ValueError as error:
    ...     print(error)
    This model cannot run on TensorFlow's oneDNN CPU kernels, ... 'c' Conv2D(kernel_size=(1, 1), ...
    """
    problems = cpu_kernel_problems(model_or_layers, input_shape)
    if problems:
        raise CpuKernelError(
            "This model cannot run on TensorFlow's oneDNN CPU kernels, which TensorFlow turns on "
            "by itself on many CPUs, so this package refuses it on every machine: "
            + " ".join(problems)
        )
