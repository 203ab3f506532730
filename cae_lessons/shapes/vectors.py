"""Dense bottlenecks: a Flatten or a global pooling, Dense layers and a Reshape back to an image,
read from a Keras model as one ``'dense'`` LayerSpec (what the image sizes see of them).

A Flatten passes on every value, so the Dense after it takes one input size only, the one it was
built for; a global pooling passes on one value per channel, at any size. Between them and the
Reshape only vectors flow, which have no spatial axes to trace. A Dense applied to an image
(rank 3 or more) works on each pixel's channels, as a 1-wide convolution does. Anything else
that leaves the image for a vector (a classifier's head, an encoder's code as the output) is
refused with the reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

VECTOR_KINDS = ("flatten", "global_pool", "dense_layer", "reshape")
"""The kinds ``reading.layer_kind`` gives Flatten, GlobalAverage/MaxPooling, Dense, Reshape."""


@dataclass(frozen=True)
class Bottleneck:
    """The layers of one dense bottleneck, in call order, and what the sizes see of them."""

    name: str
    layers: tuple[str, ...]
    expects: tuple[int, ...] | None
    target: tuple[int, ...]
    filters: int
    units: int


def _image_order(shape, channels_first: bool) -> tuple:
    """``(*spatial, C)`` of a Keras shape without its batch axis."""
    shape = tuple(shape[1:])
    return (*shape[1:], shape[0]) if channels_first else shape


def collapse(calls: list, shapes: list, model_name: str, channels_first: bool) -> list:
    """The calls with each Flatten/global pooling … Reshape run made one ``'dense'`` call.

    ``calls`` are ``(operation, kind, label, sources)`` as ``reading._graph_of_calls`` makes
    them, ``shapes`` each call's ``(input shape, output shape)`` as Keras built it. Sources are
    renumbered. A vector layer outside such a run (but a Dense on an image) is refused.
    """
    consumers: dict[int, int] = {}
    for sources in (c[3] for c in calls):
        for j in sources:
            consumers[j] = consumers.get(j, 0) + 1
    runs: dict[int, list[int]] = {}  # index of the last call of a run -> the run
    for end, (operation, kind, _, _) in enumerate(calls):
        keeps = kind == "global_pool" and operation.get_config().get("keepdims")
        if kind != "reshape" and not keeps:
            continue
        run, at = [end], end
        while calls[at][1] not in ("flatten", "global_pool"):
            sources = calls[at][3]
            before = sources[0] if len(sources) == 1 else -1
            if (
                before < 0
                or consumers.get(before, 0) != 1
                or calls[before][1]
                not in (
                    "dense_layer",
                    "neutral",
                    "flatten",
                    "global_pool",
                )
            ):
                break
            at = before
            run.insert(0, at)
        if calls[at][1] in ("flatten", "global_pool"):
            runs[end] = run
    inside = {i for run in runs.values() for i in run}
    for i, (operation, kind, label, _) in enumerate(calls):
        vector = kind == "dense_layer" and len(shapes[i][0]) == 2
        if i not in inside and (vector or kind in ("flatten", "global_pool", "reshape")):
            raise ValueError(
                f"{label!r} ({type(operation).__name__}) in {model_name!r} leaves the image for "
                "a vector that no Reshape turns back into an image. trace reads a Flatten or "
                "global pooling, Dense layers and a Reshape back to an image as one dense "
                "bottleneck; a model whose output is a vector (a classifier, an encoder) has no "
                "spatial axes to trace: trace its layers before that point."
            )
    renumber: dict[int, int] = {-1: -1}
    collapsed: list = []
    for i, (operation, kind, label, sources) in enumerate(calls):
        if i in inside and i not in runs:
            continue
        if i in runs:
            run = runs[i]
            first = calls[run[0]]
            denses = [
                calls[j][0].get_config()["units"] for j in run if calls[j][1] == "dense_layer"
            ]
            entry = shapes[run[0]][0]
            if first[1] == "flatten" and None in entry[1:]:
                raise ValueError(
                    f"{first[2]!r} (Flatten) in {model_name!r} takes {tuple(entry[1:])}: trace "
                    "needs the size a Flatten takes; give the model an input of fixed size."
                )
            code = math.prod(shapes[run[0]][1][1:])  # the vector the Flatten or pooling gives
            target = _image_order(shapes[i][1], channels_first)
            operation = Bottleneck(
                name=label,
                layers=tuple(calls[j][2] for j in run),
                expects=_image_order(entry, channels_first) if first[1] == "flatten" else None,
                target=target[:-1],
                filters=target[-1],
                units=min([code, *denses]),
            )
            kind, sources = "dense", first[3]
        collapsed.append((operation, kind, label, tuple(renumber[j] for j in sources)))
        renumber[i] = len(collapsed) - 1
    return collapsed
