"""Lets `pytest benchmarks/ --benchmark-only` collect every bench_<family>.py.

pytest's default file pattern (test_*.py, set in pyproject.toml's testpaths for tests/) does not
match the benchmark modules; a file named on the command line is collected anyway, so only the
files found by walking the folder are added here.
"""
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:  # the package beside this folder, built in place by tools/build.sh
    sys.path.insert(0, ROOT)


def pytest_collect_file(file_path, parent):
    named = file_path.suffix == ".py" and file_path.name.startswith("bench_")
    if named and not parent.session.isinitpath(file_path):
        return pytest.Module.from_parent(parent, path=file_path)
    return None
