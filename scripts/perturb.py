"""Re-execute the chapters under perturbations and measure the margin of every hidden claim.

Chapters state claims about trained models in hidden cells (tag ``remove-input``) as plain
``assert`` statements. Trained numbers move between machines: oneDNN CPU kernels on or off, one or
two intra-op threads, another data split. This script executes every chapter (nbclient, a fresh
kernel per chapter, cwd ``book/``, nothing written back) once per *setting*, the environment
variables of :data:`SETTINGS`, each with its own training cache. In ``remove-input`` cells an
IPython AST transformer rewrites ``assert test, msg`` into a call to a recorder that evaluates the
test, computes its margin (how far it is from failing) and appends a JSON line to a log, and does
not raise, so the rest of the chapter runs and its later claims are measured too. Every other cell
runs unchanged: an error there is recorded as the chapter's execution error and the next chapter
runs.

Usage::

    python scripts/perturb.py                          # every setting x every chapter
    python scripts/perturb.py --settings onednn --chapters book/kernel_stride.ipynb
    python scripts/perturb.py --table-only             # the table of the committed JSON

The log (``_build/perturb/claims.jsonl``) keeps the lines of earlier runs; rerunning a setting on
a chapter replaces that pair's lines. At the end the whole log is summarised into
``book/_static/perturbations.json`` (committed; :func:`claims_table` and :func:`claims_html` show
it) and a table of relative margins is printed, smallest first. With ``--merge`` the chapters just
run replace theirs in the existing JSON and the others are kept (for a checkout whose log is
gone). The exit status is 1 when a claim
fails or a chapter does not execute in the settings just run.

The module is also loaded inside each kernel (by file path, under the name ``_cae_perturb``) for
:func:`install`; it imports nbclient, nbformat and the package only inside the functions that
run on the host.
"""

from __future__ import annotations

import argparse
import ast
import functools
import json
import math
import numbers
import operator
import os
import re
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cae_lessons.claims import PERTURBED, SETTINGS, claims_table, merge, summarize

ROOT = Path(__file__).resolve().parent.parent
LOG = ROOT / "_build" / "perturb" / "claims.jsonl"
"""Default JSON-lines log: one line per recorded assert and one per executed chapter."""
JSON_OUT = ROOT / "book" / "_static" / "perturbations.json"
SHOWS_THE_SUMMARY = "book/appendix_reproduce.ipynb"
"""The chapter that shows this script's summary: its asserts are about that file, not trained
numbers, so it is not re-executed here (run it after the summary is written)."""
"""Default summary of the log, committed and shown by the appendix."""

CHECKED_TAG = "nbval-check-output"
SANITIZER = ROOT / "tests" / "nbval_sanitize.cfg"
"""The regexes nbval applies before it compares outputs (``make notebooks``)."""
CLAIMS_TAG = "remove-input"
RAISES_TAG = "raises-exception"
CELL_VARIABLE = "__claims_cell__"
SPLIT_MARKER = "# about this split"
"""A comment on an assert's line: the claim describes the book's data split (which slices, how
many), so another split need not satisfy it (``claims.failing_claims`` leaves that setting out)."""


def marked_lines(source: str) -> tuple[int, ...]:
    """The 1-based line numbers of ``source`` that carry :data:`SPLIT_MARKER`.

    Examples
    --------
    >>> marked_lines("assert a" + chr(10) + "assert b  # about this split")
    (2,)
    """
    return tuple(i for i, line in enumerate(source.splitlines(), 1) if SPLIT_MARKER in line)


"""Kernel variable the harness sets to ``(chapter, cell index)`` before a claims cell."""
RECORDER = "__claims__"
"""Kernel variable holding the :class:`Recorder` that rewritten asserts call."""
KERNEL_MODULE = "_cae_perturb"

ORDERING = ("<", "<=", ">", ">=")
_OPERATOR_NAMES = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.In: "in",
    ast.NotIn: "not in",
}
_OPERATORS = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
    "is": operator.is_,
    "is not": operator.is_not,
    "in": lambda a, b: a in b,
    "not in": lambda a, b: a not in b,
}


