"""scripts/perturb.py: assert rewriting, margins, the harness on a tiny notebook; split_seed()."""

from __future__ import annotations

import doctest
import json
import random

import nbformat
import perturb
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from cae_lessons import claims, config


def _run(source: str, namespace: dict | None = None) -> list[dict]:
    """Rewrite ``source`` as a claims cell, execute it and return the recorded entries."""
    recorder = perturb.Recorder(None, "test")
    code = compile(perturb.rewrite(source, recorder, "x.ipynb", 7), "<cell>", "exec")
    exec(code, {perturb.RECORDER: recorder, **(namespace or {})})
    return recorder.entries


def test_less_than_margin():
    (entry,) = _run("a, b = 3.0, 4.0\nassert a < b, (a, b)")
    assert entry["holds"] and entry["numeric"]
    assert entry["margin_abs"] == pytest.approx(1.0)
    assert entry["margin_rel"] == pytest.approx(0.25)
    assert (entry["chapter"], entry["cell"], entry["line"], entry["test"]) == (
        "x.ipynb",
        7,
        2,
        "a < b",
    )
    assert entry["message"] is None  # the message is evaluated only when the test fails


def test_greater_than_margin_with_numpy_scalars():
    np = pytest.importorskip("numpy")
    rng = np.random.default_rng(0)
    swing = rng.normal(10, 1, size=9)
    (entry,) = _run("assert np.median(swing) >= 2 * 4", {"np": np, "swing": swing})
    median = float(np.median(swing))
    assert entry["holds"] and entry["numeric"]
    assert entry["margin_abs"] == pytest.approx(median - 8)
    assert entry["margin_rel"] == pytest.approx((median - 8) / median)


def test_chained_comparison_takes_the_smallest_pairwise_margin():
    (entry,) = _run("assert 1 < 2 <= 2.5")
    assert entry["holds"] and entry["ops"] == ["<", "<="]
    assert entry["margin_abs"] == pytest.approx(0.5)
    assert entry["margin_rel"] == pytest.approx(0.2)


def test_equality_and_other_tests_have_no_margin():
    entries = _run(
        "assert [1, 2] == [1, 2]\nassert 3 == 3.0\nassert 'a' in 'abc'\n"
        "assert all(x > 0 for x in (1, 2))\nassert x is None",
        {"x": None},
    )
    assert [e["holds"] for e in entries] == [True] * 5
    assert all(e["margin_abs"] is None and e["margin_rel"] is None for e in entries)
    assert [e["numeric"] for e in entries] == [False, True, False, False, False]


def test_failing_assert_is_recorded_and_does_not_raise():
    entries = _run("psnr = 20.0\nassert psnr > 25, ('psnr', psnr)\nafter = True\nassert after")
    failing, later = entries
    assert not failing["holds"]
    assert failing["margin_abs"] == pytest.approx(-5.0)
    assert failing["margin_rel"] == pytest.approx(-0.2)
    assert failing["message"] == "('psnr', 20.0)"
    assert later["holds"]  # the rest of the cell ran


def test_assert_whose_test_raises_is_a_failure():
    first, second = _run("assert undefined_name < 1\nassert 1 / 0 == 1")
    assert not first["holds"] and first["error"].startswith("NameError")
    assert not second["holds"] and second["error"].startswith("ZeroDivisionError")


def test_asserts_in_loops_and_functions_are_rewritten():
    entries = _run("def check(v):\n    assert v < 3\nfor v in range(2, 5):\n    check(v)")
    assert [e["holds"] for e in entries] == [True, False, False]
    summary = perturb.summarize([{**e, "setting": "s"} for e in entries])
    (claim,) = summary["claims"]
    assert claim["settings"]["s"]["runs"] == 3
    assert not claim["settings"]["s"]["holds"]
    assert claim["settings"]["s"]["margin_abs"] == pytest.approx(-1.0)


