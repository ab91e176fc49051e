#!/usr/bin/env bash
# Set up everything and run Mindly locally. Needs only Python 3.11+ and the package registries.
#
#   bash infra/dev.sh serve [--port N]   install, then start the whole backend on 127.0.0.1:8000
#   bash infra/dev.sh test [pytest args] install, then run the whole test suite
#   bash infra/dev.sh cli COMMAND        install, then run a local CLI command (see --help), e.g. the
#                                        daily-streak job against the running local stack
#   bash infra/dev.sh setup              install only
#
# Installs are reproducible: uv (pinned below) installs exactly what uv.lock says into .venv.
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION=0.13.9
PYTHON=${PYTHON:-python3}
export UV_PYTHON_DOWNLOADS=never UV_NO_PROGRESS=1

setup() {
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || { echo "Mindly needs Python 3.11 or newer (found $("$PYTHON" --version 2>&1))" >&2; exit 1; }
  if [ ! -x .venv-uv/bin/uv ] || [ "$(.venv-uv/bin/uv --version | cut -d' ' -f2)" != "$UV_VERSION" ]; then
    "$PYTHON" -m venv --clear .venv-uv
    .venv-uv/bin/python -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
  fi
  .venv-uv/bin/uv sync --frozen --quiet --python "$(command -v "$PYTHON")"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
  setup) setup ;;
  serve) setup; exec .venv/bin/python -m infra.dev_server "$@" ;;
  # Two workers by default (each runs its own emulators); pass -n N (or -n 0) to change it.
  test)  setup; exec .venv/bin/python -m pytest -n "${MINDLY_TEST_WORKERS:-2}" "$@" ;;
  cli)   setup; exec .venv/bin/python -m infra.cli "$@" ;;
  *) echo "usage: bash infra/dev.sh serve|test|cli|setup [args]" >&2; exit 2 ;;
esac
