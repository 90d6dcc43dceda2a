#!/usr/bin/env bash
# The emulation test build: `tools/emu512.sh [pytest args...]` builds this checkout in a scratch copy
# with AGC_EMU512=1, where the avx512 tier is vec.h's 16-lane kernels emulated on AVX2 (csrc/vec_emu512.h),
# and runs the tier-parametrised kernel tests there (default: the families written on vec.h). So the
# 512-bit kernels' logic (tails, masks, lane counts, sum trees) is tested on any AVX2 machine.
# Where this CPU really has AVX-512, it first records the native avx512 tier's results
# (tools/tier_fingerprint.py) and checks that the emulated kernels give the same bits.
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
dst="${AGC_EMU512_DIR:-/tmp/agc_emu512_$(basename "$src")}"
mkdir -p "$dst"
(cd "$src" && git ls-files -co --exclude-standard -z | tar --null -T - -cf -) | tar -xf - -C "$dst"
native="$dst/native_avx512.npz"
rm -f "$native"
if (cd "$src" && python -c "from autograd_core import _core; import sys; sys.exit('avx512' not in _core.simd_targets() or _core.SIMD_EMULATED)"); then
    (cd "$src" && PYTHONPATH="$src" python tools/tier_fingerprint.py write "$native")
fi
cd "$dst"
AGC_EMU512=1 flock /tmp/agc_build.lock python setup.py build_ext --inplace -j 2 >/dev/null
python -c "from autograd_core import _core; assert _core.SIMD_EMULATED and 'avx512' in _core.simd_targets(), 'the emulation build did not take'"
if [ -f "$native" ]; then
    PYTHONPATH="$dst" python tools/tier_fingerprint.py compare "$native"
else
    echo "emu512: this CPU lacks AVX-512: no native results to compare the emulation with"
fi
if [ $# -eq 0 ]; then
    set -- tests/test_kernels.py tests/test_vec_tiers.py tests/test_vec_tiers_families.py tests/test_reduce_kernels.py
fi
exec python -m pytest -p no:cacheprovider -x "$@"
