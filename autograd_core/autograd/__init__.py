"""Reverse-mode automatic differentiation: Function, backward/grad, grad modes, gradient checks."""
from .engine import backward, grad, detect_anomaly, set_detect_anomaly, is_anomaly_enabled
from .function import Function, once_differentiable
from .grad_mode import no_grad, enable_grad, set_grad_enabled, is_grad_enabled, inference_mode
from .gradcheck import gradcheck, gradgradcheck, GradcheckError
from .diagnostics import gradcheck_module, trace_backward

__all__ = ["backward", "grad", "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "Function",
           "once_differentiable", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
           "inference_mode", "gradcheck", "gradgradcheck", "GradcheckError", "gradcheck_module", "trace_backward"]
