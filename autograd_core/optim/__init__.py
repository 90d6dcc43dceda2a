"""ag.optim: optimizers with fused in-place C updates, and learning-rate schedulers.

Every optimizer follows PyTorch's documented update and takes `l1=0.0` for a proximal L1 step on
parameters with ndim >= 2 (see optimizer.py for the rule).
"""
from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam
from .adamw import AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "lr_scheduler"]
