"""Utilities: `ag.utils.data` (Dataset, DataLoader, ...)."""

from . import data

__all__ = ["data"]
