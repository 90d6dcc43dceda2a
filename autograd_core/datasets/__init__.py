"""Small datasets shipped with the package and generators for classic teaching problems; all offline."""

from .digits import DIGITS_CITATION, load_digits
from .synthetic import (
    make_circles,
    make_copy_task,
    make_gaussian_mixture,
    make_moons,
    make_polynomial,
    make_regression,
    make_reverse_task,
    make_spirals,
    make_sum_task,
    make_xor,
)

__all__ = [
    "DIGITS_CITATION",
    "load_digits",
    "make_circles",
    "make_copy_task",
    "make_gaussian_mixture",
    "make_moons",
    "make_polynomial",
    "make_regression",
    "make_reverse_task",
    "make_spirals",
    "make_sum_task",
    "make_xor",
]
