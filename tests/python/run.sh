#!/bin/sh
# Runs a Python test with $HERD_TEST_PYTHON (scripts/python-env makes it,
# scripts/test sets it); exit 77, ctest's "skipped", when it is not set.
if [ -z "${HERD_TEST_PYTHON:-}" ]; then
  echo "skipped: HERD_TEST_PYTHON is not set (scripts/python-env makes the venv; scripts/test sets it)"
  exit 77
fi
exec "$HERD_TEST_PYTHON" "$@"
