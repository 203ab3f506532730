"""Checks of user input, shared by every module: integers, fractions and image arrays.

Each accepts what NumPy and Keras accept (Python or NumPy integers and floats, never a bool)
and raises with what was received, what was expected and, where one helps, how to fix it.
"""

from __future__ import annotations

import numbers

import numpy as np


def is_int(value) -> bool:
    """True for a Python or NumPy integer, False for a bool or anything else.

    Examples
    --------
    >>> is_int(3), is_int(np.int64(3)), is_int(True), is_int(3.0)
    (True, True, False, False)
    """
    return isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_)


def _suffix(hint: str) -> str:
    return f" {hint}" if hint else ""


def check_int(
    value,
    name: str,
    *,
    low: int | None = None,
    high: int | None = None,
    hint: str = "",
    bounds: str = "",
) -> int:
    """``value`` as a Python int, checked to lie in ``[low, high]`` (either bound optional).

    ``hint`` (how to fix it) ends every message; ``bounds`` says what the bounds mean.

    Raises
    ------
    TypeError
        If ``value`` is not an integer (a bool is not).
    ValueError
        If it lies outside the bounds.

    Examples
    --------
    >>> check_int(np.int64(4), "factor", low=1)
    4
    >>> check_int(0, "factor", low=1, hint="Pass factor=2 to halve each side.")
    Traceback (most recent call last):
    ...
    ValueError: factor must be >= 1, got 0. Pass factor=2 to halve each side.
    """
    if not is_int(value):
        raise TypeError(
            f"{name} must be an int, got {type(value).__name__} {value!r}.{_suffix(hint)}"
        )
    value = int(value)
    if low is not None and high is not None and not low <= value <= high:
        note = f" ({bounds})" if bounds else ""
        raise ValueError(
            f"{name} must be between {low} and {high}{note}, got {value}.{_suffix(hint)}"
        )
    if low is not None and value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}.{_suffix(hint)}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}, got {value}.{_suffix(hint)}")
    return value


def check_ints(
    values, name: str, *, low: int = 1, distinct: bool = False, hint: str = ""
) -> tuple[int, ...]:
    """A non-empty sequence of integers (a list, tuple or 1-D array) as a tuple of ints >= ``low``.

    Examples
    --------
    >>> check_ints(np.array([3, 5]), "kernel_sizes", distinct=True)
    (3, 5)
    >>> check_ints((2, 2), "strides", distinct=True)
    Traceback (most recent call last):
    ...
    ValueError: strides must not repeat a value, got (2, 2).
    """
    if isinstance(values, np.ndarray) and values.ndim == 1:
        values = values.tolist()
    if isinstance(values, str) or not isinstance(values, list | tuple) or not values:
        raise TypeError(
            f"{name} must be a non-empty sequence of ints, got {values!r}.{_suffix(hint)}"
        )
    if not all(is_int(v) for v in values):
        raise TypeError(f"{name} must hold ints, got {tuple(values)!r}.{_suffix(hint)}")
    result = tuple(int(v) for v in values)
    if min(result) < low:
        raise ValueError(f"{name} must hold ints >= {low}, got {result}.{_suffix(hint)}")
    if distinct and len(set(result)) != len(result):
        raise ValueError(f"{name} must not repeat a value, got {result}.{_suffix(hint)}")
    return result


def check_fraction(
    value, name: str, *, what: str = "a fraction", inclusive: bool = False, hint: str = ""
) -> float:
    """A real number between 0 and 1: strictly, or with ``inclusive`` in ``[0, 1]``.

    Examples
    --------
    >>> check_fraction(np.float32(0.5), "cutoff")
    0.5
    >>> check_fraction(1, "confidence", what="a level")
    Traceback (most recent call last):
    ...
    ValueError: confidence must be a level strictly between 0 and 1, got 1.
    """
    if not isinstance(value, numbers.Real) or isinstance(value, bool | np.bool_):
        raise TypeError(
            f"{name} must be a number, got {type(value).__name__} {value!r}.{_suffix(hint)}"
        )
    inside = 0 <= value <= 1 if inclusive else 0 < value < 1
    if not inside:
        where = "in [0, 1]" if inclusive else "strictly between 0 and 1"
        raise ValueError(f"{name} must be {what} {where}, got {value}.{_suffix(hint)}")
    return float(value)


def check_images(
    x, name: str, *, float32: bool = False, unit_range: bool = False, span: float = 1.0
) -> np.ndarray:
    """Check that ``x`` is a finite, non-empty ``(N, H, W, C)`` float NumPy array; return it.

    ``float32`` requires that dtype (what Keras models are fed); ``unit_range`` requires values
    in ``[0, span]`` (``span`` is the data range).

    Examples
    --------
    >>> check_images(np.zeros((1, 4, 4, 1), np.float32), "x").shape
    (1, 4, 4, 1)
    >>> check_images(np.zeros((4, 4)), "x_test")
    Traceback (most recent call last):
    ...
    ValueError: x_test must be 4-D (N, H, W, C), got 2-D shape (4, 4). Add a batch axis ...
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(
            f"{name} must be a NumPy array of shape (N, H, W, C), got {type(x).__name__}. "
            f"Convert it with np.asarray({name}, dtype=np.float32)."
        )
    if x.ndim != 4:
        raise ValueError(
            f"{name} must be 4-D (N, H, W, C), got {x.ndim}-D shape {x.shape}. "
            "Add a batch axis with x[None] or a channel axis with x[..., None]."
        )
    if float32 and x.dtype != np.float32:
        raise TypeError(
            f"{name} must be float32 (what the model is fed), got dtype {x.dtype}. Convert it "
            f"with {name}.astype(np.float32); load_mri_data() returns float32."
        )
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(
            f"{name} must be a float array with values in [0, 1], got dtype {x.dtype}. "
            f"Convert it with {name}.astype(np.float32) (divided by 255 for 8-bit images)."
        )
    if x.size == 0:
        raise ValueError(f"{name} must hold at least one non-empty image, got shape {x.shape}.")
    bad = x.size - int(np.count_nonzero(np.isfinite(x)))
    if bad:
        raise ValueError(
            f"{name} must be finite, got {bad} NaN or infinite value(s) in shape {x.shape}. "
            "A diverged model produces these: lower the learning rate or check the loss."
        )
    if unit_range:
        low, high = x.min(), x.max()
        if low < 0 or high > span:
            raise ValueError(
                f"{name} must lie in [0, {span:g}] (data_range={span:g}), got values in "
                f"[{low:.4g}, {high:.4g}]. Rescale it, e.g. (x - x.min()) / (x.max() - "
                "x.min()), or pass the data_range of your images."
            )
    return x


def read_only(values: np.ndarray) -> np.ndarray:
    """Mark an array that a frozen result owns as read-only, so that the result stays frozen.

    Examples
    --------
    >>> read_only(np.zeros(2)).flags.writeable
    False
    """
    values.setflags(write=False)
    return values
