#!/usr/bin/env bash
# Build the extension in place, serialised with a lock so that parallel builds do not collide.
set -e
cd "$(dirname "$0")/.."
exec flock /tmp/agc_build.lock python setup.py build_ext --inplace -j 2 "$@"
