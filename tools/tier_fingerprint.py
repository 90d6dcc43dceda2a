"""Record or compare, bit for bit, what the avx512 tier's kernels compute.

    python tools/tier_fingerprint.py write FILE.npz    # in a normal build on an AVX-512 CPU
    python tools/tier_fingerprint.py compare FILE.npz  # in the emulation build (tools/emu512.sh)

The emulation build compiles vec.h's 16-lane kernels for AVX2 (csrc/vec_emu512.h); its contract is
that they give the native AVX-512 kernels' bits. This script runs every elementwise op of the C
registry, the reductions, softmax, batch norm, layer norm and cross-entropy (forward and backward)
on fixed inputs at the avx512 tier, one thread, float32 and float64, over lengths that cross every
vector and block edge, and either saves the results or checks that they equal the saved ones (NaN
payloads aside: a NaN must be a NaN). Exit status 1 on any difference, with the cases listed.
"""
import sys

import numpy as np

import autograd_core as ag
from autograd_core import _core

LENGTHS = (1, 7, 15, 16, 17, 33, 63, 64, 65, 127, 129, 255, 257, 511, 513, 1000, 4099)
PARAMS = {"clamp": (-1.5, 2.0), "leaky_relu": (0.125, 0.0), "affine": (2.0, 3.0), "pow_scalar": (3.0, 0.0),
          "rpow_scalar": (1.5, 0.0), "elu": (1.0, 0.0), "softplus": (1.0, 20.0)}
SPECIALS = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, -1e-40, 88.72284, -103.9721, 0.5, -0.5, 11.0, 3.4e38]
# float64's edges: the smallest subnormal, exp's overflow and underflow, tanh's and sigmoid's saturation,
# erf's clamp (6) and erfcx's piece edge (x = 4 sqrt 2), gelu's subnormal results and underflow to -0
SPECIALS64 = [0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, -1e-310, 709.79, -745.14, -708.5, 0.5, -0.5, 20.0,
              1.7e308, 6.0, -5.656854249492381, -38.5, -40.5]


def _values(rng, n, dtype):
    x = rng.standard_normal(n) * 4
    sp = SPECIALS64 if dtype == np.float64 else SPECIALS
    k = min(n, len(sp))
    x[rng.permutation(n)[:k]] = sp[:k]
    return x.astype(dtype)


def _tensor(a):
    return ag.tensor(np.ascontiguousarray(a))


def _np(t):
    return np.asarray(t.detach().numpy() if hasattr(t, "detach") else t).copy()


