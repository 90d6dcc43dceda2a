"""Command line: `python -m autograd_core {demo,info,bench,run}` (installed as `autograd-core` too).

demo   train a small LeNet-style CNN on the shipped handwritten digits and report test accuracy
info   version, SIMD target, threads and build flags
bench  run the benchmark report (benchmarks/report.py in a source checkout; from an installed package,
       the short built-in benchmark of autograd_core/benchmark.py)
run    run an unmodified PyTorch program: `run script.py [args...]`, with torch and torchvision
       resolving to autograd_core (see runner.py and docs/pytorch_compat.md)
"""

import argparse
import os
import platform
import re
import subprocess
import sys
import time

import numpy

import autograd_core as ag

from . import __version__, _core, nn, optim
from .benchmark import run as run_benchmark
from .datasets import DIGITS_CITATION, load_digits
from .preprocessing import train_val_split
from .runner import run as run_program
from .train import EarlyStopping, evaluate, fit


def _lenet(nn):
    """A LeNet-style network for 1x8x8 digits: two conv/pool stages, then two linear layers."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),  # 16 x 4 x 4
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),  # 32 x 2 x 2
        nn.Flatten(),
        nn.Linear(32 * 2 * 2, 64),
        nn.ReLU(),
        nn.Linear(64, 10),
    )


def _busy_cores():
    """The 1-minute load average, or 0 where the platform has none."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return 0.0


def demo(epochs=20, plot=None, seed=0, batch_size=32, lr=3e-3, progress=True, threads=None, out=sys.stdout):
    """Train the LeNet-style CNN on the digits; returns (test accuracy, seconds)."""
    if threads is None and ag.get_num_threads() > 1 and _busy_cores() >= (os.cpu_count() or 1):
        # the cores are already busy: waiting OpenMP threads would compete with the other processes
        # for them, and this model's small kernels gain little from a second thread anyway
        threads = 1
        print(f"the machine is busy (load {_busy_cores():.1f} on {os.cpu_count()} cores): using 1 thread", file=out)
    previous_threads = ag.get_num_threads()
    if threads is not None:
        ag.set_num_threads(threads)
    try:
        return _train_demo(ag, epochs, plot, seed, batch_size, lr, progress, out)
    finally:
        ag.set_num_threads(previous_threads)


def _train_demo(ag, epochs, plot, seed, batch_size, lr, progress, out):
    ag.manual_seed(seed)
    x_train, y_train = load_digits("train")
    x_test, y_test = load_digits("test")
    (x_fit, y_fit), (x_val, y_val) = train_val_split(x_train, y_train, val_fraction=0.15, stratify=True,
                                                     seed=seed)
    print(f"digits: {len(x_fit)} training, {len(x_val)} validation, {len(x_test)} test images of 8x8 "
          f"({DIGITS_CITATION})", file=out)
    model = _lenet(nn)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: LeNet-style CNN, {n_params} parameters; Adam lr={lr} with cosine decay, batch {batch_size}, "
          f"up to {epochs} epochs", file=out)
    optimizer = optim.Adam(model.parameters(), lr=lr)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    started = time.perf_counter()
    bars = progress and sys.stderr.isatty()  # without a terminal the demo prints its own epoch table below
    history = fit(model, nn.CrossEntropyLoss(), optimizer, (x_fit, y_fit), val_data=(x_val, y_val),
                  epochs=epochs, batch_size=batch_size, metrics=("accuracy",),
                  scheduler=scheduler, callbacks=[EarlyStopping("val_loss", patience=6)], progress=bars)
    seconds = time.perf_counter() - started
    test = evaluate(model, nn.CrossEntropyLoss(), (x_test, y_test), metrics=("accuracy",))
    if not bars:
        for epoch in history.epoch:
            row = epoch - 1
            print(f"epoch {epoch:>3}: loss {history['loss'][row]:.4f}  accuracy {history['accuracy'][row]:.4f}  "
                  f"val_loss {history['val_loss'][row]:.4f}  val_accuracy {history['val_accuracy'][row]:.4f}",
                  file=out)
    print(f"test accuracy: {test['accuracy']:.4f} (loss {test['loss']:.4f}) on {len(x_test)} images", file=out)
    n_threads = ag.get_num_threads()
    print(f"training time: {seconds:.1f} s for {len(history)} epochs ({n_threads} thread{'s' * (n_threads != 1)})",
          file=out)
    if plot:
        history.plot(plot)
        print(f"learning curves saved to {plot}", file=out)
    return test["accuracy"], seconds


