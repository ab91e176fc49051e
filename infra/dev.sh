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

# The interpreter itself, not a launcher: a pyenv/asdf shim (a script) is never the venv's interpreter
# to uv, which then removes and re-creates .venv on every command, pulling packages out from under a
# stack running in another terminal.
real_python() {
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || { echo "Mindly needs Python 3.11 or newer (found $("$PYTHON" --version 2>&1))" >&2; exit 1; }
  "$PYTHON" -c 'import sys; print(sys.executable)'
}

# What .venv was last synced from (uv, interpreter, uv.lock, pyproject.toml): set-up leaves a .venv
# that matches it untouched. Delete .venv/.mindly-setup to make the next set-up sync again.
setup_stamp() {
  { echo "uv $UV_VERSION"; echo "python $1"; "$1" -c 'import sys; print(sys.version)'
    cat uv.lock pyproject.toml; } | "$1" -c 'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())'
}

setup_locked() {
  local python stamp
  python=$(real_python)
  if [ ! -x .venv-uv/bin/uv ] || [ "$(.venv-uv/bin/uv --version | cut -d' ' -f2)" != "$UV_VERSION" ]; then
    "$python" -m venv --clear .venv-uv
    .venv-uv/bin/python -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
  fi
  stamp=$(setup_stamp "$python")
  if [ -x .venv/bin/python ] && [ "$(cat .venv/.mindly-setup 2>/dev/null)" = "$stamp" ]; then
    return 0
  fi
  .venv-uv/bin/uv sync --frozen --quiet --python "$python"
  echo "$stamp" > .venv/.mindly-setup
}

# One set-up at a time per checkout: two commands started at once (a stack in one terminal, the CLI
# in another) must not build .venv-uv or .venv under each other. flock where it exists (Linux), else
# a mkdir lock (macOS), taken over when its holder has died. The lock is released before the command
# itself runs, so a running stack never holds it.
setup() {
  mkdir -p .local
  local lock=.local/setup.lock holder
  if command -v flock >/dev/null 2>&1; then
    ( flock 9; setup_locked ) 9>"$lock"
    return
  fi
  until mkdir "$lock.d" 2>/dev/null; do
    holder=$(cat "$lock.d/pid" 2>/dev/null || true)
    if [ -n "$holder" ] && ! kill -0 "$holder" 2>/dev/null; then
      rm -rf "$lock.d"
    else
      sleep 0.2
    fi
  done
  echo $$ > "$lock.d/pid"
  trap "rm -rf '$lock.d'" EXIT
  setup_locked
  rm -rf "$lock.d"
  trap - EXIT
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
