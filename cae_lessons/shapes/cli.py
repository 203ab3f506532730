"""The command line, ``cae-shapes model.keras --input HxW`` (``DxHxW`` for a 3-D model): the
trace and the diagnosis."""

from __future__ import annotations

import argparse
import sys

from cae_lessons.shapes.diagnosis import diagnose
from cae_lessons.shapes.fitting import fit_layers
from cae_lessons.shapes.reading import heads


def _parse_input(text: str) -> tuple[int, ...]:
    try:
        shape = tuple(int(v) for v in text.lower().split("x"))
    except ValueError:
        shape = ()
    if not 1 <= len(shape) <= 4 or min(shape) < 1:
        raise argparse.ArgumentTypeError(
            "expected HxW or HxWxC (DxHxW or DxHxWxC for a 3-D model) with positive integers, "
            f"e.g. 197x233 or 197x233x189; got {text!r}"
        )
    return shape


def main(argv=None) -> int:
    """``cae-shapes model.keras [--input HxW]``: print the trace, the diagnosis, and whether each
    fix, made to the model itself, round-trips in one forward pass; for a model with several
    outputs, each head in turn (:func:`heads`).

    Exit status: 0 when the model (every head) round-trips, 1 on a mismatch, 2 on bad usage (a
    missing or unreadable file, a malformed ``--input``, a layer trace cannot read). Used by
    ch. 1.

    Examples
    --------
    >>> main(["no/such/model.keras"])  # the message goes to stderr
    2
    """
    parser = argparse.ArgumentParser(
        prog="cae-shapes",
        description="Trace the shapes of a saved Keras autoencoder and diagnose size mismatches.",
    )
    parser.add_argument("model", help="path to a .keras file")
    parser.add_argument(
        "--input",
        type=_parse_input,
        help="input size HxW or HxWxC (DxHxW for a 3-D model), e.g. 197x233 or 197x233x189",
    )
    args = parser.parse_args(argv)

    def fail(message: str) -> int:
        print(f"cae-shapes: error: {message}", file=sys.stderr)
        return 2

    from pathlib import Path

    path = Path(args.model)
    if not path.is_file():
        return fail(f"no such file: {args.model!r}")
    try:
        import keras

        fit_layers()  # registers PadToMultiple and CropToInput for models saved with them
        model = keras.saving.load_model(path, compile=False)
    except Exception as error:  # any loading failure is a usage error
        return fail(f"cannot load {args.model!r} as a Keras model: {error}")
    try:
        parts = heads(model)
        results = [diagnose(head, args.input) for head in parts]
    except (TypeError, ValueError) as error:
        return fail(str(error))
    for head, result in zip(parts, results, strict=True):
        if len(parts) > 1:
            print(f"== head {head.name!r} (output {head.outputs[0]._keras_history[0].name!r}) ==")
        _report(head, result)
    return 0 if all(result.ok for result in results) else 1


def _report(model, result) -> None:
    """Print a diagnosis of ``model``: its trace, the verdict, and each fix run once."""
    if result.trace is not None:
        print(result.trace)
    print(result)
    if result.fixes:
        try:
            checked = ", ".join(
                f"{fix.kind} {'round-trips' if fix.check(model) else 'FAILS'}"
                for fix in result.fixes
            )
        except ValueError as error:  # a model the fixes cannot be made to
            print(f"The fixes were not run: {error}")
        else:
            print(f"Each fix made to the model and run once on zeros: {checked}.")
