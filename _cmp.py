import time, sys
import numpy as np
import autograd_core as ag, torch
def best(f, n=15):
    f(); b = 1e9
    for _ in range(n):
        t = time.perf_counter(); f(); b = min(b, time.perf_counter() - t)
    return b * 1e3
kind, I, H, T, B = sys.argv[1], *map(int, sys.argv[2:6])
nt = int(sys.argv[6]) if len(sys.argv) > 6 else 2
x = np.random.default_rng(0).standard_normal((T, B, I)).astype(np.float32)
for lib in (ag, torch):
    lib.set_num_threads(nt)
    m = getattr(lib.nn, kind)(I, H)
    xt = lib.tensor(x, requires_grad=True)
    def fb():
        out, _ = m(xt); out.sum().backward()
    def f():
        with lib.no_grad(): m(xt)
    print(lib.__name__, "fwd+bwd %.3f  fwd %.3f" % (best(fb), best(f)))