def test_log_summary_and_tables(tmp_path):
    random.seed(0)
    lines = []
    for setting, shift in [("default", 0.0), ("onednn", 0.3)]:
        recorder = perturb.Recorder(tmp_path / "raw.jsonl", setting)
        code = perturb.rewrite(
            f"assert {1.0 + shift} < 1.2\nassert {random.random()} > 0", recorder, "book/c.ipynb"
        )
        exec(compile(code, "<cell>", "exec"), {perturb.RECORDER: recorder})
    lines = perturb.read_log(tmp_path / "raw.jsonl")
    assert [line["setting"] for line in lines] == ["default", "default", "onednn", "onednn"]
    data = claims.summarize(lines)
    assert list(data["settings"]) == ["default", "onednn"]
    table = claims.claims_table(data)
    assert table.splitlines()[0].split() == ["claim", "default", "onednn"]
    assert "FAIL" in table and "c:0:1  1.3 < 1.2  (onednn)" in table
    assert "smallest margin: -7.7%" in table
    page = claims.claims_html(data)
    assert page.startswith("<table>") and "<caption>" in page and "FAIL" in page


def test_doctests():
    flags = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
    assert doctest.testmod(perturb, optionflags=flags).failed == 0


def test_harness_runs_a_notebook_under_a_setting(tmp_path):
    notebook = new_notebook(
        cells=[
            new_markdown_cell("# tiny"),
            new_code_cell("import os\nvalue = float(os.environ['PERTURB_TEST_VALUE'])"),
            new_code_cell(
                "assert value < 50, value\nassert value > 50, ('too small', value)\nran = True",
                metadata={"tags": ["remove-input"]},
            ),
            new_code_cell(
                "raise ValueError('on purpose')", metadata={"tags": ["raises-exception"]}
            ),
            new_code_cell(
                "print('shape', (2, 3), 'in 1.5 s')", metadata={"tags": ["nbval-check-output"]}
            ),
            new_code_cell("assert ran\nassert 1 == 2  # not a claims cell: a real error"),
        ]
    )
    path = tmp_path / "tiny.ipynb"
    nbformat.write(notebook, path)
    before = path.read_text()
    env = perturb.kernel_env({"PERTURB_TEST_VALUE": "42"}, tmp_path / "cache")
    run = perturb.run_chapter(path, "custom", env, timeout=60, probe=False)

    assert path.read_text() == before  # nothing written back
    below, above = run.claims
    assert (below["setting"], below["chapter"], below["cell"], below["line"]) == (
        "custom",
        "tiny.ipynb",
        2,
        1,
    )
    assert below["holds"] and below["values"] == [42.0, 50.0]  # the variable reached the kernel
    assert below["margin_abs"] == pytest.approx(8.0)
    assert not above["holds"] and above["line"] == 2
    assert above["margin_rel"] == pytest.approx(-8 / 50)
    assert above["message"] == "('too small', 42.0)"
    summary = run.summary
    assert (summary["claims"], summary["failing"]) == (2, 1)
    assert summary["error"] == "cell 5: CellExecutionError: AssertionError:"  # cell 3 may raise
    # the checked output, sanitized as nbval compares it (wall times removed)
    assert [(o["cell"], o["text"]) for o in run.outputs] == [(4, "shape (2, 3) in <time>\n")]
    assert summary["env"]["CAE_LESSONS_PROFILE"] == "quick"

    log = tmp_path / "claims.jsonl"
    perturb.update_log(log, run)
    perturb.update_log(log, run)  # a rerun replaces the lines of its setting and chapter
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [line["kind"] for line in lines] == ["claim", "claim", "output", "chapter"]


def test_split_seed_default_and_value(monkeypatch):
    monkeypatch.delenv(config.SPLIT_SEED_VARIABLE, raising=False)
    assert config.split_seed() == 0
    monkeypatch.setenv(config.SPLIT_SEED_VARIABLE, " 7 ")
    assert config.split_seed() == 7


@pytest.mark.parametrize("value", ["-1", "one", "1.5"])
def test_split_seed_rejects_bad_values(monkeypatch, value):
    monkeypatch.setenv(config.SPLIT_SEED_VARIABLE, value)
    with pytest.raises(ValueError, match=rf"CAE_LESSONS_SPLIT_SEED='{value}'.*non-negative"):
        config.split_seed()


def test_an_assert_of_a_conjunction_is_one_claim_per_part():
    entries = _run("assert 1 < 2 and 5 > 3, 'both'")
    assert [(e["test"], e["holds"], e["margin_abs"]) for e in entries] == [
        ("1 < 2", True, 1.0),
        ("5 > 3", True, 2.0),
    ]


