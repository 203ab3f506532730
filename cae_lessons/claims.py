"""How far each of the book's claims about trained numbers is from failing, in other settings.

Chapters state their claims about trained models as hidden asserts. ``scripts/perturb.py``
(``make perturb``) re-executes every chapter in each of the :data:`SETTINGS` (TensorFlow's oneDNN
CPU kernels off and on, one intra-op thread, a second data split) and records each assert's
margin; this module turns that record into the committed summary
(``book/_static/perturbations.json``) and the tables the appendix "Reproducing every figure"
shows. It imports only the table renderer (`tables`) from the package and never imports TensorFlow.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping
from pathlib import Path

from cae_lessons.tables import text_table

SETTINGS: dict[str, dict[str, str]] = {
    "default": {"TF_ENABLE_ONEDNN_OPTS": "0"},
    "onednn": {"TF_ENABLE_ONEDNN_OPTS": "1"},
    "one_thread": {
        "TF_ENABLE_ONEDNN_OPTS": "0",
        "TF_NUM_INTRAOP_THREADS": "1",
        "TF_NUM_INTEROP_THREADS": "1",
    },
    "split_seed_1": {"TF_ENABLE_ONEDNN_OPTS": "0", "CAE_LESSONS_SPLIT_SEED": "1"},
}
"""Each setting: the environment variables its kernels start with."""

PERTURBED = sorted({name for env in SETTINGS.values() for name in env})
"""Variables some setting sets; removed from the inherited environment so a setting is exact."""


def _same_data(setting: str) -> bool:
    return "CAE_LESSONS_SPLIT_SEED" not in SETTINGS.get(setting, {})


def _counts(claim: Mapping, setting: str) -> bool:
    """Whether ``setting`` tests ``claim``: a claim about the book's split only on that split."""
    return not claim.get("about_split") or _same_data(setting)


def _round(value: float | None) -> float | None:
    return None if value is None else float(f"{value:.6g}")