def _cases():
    """(name, thunk) pairs; every thunk runs at the current tier and returns an array."""
    cases = []
    for dtype in (np.float32, np.float64):
        dn = np.dtype(dtype).name
        code = {np.float32: 0, np.float64: 1}[dtype]
        for info in _core.op_table("unary"):
            if code not in info.dtypes:
                continue
            for n in LENGTHS:
                def unary(info=info, n=n, dtype=dtype):
                    x = _values(np.random.default_rng(n), n, dtype)
                    p0, p1 = PARAMS.get(info.name, (0.0, 0.0))
                    return np.asarray(_core.unary(info.code, _tensor(x), p0, p1)).copy()
                cases.append((f"unary {info.name} {dn} n={n}", unary))
        for info in _core.op_table("binary"):
            if code not in info.dtypes:
                continue
            for n in LENGTHS:
                def binary(info=info, n=n, dtype=dtype):
                    rng = np.random.default_rng(1000 + n)
                    a, b = _values(rng, n, dtype), _values(rng, n, dtype)
                    return np.asarray(_core.binary(info.code, _tensor(a), _tensor(b))).copy()
                cases.append((f"binary {info.name} {dn} n={n}", binary))
        for shape in ((3, 1), (5, 17), (4, 63), (3, 129), (2, 1000), (17, 33), (65, 7), (4099, 3)):
            for dim in (0, 1):
                for red in ("sum", "mean", "var", "std", "amax", "amin", "logsumexp", "norm", "argmax", "argmin",
                            "softmax", "log_softmax"):
                    def reduction(shape=shape, dim=dim, red=red, dtype=dtype):
                        rng = np.random.default_rng(shape[0] * 7919 + shape[1])
                        x = _tensor((rng.standard_normal(shape) * 3).astype(dtype))
                        if red in ("softmax", "log_softmax"):
                            x.requires_grad_()
                            y = getattr(ag.nn.functional, red)(x, dim=dim)
                            (y * _tensor(rng.standard_normal(shape).astype(dtype))).sum().backward()
                            return np.concatenate([_np(y).ravel(), _np(x.grad).ravel()])
                        if red == "norm":
                            return _np(x.norm(dim=dim))
                        return _np(getattr(x, red)(dim=dim))
                    cases.append((f"reduce {red} {dn} {shape} dim={dim}", reduction))
        for shape in ((4, 3), (8, 17), (5, 33, 7), (3, 16, 5, 6)):
            def batch_norm(shape=shape, dtype=dtype):
                rng = np.random.default_rng(sum(shape))
                x = _tensor((rng.standard_normal(shape) * 2 + 1).astype(dtype)).requires_grad_()
                w = _tensor(rng.standard_normal(shape[1]).astype(dtype)).requires_grad_()
                b = _tensor(rng.standard_normal(shape[1]).astype(dtype)).requires_grad_()
                y = ag.nn.functional.batch_norm(x, None, None, w, b, training=True)
                (y * _tensor(rng.standard_normal(shape).astype(dtype))).sum().backward()
                return np.concatenate([_np(y).ravel(), _np(x.grad).ravel(), _np(w.grad), _np(b.grad)])
            cases.append((f"batch_norm {dn} {shape}", batch_norm))
            def layer_norm(shape=shape, dtype=dtype):
                rng = np.random.default_rng(3 * sum(shape))
                x = _tensor((rng.standard_normal(shape) * 2 + 1).astype(dtype)).requires_grad_()
                w = _tensor(rng.standard_normal(shape[-1]).astype(dtype)).requires_grad_()
                y = ag.nn.functional.layer_norm(x, (shape[-1],), w, None)
                (y * _tensor(rng.standard_normal(shape).astype(dtype))).sum().backward()
                return np.concatenate([_np(y).ravel(), _np(x.grad).ravel(), _np(w.grad)])
            cases.append((f"layer_norm {dn} {shape}", layer_norm))
        for n, c in ((1, 3), (7, 17), (33, 10), (16, 129)):
            def cross_entropy(n=n, c=c, dtype=dtype):
                rng = np.random.default_rng(n * c)
                x = _tensor((rng.standard_normal((n, c)) * 3).astype(dtype)).requires_grad_()
                t = ag.tensor(rng.integers(0, c, n))
                loss = ag.nn.functional.cross_entropy(x, t)
                loss.backward()
                return np.concatenate([_np(loss).ravel(), _np(x.grad).ravel()])
            cases.append((f"cross_entropy {dn} ({n}, {c})", cross_entropy))
    return cases


def _bits(a):
    a = np.asarray(a)
    if a.dtype.kind != "f":
        return a.astype(np.int64), np.zeros(a.shape, bool)
    nan = np.isnan(a)
    u = a.view(np.uint32 if a.itemsize == 4 else np.uint64).astype(np.uint64)
    return np.where(nan, 0, u), nan


def run_all():
    old_tier, old_threads = _core.simd_target(), ag.get_num_threads()
    _core.set_simd_target("avx512")
    ag.set_num_threads(1)
    try:
        return {name: fn() for name, fn in _cases()}
    finally:
        _core.set_simd_target(old_tier)
        ag.set_num_threads(old_threads)


def write(path, results):
    np.savez_compressed(path, **{f"{i:05d}": v for i, v in enumerate(results.values())}, names=np.array(list(results)))


def compare(path, results):
    """The cases of the file at path whose results differ from `results`, one line each."""
    saved = np.load(path)
    bad = []
    for i, name in enumerate(saved["names"]):
        name = str(name)
        if name not in results:
            bad.append(f"{name}: not computed by this build")
            continue
        want, got = saved[f"{i:05d}"], results[name]
        if want.shape != got.shape or want.dtype != got.dtype:
            bad.append(f"{name}: shape/dtype {got.shape} {got.dtype}, native {want.shape} {want.dtype}")
            continue
        (wu, wn), (gu, gn) = _bits(want), _bits(got)
        diff = (wn != gn) | (wu != gu)
        if diff.any():
            k = int(np.argmax(diff.ravel()))
            bad.append(f"{name}: {int(diff.sum())} of {diff.size} differ (first at {k}: "
                       f"{got.ravel()[k]!r} vs native {want.ravel()[k]!r})")
    return bad, len(saved["names"])


def main(argv):
    if len(argv) != 3 or argv[1] not in ("write", "compare"):
        sys.exit(__doc__)
    if "avx512" not in _core.simd_targets():
        sys.exit("tier_fingerprint: this CPU has no avx512 tier (native or emulated)")
    results = run_all()
    if argv[1] == "write":
        write(argv[2], results)
        print(f"tier_fingerprint: {len(results)} cases written to {argv[2]}")
        return 0
    bad, total = compare(argv[2], results)
    print(f"tier_fingerprint: {total - len(bad)} of {total} cases bitwise equal to the native avx512 tier")
    for line in bad:
        print("  " + line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
