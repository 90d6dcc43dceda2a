"""Two builds of autograd_core side by side on one SIMD tier: the same cases timed in each.

    python benchmarks/ab_builds.py OLD_ROOT NEW_ROOT [--simd avx2] [--rounds 3] [--threads 2] [--only REGEX]

OLD_ROOT and NEW_ROOT are checkouts with a built extension (for example a `git worktree` of an older
commit after `tools/build.sh`). Each round starts one child process per build, with AGC_SIMD set (a
build that predates the variable uses its own choice), 2 threads (--threads) and the adaptive thread
cap off; the parent asks them for one case at a time, old and new in turn (which goes first
alternates; the other is stopped meanwhile), so the two timings of a case are seconds apart. Each case
keeps its best time over the rounds. It answers "did this change make a tier slower", for example the
AVX2 tier on a machine that also has AVX-512. The VM this was written on has minutes-long phases in
which 2 threads run no faster than 1; timing each case's two builds back to back keeps such a phase
from landing on one build only, and fresh processes each round vary where buffers land in the caches.
Cases: GEMM squares and MLP forms, the four benchmark convolutions, elementwise ops at 1M and 16M,
row/column reductions, softmax, batch norm, Adam, and MLP and LeNet-5 training steps.
"""
import argparse
import json
import os
import signal
import subprocess
import sys

CHILD = r'''
import json, os, sys, time
import numpy as np
import autograd_core as ag
import autograd_core.nn as nn
import autograd_core.nn.functional as F
ag.set_num_threads(int(os.environ.get("AB_THREADS", "2")))
try:
    ag.manual_seed(0)
except Exception:
    pass
out = {"simd": ag._core.simd_target() if hasattr(ag._core, "simd_target") else "?"}
def best(fn, min_time=0.15, reps=5):
    fn()
    t_best = 1e9
    for _ in range(reps):
        n, t0 = 0, time.perf_counter()
        while True:
            fn(); n += 1
            dt = time.perf_counter() - t0
            if dt > min_time / reps: break
        t_best = min(t_best, dt / n)
    return t_best
import os, re as _re
_only = os.environ.get("AB_ONLY")
cases = {}  # timed later, on request: a case's function binds loop variables as default arguments
def case(name, fn, **kw):
    if _only and not _re.search(_only, name):
        return
    fn()  # the first call (allocations, first-touch) outside the timing
    cases[name] = (fn, kw)
rng = np.random.default_rng(0)
T = lambda *s, dt=np.float32: ag.tensor(rng.standard_normal(s).astype(dt))
for n in (64, 128, 256, 512, 1024):
    a, b = T(n, n), T(n, n)
    case(f"gemm f32 {n}", lambda a=a, b=b: a @ b)
for n in (64, 256, 1024):
    a, b = T(n, n, dt=np.float64), T(n, n, dt=np.float64)
    case(f"gemm f64 {n}", lambda a=a, b=b: a @ b)
x, w, g = T(128, 784), T(256, 784), T(128, 256)
case("mlp x@W^T", lambda: x @ w.T)
case("mlp g@W", lambda: g @ w)
case("mlp g^T@x", lambda: g.T @ x)
for name, xs, ws in (("lenet1", (64, 1, 32, 32), (6, 1, 5, 5)), ("lenet2", (64, 6, 14, 14), (16, 6, 5, 5)),
                     ("res64@56", (16, 64, 56, 56), (64, 64, 3, 3)), ("res128@28", (32, 128, 28, 28), (128, 128, 3, 3))):
    xi, wi = T(*xs), T(*ws)
    pad = 1 if ws[-1] == 3 else 0
    def fwd(xi=xi, wi=wi, pad=pad):
        F.conv2d(xi, wi, padding=pad)
    case(f"conv {name} fwd", fwd, min_time=0.3)
    xg, wg = T(*xs).requires_grad_(), T(*ws).requires_grad_()
    def fb(xg=xg, wg=wg, pad=pad):
        F.conv2d(xg, wg, padding=pad).sum().backward()
    case(f"conv {name} fwd+bwd", fb, min_time=0.4)
v, u = T(1 << 20), T(1 << 20)
for op in ("exp", "tanh", "sigmoid"):
    f = getattr(ag, op)
    case(f"{op} 1M", lambda f=f: f(v))
case("gelu 1M", lambda: F.gelu(v))
case("add 1M", lambda: v + u)
case("mul 1M", lambda: v * u)
big = T(1 << 24)
case("exp 16M", lambda: ag.exp(big), min_time=0.5)
m = T(4096, 1024)
case("sum rows 4096x1024", lambda: m.sum(dim=1))
case("sum cols 4096x1024", lambda: m.sum(dim=0))
case("softmax 4096x1024", lambda: F.softmax(m, dim=1))
case("log_softmax 4096x1024", lambda: F.log_softmax(m, dim=1))
case("var rows 4096x1024", lambda: m.var(dim=1))
mlp = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
opt = ag.optim.SGD(mlp.parameters(), lr=0.01)
xb, yb = T(128, 784), ag.tensor(rng.integers(0, 10, 128))
def mlp_step():
    opt.zero_grad(); F.cross_entropy(mlp(xb), yb).backward(); opt.step()
case("mlp train step", mlp_step, min_time=0.3)
lenet = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                      nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                      nn.Linear(84, 10))
opt2 = ag.optim.SGD(lenet.parameters(), lr=0.01)
xl, yl = T(64, 1, 28, 28), ag.tensor(rng.integers(0, 10, 64))
def lenet_step():
    opt2.zero_grad(); F.cross_entropy(lenet(xl), yl).backward(); opt2.step()
case("lenet train step", lenet_step, min_time=0.4)
bn = nn.BatchNorm2d(64); xbn = T(32, 64, 28, 28)
case("batchnorm2d fwd", lambda: bn(xbn))
adam_p = [ag.tensor(np.zeros(1 << 20, np.float32)).requires_grad_()]
adam_p[0].grad = T(1 << 20)
adam = ag.optim.Adam(adam_p, lr=1e-3)
case("adam step 1M", adam.step)
print(json.dumps({"simd": out["simd"], "cases": list(cases)}), flush=True)
for line in sys.stdin:  # one case name a line; answers its best time in seconds
    fn, kw = cases[line.strip()]
    print(best(fn, **kw), flush=True)
'''

