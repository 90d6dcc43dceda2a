"""Side-by-side timing of several libraries in one process, without one library's idle threads
slowing the next.

Multi-threaded libraries keep their worker threads spinning for a while after a call so that the
next call starts fast: NumPy's OpenBLAS pthreads spin for about 2^28 cycles (~0.1 s) by default,
and OpenMP runtimes for their spin count. When contenders alternate call by call, every library
after NumPy runs while OpenBLAS's workers still spin on the other core, and on a 2-core machine a
2-thread kernel then runs at single-core speed (measured here: our 512^3 GEMM at 93 GFLOPS right
after NumPy calls, 180 GFLOPS alone; PyTorch's the same). Users do not alternate libraries call by
call, so the fair measurement gives each contender the machine the way its users have it:
`time_settled` runs one contender at a time in blocks, sleeping `settle` seconds before each block
so that the previous contender's threads have gone idle, and rotates through the contenders for
several rounds so that load from other processes still falls on all of them alike.
"""
import time

SETTLE = 0.25  # seconds: more than OpenBLAS's default spin time


def time_settled(fns, budget=0.5, rounds=3, settle=SETTLE, batch=0.002, clock=time.perf_counter,
                 per_round=None):
    """Best seconds per call of each zero-argument callable in `fns` (name -> callable), as
    name -> seconds.

    Each round gives every contender, in turn, a block: sleep `settle`, one warm-up call, then
    batches of calls lasting about `batch` seconds each until its share of `budget` (spread over
    the rounds) is spent; the fastest batch counts. Short batches catch the moments when no other
    process holds a core. clock=time.process_time measures CPU time instead of wall time.
    per_round: a dict that receives name -> [best seconds per call in each round], for paired
    comparisons (contenders timed within the same second or so share the machine's state)."""
    names = list(fns)
    best = {k: float("inf") for k in names}
    if per_round is not None:
        for k in names:
            per_round[k] = []
    share = budget / max(1, rounds)
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for k in order:
            f = fns[k]
            if settle:
                time.sleep(settle)
            t = clock()
            f()
            once = max(clock() - t, 1e-7)
            calls = max(1, int(batch / once))
            spent = 0.0
            first = True
            here = float("inf")
            while first or spent < share:
                first = False
                t = clock()
                for _ in range(calls):
                    f()
                dt = clock() - t
                spent += dt
                here = min(here, dt / calls)
            best[k] = min(best[k], here)
            if per_round is not None:
                per_round[k].append(here)
    return best


def wins(per_round, a, b):
    """In how many rounds contender a's best beat contender b's: (wins, rounds)."""
    pairs = list(zip(per_round[a], per_round[b]))
    return sum(x < y for x, y in pairs), len(pairs)