def _lowest(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def summarize(lines: Iterable[Mapping]) -> dict:
    """Turn log lines into the committed summary (``book/_static/perturbations.json``).

    An assert that ran several times in one setting (in a loop) holds if every run held and gets
    the smallest margin of its runs.

    Returns
    -------
    dict
        ``settings``: per setting its variables, TensorFlow version, oneDNN state, intra-op
        threads and per chapter the wall time, claim counts and execution error; ``claims``: per
        claim its chapter, cell, line, source and per setting ``holds``, ``margin_abs``,
        ``margin_rel``.

    Examples
    --------
    >>> line = {"kind": "claim", "setting": "default", "chapter": "a.ipynb", "cell": 2,
    ...         "line": 1, "test": "x < 1", "holds": True, "margin_abs": 0.5,
    ...         "margin_rel": 0.5, "numeric": True, "error": None, "message": None}
    >>> data = summarize([line, {**line, "margin_abs": 0.25, "margin_rel": 0.25}])
    >>> data["claims"][0]["settings"]["default"]
    {'holds': True, 'margin_abs': 0.25, 'margin_rel': 0.25, 'runs': 2}
    """
    lines = list(lines)
    order = {name: i for i, name in enumerate(SETTINGS)}
    names = sorted({line["setting"] for line in lines}, key=lambda n: (order.get(n, 99), n))
    chapters: dict[str, int] = {}
    for line in lines:
        chapters.setdefault(line["chapter"], len(chapters))
    settings: dict[str, dict] = {
        name: {"env": {}, "tensorflow": None, "onednn": None, "intra_op_threads": None}
        for name in names
    }
    claims: dict[tuple, dict] = {}
    outputs: dict[tuple, dict[str, str]] = {}
    for line in lines:
        if line["kind"] == "output":
            outputs.setdefault((chapters[line["chapter"]], line["cell"]), {})[line["setting"]] = (
                line["text"]
            )
            continue
        if line["kind"] == "chapter":
            setting = settings[line["setting"]]
            setting["env"] = {
                k: v for k, v in line["env"].items() if k in PERTURBED or k == "CAE_LESSONS_PROFILE"
            }
            for key in ("tensorflow", "onednn", "intra_op_threads"):
                if (line.get("environment") or {}).get(key) is not None:
                    setting[key] = line["environment"][key]
            setting.setdefault("chapters", {})[line["chapter"]] = {
                k: line[k] for k in ("seconds", "claims", "failing", "error")
            }
            continue
        key = (chapters[line["chapter"]], line["cell"], line["line"], line["test"])
        claim = claims.setdefault(
            key,
            {
                "chapter": line["chapter"],
                "cell": line["cell"],
                "line": line["line"],
                "test": line["test"],
                "about_split": False,
                "numeric": False,
                "settings": {},
            },
        )
        claim["numeric"] = claim["numeric"] or bool(line["numeric"])
        claim["about_split"] = claim["about_split"] or bool(line.get("about_split"))
        result = claim["settings"].get(line["setting"])
        if result is None:
            result = claim["settings"][line["setting"]] = {
                "holds": True,
                "margin_abs": line["margin_abs"],
                "margin_rel": line["margin_rel"],
                "runs": 0,
            }
        result["holds"] = result["holds"] and bool(line["holds"])
        for margin in ("margin_abs", "margin_rel"):
            result[margin] = _round(_lowest([result[margin], line[margin]]))
        result["runs"] += 1
        for extra in ("error", "message"):
            if line.get(extra) and extra not in result:
                result[extra] = line[extra]
    for claim in claims.values():
        claim["settings"] = {n: claim["settings"][n] for n in names if n in claim["settings"]}
    same_data = [n for n in names if _same_data(n)]
    by_index = {i: chapter for chapter, i in chapters.items()}
    checked = []
    for (chapter, cell), texts in sorted(outputs.items()):
        compared = {n: texts[n] for n in same_data if n in texts}
        moves = len(set(compared.values())) > 1
        checked.append(
            {
                "chapter": by_index[chapter],
                "cell": cell,
                "same": not moves,
                "settings": {n: t[:2000] for n, t in compared.items()} if moves else {},
            }
        )
    return {
        "settings": settings,
        "claims": [claims[key] for key in sorted(claims)],
        "checked_outputs": checked,
    }


def merge(kept: Mapping, fresh: Mapping) -> dict:
    """``kept`` with every chapter that ``fresh`` ran replaced by ``fresh``'s record of it.

    For re-running a few chapters when the log of the earlier runs is gone (a new checkout):
    ``scripts/perturb.py --merge``. ``fresh`` must have run each of its chapters in every setting
    ``kept`` has, so that no chapter mixes runs of two versions.

    Examples
    --------
    >>> old = summarize([{"kind": "chapter", "setting": "default", "chapter": c, "env": {},
    ...                   "seconds": 1.0, "claims": 0, "failing": 0, "error": None}
    ...                  for c in ("a.ipynb", "b.ipynb")])
    >>> new = summarize([{"kind": "chapter", "setting": "default", "chapter": "b.ipynb",
    ...                   "env": {}, "seconds": 2.0, "claims": 0, "failing": 0, "error": None}])
    >>> {c: s["seconds"] for c, s in merge(old, new)["settings"]["default"]["chapters"].items()}
    {'a.ipynb': 1.0, 'b.ipynb': 2.0}
    """
    rerun = {c for setting in fresh["settings"].values() for c in setting.get("chapters", {})}
    missing = sorted(
        (name, chapter)
        for name, setting in kept["settings"].items()
        for chapter in rerun
        if chapter not in fresh["settings"].get(name, {}).get("chapters", {})
    )
    if missing:
        raise ValueError(
            f"the fresh runs leave out (setting, chapter) {missing}, which the kept summary has: "
            "re-run those chapters in every setting (--settings default,onednn,...)."
        )
    order: dict[str, int] = {}
    settings = {name: dict(setting) for name, setting in kept["settings"].items()}
    for data in (kept, fresh):
        for setting in data["settings"].values():
            for chapter in setting.get("chapters", {}):
                order.setdefault(chapter, len(order))
    for name, setting in fresh["settings"].items():
        merged = settings.setdefault(name, {})
        chapters = {**merged.get("chapters", {}), **setting.get("chapters", {})}
        merged.update(setting, chapters=dict(sorted(chapters.items(), key=lambda i: order[i[0]])))

    def _combined(key: str, sort_key) -> list:
        rows = [r for r in kept[key] if r["chapter"] not in rerun] + list(fresh[key])
        return sorted(rows, key=lambda r: (order[r["chapter"]], *sort_key(r)))

    return {
        "settings": settings,
        "claims": _combined("claims", lambda c: (c["cell"], c["line"], c["test"])),
        "checked_outputs": _combined("checked_outputs", lambda o: (o["cell"],)),
    }


def moving_outputs(data: Mapping) -> list[Mapping]:
    """The checked outputs (``nbval-check-output`` cells) whose text differs between settings.

    Only settings that train on the same data split are compared (another split changes what a
    chapter prints, on purpose). A checked output must not move: it may hold shapes, errors,
    counts and verdicts, never a trained number.

    Examples
    --------
    >>> data = {"checked_outputs": [{"chapter": "a.ipynb", "cell": 3, "same": False,
    ...                              "settings": {"default": "1.00", "onednn": "1.01"}}]}
    >>> [(o["chapter"], o["cell"]) for o in moving_outputs(data)]
    [('a.ipynb', 3)]
    """
    return [o for o in data.get("checked_outputs", []) if not o["same"]]


def _label(claim: Mapping, width: int = 64) -> str:
    test = " ".join(claim["test"].split())
    test = test if len(test) <= width else test[: width - 3] + "..."
    chapter = Path(claim["chapter"]).stem
    return f"{chapter}:{claim['cell']}:{claim['line']}  {test}"


def _cell_text(claim: Mapping, setting: str) -> str:
    result = claim["settings"].get(setting)
    if result is None:
        return "-"
    if not _counts(claim, setting):
        return "n/a"
    if not result["holds"]:
        return "FAIL"
    if result["margin_rel"] is None:
        return "ok"
    return f"{100 * result['margin_rel']:.1f}%"


def _numeric_rows(data: Mapping) -> list[tuple[float, Mapping]]:
    """Claims with a numeric margin in some setting, smallest margin (FAIL first) first."""
    rows = []
    for claim in data["claims"]:
        results = [r for n, r in claim["settings"].items() if _counts(claim, n)]
        if all(r["margin_rel"] is None for r in results):
            continue
        key = min(
            (r["margin_rel"] if r["holds"] else -math.inf)
            for r in results
            if r["margin_rel"] is not None or not r["holds"]
        )
        rows.append((key, _lowest(r["margin_rel"] for r in results), claim))
    rows.sort(key=lambda row: (row[0], row[1] if row[1] is not None else math.inf))
    return [(row[1], row[2]) for row in rows]


def smallest_margin(data: Mapping) -> tuple[float, Mapping, str] | None:
    """The smallest relative margin over every claim and setting: ``(margin, claim, setting)``.

    ``None`` when no claim has a numeric margin. Used by the appendix and :func:`claims_table`.

    Examples
    --------
    >>> claim = {"chapter": "a.ipynb", "cell": 1, "line": 1, "test": "x < 1", "settings": {
    ...     "default": {"holds": True, "margin_abs": 0.5, "margin_rel": 0.5},
    ...     "onednn": {"holds": True, "margin_abs": 0.1, "margin_rel": 0.1}}}
    >>> margin, _, setting = smallest_margin({"claims": [claim]})
    >>> margin, setting
    (0.1, 'onednn')
    """
    best = None
    for claim in data["claims"]:
        for name, result in claim["settings"].items():
            if (
                result["margin_rel"] is not None
                and _counts(claim, name)
                and (best is None or result["margin_rel"] < best[0])
            ):
                best = (result["margin_rel"], claim, name)
    return best


def about_split(data: Mapping) -> list[Mapping]:
    """The claims that describe the book's data split (marked ``# about this split``).

    Examples
    --------
    >>> [c["test"] for c in about_split({"claims": [{"test": "n == 82", "about_split": True},
    ...                                            {"test": "a < b"}]})]
    ['n == 82']
    """
    return [claim for claim in data["claims"] if claim.get("about_split")]


def failing_claims(data: Mapping) -> list[tuple[Mapping, list[str]]]:
    """Every claim that fails in some setting, with the names of those settings.

    A claim about the book's split (:func:`about_split`) is held only on that split: another
    split has other slices, and is not a setting in which it fails.

    Examples
    --------
    >>> settings = {"default": {"holds": True}, "onednn": {"holds": False}}
    >>> claim = {"test": "x < 1", "settings": settings}
    >>> [(c["test"], where) for c, where in failing_claims({"claims": [claim]})]
    [('x < 1', ['onednn'])]
    >>> split = {"test": "n == 82", "about_split": True,
    ...          "settings": {"default": {"holds": True}, "split_seed_1": {"holds": False}}}
    >>> failing_claims({"claims": [split]})
    []
    """
    failing = []
    for claim in data["claims"]:
        where = [
            name for name, r in claim["settings"].items() if not r["holds"] and _counts(claim, name)
        ]
        if where:
            failing.append((claim, where))
    return failing


def claims_table(data: Mapping) -> str:
    """The summary as plain text: relative margins per setting, smallest first.

    One row per claim with a numeric margin in some setting, one column per setting (the relative
    margin in percent, ``FAIL``, or ``-`` where it did not run), then the smallest margin, the
    claims that fail in any setting and the chapters that did not execute.

    Parameters
    ----------
    data : mapping
        The summary, as :func:`summarize` returns it or ``perturbations.json`` holds it.

    Returns
    -------
    str

    Examples
    --------
    >>> claim = {"chapter": "book/a.ipynb", "cell": 4, "line": 2, "test": "psnr > 30",
    ...          "numeric": True, "settings": {
    ...              "default": {"holds": True, "margin_abs": 2.0, "margin_rel": 0.0625},
    ...              "onednn": {"holds": False, "margin_abs": -1.0, "margin_rel": -0.0333}}}
    >>> data = {"settings": {"default": {}, "onednn": {}}, "claims": [claim]}
    >>> print(claims_table(data))
    claim                 default  onednn
    a:4:2  psnr > 30         6.2%    FAIL
    <BLANKLINE>
    smallest margin: -3.3% (claim a:4:2  psnr > 30, setting onednn)
    claims failing in some setting:
      a:4:2  psnr > 30  (onednn)
    checked outputs compared: 0; differing between settings: none
    """
    names = list(data["settings"])
    rows = _numeric_rows(data)
    cells = [[_label(c), *(_cell_text(c, n) for n in names)] for _, c in rows]
    out = [text_table(["claim", *names], cells, align="l" + "r" * len(names)), ""]
    smallest = smallest_margin(data)
    if smallest is None:
        out.append("smallest margin: none (no numeric claim)")
    else:
        margin, claim, name = smallest
        out.append(f"smallest margin: {100 * margin:.1f}% (claim {_label(claim)}, setting {name})")
    failing = failing_claims(data)
    out.append("claims failing in some setting:" + ("" if failing else " none"))
    for claim, where in failing:
        out.append(f"  {_label(claim)}  ({', '.join(where)})")
    errors = [
        (name, chapter, run["error"])
        for name, setting in data["settings"].items()
        for chapter, run in setting.get("chapters", {}).items()
        if run.get("error")
    ]
    moving = moving_outputs(data)
    out.append(
        f"checked outputs compared: {len(data.get('checked_outputs', []))}; "
        f"differing between settings: {len(moving) or 'none'}"
    )
    out += [f"  {Path(o['chapter']).stem}: cell {o['cell']}" for o in moving]
    if errors:
        out.append("chapters that did not execute:")
        out += [f"  {name}: {chapter}: {error}" for name, chapter, error in errors]
    return "\n".join(line.rstrip() for line in out)


def claims_html(data: Mapping) -> str:
    """The summary as an HTML table (for the appendix): relative margins per setting.

    Examples
    --------
    >>> claim = {"chapter": "book/a.ipynb", "cell": 4, "line": 2, "test": "a < b",
    ...          "numeric": True,
    ...          "settings": {"default": {"holds": True, "margin_abs": 1, "margin_rel": 0.5}}}
    >>> page = claims_html({"settings": {"default": {}}, "claims": [claim]})
    >>> "<td style=\\"text-align:right; white-space:nowrap\\">50.0%</td>" in page
    True
    """
    names = list(data["settings"])
    rows = _numeric_rows(data)
    number = 'style="text-align:right; white-space:nowrap"'
    head = "".join(f"<th {number}>{html.escape(n)}</th>" for n in names)
    body = []
    for _, claim in rows:
        cells = "".join(f"<td {number}>{html.escape(_cell_text(claim, n))}</td>" for n in names)
        where = f"{Path(claim['chapter']).stem}, cell {claim['cell']}, line {claim['line']}"
        body.append(
            f"<tr><td>{html.escape(where)}</td><td><code>{html.escape(claim['test'])}</code></td>"
            f"{cells}</tr>"
        )
    caption = (
        "Relative margin of every numeric claim (how far it is from failing, in percent of the "
        "larger operand) in each setting, smallest first; FAIL: the claim does not hold there."
    )
    return (
        f"<table>\n<caption>{html.escape(caption)}</caption>\n"
        f"<thead><tr><th>where</th><th>claim</th>{head}</tr></thead>\n"
        "<tbody>\n" + "\n".join(body) + "\n</tbody>\n</table>"
    )


def side_by_side(columns: Mapping[str, tuple[Mapping, str]]) -> dict:
    """One summary whose settings are named columns, each a setting of some summary.

    Used by the GPU appendix to set the full profile's margins beside the quick profile's: a
    claim appears in a column when it ran in that summary's setting.

    Parameters
    ----------
    columns : mapping of str to (summary, setting name)

    Returns
    -------
    dict
        A summary as :func:`summarize` returns it (``settings`` hold only the column names).

    Examples
    --------
    >>> claim = {"chapter": "a.ipynb", "cell": 1, "line": 1, "test": "x < 1", "numeric": True}
    >>> quick = {"claims": [{**claim, "settings": {"onednn": {"holds": True, "margin_rel": 0.5}}}]}
    >>> full = {"claims": [{**claim, "settings": {"onednn": {"holds": False, "margin_rel": -0.1}}}]}
    >>> merged = side_by_side({"quick": (quick, "onednn"), "full": (full, "onednn")})
    >>> merged["claims"][0]["settings"]
    {'quick': {'holds': True, 'margin_rel': 0.5}, 'full': {'holds': False, 'margin_rel': -0.1}}
    """
    claims: dict[tuple, dict] = {}
    for column, (data, setting) in columns.items():
        for claim in data["claims"]:
            if setting not in claim["settings"]:
                continue
            key = (claim["chapter"], claim["cell"], claim["line"], claim["test"])
            merged = claims.setdefault(key, {**claim, "settings": {}})
            merged["settings"][column] = claim["settings"][setting]
    return {"settings": {name: {} for name in columns}, "claims": list(claims.values())}
