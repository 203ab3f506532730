"""The book's structure: configuration, table of contents and every chapter's skeleton and tags.

nbval (`make notebooks`) re-executes the chapters; these tests check what nbval cannot: that each
chapter follows the lesson skeleton, is stored executed, hides its plumbing and tags its errors so
that nbval really checks them.
"""

import re
from pathlib import Path

import nbformat
import pytest
import yaml
from execute_notebooks import FIGURES, named_figures, toc_notebooks

ROOT = Path(__file__).resolve().parent.parent

CHAPTERS = toc_notebooks(ROOT)
SKELETON = (
    "Overview",
    "Prerequisites",
    "Setup",
    "Summary",
    "Exercises",
    "What's next",
    "References",
)
MAX_CODE_LINES = 300
DECIMAL = re.compile(r"(?<![\w.])\d+\.\d+(?![\w.])")
PROSE_ONLY = re.compile(r"```.*?```|\$[^$]*\$|`[^`]*`", re.S)  # code, maths, inline code


def _code(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def _tags(cell):
    return set(cell.metadata.get("tags", []))


@pytest.fixture(scope="module")
def config():
    return yaml.safe_load((ROOT / "_config.yml").read_text())


def test_there_is_at_least_one_chapter():
    assert CHAPTERS, "no .ipynb chapter is listed in _toc.yml"


def test_config_turns_on_what_the_book_promises(config):
    assert config["only_build_toc_files"] is True
    assert {".venv", "_build", "tests"} <= set(config["exclude_patterns"])
    assert config["execute"]["execute_notebooks"] == "off"
    assert config["sphinx"]["config"]["nb_execution_raise_on_error"] is True
    assert "sphinx_exercise" in config["sphinx"]["extra_extensions"]
    assert config["bibtex_bibfiles"] == ["book/references.bib"]
    assert (ROOT / "book" / "references.bib").exists()
    assert config["html"]["use_repository_button"] is True
    assert config["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    assert config["launch_buttons"]["binderhub_url"] == "https://mybinder.org"


def test_toc_is_a_numbered_jb_book(root):
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    assert toc["format"] == "jb-book"
    numbered = [part["caption"] for part in toc["parts"] if part.get("numbered")]
    assert numbered, "no part of the book is numbered"
    for part in toc["parts"]:
        for chapter in part["chapters"]:
            stem = root / chapter["file"]
            assert any(stem.with_suffix(s).exists() for s in (".ipynb", ".md")), chapter["file"]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
class TestChapter:
    def test_follows_the_lesson_skeleton(self, path):
        nb = nbformat.read(path, as_version=4)
        headings = [
            line[3:].strip()
            for cell in nb.cells
            if cell.cell_type == "markdown"
            for line in cell.source.splitlines()
            if line.startswith("## ")
        ]
        positions = [headings.index(h) for h in SKELETON if h in headings]
        assert [h for h in SKELETON if h not in headings] == [], headings
        assert positions == sorted(positions), f"skeleton out of order: {headings}"
        assert headings[-1] == SKELETON[-1], f"a section after the references: {headings}"
        last = max(i for i, c in enumerate(nb.cells) if "## References" in c.source)
        shown_after = [
            c.source[:60]
            for c in nb.cells[last + 1 :]
            if c.cell_type == "markdown" or c.outputs or "remove-input" not in _tags(c)
        ]
        assert shown_after == [], "what the reader sees after the references belongs before"

    def test_first_cells_install_the_package_and_report_the_environment(self, path, config):
        code = _code(nbformat.read(path, as_version=4))
        install, env = code[0], code[1]
        assert "remove-cell" in _tags(install)
        assert f"git+{config['repository']['url']}" in install.source
        assert {"hide-input", "remove-stderr"} <= _tags(env)
        assert "environment_report()" in env.source

    def test_is_stored_executed_without_unexpected_errors(self, path):
        for cell in _code(nbformat.read(path, as_version=4)):
            if cell.source.strip() and "remove-cell" not in _tags(cell):
                assert cell.execution_count is not None, f"not executed: {cell.source[:60]!r}"
            errors = [o for o in cell.outputs if o.output_type == "error"]
            if errors:
                assert "raises-exception" in _tags(cell), f"unexpected error: {errors[0].ename}"

    def test_cells_that_raise_are_checked_by_nbval(self, path):
        for cell in _code(nbformat.read(path, as_version=4)):
            if "raises-exception" not in _tags(cell):
                continue
            assert "nbval-check-output" in _tags(cell), cell.source[:60]
            assert [o.output_type for o in cell.outputs][-1] == "error"

    def test_has_checked_outputs(self, path):
        cells = _code(nbformat.read(path, as_version=4))
        assert any("nbval-check-output" in _tags(c) for c in cells), (
            "no cell is tagged nbval-check-output, so nbval would check nothing"
        )

    def test_is_short(self, path):
        lines = [
            line
            for cell in _code(nbformat.read(path, as_version=4))
            for line in cell.source.splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        ]
        assert len(lines) <= MAX_CODE_LINES

    def test_exercises_have_solutions_in_dropdowns(self, path):
        text = "\n".join(
            c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown"
        )
        exercises = re.findall(r":::\{exercise\}\n:label: (\S+)", text)
        assert exercises
        for label in exercises:
            solution = rf":::\{{solution\}} {re.escape(label)}\n:class: dropdown"
            assert re.search(solution, text), label

    def test_every_decimal_in_the_prose_is_computed(self, path):
        """A number like 8.56 in the prose appears in the chapter's code or executed outputs, so
        a re-execution that changes it cannot leave the prose behind (maths and code excepted)."""
        nb = nbformat.read(path, as_version=4)
        computed = "".join(
            cell.source
            + "".join(
                str(o.get("text", "")) + "".join(map(str, o.get("data", {}).values()))
                for o in cell.outputs
            )
            for cell in _code(nb)
        )
        stale = {
            number
            for cell in nb.cells
            if cell.cell_type == "markdown"
            for number in DECIMAL.findall(PROSE_ONLY.sub("", cell.source))
            if number not in computed
        }
        assert stale == set(), f"decimals in the prose that no cell computes: {sorted(stale)}"

    def test_named_figures_are_exported_unchanged(self, path):
        """make execute copies each named figure to book/_static/figures (the README uses one)."""
        for name, png in named_figures(nbformat.read(path, as_version=4)).items():
            exported = FIGURES / f"{name}.png"
            assert exported.exists(), f"{exported} missing: run make execute"
            assert exported.read_bytes() == png, f"{exported} differs from the chapter's figure"


def test_readme_picture_comes_from_the_book():
    readme = (ROOT / "README.md").read_text()
    pictures = re.findall(r"!\[[^\]]+\]\((book/_static/figures/[\w-]+\.png)\)", readme)
    assert pictures, "the README shows no figure from the book"
    for picture in pictures:
        assert (ROOT / picture).exists(), picture


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_stored_figure_reads_at_the_column_width(path):
    """No stored figure is wider than plots.MAX_WIDTH_IN at the inline dpi: the page scales a
    wider one down to its column, and its 9-point text below 9 px (plots.smallest_text_px)."""
    import base64
    import io

    from PIL import Image

    from cae_lessons import plots

    widest = plots.MAX_WIDTH_IN * plots.INLINE_DPI
    too_wide = []
    for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
        for output in cell.get("outputs", []):
            png = output.get("data", {}).get("image/png")
            if png:
                width = Image.open(io.BytesIO(base64.b64decode(png))).width
                if width > widest:
                    too_wide.append((index, width))
    assert too_wide == [], f"cells (index, px) wider than {widest:.0f} px: lay them out narrower"


def _spine():
    """The intro's claim table: claim number -> the checklist items its row names."""
    text = (ROOT / "book/intro.md").read_text()
    rows = re.findall(r"^\| (\d+) \|.*; \{ref\}`items? ([\d, ]+) <checklist>`\)\. \|$", text, re.M)
    return {int(n): {int(i) for i in items.split(",")} for n, items in rows}


def _checklist():
    """The checklist (book/checklist, ch. 9's section): item -> the claims of the spine it names."""
    cells = nbformat.read(ROOT / "book/checklist.ipynb", as_version=4).cells
    text = next(c.source for c in cells if "## A design checklist" in c.source)
    items = re.split(r"^(\d+)\. ", text.split("## A design checklist", 1)[1], flags=re.M)[1:]
    claims = {}
    for number, body in zip(items[::2], items[1::2], strict=True):
        named = re.search(r"\*\(Claims? ([\d, and]+)\.\)\*", body)
        claims[int(number)] = (
            {int(n) for n in re.findall(r"\d+", named.group(1))} if named else set()
        )
    return claims


def test_the_spine_has_a_verdict_and_a_checklist_item_for_every_claim():
    spine = _spine()
    assert sorted(spine) == list(range(1, 11)), "the intro's table numbers its ten claims"
    assert all(spine.values()), "every claim names a checklist item"
    text = (ROOT / "book/intro.md").read_text()
    assert "(spine)=" in text and "{ref}`design checklist <checklist>`" in text


def test_the_spine_and_the_checklist_link_each_other_both_ways():
    spine, checklist = _spine(), _checklist()
    assert sorted(checklist) == list(range(1, len(checklist) + 1))
    named_by_claims = {(claim, item) for claim, items in spine.items() for item in items}
    named_by_items = {(claim, item) for item, claims in checklist.items() for claim in claims}
    assert named_by_claims == named_by_items
    cells = nbformat.read(ROOT / "book/checklist.ipynb", as_version=4).cells
    assert any("(checklist)=\n## A design checklist" in c.source for c in cells)
    assert any("<spine>`" in c.source for c in cells)
