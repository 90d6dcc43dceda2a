"""Benchmark report: every benchmark family side by side in one process, then one summary of ratios.

    python benchmarks/report.py                                  # all families (several minutes)
    python benchmarks/report.py --quick --only overhead,elementwise
    python benchmarks/report.py --threads 2 --unset-openblas-env
    python -m autograd_core bench [the same options]

Families, in order: elementwise, reduce, overhead, gemm, conv, nn, optim, rnn. Each comes from
benchmarks/bench_<family>.py and its <family>_report() function, loaded by file path; a family whose
module or function is missing, or raises, gets a line saying so and the report goes on. Elementwise
and reductions fall back to tables built here from the public API when their module cannot give one.

The header names what the numbers depend on: SIMD target, thread count, CPU, load average, NumPy
and PyTorch versions, the BLAS NumPy runs and the OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE variables
(set on some machines for old OpenBLAS builds; they slow a current NumPy). --unset-openblas-env
reruns this script in a child process without both, for this command only.

The closing summary puts every family's cases in one convention: time(ours) / time(other), so
below 1.00 means ours is faster; "target" is the largest ratio the issues allow. Timings on a
shared machine are noisy: every contender is timed in turns with the others and the best run kept.
"""
import argparse
import importlib.util
import inspect
import math
import os
import platform
import subprocess
import sys
import time
import traceback

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH_DIR)
FAMILIES = ["elementwise", "reduce", "overhead", "gemm", "conv", "nn", "optim", "rnn"]
OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
_UNSET_NOTE = "AGC_BENCH_UNSET_OPENBLAS"  # tells the re-executed child what the parent removed
# arguments passed to a family's report function in --quick mode, where its signature accepts them
QUICK_KWARGS = {"repeat": 2, "number": 1, "memory": False, "quick": True}
BUILTIN_SIZES = {"1M": 1 << 20, "16M": 1 << 24}  # elementwise fallback; --quick keeps the first
BUILTIN_SHAPE = (4096, 1024)  # reduction fallback; --quick uses QUICK_SHAPE
QUICK_SHAPE = (1024, 1024)
ROW = 1024  # broadcast add: (n / ROW, ROW) + (ROW,)


