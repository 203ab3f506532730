"""Every chapter's install cell is scripts/install_cell.py's, from _config.yml's repository URL."""

import shutil
import tomllib

import nbformat
import pytest
from install_cell import INDEX, TAG, install_cell_source, main, repository_url

from cae_lessons.reproduce import toc_notebooks


@pytest.fixture
def copy(root, tmp_path, monkeypatch):
    """A copy of _config.yml, _toc.yml and the chapters, which install_cell.main() then edits."""
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(root / name, tmp_path / name)
    for path in toc_notebooks(root):
        (tmp_path / path.relative_to(root)).parent.mkdir(exist_ok=True)
        shutil.copy(path, tmp_path / path.relative_to(root))
    monkeypatch.setattr("install_cell.ROOT", tmp_path)
    return tmp_path


def test_every_chapter_has_the_generated_install_cell(root):
    expected = install_cell_source(root)
    differ = []
    for path in toc_notebooks(root):
        cell = nbformat.read(path, as_version=4).cells[INDEX]
        assert cell.cell_type == "code" and TAG in cell.metadata.get("tags", []), path.name
        if cell.source != expected:
            differ.append(path.name)
    assert not differ, f"run `python scripts/install_cell.py`: {differ}"


def test_the_cell_follows_the_url_in_config(root, tmp_path):
    url = repository_url(root)
    assert f'"cae-lessons @ git+{url}"' in install_cell_source(root)
    config = (root / "_config.yml").read_text()
    assert config.count(url) == 1
    (tmp_path / "_config.yml").write_text(config.replace(url, "https://example.org/fork/cae"))
    moved = install_cell_source(tmp_path)
    assert moved != install_cell_source(root)
    assert '"cae-lessons @ git+https://example.org/fork/cae"' in moved


def test_pyproject_names_the_same_repository(root):
    urls = tomllib.loads((root / "pyproject.toml").read_text())["project"]["urls"]
    assert urls["Repository"] == repository_url(root)


def test_check_then_rewrite_after_the_url_moves(root, copy, capsys):
    chapters = toc_notebooks(copy)
    before = {path: path.read_bytes() for path in chapters}
    assert main(["--check"]) == 0
    config = copy / "_config.yml"
    config.write_text(config.read_text().replace(repository_url(root), "https://example.org/x"))
    capsys.readouterr()
    assert main(["--check"]) == 1
    assert capsys.readouterr().out.count("install cell differs") == len(chapters)
    assert all(path.read_bytes() == before[path] for path in chapters), "--check wrote a file"
    assert main([]) == 0
    assert f"rewritten in {len(chapters)} notebook" in capsys.readouterr().out
    assert main(["--check"]) == 0
    for path in chapters:
        new = nbformat.read(path, as_version=4)
        assert new.cells[INDEX].source == install_cell_source(copy)
        # Only the install cell changed: put the old code back and the file is byte-identical.
        old = nbformat.reads(before[path].decode(), as_version=4)
        new.cells[INDEX].source = old.cells[INDEX].source
        nbformat.write(new, path)
        assert path.read_bytes() == before[path], path.name


@pytest.mark.parametrize("bad", ["markdown", "untagged"])
def test_a_chapter_without_the_cell_is_not_overwritten(copy, bad):
    first = toc_notebooks(copy)[0]
    notebook = nbformat.read(first, as_version=4)
    if bad == "markdown":
        notebook.cells[INDEX] = nbformat.v4.new_markdown_cell("Some prose.")
    else:
        notebook.cells[INDEX].metadata["tags"] = []
    nbformat.write(notebook, first)
    before = first.read_bytes()
    assert main([]) == 2
    assert first.read_bytes() == before