def test_summary_flags_checked_outputs_that_move_between_settings_on_the_same_data():
    def output(setting, cell, text):
        return {
            "kind": "output",
            "setting": setting,
            "chapter": "a.ipynb",
            "cell": cell,
            "text": text,
        }

    lines = [
        output("default", 3, "loss 0.123"),
        output("onednn", 3, "loss 0.124"),  # a trained number: moves
        output("default", 5, "(128, 128, 1)"),
        output("onednn", 5, "(128, 128, 1)"),
        output("split_seed_1", 5, "(64, 64, 1)"),  # another split may print other things
    ]
    data = claims.summarize(lines)
    assert [(o["cell"], o["same"]) for o in data["checked_outputs"]] == [(3, False), (5, True)]
    assert [o["cell"] for o in claims.moving_outputs(data)] == [3]
    assert "differing between settings: 1\n  a: cell 3" in claims.claims_table(data)


def test_a_claim_marked_about_the_split_is_held_only_on_the_books_split(tmp_path):
    source = "assert n == 82  # about this split\nassert a < b"
    lines = []
    for setting, n in [("default", 82), ("split_seed_1", 79)]:
        recorder = perturb.Recorder(None, setting)
        code = perturb.rewrite(source, recorder, "book/c.ipynb")
        exec(compile(code, "<cell>", "exec"), {perturb.RECORDER: recorder, "n": n, "a": 1, "b": 2})
        lines += recorder.entries
    assert [e["about_split"] for e in lines] == [True, False, True, False]
    data = claims.summarize(lines)
    marked, unmarked = data["claims"]
    assert marked["about_split"] and not unmarked["about_split"]
    assert not marked["settings"]["split_seed_1"]["holds"]
    assert claims.about_split(data) == [marked]
    assert claims.failing_claims(data) == []
    # the same claim without the marker fails on the other split
    unmarked_data = claims.summarize([{**e, "about_split": False} for e in lines])
    assert [c["test"] for c, _ in claims.failing_claims(unmarked_data)] == ["n == 82"]


def _chapter_lines(chapter: str, settings, cells) -> list[dict]:
    lines = []
    for setting in settings:
        lines.append(
            {
                "kind": "chapter",
                "setting": setting,
                "chapter": chapter,
                "env": {},
                "seconds": 1.0,
                "claims": len(cells),
                "failing": 0,
                "error": None,
            }
        )
        for cell in cells:
            lines.append(
                {
                    "kind": "claim",
                    "setting": setting,
                    "chapter": chapter,
                    "cell": cell,
                    "line": 1,
                    "test": f"x{cell} < 1",
                    "holds": True,
                    "margin_abs": 0.5,
                    "margin_rel": 0.5,
                    "numeric": True,
                }
            )
            lines.append(
                {"kind": "output", "setting": setting, "chapter": chapter, "cell": cell}
                | {"text": "3"}
            )
    return lines


def test_merge_replaces_the_rerun_chapters_and_keeps_the_others_in_order():
    both = ("default", "onednn")
    kept = claims.summarize(
        _chapter_lines("a.ipynb", both, [2]) + _chapter_lines("b.ipynb", both, [4, 6])
    )
    fresh = claims.summarize(_chapter_lines("b.ipynb", both, [5]))
    merged = claims.merge(kept, fresh)
    assert [(c["chapter"], c["cell"]) for c in merged["claims"]] == [("a.ipynb", 2), ("b.ipynb", 5)]
    assert [(o["chapter"], o["cell"]) for o in merged["checked_outputs"]] == [
        ("a.ipynb", 2),
        ("b.ipynb", 5),
    ]
    assert list(merged["settings"]["onednn"]["chapters"]) == ["a.ipynb", "b.ipynb"]
    assert merged["settings"]["default"]["chapters"]["b.ipynb"]["claims"] == 1


def test_merge_refuses_a_chapter_rerun_in_fewer_settings_than_kept():
    kept = claims.summarize(_chapter_lines("a.ipynb", ("default", "onednn"), [2]))
    fresh = claims.summarize(_chapter_lines("a.ipynb", ("default",), [2]))
    match = r"leave out \(setting, chapter\) \[\('onednn', 'a.ipynb'\)\]"
    with pytest.raises(ValueError, match=match):
        claims.merge(kept, fresh)
