"""The differential fuzzer's short run (the long one: `python -m tests.fuzz --cases 500000`): a few
hundred random cases against PyTorch (NumPy without it), each in a worker process; no crash, no hang
and no mismatch that docs/differences.md does not explain."""
import pytest

pytest.importorskip("hypothesis")

from tests import fuzz


def test_fuzz_short_run():
    runner = fuzz.Runner(timeout=60)
    try:
        tally = fuzz.fuzz(250, seed=12, runner=runner)
    finally:
        runner.close()
    out = []

    class Sink:
        def write(self, s):
            out.append(s)

    tally.report(show=1, out=Sink())
    assert sum(tally.outcomes.values()) == 250, "".join(out)
    assert tally.failures() == 0, "".join(out)


def test_runner_reports_a_crash_and_recovers():
    runner = fuzz.Runner(timeout=60, use_torch=False)
    try:
        assert runner.run({"op": "__abort__"})[0] == "crash"
        outcome, _ = runner.run({"op": "exp", "shapes": [(2,)], "dtypes": ["float32"], "layouts": ["contiguous"],
                                 "special": "none", "scale": 1.0, "ints": "small", "params": {}, "seed": 0})
        assert outcome == "ok"
        assert runner.restarts == 1
    finally:
        runner.close()


def test_runner_reports_a_hang():
    runner = fuzz.Runner(timeout=1, use_torch=False)
    try:
        assert runner.run({"op": "__hang__"})[0] == "hang"
    finally:
        runner.close()


def test_every_documented_rule_names_a_section_of_the_page():
    import pathlib

    page = (pathlib.Path(__file__).parent.parent / "docs" / "differences.md").read_text()
    for _, _, _, section in fuzz.KNOWN:
        assert f"{section}" in page, section


def test_pipelined_crash_is_attributed_to_its_case():
    runner = fuzz.Runner(timeout=60, use_torch=False, depth=3)
    exp = {"op": "exp", "shapes": [(3,)], "dtypes": ["float64"], "layouts": ["contiguous"], "special": "none",
           "scale": 1.0, "ints": "small", "params": {}}
    cases = [dict(exp, seed=1), {"op": "__abort__"}, dict(exp, seed=2), dict(exp, seed=3), dict(exp, seed=4),
             dict(exp, seed=5), {"op": "__abort__"}, dict(exp, seed=6)]
    try:
        results = []
        for case in cases:
            results += runner.submit(case)
        results += runner.drain()
    finally:
        runner.close()
    assert [case for case, _ in results] == cases
    assert [outcome for _, (outcome, _) in results] == ["ok", "crash", "ok", "ok", "ok", "ok", "crash", "ok"]
    assert runner.restarts == 2


def test_a_crash_while_cases_wait_is_not_lost():
    import time

    runner = fuzz.Runner(timeout=60, use_torch=False, depth=4)
    exp = {"op": "exp", "shapes": [(3,)], "dtypes": ["float64"], "layouts": ["contiguous"], "special": "none",
           "scale": 1.0, "ints": "small", "params": {}}
    try:
        results = runner.submit({"op": "__abort__"})
        time.sleep(1)  # the worker is dead before the next case is queued
        for seed in range(5):
            results += runner.submit(dict(exp, seed=seed))
        results += runner.drain()
    finally:
        runner.close()
    assert [outcome for _, (outcome, _) in results] == ["crash"] + ["ok"] * 5
