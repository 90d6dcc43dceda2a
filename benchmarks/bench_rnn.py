"""Recurrent layer benchmarks (issue 15): nn.LSTM, nn.GRU and nn.RNN, ours and PyTorch side by side.

Cases, float32, batch-major sequences (seq, batch, features):
  small    input 64, hidden 128, seq 32, batch 32, one layer
  large    input 256, hidden 512, seq 128, batch 64, one layer
  bidir2   input 64, hidden 128, seq 32, batch 32, two layers, bidirectional
each as forward + backward (sum of the output) and as a no-grad forward, plus
  charlm   a character-level LSTM language model training step: Embedding(65, 64) -> LSTM(64, 256)
           -> Linear(256, 65), sequence 64, batch 32, cross-entropy, Adam
Both libraries run at the same thread count (ag.get_num_threads(); set it with --threads).
Target: ours / torch <= 0.8 at 2 threads.

    python benchmarks/bench_rnn.py [--threads 2] [--quick] [--only lstm_small,charlm] [--cpu-time]
    pytest benchmarks/bench_rnn.py --benchmark-only            # pytest-benchmark groups
"""
import argparse
import os
import sys
import time

import numpy as np
import pytest

if __name__ == "__main__":  # run as a script from a source checkout: import the package beside it
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import autograd_core as ag
from autograd_core import _core

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import time_settled

try:
    import torch
except ImportError:
    torch = None

SIZES = {
    "small": {"input": 64, "hidden": 128, "seq": 32, "batch": 32, "layers": 1, "bidirectional": False},
    "large": {"input": 256, "hidden": 512, "seq": 128, "batch": 64, "layers": 1, "bidirectional": False},
    "bidir2": {"input": 64, "hidden": 128, "seq": 32, "batch": 32, "layers": 2, "bidirectional": True},
}
KINDS = ("LSTM", "GRU", "RNN")
CHARLM = {"vocab": 65, "embed": 64, "hidden": 256, "seq": 64, "batch": 32}


def _tensor(lib, a, requires_grad=False):
    if lib is torch:
        return torch.tensor(a, requires_grad=requires_grad)
    return ag.tensor(a, requires_grad=requires_grad)


def lib_layer(lib, kind, size, grad):
    """A step: forward (+ backward of the output's sum when grad) of one recurrent module."""
    cfg = SIZES[size]
    lib.manual_seed(0)
    m = getattr(lib.nn, kind)(cfg["input"], cfg["hidden"], num_layers=cfg["layers"],
                              bidirectional=cfg["bidirectional"])
    x = np.random.default_rng(0).standard_normal((cfg["seq"], cfg["batch"], cfg["input"])).astype(np.float32)
    x = _tensor(lib, x, requires_grad=grad)
    if grad:
        def step():
            m.zero_grad()
            out, _ = m(x)
            out.sum().backward()
    else:
        def step():
            with lib.no_grad():
                m(x)
    return step


def lib_charlm(lib):
    cfg = CHARLM

    class CharLM(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = lib.nn.Embedding(cfg["vocab"], cfg["embed"])
            self.lstm = lib.nn.LSTM(cfg["embed"], cfg["hidden"], batch_first=True)
            self.head = lib.nn.Linear(cfg["hidden"], cfg["vocab"])

        def forward(self, tokens):
            out, _ = self.lstm(self.embed(tokens))
            return self.head(out)

    lib.manual_seed(0)
    model = CharLM()
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    r = np.random.default_rng(0)
    tokens = r.integers(0, cfg["vocab"], (cfg["batch"], cfg["seq"] + 1))
    inp = _tensor(lib, tokens[:, :-1])
    target = _tensor(lib, tokens[:, 1:].reshape(-1))
    loss_fn = lib.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        logits = model(inp)
        loss = loss_fn(logits.reshape(-1, cfg["vocab"]), target)
        loss.backward()
        opt.step()
    return step


def cases():
    """name -> (group, maker(lib))"""
    out = {}
    for size, cfg in SIZES.items():
        for kind in KINDS:
            for grad in (True, False):
                name = f"{kind.lower()}_{size}_{'fwdbwd' if grad else 'fwd'}"
                group = (f"rnn {kind} in{cfg['input']} h{cfg['hidden']} seq{cfg['seq']} b{cfg['batch']} "
                         f"l{cfg['layers']}{' bidir' if cfg['bidirectional'] else ''} "
                         f"{'fwd+bwd' if grad else 'no-grad fwd'} float32")
                out[name] = (group, lambda lib, kind=kind, size=size, grad=grad: lib_layer(lib, kind, size, grad))
    out["charlm_step"] = ("rnn char-LM LSTM 64-256 seq64 b32 adam step float32", lib_charlm)
    return out


CASES = cases()


# ------------------------------------------------------------------------------ pytest-benchmark
@pytest.mark.parametrize("case", list(CASES))
def test_bench_ours(benchmark, case):
    benchmark.group = CASES[case][0]
    benchmark(CASES[case][1](ag))


@pytest.mark.skipif(torch is None, reason="torch not installed")
@pytest.mark.parametrize("case", list(CASES))
def test_bench_torch(benchmark, case):
    benchmark.group = CASES[case][0]
    benchmark(CASES[case][1](torch))


# ------------------------------------------------------------------------------ report
def rnn_report(quick=False, only=None, cpu_time=False):
    """Print ours vs torch per case (both timed in the same run, in turns); returns rows
    (case, ours seconds, torch seconds). cpu_time: process CPU time instead of wall time (summed
    over threads; at 1 thread it is what each library costs, whatever else loads the machine)."""
    threads = ag.get_num_threads()
    if torch is not None:
        torch.set_num_threads(threads)
    clock = time.process_time if cpu_time else time.perf_counter
    print(f"recurrent layers, float32 | simd={_core.simd_target()} threads={threads} "
          f"clock={'cpu' if cpu_time else 'wall'}")
    header = f"{'case':<22}{'ours ms':>10}{'torch ms':>10}{'ours/torch':>12}"
    print(header)
    print("-" * len(header))
    rows = []
    for case, (_, make) in CASES.items():
        if only and not any(o in case for o in only):
            continue
        steps = {"ours": make(ag)}
        if torch is not None:
            steps["torch"] = make(torch)
        best = time_settled(steps, budget=0.3 if quick else 1.5, rounds=2 if quick else 3, batch=0.02, clock=clock)
        t_ours, t_torch = best["ours"], best.get("torch", float("nan"))
        rows.append((case, t_ours, t_torch))
        print(f"{case:<22}{t_ours * 1e3:>10.3f}{t_torch * 1e3:>10.3f}{t_ours / t_torch:>11.2f}x", flush=True)
    print("ours/torch < 1: ours faster. Target: <= 0.80 at 2 threads.")
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default=None, help="comma-separated substrings of case names")
    parser.add_argument("--cpu-time", action="store_true", help="time process CPU time instead of wall time")
    args = parser.parse_args()
    if args.threads:
        ag.set_num_threads(args.threads)
    rnn_report(quick=args.quick, only=args.only.split(",") if args.only else None, cpu_time=args.cpu_time)
