"""Differentiable ops, one file per family. A public op is published by `_registry.op`: `ag.<name>`, and
unless it says otherwise `Tensor.<name>`."""
