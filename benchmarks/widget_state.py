"""How much do the static explorers add to each page of the rendered book?

Reads the stored chapters (no execution) and prints, per chapter with widgets, the size of the
widget state embedded in the page, how many widget models it holds and how many picture frames,
and, for the reconstruction frames, how many bytes the 256-colour palette saves over the same
frames stored as RGB PNGs (ratio measured in this run). Not a test: ``make benchmarks``.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import nbformat
from PIL import Image

from cae_lessons.reproduce import toc_notebooks

ROOT = Path(__file__).resolve().parent.parent
STATE = "application/vnd.jupyter.widget-state+json"


def frames(state: dict) -> list[bytes]:
    """The PNG frames of every Image widget in an embedded state."""
    return [
        base64.b64decode(model["buffers"][0]["data"])
        for model in state["state"].values()
        if model.get("model_name") == "ImageModel" and model.get("buffers")
    ]


def as_rgb(png: bytes) -> int:
    """Bytes of the same picture as an RGB PNG (compression level 9)."""
    buffer = io.BytesIO()
    Image.open(io.BytesIO(png)).convert("RGB").save(buffer, format="png", compress_level=9)
    return len(buffer.getvalue())


def main() -> None:
    print(
        f"{'chapter':<26} {'state (kB)':>10} {'models':>7} {'PNG frames':>10} {'RGB / palette':>14}"
    )
    for path in toc_notebooks(ROOT):
        state = nbformat.read(path, as_version=4).metadata.get("widgets", {}).get(STATE)
        if not state:
            continue
        pngs = frames(state)
        ratio = f"{sum(map(as_rgb, pngs)) / sum(map(len, pngs)):.2f}×" if pngs else "–"
        size = len(json.dumps(state)) / 1000
        print(f"{path.stem:<26} {size:10.0f} {len(state['state']):7d} {len(pngs):10d} {ratio:>14}")


if __name__ == "__main__":
    main()
