"""How long does a slider move take to redraw each explorer? (target: under 100 ms on 2 cores)

Drives the live explorers from Python on real MRI slices (128×128, the book's size) the way a
reader's slider would, and prints the median milliseconds per redraw over several moves: the
redraw includes the arithmetic, the in-place figure update and the PNG the browser receives.
For the reconstruction explorer, whose redraw blits (only images and titles are drawn over a
cached background), it also times one full draw of the same figure, for the ratio.
Not a test: ``make benchmarks``.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from cae_lessons import widgets
from cae_lessons.data import load_mri_data

MOVES = 15


def median_ms(control, values, figure_of=None) -> tuple[float, float | None]:
    """Median ms of a slider move and, given ``figure_of``, of one full draw of its new figure."""
    moves, full = [], []
    for value in values:
        start = time.perf_counter()
        control.value = value
        moves.append(time.perf_counter() - start)
        if figure_of is not None:
            start = time.perf_counter()
            widgets.render_png(figure_of())
            full.append(time.perf_counter() - start)
    return 1000 * statistics.median(moves), 1000 * statistics.median(full) if full else None


def main() -> None:
    x = load_mri_data(max_slices=16)
    rng = np.random.default_rng(0)
    epochs = [np.clip(x + rng.normal(0, s, x.shape), 0, 1).astype(np.float32) for s in (0.2, 0.1)]
    rf = widgets.receptive_field_explorer(image=x[8], input_size=64, strides=2, n_layers=3)
    width = rf.controls["unit_col"].max + 1
    cases = {
        "receptive field: move the unit (64×64 input)": (
            rf.controls["unit_col"],
            [i % width for i in range(1, MOVES + 1)],
        ),
        "receptive field: change kernel_size (re-trace)": (
            rf.controls["kernel_size"],
            [(3, 5)[i % 2] for i in range(MOVES)],
        ),
    }
    for n_models in (1, 2):
        names = {f"model {i}": epochs for i in range(n_models)}
        explorer = widgets.reconstruction_explorer(names, x)
        label = f"reconstruction, {n_models} model{'s' * (n_models > 1)}"
        figure_of = lambda explorer=explorer: explorer.figure  # noqa: E731
        cases[f"{label}: move the slice"] = (
            explorer.controls["slice"],
            range(1, MOVES + 1),
            figure_of,
        )
        cases[f"{label}: move the epoch"] = (
            explorer.controls["epoch"],
            [i % 2 for i in range(MOVES)],
            figure_of,
        )
    print(f"median ms per redraw over {MOVES} moves (target < 100 ms):")
    print(f"  {'explorer and move':<52} {'move':>8} {'full draw':>10} {'ratio':>6}")
    for name, (control, values, *figure_of) in cases.items():
        move, full = median_ms(control, list(values), *figure_of)
        if full is None:
            print(f"  {name:<52} {move:6.1f} ms")
        else:
            print(f"  {name:<52} {move:6.1f} ms {full:7.1f} ms {full / move:5.1f}×")


if __name__ == "__main__":
    main()
