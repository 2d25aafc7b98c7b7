#!/bin/sh
# Runs a Python test with $HERD_TEST_PYTHON (scripts/test sets it to the
# venv scripts/python-env makes), else the repository's .venv when it
# exists; exits 77 (ctest: skipped) when there is neither.
py=${HERD_TEST_PYTHON:-}
venv="$(cd "$(dirname "$0")/../.." && pwd)/.venv/bin/python"
[ -z "$py" ] && [ -x "$venv" ] && py=$venv
if [ -z "$py" ] || [ ! -x "$py" ]; then
  echo "skipped: no Python with the test packages (set HERD_TEST_PYTHON=\$(scripts/python-env); scripts/test does)"
  exit 77
fi
exec "$py" "$@"
