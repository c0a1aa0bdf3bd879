#!/usr/bin/env bash
# Compile requirements/runtime.in and dev.in into runtime.lock and dev.lock: every package, transitive ones too,
# pinned with its hashes (uv pip compile; versions already locked are kept: `scripts/lock.sh --upgrade` moves them).
# Each lock records the sha256 of its inputs; `scripts/lock.sh --check` (run by `make test`) fails when an input
# changed since its lock was compiled. Needs no virtualenv for --check.
set -euo pipefail
cd "$(dirname "$0")/.."
UV_VERSION=0.13.8

inputs_of() {
  case "$1" in
    runtime) echo requirements/runtime.in ;;
    # dev.in includes runtime.in and is constrained by runtime.lock: a change in either makes dev.lock stale.
    dev) echo requirements/dev.in requirements/runtime.in requirements/runtime.lock ;;
  esac
}
stamp_of() { cat $(inputs_of "$1") | sha256sum | cut -d' ' -f1; }
stamp_line() { echo "# inputs sha256: $(stamp_of "$1")"; }

if [ "${1:-}" = "--check" ]; then
  for name in runtime dev; do
    lock=requirements/$name.lock
    if ! grep -qxF "$(stamp_line "$name")" "$lock" 2>/dev/null; then
      echo "$lock is stale: one of $(inputs_of "$name" | sed 's/ /, /g') changed since it was compiled; run scripts/lock.sh" >&2
      exit 1
    fi
  done
  exit 0
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
if [ "$(.venv/bin/uv --version 2>/dev/null | cut -d' ' -f2)" != "$UV_VERSION" ]; then
  .venv/bin/pip install -q --disable-pip-version-check "uv==$UV_VERSION"
fi
for name in runtime dev; do
  lock=requirements/$name.lock
  .venv/bin/uv pip compile --quiet --generate-hashes --python-version 3.11 \
    --custom-compile-command scripts/lock.sh "$@" --output-file "$lock" "requirements/$name.in"
  { stamp_line "$name"; grep -v '^# inputs sha256: ' "$lock"; } > "$lock.new" && mv "$lock.new" "$lock"
  echo "==> $lock: $(grep -c '^[a-z0-9]' "$lock") packages"
done