class Child:
    """One build's benchmark process: sets up the cases once, then times the one it is asked for."""

    def __init__(self, root, simd, only, threads):
        env = dict(os.environ, PYTHONPATH=os.path.abspath(root), AGC_SIMD=simd, AGC_ADAPTIVE="0",
                   AB_THREADS=str(threads))
        if only:
            env["AB_ONLY"] = only
        self.root = root
        self.proc = subprocess.Popen([sys.executable, "-c", CHILD], env=env, cwd=os.path.abspath(root),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        head = json.loads(self._line())
        self.simd, self.cases = head["simd"], head["cases"]
        os.kill(self.proc.pid, signal.SIGSTOP)

    def _line(self):
        line = self.proc.stdout.readline()
        if not line:
            sys.exit(f"{self.root}: the benchmark process ended (its error is above)")
        return line

    def time(self, name):
        """The case's best time; the process is stopped (SIGSTOP) between requests, so that its idle
        worker threads cannot spin beside the other build's timing."""
        os.kill(self.proc.pid, signal.SIGCONT)
        self.proc.stdin.write(name + "\n")
        self.proc.stdin.flush()
        t = float(self._line())
        os.kill(self.proc.pid, signal.SIGSTOP)
        return t

    def close(self):
        os.kill(self.proc.pid, signal.SIGCONT)
        self.proc.stdin.close()
        self.proc.wait()


ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("old_root")
ap.add_argument("new_root")
ap.add_argument("--simd", default="avx2")
ap.add_argument("--rounds", type=int, default=3)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--only", default=None, help="a regular expression: run the matching cases only")
args = ap.parse_args()
old_root, new_root, rounds = args.old_root, args.new_root, args.rounds
best = {old_root: {}, new_root: {}}
for i in range(rounds):
    # fresh processes each round: where a process's buffers land in the caches (and in huge pages) moves
    # a memory-bound case by several percent, and a whole run in one process would keep one placement
    old, new = (Child(root, args.simd, args.only, args.threads) for root in (old_root, new_root))
    names = [k for k in new.cases if k in old.cases]
    for j, name in enumerate(names):
        for child in ((old, new) if (i + j) % 2 == 0 else (new, old)):
            best[child.root][name] = min(best[child.root].get(name, 1e9), child.time(name))
    old.close()
    new.close()
print(f"old {old_root} simd={old.simd}  new {new_root} simd={new.simd}  rounds={rounds}  "
      f"threads={args.threads}")
print(f"{'case':28s} {'old ms':>9s} {'new ms':>9s} {'new/old':>8s}")
for k in names:
    o, n = best[old_root][k] * 1e3, best[new_root][k] * 1e3
    flag = "  <-- >3% worse" if n / o > 1.03 else ""
    print(f"{k:28s} {o:9.3f} {n:9.3f} {n / o:8.3f}{flag}")
