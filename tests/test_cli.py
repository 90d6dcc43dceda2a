"""python -m autograd_core: demo end to end in a subprocess, info, bench."""

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(*args, timeout=120):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "autograd_core", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env=env, check=False)


def test_demo_runs_end_to_end(tmp_path):
    plot = tmp_path / "curves.png"
    args = ["demo", "--epochs", "2"]
    try:
        import matplotlib  # noqa: F401

        args += ["--plot", str(plot)]
    except ImportError:
        plot = None
    result = run(*args)
    assert result.returncode == 0, result.stderr
    match = re.search(r"test accuracy: ([0-9.]+)", result.stdout)
    assert match, result.stdout
    assert float(match.group(1)) > 0.5  # two epochs already beat chance (0.1) by far
    assert "training time:" in result.stdout and "epoch   2" in result.stdout
    if plot is not None:
        assert plot.stat().st_size > 1000


def test_info_prints_version_simd_threads():
    result = run("info")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "autograd_core" in out and "SIMD target:" in out and "threads:" in out and "compiler flags:" in out


def test_bench_runs_the_report_script(tmp_path, monkeypatch):
    from autograd_core import __main__ as cli

    (tmp_path / "benchmarks").mkdir()
    (tmp_path / "benchmarks" / "report.py").write_text("")
    calls = []
    monkeypatch.setattr(cli.subprocess, "call", lambda command, cwd: calls.append((command, cwd)) or 0)
    assert cli.bench(["--quick"], root=str(tmp_path)) == 0
    command, cwd = calls[0]
    assert command[1:] == [str(tmp_path / "benchmarks" / "report.py"), "--quick"] and cwd == str(tmp_path)


def test_no_command_prints_help(capsys):
    from autograd_core import __main__ as cli

    assert cli.main([]) == 1
    assert "demo" in capsys.readouterr().out


def test_demo_reaches_97_percent_test_accuracy():
    from autograd_core.__main__ import demo

    lines = []

    class Out:
        def write(self, text):
            lines.append(text)

    import autograd_core as ag

    threads = ag.get_num_threads()
    accuracy, _ = demo(progress=False, out=Out())
    assert accuracy >= 0.97, "".join(lines)
    assert ag.get_num_threads() == threads  # the demo leaves the thread setting as it found it
    assert "test accuracy" in "".join(lines)


def test_bench_passes_options_through_in_order(monkeypatch):
    from autograd_core import __main__ as cli

    calls = []
    monkeypatch.setattr(cli, "bench", lambda args: calls.append(args) or 0)
    assert cli.main(["bench", "--quick", "--only", "overhead,gemm"]) == 0
    assert calls == [["--quick", "--only", "overhead,gemm"]]
