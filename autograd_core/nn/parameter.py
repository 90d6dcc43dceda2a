"""torch.nn.parameter under this library's name: Parameter (defined in nn/module.py)."""
from .module import Parameter

__all__ = ["Parameter"]
