#!/usr/bin/env bash
# Build the extension with AddressSanitizer + UBSan (AGC_SANITIZE=1) in a scratch copy of this
# checkout and run pytest there: `tools/sanitize.sh [pytest args...]` (default: the whole suite).
# Any sanitizer report fails the run (halt_on_error). Leak detection is off: CPython itself keeps
# memory alive at exit, which LeakSanitizer would report.
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
dst="${AGC_SANITIZE_DIR:-/tmp/agc_sanitize_$(basename "$src")}"
mkdir -p "$dst"
# the tracked and untracked-but-not-ignored files, as they are in the working tree
(cd "$src" && git ls-files -co --exclude-standard -z) | rsync -a --from0 --files-from=- "$src/" "$dst/"
cd "$dst"
AGC_SANITIZE=1 flock /tmp/agc_build.lock python setup.py build_ext --inplace -j 2 >/dev/null
asan="$(gcc -print-file-name=libasan.so)"
ubsan="$(gcc -print-file-name=libubsan.so)"
export LD_PRELOAD="$asan:$ubsan"
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export AGC_SANITIZED=1
exec python -m pytest -p no:cacheprovider -x "${@:-tests}"
