"""Small reinforcement-learning environments with gymnasium's reset/step API (no dependency on it)."""

from .cartpole import CartPoleEnv, make

__all__ = ["CartPoleEnv", "make"]
