"""benchmarks/report.py: a quick run completes and prints its tables; a missing, broken or
function-less family module is reported and the report goes on. Timings never decide pass/fail."""
import importlib.util
import os
import subprocess
import sys
import types

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPORT = os.path.join(ROOT, "benchmarks", "report.py")


def _load_report():
    spec = importlib.util.spec_from_file_location("_agc_bench_report_under_test", REPORT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def report():
    return _load_report()


def test_report_quick_overhead_elementwise_runs():
    result = subprocess.run([sys.executable, REPORT, "--quick", "--only", "overhead,elementwise"],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "SIMD target:" in out and "threads:" in out and "numpy BLAS:" in out
    assert "OPENBLAS_CORETYPE:" in out and "OPENBLAS_L2_SIZE:" in out
    assert "framework overhead per op" in out and "ours us/op" in out
    assert "---- elementwise" in out and "ours ms" in out
    assert "SUMMARY: time(ours) / time(other)" in out
    assert "fwd+bwd per op" in out  # another family's module may be mid-edit: only ours must print


def _write(folder, name, text):
    (folder / name).write_text(text)


def test_report_survives_broken_and_missing_families(report, tmp_path, monkeypatch, capsys):
    _write(tmp_path, "bench_elementwise.py", "raise RuntimeError('half-written module')\n")
    _write(tmp_path, "bench_gemm.py", "def gemm_report(file=None):\n"
                                      "    raise ValueError('kernel exploded')\n")
    _write(tmp_path, "bench_nn.py", "X = 1\n")  # no nn_report()
    # no bench_reduce.py, no bench_optim.py at all
    monkeypatch.setattr(report, "BENCH_DIR", str(tmp_path))
    monkeypatch.setattr(report, "BUILTIN_SIZES", {"64K": 1 << 16})
    monkeypatch.setattr(report, "QUICK_SHAPE", (64, 1024))
    rc = report.main(["--quick", "--no-torch", "--only", "optim,elementwise,reduce,gemm,nn"])
    out = capsys.readouterr().out
    assert rc == 1  # gemm, nn and optim printed no table
    assert "bench_elementwise.py raised RuntimeError: half-written module" in out
    assert "elementwise: using report.py's built-in table instead" in out
    assert "add float32 64K" in out and "sigmoid float32 64K" in out
    assert "bench_reduce.py does not exist" in out
    assert "log_softmax axis=-1 float32 64x1024" in out
    assert "gemm_report() raised ValueError: kernel exploded" in out
    assert "bench_nn.py has no nn_report() function" in out
    assert "bench_optim.py does not exist" in out
    assert "MISMATCH" not in out  # the built-in tables check ours against NumPy before timing
    # canonical order whatever the order of --only
    assert out.index("---- elementwise") < out.index("---- reduce") < out.index("---- gemm") \
        < out.index("---- nn") < out.index("---- optim")


def test_report_calls_family_function_with_accepted_arguments(report, tmp_path, monkeypatch, capsys):
    _write(tmp_path, "bench_nn.py", (
        "SEEN = []\n"
        "def nn_report(repeat=5, number=5):\n"
        "    SEEN.append((repeat, number))\n"
        "    print('nn table here')\n"
        "    return [('mlp_small', 2e-3, 4e-3, 1e-3)]\n"))
    monkeypatch.setattr(report, "BENCH_DIR", str(tmp_path))
    # a leading "--" (as `python -m autograd_core bench -- --quick` passes it) is dropped
    assert report.main(["--", "--quick", "--no-torch", "--only", "nn"]) == 0
    out = capsys.readouterr().out
    quick = report.QUICK_KWARGS
    assert sys.modules["_agc_bench_nn"].SEEN == [(quick["repeat"], quick["number"])]
    assert "nn table here" in out
    line = next(s for s in out.splitlines() if s.startswith("nn") and "mlp_small" in s)
    assert "0.50x" in line and "2.00x" in line and "MISSED" in line  # ours/numpy 0.5, ours/torch 2.0


def test_summary_rows_use_one_direction(report):
    gemm = report._summary_rows("gemm", [dict(case="gemm float32 512", ours=50.0, numpy=100.0, torch=None,
                                              target=0.9)], None, 2)
    assert gemm[0]["r_np"] == pytest.approx(2.0) and gemm[0]["lim_np"] == pytest.approx(1 / 0.9)
    assert report._status(gemm[0]) == "MISSED"
    optim = report._summary_rows("optim", [("Adam", 2, 1e-3, 4e-3, 1.5e-3), ("Adam", 1, 1e-3, 2e-3, 1e-3)],
                                 None, 2)
    assert optim[0]["lim_np"] == pytest.approx(1 / 3) and report._status(optim[0]) == "met"
    assert optim[1]["lim_np"] is None and report._status(optim[1]) == ""
    torchless = report._summary_rows("nn", [("batchnorm", 1e-3, 2e-3, float("nan"))], None, 2)
    assert torchless[0]["r_torch"] is None and report._status(torchless[0]).startswith("n/a")


def test_time_calls_best_and_median_on_a_fake_clock(report, monkeypatch):
    # a clock that only the timed callables advance: the result is exact, whatever the machine's load
    clock = [0.0]
    monkeypatch.setattr(report, "time", types.SimpleNamespace(perf_counter=lambda: clock[0]))
    noisy = iter([5.0, 5.0, 3e-3, 1e-3, 2e-3])          # warm-up, the timed single call, then 3 rounds
    calls = {"steady": lambda: clock.__setitem__(0, clock[0] + 1e-6),
             "noisy": lambda: clock.__setitem__(0, clock[0] + next(noisy))}
    t = report.time_calls(calls, repeat=3, min_time=1e-4)
    # steady: batches of int(1e-4 / 1e-6) = 100 calls, each 1e-6 s
    assert t["steady"] == (pytest.approx(1e-6), pytest.approx(1e-6))
    # noisy: one call per batch (its single call took 5 s); best and median of 3, 1, 2 ms
    assert t["noisy"] == (pytest.approx(1e-3), pytest.approx(2e-3))


@pytest.mark.parametrize("argv", [["--only", "bogus"], ["--only", ","], ["--threads", "0"]])
def test_report_rejects_bad_arguments(report, argv, capsys):
    with pytest.raises(SystemExit) as info:
        report.main(argv)
    assert info.value.code == 2
    assert "report.py" in capsys.readouterr().err