# --------------------------------------------------------------------------------------------
# Kernel side: margins, the recorder and the AST rewriting.
# --------------------------------------------------------------------------------------------


def as_real(value: object) -> float | None:
    """``value`` as a float when it is a real number (NumPy and 0-d array scalars too).

    Booleans are not numbers here (``assert flag == True`` has no margin).

    Examples
    --------
    >>> as_real(3), as_real(2.5), as_real(True), as_real("1"), as_real([1.0])
    (3.0, 2.5, None, None, None)
    """
    if isinstance(value, bool) or "bool" in str(getattr(value, "dtype", "")):
        return None
    if isinstance(value, numbers.Real):
        return float(value)
    if getattr(value, "shape", None) == () and hasattr(value, "__float__"):
        try:
            return float(value)
        except (TypeError, ValueError):
            return None
    return None


def margins(ops: Sequence[str], values: Sequence[object]) -> tuple[float | None, float | None]:
    """Absolute and relative margin of the chain ``values[0] ops[0] values[1] ops[1] ...``.

    For ``a < b`` (or ``<=``) the absolute margin is ``b - a``, for ``a > b`` (or ``>=``) it is
    ``a - b``; the relative margin divides it by ``max(|a|, |b|, 1e-12)``. A chain such as
    ``a < b < c`` gets the smallest of its pairwise margins (absolute and relative separately).
    Negative means the claim fails by that much.

    Parameters
    ----------
    ops : sequence of str
        The comparison operators, e.g. ``("<",)``.
    values : sequence
        The operands, one more than ``ops``.

    Returns
    -------
    (float, float) or (None, None)
        ``(None, None)`` unless every operator is one of ``<, <=, >, >=`` and every operand is a
        finite real number.

    Examples
    --------
    >>> margins(("<",), [1.0, 1.5])
    (0.5, 0.3333333333333333)
    >>> margins((">",), [8, 10])
    (-2.0, -0.2)
    >>> margins(("<", "<"), [1, 2, 2.5])
    (0.5, 0.2)
    >>> margins(("==",), [1, 1])
    (None, None)
    """
    if not ops or any(op not in ORDERING for op in ops):
        return None, None
    reals = [as_real(v) for v in values]
    if any(r is None or not math.isfinite(r) for r in reals):
        return None, None
    absolute, relative = [], []
    for op, a, b in zip(ops, reals, reals[1:], strict=False):
        gap = b - a if op in ("<", "<=") else a - b
        absolute.append(gap)
        relative.append(gap / max(abs(a), abs(b), 1e-12))
    return min(absolute), min(relative)


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _short(value: object, limit: int = 200) -> str:
    try:
        text = repr(value)
    except Exception as error:  # a broken __repr__ must not stop the chapter
        text = f"<repr raised {type(error).__name__}>"
    return _clip(text, limit)


