"""Ranges in pyproject.toml, exact pins in constraints.txt and environment.yml: they cannot drift.

pyproject.toml states what the code needs (ranges wide enough for Colab's own TensorFlow and
NumPy); constraints.txt pins what `make` installs; environment.yml repeats those pins for conda.
"""

import tomllib

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

# Exact on purpose: `ruff format --check` output depends on the version.
EXACT_ON_PURPOSE = {"ruff"}


def _pyproject(root):
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    return project, extras


def _direct(root) -> dict[str, Requirement]:
    project, extras = _pyproject(root)
    requirements = [
        Requirement(line) for line in project["dependencies"] + extras["book"] + extras["test"]
    ]
    return {canonicalize_name(r.name): r for r in requirements}


def _exact_pins(lines) -> dict[str, str]:
    """``name==version`` lines as {canonical name: version}; comments and options are skipped."""
    pins = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        requirement = Requirement(line)
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", f"{line!r} is not an exact pin"
        pins[canonicalize_name(requirement.name)] = specifier.version
    return pins


def _constraints(root) -> dict[str, str]:
    return _exact_pins((root / "constraints.txt").read_text().splitlines())


def _environment(root):
    env = yaml.safe_load((root / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    return env, pip_section


def test_direct_dependencies_are_ranges_not_pins(root):
    for name, requirement in _direct(root).items():
        if name in EXACT_ON_PURPOSE:
            continue
        operators = {s.operator for s in requirement.specifier}
        assert operators, f"{requirement} in pyproject.toml states no lower bound"
        assert not operators & {"==", "==="}, (
            f"{requirement} in pyproject.toml is pinned: state a range, pin in constraints.txt"
        )


def test_ranges_admit_colab(root):
    # Colab runs Python 3.12 with its own TensorFlow (2.19 or newer) and NumPy (2.0 or newer):
    # the ranges must admit them, or `pip install cae-lessons` there replaces Colab's TensorFlow.
    project, _ = _pyproject(root)
    direct = _direct(root)
    assert Version("3.12") in Requirement(f"python{project['requires-python']}").specifier
    assert direct["tensorflow"].specifier.contains("2.19.0")
    assert direct["tensorflow"].specifier.contains("2.20.0")
    assert direct["numpy"].specifier.contains("2.0.0")


def test_every_direct_dependency_has_an_exact_pin_in_constraints(root):
    constraints = _constraints(root)
    missing = sorted(set(_direct(root)) - set(constraints))
    assert not missing, f"constraints.txt pins none of {missing}"


def test_constraints_pins_satisfy_the_ranges(root):
    constraints = _constraints(root)
    for name, requirement in _direct(root).items():
        version = constraints.get(name)
        if version is not None:
            assert requirement.specifier.contains(version, prereleases=True), (
                f"constraints.txt pins {name}=={version}, outside pyproject.toml's {requirement}"
            )


def test_environment_yml_pins_equal_constraints(root):
    env, pip_section = _environment(root)
    assert "python=3.11" in env["dependencies"]
    assert "-e ." in pip_section
    pins = _exact_pins(pip_section)
    assert set(pins) == set(_direct(root)), "environment.yml names other packages than pyproject"
    constraints = _constraints(root)
    assert {name: constraints.get(name) for name in pins} == pins


def test_gpu_extra_is_the_same_tensorflow_with_cuda(root):
    _, extras = _pyproject(root)
    (gpu,) = (Requirement(r) for r in extras["gpu"])
    assert gpu.name == "tensorflow" and gpu.extras == {"and-cuda"}
    assert gpu.specifier == _direct(root)["tensorflow"].specifier