# ------------------------------------------------------------------------------ timing
def time_calls(fns, repeat=7, min_time=0.01):
    """Seconds per call of each zero-argument callable, as name -> (best, median).

    Each callable runs once to warm up (allocator, caches, lazy initialisation), then is timed in
    batches long enough (>= min_time) for the clock; in each of `repeat` rounds the callables take
    turns, so load from other processes falls on all of them alike."""
    number = {}
    for name, f in fns.items():
        f()
        t0 = time.perf_counter()
        f()
        once = time.perf_counter() - t0
        number[name] = max(1, int(min_time / max(once, 1e-7)))
    samples = {name: [] for name in fns}
    for _ in range(repeat):
        for name, f in fns.items():
            n = number[name]
            t0 = time.perf_counter()
            for _ in range(n):
                f()
            samples[name].append((time.perf_counter() - t0) / n)
    result = {}
    for name, s in samples.items():
        s.sort()
        result[name] = (s[0], s[len(s) // 2])
    return result


# ------------------------------------------------------------------------------ the header
def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _blas_description(np):
    parts = []
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        parts.append(f"built with {blas.get('name')} {blas.get('version')}")
    except Exception:  # older NumPy: no dict form of the build configuration
        pass
    try:
        from threadpoolctl import threadpool_info

        for info in threadpool_info():
            if info.get("user_api") == "blas":
                parts.append(f"running {info.get('internal_api')} {info.get('version')}, kernel "
                             f"{info.get('architecture')}, {info.get('num_threads')} threads")
    except ImportError:
        parts.append("runtime kernel unknown (threadpoolctl not installed)")
    return "; ".join(parts) or "unknown"


def _load_average():
    try:
        return "%.2f %.2f %.2f" % os.getloadavg()
    except (AttributeError, OSError):
        return "unknown"


def _load_average_1min():
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def print_header(ag, np, torch, threads, out):
    print("=" * 100, file=out)
    now = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    print(f"autograd_core benchmark report  {now}", file=out)
    print(f"  SIMD target: {ag.simd_target()}    threads: {threads} (ours"
          + (", torch" if torch is not None else "") + f")    cores: {os.cpu_count()}", file=out)
    print(f"  CPU: {_cpu_model()}    load average (1/5/15 min): {_load_average()}", file=out)
    print(f"  Python {platform.python_version()}    numpy {np.__version__}    torch "
          + (torch.__version__ if torch is not None else "not installed (torch columns left out)"), file=out)
    print(f"  numpy BLAS: {_blas_description(np)}", file=out)
    unset = dict(item.split("=", 1) for item in os.environ.get(_UNSET_NOTE, "").split(";") if "=" in item)
    for var in OPENBLAS_VARS:
        if var in os.environ:
            state = (f"set to {os.environ[var]!r}: slows a current NumPy; --unset-openblas-env reruns "
                     "without it")
        elif var in unset:
            state = f"unset for this run by --unset-openblas-env (was {unset[var]!r})"
        else:
            state = "not set"
        print(f"  {var}: {state}", file=out)
    if os.environ.get("AGC_SIMD"):
        print(f"  AGC_SIMD={os.environ['AGC_SIMD']} (forced)", file=out)
    load = _load_average_1min()
    if load is not None and load > (os.cpu_count() or 1):
        print(f"  note: the machine is busy (load {load:.1f} on {os.cpu_count()} cores): multi-threaded "
              "timings (ours and torch) suffer most, since a thread that waits for a descheduled peer "
              "loses a whole scheduler slice; rerun when it is quiet or with --threads 1", file=out)
    print("=" * 100, file=out, flush=True)


# ------------------------------------------------------------------------------ loading the families
def load_family(family):
    """(module, None) for benchmarks/bench_<family>.py, or (None, reason) when it cannot be loaded."""
    path = os.path.join(BENCH_DIR, f"bench_{family}.py")
    if not os.path.exists(path):
        return None, f"{_shown(path)} does not exist"
    name = f"_agc_bench_{family}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        return None, f"importing {_shown(path)} raised {_describe(exc)}"
    return module, None


def _shown(path):
    """A path relative to the checkout when it lies inside it."""
    inside = os.path.commonpath([os.path.abspath(path), ROOT]) == ROOT
    return os.path.relpath(path, ROOT) if inside else path


def _describe(exc):
    """One line: the exception and the innermost frame it came from."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {os.path.basename(frames[-1].filename)}:{frames[-1].lineno})" if frames else ""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}{where}"


def _call_report(func, quick, threads):
    """Call a family's report function with the keyword arguments its signature accepts."""
    wanted = dict(QUICK_KWARGS) if quick else {}
    wanted["threads"] = threads
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        params = {}
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        kwargs = {k: v for k, v in wanted.items() if k == "threads" or k in params}
    else:
        kwargs = {k: v for k, v in wanted.items() if k in params}
    return func(**kwargs)


# ------------------------------------------------------------------------------ built-in tables
def _row(family, case, t, lim_np=None, lim_torch=None, note=""):
    """A summary row from seconds per call: name -> seconds (ours, numpy, torch; some may be None)."""
    ours, numpy_t, torch_t = (_finite(t.get(k)) for k in ("ours", "numpy", "torch"))
    return dict(family=family, case=case, ours=ours, numpy=numpy_t, torch=torch_t,
                r_np=ours / numpy_t if ours and numpy_t else None,
                r_torch=ours / torch_t if ours and torch_t else None,
                lim_np=lim_np, lim_torch=lim_torch, note=note)


def _finite(v):
    return v if isinstance(v, (int, float)) and math.isfinite(v) and v > 0 else None


def _print_time_table(title, rows, out):
    print(title, file=out)
    head = f"{'case':<34}{'ours ms':>10}{'numpy ms':>10}{'torch ms':>10}{'ours/numpy':>12}{'ours/torch':>12}"
    print(head, file=out)
    print("-" * len(head), file=out)
    for r in rows:
        cells = [f"{r['case']:<34}"]
        cells += [f"{r[k] * 1e3:>10.3f}" if r[k] else f"{'-':>10}" for k in ("ours", "numpy", "torch")]
        cells += [f"{r[k]:>11.2f}x" if r[k] else f"{'-':>12}" for k in ("r_np", "r_torch")]
        print("".join(cells) + (f"  {r['note']}" if r["note"] else ""), file=out, flush=True)
    print("ratios are time(ours) / time(other): below 1 means ours is faster.", file=out)


def _check(got, want, ag, np):
    got = np.asarray(got, dtype=np.float64)
    return "" if np.allclose(got, want, rtol=1e-4, atol=1e-5) else "MISMATCH against NumPy"


def builtin_elementwise(ag, np, torch, quick, out):
    """add, mul, broadcast add, exp, tanh, sigmoid, relu (float32) with the public API."""
    sizes = dict(list(BUILTIN_SIZES.items())[:1]) if quick else BUILTIN_SIZES
    np_ops = {"add": np.add, "mul": np.multiply, "broadcast add": np.add, "exp": np.exp, "tanh": np.tanh,
              "sigmoid": lambda x: 1 / (1 + np.exp(-x)), "relu": lambda x: np.maximum(x, 0)}
    rows = []
    rng = np.random.default_rng(0)
    for label, n in sizes.items():
        a = rng.standard_normal(n).astype(np.float32)
        b = rng.standard_normal(n).astype(np.float32)
        for op, np_op in np_ops.items():
            if op == "broadcast add":
                arrays = (a.reshape(n // ROW, ROW), b[:ROW])
            elif op in ("add", "mul"):
                arrays = (a, b)
            else:
                arrays = (a,)
            ours_in = [ag.from_numpy(x) for x in arrays]
            if op in ("add", "broadcast add"):
                fns = {"ours": lambda t=ours_in: t[0] + t[1]}
            elif op == "mul":
                fns = {"ours": lambda t=ours_in: t[0] * t[1]}
            else:
                fns = {"ours": lambda t=ours_in, f=getattr(ag, op): f(t[0])}
            fns["numpy"] = lambda x=arrays, f=np_op: f(*x)
            if torch is not None:
                torch_in = [torch.from_numpy(x) for x in arrays]
                binary_ops = {"add": torch.add, "broadcast add": torch.add, "mul": torch.mul}
                f = binary_ops.get(op) or getattr(torch, op)
                fns["torch"] = lambda t=torch_in, f=f: f(*t)
            note = _check(fns["ours"](), fns["numpy"]().astype(np.float64), ag, np)
            t = time_calls(fns, repeat=2 if quick else 7)
            binary = op in ("add", "mul", "broadcast add")
            rows.append(_row("elementwise", f"{op} float32 {label}", {k: v[0] for k, v in t.items()},
                             lim_np=1.0 if binary else None, lim_torch=1.0, note=note))
    _print_time_table(f"elementwise float32 (report.py's built-in table) | simd={ag.simd_target()} "
                      f"threads={ag.get_num_threads()}", rows, out)
    return rows


def builtin_reduce(ag, np, torch, quick, out):
    """sum over the last axis and axis 0, softmax and log_softmax over the last axis (float32)."""
    shape = QUICK_SHAPE if quick else BUILTIN_SHAPE
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)

    def np_log_softmax(a):
        s = a - a.max(axis=-1, keepdims=True)
        return s - np.log(np.exp(s).sum(axis=-1, keepdims=True))

    cases = {
        "sum axis=-1": (lambda t: t.sum(-1), lambda a: a.sum(axis=-1), lambda t: t.sum(-1)),
        "sum axis=0": (lambda t: t.sum(0), lambda a: a.sum(axis=0), lambda t: t.sum(0)),
        "softmax axis=-1": (lambda t: ag.softmax(t, -1), lambda a: np.exp(np_log_softmax(a)),
                            lambda t: torch.softmax(t, -1)),
        "log_softmax axis=-1": (lambda t: ag.log_softmax(t, -1), np_log_softmax,
                                lambda t: torch.log_softmax(t, -1)),
    }
    ours_x = ag.from_numpy(x)
    torch_x = torch.from_numpy(x) if torch is not None else None
    rows = []
    with ag.no_grad():
        for name, (f_ours, f_np, f_torch) in cases.items():
            fns = {"ours": lambda f=f_ours: f(ours_x), "numpy": lambda f=f_np: f(x)}
            if torch is not None:
                fns["torch"] = lambda f=f_torch: f(torch_x)
            note = _check(fns["ours"](), f_np(x.astype(np.float64)), ag, np)
            t = time_calls(fns, repeat=3 if quick else 11)
            rows.append(_row("reduce", f"{name} float32 {shape[0]}x{shape[1]}",
                             {k: v[0] for k, v in t.items()}, lim_torch=1.0, note=note))
    _print_time_table(f"reductions float32 (report.py's built-in table) | simd={ag.simd_target()} "
                      f"threads={ag.get_num_threads()}", rows, out)
    return rows


BUILTIN = {"elementwise": builtin_elementwise, "reduce": builtin_reduce}


# ------------------------------------------------------------------------------ summary rows
def _summary_rows(family, result, module, threads):
    """The family's returned rows in the summary's convention (see _row)."""
    if isinstance(result, list) and result and isinstance(result[0], dict) and "r_np" in result[0]:
        return result  # a built-in table
    rows = []
    if family == "elementwise":
        for case, ours, numpy_t, torch_t in result:
            binary = case.split(" float32")[0] in ("add", "mul", "broadcast add")
            rows.append(_row(family, case, dict(ours=ours, numpy=numpy_t, torch=torch_t),
                             lim_np=1.0 if binary else None, lim_torch=1.0))
    elif family == "reduce":
        targets = getattr(module, "TARGET_CASES", ["sum axis=-1", "sum axis=0", "softmax axis=-1",
                                                   "log_softmax axis=-1"])
        for case, t in result.items():
            rows.append(_row(family, case, t, lim_torch=1.0 if case in targets else None))
    elif family == "overhead":
        for r in result:
            rows.append(_row(family, f"{r['case']} per op (chain of 1000)", r, lim_torch=r.get("target")))
    elif family == "gemm":  # GFLOPS: a time ratio is the inverse GFLOPS ratio
        for r in result:
            g = {k: _finite(r.get(k)) for k in ("ours", "numpy", "torch")}
            row = _row(family, r["case"], {k: 1 / v if v else None for k, v in g.items()},
                       lim_np=1 / r["target"] if r.get("target") else None)
            row["ours"] = row["numpy"] = row["torch"] = None  # seconds per call are not returned
            rows.append(row)
    elif family == "conv":
        targets = {c[0]: (c[2], c[3]) for c in getattr(module, "CASES", []) if len(c) >= 4}
        for r in result:
            t_torch, t_numpy = targets.get(r["case"], (None, None))
            rows.append(_row(family, r["case"], r, lim_torch=t_torch,
                             lim_np=1 / t_numpy if t_numpy else None))
    elif family == "nn":
        groups = getattr(module, "GROUPS", {})
        for case, ours, numpy_t, torch_t in result:
            rows.append(_row(family, groups.get(case, case), dict(ours=ours, numpy=numpy_t, torch=torch_t),
                             lim_torch=1.0))
    elif family == "optim":
        for label, n_threads, ours, numpy_t, torch_t in result:
            adam = label == "Adam" and n_threads == threads  # issue 5: Adam, at the report's threads
            rows.append(_row(family, f"{label} step 10^6 params, {n_threads} thread(s)",
                             dict(ours=ours, numpy=numpy_t, torch=torch_t),
                             lim_np=1 / 3 if adam else None, lim_torch=1.0 if adam else None))
    elif family == "rnn":  # issue 15: at most 0.8x PyTorch's time
        groups = {case: entry[0] for case, entry in getattr(module, "CASES", {}).items()}
        for case, ours, torch_t in result:
            rows.append(_row(family, groups.get(case, case), dict(ours=ours, torch=torch_t), lim_torch=0.8))
    else:
        raise ValueError(f"no summary for family {family!r}")
    return rows


def _status(r):
    checks = [(r["r_np"], r["lim_np"]), (r["r_torch"], r["lim_torch"])]
    checks = [(v, lim) for v, lim in checks if lim is not None]
    if r.get("note"):
        return r["note"]
    if not checks:
        return ""
    if any(v is None for v, _ in checks):
        return "n/a (contender missing)"
    return "met" if all(v <= lim * (1 + 1e-9) for v, lim in checks) else "MISSED"


def print_summary(rows, problems, out):
    print("\n" + "=" * 100, file=out)
    print("SUMMARY: time(ours) / time(other). Below 1.00 = ours faster, above 1.00 = ours slower.", file=out)
    print("target: the largest ratio the issues allow (numpy<=0.33 means at least 3x faster than NumPy).",
          file=out)
    head = f"{'family':<12}{'case':<58}{'ours/numpy':>11}{'ours/torch':>11}  {'target':<24}status"
    print(head, file=out)
    print("-" * len(head), file=out)
    for r in rows:
        limits = (("numpy", r["lim_np"]), ("torch", r["lim_torch"]))
        target = " ".join(f"{name}<={lim:.2f}" for name, lim in limits if lim is not None)
        cells = f"{r['family']:<12}{r['case'][:57]:<58}"
        cells += f"{r['r_np']:>10.2f}x" if r["r_np"] else f"{'-':>11}"
        cells += f"{r['r_torch']:>10.2f}x" if r["r_torch"] else f"{'-':>11}"
        print(f"{cells}  {target:<24}{_status(r)}", file=out)
    with_target = [r for r in rows if _status(r) in ("met", "MISSED")]
    met = sum(_status(r) == "met" for r in with_target)
    print("-" * len(head), file=out)
    print(f"targets met: {met} of {len(with_target)} measured", file=out)
    for line in problems:
        print(f"problem: {line}", file=out)
    print(f"load average at the end (1/5/15 min): {_load_average()}", file=out, flush=True)


# ------------------------------------------------------------------------------ main
def parse_args(argv):
    parser = argparse.ArgumentParser(prog="report.py", description="Run the benchmark families side by "
                                     "side and print ratio tables (time ours / time other: below 1 = ours "
                                     "faster).")
    parser.add_argument("--only", metavar="LIST", help=f"comma-separated families from {','.join(FAMILIES)}")
    parser.add_argument("--quick", action="store_true", help="fewer repeats and smaller sizes: a smoke run")
    parser.add_argument("--threads", type=int, metavar="N", help="threads for ours, torch and NumPy's BLAS "
                        "(default: autograd_core's current setting)")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out of the built-in tables "
                        "and the header")
    parser.add_argument("--unset-openblas-env", action="store_true", help="rerun without OPENBLAS_CORETYPE "
                        "and OPENBLAS_L2_SIZE in this command's environment (they slow a current NumPy)")
    args = parser.parse_args(argv)
    if args.only:
        chosen = [f.strip() for f in args.only.split(",") if f.strip()]
        unknown = [f for f in chosen if f not in FAMILIES]
        args.families = [f for f in FAMILIES if f in chosen]  # always in the canonical order
        if unknown or not args.families:
            parser.error(f"--only: unknown family {', '.join(unknown) or '(none given)'}; "
                         f"choose from {', '.join(FAMILIES)}")
    else:
        args.families = list(FAMILIES)
    if args.threads is not None and args.threads < 1:
        parser.error(f"--threads must be >= 1, got {args.threads}")
    return args


def _rerun_without_openblas_env(argv):
    """Run this script again in a child process whose environment lacks both variables."""
    env = dict(os.environ)
    removed = ";".join(f"{v}={env.pop(v)}" for v in OPENBLAS_VARS if v in env)
    env[_UNSET_NOTE] = removed
    rest = [a for a in argv if a != "--unset-openblas-env"]
    return subprocess.call([sys.executable, os.path.abspath(__file__), *rest], env=env)


def main(argv=None, out=None):
    """Run the report; returns 0 when every selected family printed a table, 1 otherwise."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--"]:  # `python -m autograd_core bench -- --quick ...` passes the separator on
        argv = argv[1:]
    args = parse_args(argv)
    out = out or sys.stdout
    if args.unset_openblas_env and any(v in os.environ for v in OPENBLAS_VARS):
        # OpenBLAS reads them when NumPy loads it: only a fresh process can run without them
        return _rerun_without_openblas_env(argv)
    if os.path.isdir(os.path.join(ROOT, "autograd_core")) and ROOT not in sys.path:
        sys.path.insert(0, ROOT)

    import numpy as np

    import autograd_core as ag

    torch = None
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            torch = None
    old_threads = ag.get_num_threads()
    old_torch_threads = torch.get_num_threads() if torch is not None else None
    threads = args.threads or old_threads
    blas_limit = None
    if args.threads:
        try:
            from threadpoolctl import threadpool_limits

            blas_limit = threadpool_limits(limits=threads, user_api="blas")
        except ImportError:
            pass
    started = time.perf_counter()
    summary, problems = [], []
    try:
        ag.set_num_threads(threads)
        if torch is not None:
            torch.set_num_threads(threads)
        print_header(ag, np, torch, threads, out)
        if args.no_torch:
            print("  --no-torch: the families' own tables still time PyTorch where they import it", file=out)
        for family in args.families:
            rows = _run_family(family, args, threads, ag, np, torch, problems, out)
            summary += rows
            ag.set_num_threads(threads)  # a family may leave another setting behind
            if torch is not None:
                torch.set_num_threads(threads)
        print_summary(summary, problems, out)
        print(f"total {time.perf_counter() - started:.0f} s", file=out, flush=True)
    finally:
        ag.set_num_threads(old_threads)
        if torch is not None:
            torch.set_num_threads(old_torch_threads)
        if blas_limit is not None:
            blas_limit.restore_original_limits()
    return 1 if any(p.startswith("no table") for p in problems) else 0


def _run_family(family, args, threads, ag, np, torch, problems, out):
    """Print one family's tables; returns its summary rows (possibly none)."""
    print(f"\n---- {family} " + "-" * (94 - len(family)), file=out, flush=True)
    t0 = time.perf_counter()
    module, reason = load_family(family)
    func = getattr(module, f"{family}_report", None) if module is not None else None
    if module is not None and func is None:
        reason = f"bench_{family}.py has no {family}_report() function"
    result, printed = None, False
    if func is not None:
        saved = {}
        if hasattr(module, "THREADS"):  # modules that fix their own thread count follow --threads
            saved["THREADS"], module.THREADS = module.THREADS, threads
        sizes = getattr(module, "SIZES", None)
        if args.quick and isinstance(sizes, dict) and len(sizes) > 1:  # quick: the smallest size only
            saved["SIZES"], module.SIZES = sizes, dict(list(sizes.items())[:1])
        try:
            result = _call_report(func, args.quick, threads)
            printed = True
        except Exception as exc:
            reason = f"{family}_report() raised {_describe(exc)}"
        finally:
            for name, value in saved.items():
                setattr(module, name, value)
    if reason:
        print(f"{family}: {reason}", file=out, flush=True)
    if not printed and family in BUILTIN:
        print(f"{family}: using report.py's built-in table instead", file=out, flush=True)
        try:
            result = BUILTIN[family](ag, np, torch, args.quick, out)
            printed = True
        except Exception as exc:
            reason = f"{reason}; the built-in table raised {_describe(exc)}"
    if not printed:
        problems.append(f"no table for {family}: {reason}")
        return []
    if reason:
        problems.append(f"{family}: {reason} (built-in table printed instead)")
    rows = []
    try:
        rows = _summary_rows(family, result, module, threads) if result else []
    except Exception as exc:
        problems.append(f"{family}: its rows could not be read for the summary ({_describe(exc)})")
    print(f"({family}: {time.perf_counter() - t0:.1f} s)", file=out, flush=True)
    return rows


if __name__ == "__main__":
    sys.exit(main())