def _json_number(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


@dataclass
class Recorder:
    """Collects the outcome of every rewritten assert and appends it to a JSON-lines log.

    Rewritten asserts call :meth:`begin`, :meth:`check`, :meth:`message` (only when the test
    fails and the assert has a message), :meth:`raised` (when evaluating raises) and
    :meth:`flush`; nothing here raises into the chapter.

    Parameters
    ----------
    log : str or path or None
        File the JSON lines are appended to (``None``: keep them in :attr:`entries` only).
    setting : str
        The setting name every line carries.

    Examples
    --------
    >>> recorder = Recorder(None, "default")
    >>> key = recorder.register("x.ipynb", 3, 1, "a < b", ("<",))
    >>> recorder.begin(key)
    >>> recorder.check(("<",), (1.0, 2.0))
    True
    >>> recorder.flush()
    >>> entry = recorder.entries[0]
    >>> entry["holds"], entry["margin_abs"], entry["margin_rel"], entry["numeric"]
    (True, 1.0, 0.5, True)
    """

    log: str | os.PathLike | None
    setting: str
    claims: list[dict] = field(default_factory=list)
    entries: list[dict] = field(default_factory=list)
    _pending: dict | None = None

    def register(
        self, chapter: str, cell: int, line: int, test: str, ops, about_split: bool = False
    ) -> int:
        """Remember a claim's place and source when its cell is rewritten; return its key."""
        self.claims.append(
            {
                "chapter": chapter,
                "cell": cell,
                "line": line,
                "test": test,
                "ops": ops,
                "about_split": about_split,
            }
        )
        return len(self.claims) - 1

    def begin(self, key: int) -> None:
        """Start the entry of claim ``key`` (it fails unless :meth:`check` says otherwise)."""
        claim = self.claims[key]
        self._pending = {
            "kind": "claim",
            "setting": self.setting,
            "chapter": claim["chapter"],
            "cell": claim["cell"],
            "line": claim["line"],
            "test": claim["test"],
            "about_split": claim["about_split"],
            "ops": list(claim["ops"]) if claim["ops"] else None,
            "holds": False,
            "margin_abs": None,
            "margin_rel": None,
            "numeric": False,
            "values": None,
            "error": None,
            "message": None,
            "checked": False,
        }

    def check(self, ops: Sequence[str] | None, operands: Sequence[object]) -> bool:
        """Evaluate the test from its operands, as ``assert`` would; return whether it holds.

        ``ops`` is ``None`` for a test that is not a comparison (``operands`` is then the
        test's value). Raises what the test raises (the rewritten code records it).
        """
        entry = self._pending
        reals = [as_real(v) for v in operands]
        entry["numeric"] = ops is not None and all(r is not None for r in reals)
        entry["values"] = [
            r if r is not None and math.isfinite(r) else _short(v)
            for r, v in zip(reals, operands, strict=True)
        ]
        if ops is None:
            holds = bool(operands[0])
        else:
            holds = all(
                bool(_OPERATORS[op](a, b))
                for op, a, b in zip(ops, operands, operands[1:], strict=False)
            )
        entry["holds"] = holds
        entry["checked"] = True
        if ops is not None:
            absolute, relative = margins(ops, operands)
            entry["margin_abs"] = _json_number(absolute)
            entry["margin_rel"] = _json_number(relative)
        return holds

    def message(self, value: object) -> None:
        """Attach the assert's message (evaluated only when the test failed)."""
        self._pending["message"] = _short(value, 500)

    def raised(self, error: BaseException) -> None:
        """Record that evaluating the test (or its message) raised ``error``."""
        text = _clip(f"{type(error).__name__}: {error}", 500)
        if self._pending is None:  # cannot happen with the generated code; be safe anyway
            return
        if self._pending["checked"]:
            self._pending["message"] = f"<message raised {text}>"
        else:
            self._pending["error"] = text

    def flush(self) -> None:
        """Write the entry (to :attr:`entries` and the log) and forget it."""
        entry, self._pending = self._pending, None
        if entry is None:
            return
        del entry["checked"]
        self.entries.append(entry)
        if self.log is not None:
            with open(self.log, "a", encoding="utf-8") as log:
                log.write(json.dumps(entry, allow_nan=False) + "\n")


def _call(method: str, *args: ast.expr) -> ast.Call:
    return ast.Call(
        func=ast.Attribute(
            value=ast.Name(id=RECORDER, ctx=ast.Load()), attr=method, ctx=ast.Load()
        ),
        args=list(args),
        keywords=[],
    )


class AssertRewriter(ast.NodeTransformer):
    """Rewrite every ``assert test, msg`` of one cell into calls to the kernel's recorder.

    ``assert a < b < c, msg`` becomes, with ``key`` the claim's number in the recorder::

        try:
            __claims__.begin(key)
            if not __claims__.check(("<", "<"), (a, b, c)):
                __claims__.message(msg)
        except Exception as __claims_error__:
            __claims__.raised(__claims_error__)
        finally:
            __claims__.flush()

    The operands are evaluated in place (same scope, once each, left to right); unlike Python's
    chained comparison, later operands are evaluated even when an earlier pair fails, so every
    pair gets a margin. ``assert a and b`` is rewritten as two claims, ``a`` and ``b`` (both are
    evaluated). A test that is not a comparison is passed as ``check(None, (test,))``. An assert
    one of whose lines is in ``marked`` (see :func:`marked_lines`) is a claim about the split.
    """

    def __init__(
        self, recorder: Recorder, chapter: str, cell: int, marked: tuple[int, ...] = ()
    ) -> None:
        self.recorder, self.chapter, self.cell, self.marked = recorder, chapter, cell, marked

    def visit_Assert(self, node: ast.Assert) -> ast.Try | list[ast.Try]:
        test = node.test
        if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
            # ``assert a and b`` is two claims, each with its own margin.
            parts = [ast.copy_location(ast.Assert(test=v, msg=node.msg), node) for v in test.values]
            return [self.visit_Assert(part) for part in parts]
        if isinstance(test, ast.Compare):
            ops = tuple(_OPERATOR_NAMES[type(op)] for op in test.ops)
            operands = [test.left, *test.comparators]
            ops_node: ast.expr = ast.Tuple(elts=[ast.Constant(op) for op in ops], ctx=ast.Load())
        else:
            ops, operands, ops_node = None, [test], ast.Constant(None)
        about_split = any(node.lineno <= n <= node.end_lineno for n in self.marked)
        key = self.recorder.register(
            self.chapter, self.cell, node.lineno, ast.unparse(test), ops, about_split
        )
        check = _call("check", ops_node, ast.Tuple(elts=operands, ctx=ast.Load()))
        if node.msg is None:
            checking: ast.stmt = ast.Expr(check)
        else:
            checking = ast.If(
                test=ast.UnaryOp(op=ast.Not(), operand=check),
                body=[ast.Expr(_call("message", node.msg))],
                orelse=[],
            )
        rewritten = ast.Try(
            body=[ast.Expr(_call("begin", ast.Constant(key))), checking],
            handlers=[
                ast.ExceptHandler(
                    type=ast.Name(id="Exception", ctx=ast.Load()),
                    name="__claims_error__",
                    body=[
                        ast.Expr(_call("raised", ast.Name(id="__claims_error__", ctx=ast.Load())))
                    ],
                )
            ],
            orelse=[],
            finalbody=[ast.Expr(_call("flush"))],
        )
        for new in ast.walk(rewritten):
            if "lineno" in new._attributes and not hasattr(new, "lineno"):
                ast.copy_location(new, node)
        return rewritten


def rewrite(source: str, recorder: Recorder, chapter: str = "<cell>", cell: int = 0) -> ast.Module:
    """Parse ``source`` and rewrite its asserts for ``recorder`` (run it with ``__claims__``).

    Examples
    --------
    >>> recorder = Recorder(None, "default")
    >>> code = compile(rewrite("assert 2 > 3, 'no'", recorder), "<cell>", "exec")
    >>> exec(code, {RECORDER: recorder})  # does not raise
    >>> [(e["holds"], e["margin_abs"], e["message"]) for e in recorder.entries]
    [(False, -1.0, "'no'")]
    """
    tree = AssertRewriter(recorder, chapter, cell, marked_lines(source)).visit(ast.parse(source))
    return ast.fix_missing_locations(tree)


class ClaimsHook(ast.NodeTransformer):
    """The IPython AST transformer: rewrites the next cell once the harness has armed it.

    The harness executes ``__claims_cell__ = (chapter, index)`` before a claims cell; this hook
    then rewrites that one cell (and disarms itself), and leaves every other cell alone. It never
    raises: IPython would unregister it.
    """

    def __init__(self, recorder: Recorder, namespace: dict) -> None:
        self.recorder, self.namespace = recorder, namespace

    def visit(self, node: ast.AST) -> ast.AST:
        where = self.namespace.get(CELL_VARIABLE)
        if where is None:
            return node
        self.namespace[CELL_VARIABLE] = None
        try:
            chapter, cell, marked = where
            return AssertRewriter(self.recorder, str(chapter), int(cell), tuple(marked)).visit(node)
        except Exception as error:
            print(f"perturb: could not rewrite cell {where}: {error!r}", file=sys.stderr)
            return node


def install(log: str | os.PathLike | None, setting: str, shell=None) -> Recorder:
    """Register the recorder and the claims hook in an IPython shell (the kernel's by default)."""
    if shell is None:
        from IPython import get_ipython

        shell = get_ipython()
    recorder = Recorder(log, setting)
    shell.user_ns[RECORDER] = recorder
    shell.user_ns[CELL_VARIABLE] = None
    shell.ast_transformers.append(ClaimsHook(recorder, shell.user_ns))
    return recorder


# --------------------------------------------------------------------------------------------
# Host side: executing chapters under a setting.
# --------------------------------------------------------------------------------------------

_SETUP = """\
def __claims_setup__(path, log, setting):
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location({module!r}, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    module.install(log, setting)


__claims_setup__({path!r}, {log!r}, {setting!r})
del __claims_setup__
"""

_PROBE = """\
def __claims_probe__():
    import json
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    from cae_lessons.config import onednn_enabled

    configured = tf.config.threading.get_intra_op_parallelism_threads()
    from_env = os.environ.get("TF_NUM_INTRAOP_THREADS")
    print(json.dumps({
        "tensorflow": tf.__version__,
        "onednn": onednn_enabled(),
        "intra_op_threads": configured or (int(from_env) if from_env else os.cpu_count()),
        "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads()
        or int(os.environ.get("TF_NUM_INTEROP_THREADS") or 0) or None,
        "cpu_count": os.cpu_count(),
    }))


__claims_probe__()
del __claims_probe__
"""


def chapter_name(path: Path) -> str:
    """``book/x.ipynb`` for a chapter of this repository, the file name otherwise."""
    path = Path(path).resolve()
    try:
        return path.relative_to(ROOT).as_posix()
    except ValueError:
        return path.name


def kernel_env(setting_env: Mapping[str, str], cache: Path, profile: str = "quick") -> dict:
    """The kernel's environment: ours without any perturbed variable, plus the setting's."""
    env = {k: v for k, v in os.environ.items() if k not in PERTURBED}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # as the chapters' environment report does
    env.update(CAE_LESSONS_CACHE=str(cache), CAE_LESSONS_PROGRESS="0", CAE_LESSONS_PROFILE=profile)
    env.update(setting_env)
    return env


@dataclass
class ChapterRun:
    """One chapter executed under one setting: its claim, checked-output and summary lines."""

    claims: list[dict]
    summary: dict
    outputs: list[dict] = field(default_factory=list)

    @property
    def lines(self) -> list[dict]:
        return [*self.claims, *self.outputs, self.summary]


def _run_code(client, code: str, index: int) -> list:
    """Execute helper code in the kernel without touching the notebook; return its outputs."""
    from nbformat.v4 import new_code_cell

    original = client.nb.cells[index]
    cell = new_code_cell(code)
    try:
        client.execute_cell(cell, index, store_history=False)
    finally:
        client.nb.cells[index] = original
    return cell.outputs


def _probe(client) -> dict | None:
    """TensorFlow version, oneDNN state and threads as the kernel sees them (None on failure)."""
    try:
        outputs = _run_code(client, _PROBE, 0)
        text = "".join(o.get("text", "") for o in outputs if o.get("name") == "stdout")
        return json.loads(text.strip().splitlines()[-1])
    except Exception as error:
        print(f"perturb: environment probe failed: {_error_text(error, None)}", file=sys.stderr)
        return None


def _error_text(error: BaseException, index: int | None) -> str:
    """One line: where, the exception type and (for a cell's error) the kernel's error."""
    if getattr(error, "ename", None):  # CellExecutionError: the error raised in the kernel
        detail = f"{error.ename}: {error.evalue}"
    else:
        lines = [line for line in str(error).strip().splitlines() if line.strip()]
        detail = lines[-1] if lines else ""
    detail = re.sub(r"\x1b\[[0-9;]*m", "", detail)
    where = f"cell {index}: " if index is not None else ""
    return _clip(f"{where}{type(error).__name__}: {detail}".strip(), 500)


@functools.cache
def _sanitizers() -> list[tuple[re.Pattern, str]]:
    lines = [line for line in SANITIZER.read_text().splitlines() if ":" in line]
    pairs = zip(lines[::2], lines[1::2], strict=True)
    return [(re.compile(a.split(":", 1)[1].strip()), b.split(":", 1)[1].strip()) for a, b in pairs]


def checked_output(setting: str, chapter: str, cell: int, outputs: Sequence) -> dict:
    """A log line with the text nbval compares for one ``nbval-check-output`` cell.

    Streams, ``text/plain`` results and errors, with the sanitizer's substitutions applied
    (``tests/nbval_sanitize.cfg``), as nbval would compare them.
    """
    parts = []
    for output in outputs:
        if output.get("output_type") == "stream":
            parts.append(output.get("text", ""))
        elif output.get("output_type") == "error":
            parts.append(f"{output.get('ename')}: {output.get('evalue')}")
        else:
            parts.append(output.get("data", {}).get("text/plain", ""))
    text = "".join(p if isinstance(p, str) else "".join(p) for p in parts)
    for pattern, replacement in _sanitizers():
        text = pattern.sub(replacement, text)
    return {"kind": "output", "setting": setting, "chapter": chapter, "cell": cell, "text": text}


def run_chapter(
    path: str | os.PathLike,
    setting: str,
    env: Mapping[str, str],
    *,
    timeout: int = 1800,
    probe: bool = True,
) -> ChapterRun:
    """Execute one notebook cell by cell in a fresh kernel started with ``env``.

    Asserts in ``remove-input`` cells are recorded instead of raised; cells tagged
    ``raises-exception`` may raise; any other error stops the chapter and becomes its ``error``.
    The notebook file is not written.

    Parameters
    ----------
    path : path
        The notebook; the kernel runs in its folder.
    setting : str
        Name carried by every line.
    env : mapping
        The kernel's complete environment (see :func:`kernel_env`).
    timeout : int
        Seconds allowed per cell.
    probe : bool
        After the cells, ask the kernel for the TensorFlow version, the oneDNN state and the
        intra-op threads (imports TensorFlow).

    Returns
    -------
    ChapterRun
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    path = Path(path).resolve()
    chapter = chapter_name(path)
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
    )
    fd, raw = tempfile.mkstemp(prefix="perturb-", suffix=".jsonl")
    os.close(fd)
    error, environment, index = None, None, None
    outputs: list[dict] = []
    start = time.perf_counter()
    try:
        client.reset_execution_trackers()
        with client.setup_kernel(env=dict(env)):
            if notebook.cells:
                _run_code(
                    client,
                    _SETUP.format(module=KERNEL_MODULE, path=__file__, log=raw, setting=setting),
                    0,
                )
            try:
                for index, cell in enumerate(notebook.cells):
                    if cell.cell_type != "code":
                        continue
                    tags = cell.metadata.get("tags", [])
                    claims = CLAIMS_TAG in tags
                    if claims:
                        where = (chapter, index, marked_lines(cell.source))
                        _run_code(client, f"{CELL_VARIABLE} = {where!r}", index)
                    try:
                        client.execute_cell(cell, index)
                    except CellExecutionError:
                        # nbclient already lets these raise; kept for other nbclient versions.
                        if RAISES_TAG not in tags:
                            raise
                    if claims:
                        _run_code(client, f"{CELL_VARIABLE} = None", index)
                    if CHECKED_TAG in tags:
                        outputs.append(checked_output(setting, chapter, index, cell.outputs))
            except Exception as exc:  # the chapter's failure is data; go on with the next
                error = _error_text(exc, index)
            if probe and notebook.cells:
                environment = _probe(client)
    except Exception as exc:  # the kernel did not start or died while shutting down
        error = error or _error_text(exc, None)
    seconds = time.perf_counter() - start
    with open(raw, encoding="utf-8") as lines:
        claims = [json.loads(line) for line in lines if line.strip()]
    os.unlink(raw)
    summary = {
        "kind": "chapter",
        "setting": setting,
        "chapter": chapter,
        "seconds": round(seconds, 1),
        "claims": len(claims),
        "failing": sum(not c["holds"] for c in claims),
        "error": error,
        "environment": environment,
        "env": {k: env[k] for k in sorted(env) if k in PERTURBED or k.startswith("CAE_LESSONS")},
    }
    return ChapterRun(claims, summary, outputs)


def read_log(path: str | os.PathLike) -> list[dict]:
    """Every line of a JSON-lines log (none when the file does not exist)."""
    path = Path(path)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def update_log(path: str | os.PathLike, run: ChapterRun) -> None:
    """Replace the log's lines of ``run``'s setting and chapter by ``run``'s lines."""
    path = Path(path)
    setting, chapter = run.summary["setting"], run.summary["chapter"]
    kept = [
        line for line in read_log(path) if (line["setting"], line["chapter"]) != (setting, chapter)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text("".join(json.dumps(line) + "\n" for line in [*kept, *run.lines]))
    temporary.replace(path)


# --------------------------------------------------------------------------------------------
# Command line.
# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--settings",
        default=",".join(SETTINGS),
        help=f"comma-separated, from {', '.join(SETTINGS)} (default: all)",
    )
    parser.add_argument(
        "--chapters", nargs="+", type=Path, help="notebooks (default: every chapter in _toc.yml)"
    )
    parser.add_argument("--log", type=Path, default=LOG, help="JSON-lines log (appended)")
    parser.add_argument("--json", type=Path, default=JSON_OUT, help="summary written at the end")
    parser.add_argument(
        "--cache-root",
        type=Path,
        help="training caches, one folder per setting (default: a temporary folder)",
    )
    parser.add_argument("--profile", default="quick", help="CAE_LESSONS_PROFILE for the kernels")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell")
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep the chapters of the existing --json that this run does not execute",
    )
    parser.add_argument(
        "--table-only", action="store_true", help="print the table of --json; execute nothing"
    )
    args = parser.parse_args(argv)

    if args.table_only:
        print(claims_table(json.loads(args.json.read_text())))
        return 0
    names = [n.strip() for n in args.settings.split(",") if n.strip()]
    unknown = [n for n in names if n not in SETTINGS]
    if unknown or not names:
        parser.error(f"unknown setting(s) {unknown}; choose from {', '.join(SETTINGS)}")
    if args.chapters:
        chapters = [p.resolve() for p in args.chapters]
    else:
        from cae_lessons.reproduce import toc_notebooks

        chapters = [p for p in toc_notebooks(ROOT) if chapter_name(p) != SHOWS_THE_SUMMARY]

    failed = False
    with tempfile.TemporaryDirectory(prefix="cae-perturb-") as scratch:
        cache_root = args.cache_root or Path(scratch)
        for name in names:
            env = kernel_env(SETTINGS[name], cache_root / name, args.profile)
            for path in chapters:
                run = run_chapter(path, name, env, timeout=args.timeout)
                update_log(args.log, run)
                s = run.summary
                error = f", error: {s['error']}" if s["error"] else ""
                print(
                    f"{name}: {s['chapter']} {s['seconds']:.0f} s, {s['claims']} claims, "
                    f"{s['failing']} failing{error}",
                    flush=True,
                )
                failed = failed or bool(s["failing"] or s["error"])
    data = summarize(line for line in read_log(args.log) if line["chapter"] != SHOWS_THE_SUMMARY)
    if args.merge and args.json.exists():
        data = merge(json.loads(args.json.read_text()), data)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(data, indent=1) + "\n")
    print(claims_table(data))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
