"""Per-op framework overhead in instructions, counted by valgrind's callgrind: steadier than wall time
on a shared machine, so a change of 1-2% in the Python path around a kernel can be seen.

Each case runs its body n and 2n times after a warm-up, and (count(2n) - count(n)) / n is its
instructions per call: the loop's start-up cancels, and the imports are not counted at all.

    python benchmarks/callgrind_overhead.py                 # every case, this checkout
    python benchmarks/callgrind_overhead.py --root DIR      # the package under DIR (a saved copy)
    python benchmarks/callgrind_overhead.py --case mul      # one case
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

# name -> (setup, body): the body is what one call costs
CASES = {
    "nograd a*b": ("a = ag.ones(16); b = ag.ones(16)", "a * b"),
    "nograd a*2.0": ("a = ag.ones(16)", "a * 2.0"),
    "nograd ag.mul(a,b)": ("a = ag.ones(16); b = ag.ones(16)", "ag.mul(a, b)"),
    "nograd exp(a)": ("a = ag.ones(16)", "ag.exp(a)"),
    "nograd a.tanh()": ("a = ag.ones(16)", "a.tanh()"),
    "nograd hypot(a,b)": ("a = ag.ones(16); b = ag.ones(16)", "ag.hypot(a, b)"),
    "grad a*b": ("a = ag.ones(16, requires_grad=True); b = ag.ones(16)", "a * b"),
    "grad a*2.0": ("a = ag.ones(16, requires_grad=True)", "a * 2.0"),
    "grad exp(a)": ("a = ag.ones(16, requires_grad=True)", "ag.exp(a)"),
    "grad hypot(a,b)": ("a = ag.ones(16, requires_grad=True); b = ag.ones(16)", "ag.hypot(a, b)"),
    # composite ops (a Function over other ops): the record-or-call decision in Function.apply
    "nograd sinh(a)": ("a = ag.ones(16)", "ag.sinh(a)"),
    "grad sinh(a)": ("a = ag.ones(16, requires_grad=True)", "ag.sinh(a)"),
    "nograd mish(a)": ("a = ag.ones(16)", "ag.mish(a)"),
    "grad mish(a)": ("a = ag.ones(16, requires_grad=True)", "ag.mish(a)"),
    "nograd floor(a)": ("a = ag.ones(16)", "ag.floor(a)"),
    "grad floor(a)": ("a = ag.ones(16, requires_grad=True)", "ag.floor(a)"),
    "nograd trunc(a)": ("a = ag.ones(16)", "ag.trunc(a)"),
    "nograd fmax(a,b)": ("a = ag.ones(16); b = ag.ones(16)", "ag.fmax(a, b)"),
    "grad fmax(a,b)": ("a = ag.ones(16, requires_grad=True); b = ag.ones(16)", "ag.fmax(a, b)"),
    "nograd clamp(a,t,t)": ("a = ag.ones(16); lo = ag.zeros(16); hi = ag.ones(16)", "ag.clamp(a, lo, hi)"),
    "nograd where(c,a,b)": ("a = ag.ones(16); b = ag.ones(16); c = a > 0", "ag.where(c, a, b)"),
    "grad where(c,a,b)": ("a = ag.ones(16, requires_grad=True); b = ag.ones(16); c = a > 0", "ag.where(c, a, b)"),
    "nograd pow(a,b)": ("a = ag.ones(16); b = ag.ones(16)", "ag.pow(a, b)"),
    "grad pow(a,b)": ("a = ag.ones(16, requires_grad=True); b = ag.ones(16)", "ag.pow(a, b)"),
    "grad maximum(a,b)": ("a = ag.ones(16, requires_grad=True); b = ag.ones(16)", "ag.maximum(a, b)"),
    "mlp step": (
        ("ag.manual_seed(0); m = ag.nn.Sequential(ag.nn.Linear(8, 16), ag.nn.ReLU(), ag.nn.Linear(16, 2));"
         " opt = ag.optim.SGD(m.parameters(), lr=0.01); x = ag.randn(4, 8); y = ag.randn(4, 2)"),
        "opt.zero_grad(); ag.nn.functional.mse_loss(m(x), y).backward(); opt.step()"),
}
CALLS = {"mlp step": 200}
DEFAULT_CALLS = 2000

# every case in one process: each `exec` is measured alone (callgrind collects only inside
# builtin_exec and dumps on leaving it); the imports before them are outside the count
PROGRAM = """
import sys
sys.path.insert(0, {root!r})
import autograd_core as ag
for name, (setup, body), n in {cases!r}:
    env = {{"ag": ag}}
    exec(setup + "\\ndef run(n):\\n    for _ in range(n):\\n        " + body, env)
    env["run"](50)
    exec("run(%d)" % n, env)
    exec("run(%d)" % (2 * n), env)
"""


def measure(root, names):
    """{name: instructions per call}: (run(2n) - run(n)) / n, so the loop's start-up cancels."""
    cases = [(name, CASES[name], CALLS.get(name, DEFAULT_CALLS)) for name in names]
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg.out")
        proc = subprocess.run(["valgrind", "--tool=callgrind", "--collect-atstart=no", "--toggle-collect=builtin_exec",
                               "--dump-after=builtin_exec", f"--callgrind-out-file={out}", sys.executable, "-c",
                               PROGRAM.format(root=root, cases=cases)],
                              capture_output=True, text=True, check=False, env=dict(os.environ, OMP_NUM_THREADS="1"))
        if proc.returncode:
            raise RuntimeError(proc.stderr[-2000:])
        dumps = sorted((f for f in os.listdir(tmp) if f.startswith("cg.out")),
                       key=lambda f: int(f.rsplit(".", 1)[1]) if f[-1].isdigit() else 0)
        totals = []
        for f in dumps:
            with open(os.path.join(tmp, f)) as fh:
                totals.append(int(re.search(r"^totals: (\d+)", fh.read(), re.MULTILINE).group(1)))
    # per case: the setup exec, then run(n), then run(2n)
    totals = totals[-3 * len(cases):]
    return {name: (totals[3 * i + 2] - totals[3 * i + 1]) / n for i, (name, _, n) in enumerate(cases)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    parser.add_argument("--case", action="append")
    args = parser.parse_args()
    for name, count in measure(args.root, args.case or list(CASES)).items():
        print(f"{name:22s} {count:10.0f}", flush=True)


if __name__ == "__main__":
    main()
