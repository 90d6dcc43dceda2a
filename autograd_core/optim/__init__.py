"""ag.optim: optimizers and learning-rate schedulers.

SGD, Adam, AdamW, RMSprop and Adagrad run fused in-place C kernels and take `l1=0.0` for a
proximal L1 step on parameters with ndim >= 2 (see optimizer.py for the rule). Adadelta, Adamax,
NAdam, RAdam, Rprop, ASGD and LBFGS follow PyTorch's documented updates with in-place tensor ops
and have no l1 option. swa_utils gives stochastic weight averaging.
"""
from . import lr_scheduler, swa_utils
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam
from .adamax import Adamax
from .adamw import AdamW
from .asgd import ASGD
from .lbfgs import LBFGS
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam",
           "Rprop", "ASGD", "LBFGS", "lr_scheduler", "swa_utils"]
