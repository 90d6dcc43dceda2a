"""autograd_core.envs.CartPoleEnv: the classic equations, gymnasium's API, clear errors."""

import numpy as np
import pytest

from autograd_core import envs


def test_reset_step_api_and_termination():
    env = envs.CartPoleEnv()
    state, info = env.reset(seed=3)
    assert state.shape == (4,) and state.dtype == np.float32 and info == {}
    assert np.all(np.abs(state) <= 0.05)
    again, _ = envs.CartPoleEnv().reset(seed=3)
    np.testing.assert_array_equal(state, again)  # seeded resets repeat
    steps, terminated = 0, False
    while not terminated:  # always pushing right tips the pole over to the left within a few dozen steps
        state, reward, terminated, truncated, _ = env.step(1)
        steps += 1
        assert reward == 1.0 and not truncated
    assert 5 < steps < 100 and (abs(state[2]) > env.theta_limit or abs(state[0]) > env.x_limit)


def test_mirror_symmetry_and_euler_step():
    env = envs.CartPoleEnv()
    env.reset(seed=0)
    start = np.array([0.01, -0.02, 0.03, 0.04])
    env._state = start.copy()
    right, *_ = env.step(1)
    env._done = False
    env._state = -start
    left, *_ = env.step(0)
    np.testing.assert_allclose(right, -left, rtol=1e-6)  # mirrored state and push give the mirrored result
    # one Euler step of the position and angle uses the old velocities
    assert right[0] == pytest.approx(start[0] + 0.02 * start[1]) and right[2] == pytest.approx(start[2] + 0.02 * start[3])


def test_truncation_and_errors():
    env = envs.CartPoleEnv(max_episode_steps=3)
    with pytest.raises(RuntimeError, match="call reset"):
        env.step(0)
    env.reset(seed=0)
    outcomes = [env.step(i % 2)[3] for i in range(3)]
    assert outcomes == [False, False, True]
    with pytest.raises(RuntimeError, match="episode has ended"):
        env.step(0)
    env.reset()
    with pytest.raises(ValueError, match="action must be 0"):
        env.step(2)
    with pytest.raises(ValueError, match="max_episode_steps"):
        envs.CartPoleEnv(max_episode_steps=0)
    with pytest.raises(ValueError, match="unknown environment"):
        envs.make("MountainCar-v0")


def test_matches_gymnasium_step_for_step():
    gymnasium = pytest.importorskip("gymnasium")
    ours, theirs = envs.CartPoleEnv(), gymnasium.make("CartPole-v1").unwrapped
    theirs.reset(seed=0)
    ours.reset(seed=0)
    ours._state = np.array(theirs.state, dtype=np.float64)
    rng = np.random.default_rng(1)
    for _ in range(40):
        action = int(rng.integers(2))
        a = ours.step(action)
        b = theirs.step(action)
        np.testing.assert_allclose(a[0], b[0], rtol=1e-5, atol=1e-6)
        assert a[2] == b[2]
        if a[2]:
            break
    assert isinstance(envs.make(backend="gymnasium").unwrapped, type(theirs))
