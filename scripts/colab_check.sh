#!/usr/bin/env bash
# Colab in a venv: does the chapters' install cell keep a TensorFlow that is already there?
#
#   bash scripts/colab_check.sh [PYTHON]        # PYTHON defaults to python3.12, as on Colab
#   TENSORFLOW="tensorflow==2.20.*" bash scripts/colab_check.sh
#
# Colab ships Python 3.12 with its own TensorFlow (2.19 or newer) and NumPy (2.0 or newer). This
# script makes a fresh venv in a temporary folder, installs such a TensorFlow first (plus
# ipykernel, as on Colab), then runs the install cell exactly as scripts/install_cell.py writes
# it, with the pip URL pointed at a copy of this clone instead of GitHub. It fails if pip changed
# the TensorFlow version, then runs the first two code cells a chapter runs after the install
# cell, in the same Python process (as a kernel would). Needs network access to PyPI; changes
# nothing in the clone.
set -euo pipefail

PYTHON="${1:-python3.12}"
TENSORFLOW="${TENSORFLOW:-tensorflow==2.19.*}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
VENV="$TMP/venv"

freeze() { "$VENV/bin/python" -m pip freeze | grep -i -E "^(tensorflow|keras|numpy)==" || true; }
tf_version() { "$VENV/bin/python" -m pip show tensorflow | sed -n 's/^Version: //p'; }

echo "== $("$PYTHON" --version) in $VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
echo "== preinstalled, as on Colab: $TENSORFLOW ipykernel"
"$VENV/bin/python" -m pip install -q "$TENSORFLOW" ipykernel
freeze
before="$(tf_version)"

# pip builds a local folder in place (setuptools leaves build/ behind): build from a copy of
# what the package is made of, uncommitted edits included, so the clone stays untouched.
mkdir "$TMP/src"
cp -r "$ROOT/pyproject.toml" "$ROOT/README.md" "$ROOT/cae_lessons" "$TMP/src/"
rm -rf "$TMP/src/cae_lessons/__pycache__" "$TMP/src/cae_lessons.egg-info"

# The install cell with the copy's URL; scripts/install_cell.py --print needs no package.
cell="$("$VENV/bin/python" "$ROOT/scripts/install_cell.py" --print --url "file://$TMP/src")"
echo "== the install cell, then the chapter's first two code cells, in one process"
cd "$TMP"  # not the clone: cae_lessons must come from the install, not from the current folder
TF_BEFORE="$before" "$VENV/bin/python" - <<EOF
$cell

import importlib.metadata
import os

after = importlib.metadata.version("tensorflow")
assert importlib.util.find_spec("cae_lessons") is not None, "the install cell did not install"
before = os.environ["TF_BEFORE"]
assert after == before, f"the install cell changed TensorFlow {before} to {after}"
print(f"TensorFlow {after} kept; cae-lessons {importlib.metadata.version('cae-lessons')} installed")

from cae_lessons.config import environment_report

print(environment_report())

from cae_lessons.shapes import trace
from cae_lessons.models import example1

print(trace(example1()).summary())
EOF

echo "== after the install cell"
freeze
after="$(tf_version)"
if [ "$before" != "$after" ]; then
	echo "FAIL: installing cae-lessons changed TensorFlow from $before to $after" >&2
	exit 1
fi
echo "OK: TensorFlow $before kept"
