"""CartPole: balance a pole hinged on a cart by pushing the cart left or right.

The classic equations of Barto, Sutton and Anderson (1983), with the constants and limits every
CartPole uses (gymnasium's CartPole-v1 among them), integrated by explicit Euler steps of 0.02 s:

    theta_acc = (g sin(theta) - cos(theta) temp) / (l (4/3 - m_p cos^2(theta) / (m_c + m_p)))
    temp      = (F + m_p l theta_dot^2 sin(theta)) / (m_c + m_p)
    x_acc     = temp - m_p l theta_acc cos(theta) / (m_c + m_p)

with F = +-10 N, g = 9.8, cart mass m_c = 1.0, pole mass m_p = 0.1, half-length l = 0.5. The
observation is (x, x_dot, theta, theta_dot); the reward is 1 for every step, including the last;
an episode terminates when |x| > 2.4 or |theta| > 12 degrees and is truncated after 500 steps.

The API is gymnasium's: reset(seed=None) -> (observation, info) and step(action) -> (observation,
reward, terminated, truncated, info). make("CartPole-v1", backend="gymnasium") returns gymnasium's
own environment instead, when it is installed.
"""

import math

import numpy as np

__all__ = ["CartPoleEnv", "make"]


class _Discrete:
    def __init__(self, n):
        self.n = n

    def sample(self, rng=None):
        return int((rng or np.random.default_rng()).integers(self.n))

    def contains(self, x):
        return isinstance(x, (int, np.integer)) and 0 <= x < self.n


class CartPoleEnv:
    """The CartPole environment; actions 0 (push left) and 1 (push right)."""

    gravity, mass_cart, mass_pole, half_length, force, tau = 9.8, 1.0, 0.1, 0.5, 10.0, 0.02
    x_limit, theta_limit = 2.4, 12 * 2 * math.pi / 360

    def __init__(self, max_episode_steps=500):
        if not isinstance(max_episode_steps, (int, np.integer)) or max_episode_steps < 1:
            raise ValueError(f"CartPoleEnv: max_episode_steps must be an int >= 1, got {max_episode_steps!r}")
        self.max_episode_steps = int(max_episode_steps)
        self.action_space = _Discrete(2)
        self.observation_shape = (4,)
        self._rng = np.random.default_rng()
        self._state = None
        self._steps = 0
        self._done = False

    def reset(self, seed=None, options=None):
        """Start an episode from a state drawn uniformly in [-0.05, 0.05]^4."""
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self._state = self._rng.uniform(-0.05, 0.05, size=4)
        self._steps = 0
        self._done = False
        return self._state.astype(np.float32), {}

    def step(self, action):
        if self._state is None:
            raise RuntimeError("CartPoleEnv.step: call reset() before step()")
        if self._done:
            raise RuntimeError("CartPoleEnv.step: the episode has ended; call reset() to start a new one")
        if not self.action_space.contains(action):
            raise ValueError(f"CartPoleEnv.step: action must be 0 (left) or 1 (right), got {action!r}")
        x, x_dot, theta, theta_dot = self._state
        force = self.force if action == 1 else -self.force
        total_mass = self.mass_cart + self.mass_pole
        cos, sin = math.cos(theta), math.sin(theta)
        temp = (force + self.mass_pole * self.half_length * theta_dot**2 * sin) / total_mass
        theta_acc = (self.gravity * sin - cos * temp) / (
            self.half_length * (4.0 / 3.0 - self.mass_pole * cos**2 / total_mass))
        x_acc = temp - self.mass_pole * self.half_length * theta_acc * cos / total_mass
        x, x_dot = x + self.tau * x_dot, x_dot + self.tau * x_acc
        theta, theta_dot = theta + self.tau * theta_dot, theta_dot + self.tau * theta_acc
        self._state = np.array([x, x_dot, theta, theta_dot])
        self._steps += 1
        terminated = bool(abs(x) > self.x_limit or abs(theta) > self.theta_limit)
        truncated = not terminated and self._steps >= self.max_episode_steps
        self._done = terminated or truncated
        return self._state.astype(np.float32), 1.0, terminated, truncated, {}

    def close(self):
        pass


def make(name="CartPole-v1", backend="builtin", **kwargs):
    """The CartPole environment: backend "builtin" (this module), "gymnasium" (its CartPole-v1;
    needs gymnasium installed) or "auto" (gymnasium when installed, else the built-in one)."""
    if name not in ("CartPole-v1", "CartPole"):
        raise ValueError(f"envs.make: unknown environment {name!r}; available: 'CartPole-v1'")
    if backend not in ("builtin", "gymnasium", "auto"):
        raise ValueError(f"envs.make: backend must be 'builtin', 'gymnasium' or 'auto', got {backend!r}")
    if backend in ("gymnasium", "auto"):
        try:
            import gymnasium  # optional: the builtin environment needs none
        except ImportError:
            if backend == "gymnasium":
                raise ImportError("envs.make: backend='gymnasium' needs gymnasium (pip install gymnasium); "
                                  "backend='builtin' needs nothing") from None
        else:
            return gymnasium.make("CartPole-v1", **kwargs)
    return CartPoleEnv(**kwargs)
