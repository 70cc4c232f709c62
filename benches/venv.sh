# Sourced by the benchmark scripts: the Python virtual environment $CQLAKE_VENV (default
# ~/.cache/cqlake-venv) with the pinned peers of benches/requirements.txt, made or updated when
# they are missing; sets $venv.
venv="${CQLAKE_VENV:-$HOME/.cache/cqlake-venv}"
if ! "$venv/bin/python" - "$(dirname "${BASH_SOURCE[0]}")/requirements.txt" 2>/dev/null <<'PY'
import sys
from importlib.metadata import version
for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if line:
        name, want = line.split("==")
        name = name.split("[")[0]
        assert version(name) == want, name
PY
then
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$(dirname "${BASH_SOURCE[0]}")/requirements.txt"
fi
