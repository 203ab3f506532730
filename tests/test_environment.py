"""The pins cannot drift: environment.yml, pyproject.toml and constraints.txt agree."""

import re
import tomllib

import yaml

PIN = re.compile(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==(\S+)$")


def _pins(lines):
    pins = {}
    for line in lines:
        match = PIN.match(line.strip())
        if match:
            pins[match.group(1).lower().replace("_", "-")] = match.group(2)
    return pins


def _pyproject(root):
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    return project, extras


def test_every_direct_dependency_is_pinned_exactly(root):
    project, extras = _pyproject(root)
    for requirement in project["dependencies"] + extras["book"] + extras["test"]:
        assert PIN.match(requirement), f"{requirement!r} in pyproject.toml is not pinned with =="


def test_environment_yml_names_the_same_packages_and_versions(root):
    project, extras = _pyproject(root)
    expected = _pins(project["dependencies"] + extras["book"] + extras["test"])
    env = yaml.safe_load((root / "environment.yml").read_text())
    assert "python=3.11" in env["dependencies"]
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert _pins(pip_section) == expected
    assert "-e ." in pip_section


def test_constraints_agree_with_pyproject(root):
    project, extras = _pyproject(root)
    constraints = _pins((root / "constraints.txt").read_text().splitlines())
    for name, version in _pins(project["dependencies"] + extras["book"] + extras["test"]).items():
        assert constraints.get(name) == version, f"constraints.txt pins {name} differently"


def test_gpu_extra_is_the_same_tensorflow_with_cuda(root):
    project, extras = _pyproject(root)
    tensorflow = _pins(project["dependencies"])["tensorflow"]
    assert extras["gpu"] == [f"tensorflow[and-cuda]=={tensorflow}"]
