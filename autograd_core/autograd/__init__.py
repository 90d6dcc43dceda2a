"""Reverse-mode automatic differentiation: Function, backward/grad, grad modes, gradient checks."""
from . import functional
from .diagnostics import gradcheck_module, trace_backward
from .engine import backward, detect_anomaly, grad, is_anomaly_enabled, set_detect_anomaly
from .function import Function, once_differentiable
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = [
           "Function",
           "GradcheckError",
           "backward",
           "detect_anomaly",
           "enable_grad",
           "functional",
           "grad",
           "gradcheck",
           "gradcheck_module",
           "gradgradcheck",
           "inference_mode",
           "is_anomaly_enabled",
           "is_grad_enabled",
           "no_grad",
           "once_differentiable",
           "set_detect_anomaly",
           "set_grad_enabled",
           "trace_backward",
]
