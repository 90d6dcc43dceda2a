"""Differentiable ops, one file per family. Each public function is also a Tensor method."""
