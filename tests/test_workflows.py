"""The GitHub workflows cannot run here, so their jobs, commands and environment are checked."""

import yaml


def _load(root, name):
    workflow = yaml.safe_load((root / ".github" / "workflows" / name).read_text())
    # PyYAML reads the key `on` as the boolean True.
    workflow["on"] = workflow.pop(True)
    return workflow


def _runs(job):
    return [step["run"] for step in job["steps"] if "run" in step]


def _uses(job):
    return [step["uses"].split("@")[0] for step in job["steps"] if "uses" in step]


def test_ci_runs_make_test_on_every_push_and_publishes_main(root):
    ci = _load(root, "ci.yml")
    assert "push" in ci["on"]
    test = ci["jobs"]["test"]
    assert test["env"]["CAE_LESSONS_PROFILE"] == "quick"
    assert "bash .ci/run" in _runs(test)
    assert "make book" in _runs(test)
    setup = next(s for s in test["steps"] if s.get("uses", "").startswith("actions/setup-python"))
    assert setup["with"]["python-version"].split() == ["3.13", "3.11"]  # both passes of make test
    assert "actions/upload-pages-artifact" in _uses(test)
    deploy = ci["jobs"]["deploy"]
    assert deploy["needs"] == "test"
    assert deploy["if"] == "github.ref == 'refs/heads/main'"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert _uses(deploy) == ["actions/deploy-pages"]


def test_gpu_workflow_runs_the_full_profile_on_a_gpu_runner(root):
    gpu = _load(root, "gpu.yml")["jobs"]["gpu"]
    assert gpu["runs-on"] == ["self-hosted", "gpu"]
    assert gpu["env"] == {
        "EXTRAS": "book,test,gpu",
        "CAE_LESSONS_PROFILE": "full",
        "CAE_LESSONS_REQUIRE_GPU": "1",
    }
    assert _runs(gpu) == ["nvidia-smi", "make test", "make execute book"]
    artifacts = {s["with"]["name"]: s["with"]["path"] for s in gpu["steps"] if "with" in s}
    assert artifacts == {"executed-notebooks": "book/*.ipynb", "book-html": "_build/html"}


def test_ci_entry_point_calls_make_test(root):
    script = (root / ".ci" / "run").read_text()
    assert "\nmake test\n" in script
    assert "set -euo pipefail" in script