def _read_binary(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return b""


def _compiler_of(blob):
    """The compiler identification GCC and Clang leave in a binary's .comment section, if any."""
    for marker in (b"GCC: (", b"clang version"):
        start = blob.find(marker)
        if start >= 0:
            end = blob.find(b"\0", start)
            return blob[start:end].decode("ascii", "replace") if end > start else None
    return None


def _compile_flags_of(blob):
    """The command-line flags GCC records in the debug info (DW_AT_producer) of a build with -g."""
    found = []
    for match in re.finditer(rb"GNU C[0-9]* [0-9][0-9.]* ([ -~]*)", blob):
        flags = match.group(1).decode("ascii")
        if flags not in found:
            found.append(flags)
    return found


def info(out=sys.stdout):
    def call(name, default="unknown"):
        fn = getattr(_core, name, None)
        try:
            return fn() if callable(fn) else default
        except Exception:  # noqa: BLE001 - info must always print
            return default

    print(f"autograd_core {getattr(ag, '__version__', 'unknown')}", file=out)
    print(f"  python {platform.python_version()} ({platform.machine()}, {platform.system()}); numpy {numpy.__version__}",
          file=out)
    print(f"  extension: {_core.__file__}", file=out)
    print(f"  SIMD target: {call('simd_target')}", file=out)
    print(f"  threads: {ag.get_num_threads()} (of {os.cpu_count()} CPUs; set with ag.set_num_threads or "
          "OMP_NUM_THREADS)", file=out)
    stats = call("thread_stats", {})
    if stats:
        state = "on" if stats["adaptive"] else "off (AGC_ADAPTIVE=0)"
        print(f"  adaptive thread cap: {state}; threads a kernel may use now: {stats['threads_now']}", file=out)
    build = call("build_info", None)
    if isinstance(build, dict):
        for key, value in build.items():
            print(f"  {key}: {value}", file=out)
    else:
        blob = _read_binary(_core.__file__)
        compiler = _compiler_of(blob)
        if compiler:
            print(f"  compiler: {compiler}", file=out)
        flags = _compile_flags_of(blob)
        if not flags:
            print("  compiler flags: not recorded in this build (no debug info)", file=out)
        for line in flags:
            print(f"  compiler flags: {line}", file=out)
    if os.environ.get("AGC_SIMD"):
        print(f"  AGC_SIMD={os.environ['AGC_SIMD']} (forced)", file=out)


def bench(args, out=sys.stdout, root=None):
    """Run benchmarks/report.py of the source checkout this package sits in (or of `root`); from an
    installed package, which has no benchmarks folder, run the built-in benchmark instead."""
    here = root or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    report = os.path.join(here, "benchmarks", "report.py")
    if not os.path.exists(report):
        print("bench: no benchmarks/report.py next to this package (it ships with the source repository); "
              "running the built-in benchmark", file=out)
        try:
            run_benchmark(args, out=out)
        except SystemExit as exc:  # argparse's own usage error
            return exc.code if isinstance(exc.code, int) else 2
        return 0
    return subprocess.call([sys.executable, report, *args], cwd=here)


def _version_line():
    return f"autograd_core {__version__}"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="autograd-core", description="autograd_core command line")
    parser.add_argument("--version", action="version", version=_version_line())
    sub = parser.add_subparsers(dest="command")
    p_demo = sub.add_parser("demo", help="train a LeNet-style CNN on the shipped digits")
    p_demo.add_argument("--epochs", type=int, default=20, help="training epochs (default 20)")
    p_demo.add_argument("--plot", metavar="FILE", help="save the learning curves to FILE (png/svg/pdf)")
    p_demo.add_argument("--seed", type=int, default=0)
    p_demo.add_argument("--no-progress", action="store_true", help="no progress bars")
    p_demo.add_argument("--threads", type=int, help="threads for the kernels (default: all, or 1 when the "
                        "machine is already busy)")
    sub.add_parser("info", help="version, SIMD target, threads, build flags")
    p_bench = sub.add_parser("bench", help="run the benchmark report (source checkout only)")
    p_bench.add_argument("rest", nargs=argparse.REMAINDER, help="arguments passed to benchmarks/report.py")
    sub.add_parser("run", help="run an unmodified PyTorch program: run script.py [args...]")
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:
        return bench(argv[1:])  # report.py parses its own options, in their order
    if argv[:1] == ["run"]:
        return run_program(argv[1:])  # the script's own arguments, untouched
    args = parser.parse_args(argv)
    if args.command == "demo":
        if args.epochs < 1:
            parser.error("--epochs must be >= 1")
        if args.threads is not None and args.threads < 1:
            parser.error("--threads must be >= 1")
        if args.plot:
            try:
                import matplotlib  # noqa: F401 - optional extra; checked now, not after minutes of training
            except ImportError:
                parser.error("--plot needs matplotlib, which is an optional extra: pip install autograd_core[plot] "
                             "(or pip install matplotlib), or leave out --plot")
        demo(epochs=args.epochs, plot=args.plot, seed=args.seed, progress=not args.no_progress,
             threads=args.threads)
        return 0
    if args.command == "info":
        info()
        return 0
    if args.command == "bench":
        return bench(args.rest)
    parser.print_help()
    return 1


if __name__ == "__main__":
    sys.exit(main())
