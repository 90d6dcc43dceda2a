"""Stochastic weight averaging, as torch.optim.swa_utils: AveragedModel keeps a running (or
exponential moving) average of a model's parameters, SWALR anneals each group's lr to a constant
SWA learning rate, and update_bn recomputes batch-norm statistics for the averaged weights.

    swa_model = AveragedModel(model)
    swa_scheduler = SWALR(optimizer, swa_lr=0.05)
    for epoch in range(epochs):
        train_one_epoch(model, optimizer)
        if epoch >= swa_start:
            swa_model.update_parameters(model)
            swa_scheduler.step()
    update_bn(loader, swa_model)
"""
import copy
import itertools
import math

from ..autograd.grad_mode import no_grad
from ..nn.module import Module
from ..nn.normalization import _BatchNorm
from ..ops.creation import tensor
from .lr_scheduler import LRScheduler, _check_optimizer, _per_group

__all__ = ["SWALR", "AveragedModel", "get_ema_avg_fn", "get_ema_multi_avg_fn", "update_bn"]


def get_ema_avg_fn(decay=0.999):
    """avg_fn for an exponential moving average: decay * averaged + (1 - decay) * current."""

    def ema_update(averaged_param, current_param, num_averaged):
        return decay * averaged_param + (1 - decay) * current_param

    return ema_update


def get_ema_multi_avg_fn(decay=0.999):
    """multi_avg_fn for an exponential moving average, updating lists of tensors in place."""

    def ema_update(averaged_params, current_params, num_averaged):
        for a, c in zip(averaged_params, current_params):
            a.lerp_(c, 1 - decay)

    return ema_update


class AveragedModel(Module):
    """A copy of `model` whose parameters (and, with use_buffers, buffers) are the average of the
    models passed to update_parameters: the equal-weight running mean by default, or avg_fn
    (averaged, current, num_averaged) -> new averaged, or multi_avg_fn updating lists in place.
    Calling it runs the averaged copy."""

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise ValueError("AveragedModel: only one of avg_fn and multi_avg_fn should be provided")
        self.module = copy.deepcopy(model)
        self.register_buffer("n_averaged", tensor(0, dtype="int64"))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def _tracked(self, model):
        if self.use_buffers:
            return list(itertools.chain(model.parameters(), model.buffers()))
        return list(model.parameters())

    def update_parameters(self, model):
        """Fold the current weights of `model` into the average."""
        averaged = self._tracked(self.module)
        current = self._tracked(model)
        if len(averaged) != len(current):
            raise ValueError(f"AveragedModel.update_parameters: the model has {len(current)} tensors to average, "
                             f"the averaged copy {len(averaged)}")
        n = int(self.n_averaged.item())
        with no_grad():
            if n == 0:
                for a, c in zip(averaged, current):
                    a.copy_(c.detach())
            elif self.multi_avg_fn is not None:
                floating = [(a, c.detach()) for a, c in zip(averaged, current) if a.is_floating_point()]
                self.multi_avg_fn([a for a, _ in floating], [c for _, c in floating], n)
            else:
                for a, c in zip(averaged, current):
                    if not a.is_floating_point():
                        a.copy_(c.detach())
                    elif self.avg_fn is None:
                        a.add_((c.detach() - a) / (n + 1))
                    else:
                        a.copy_(self.avg_fn(a.detach(), c.detach(), n))
            if not self.use_buffers:
                # buffers (batch-norm statistics) follow the source model
                for a, c in zip(self.module.buffers(), model.buffers()):
                    a.copy_(c.detach())
            self.n_averaged.add_(1)


def update_bn(loader, model, device=None):
    """One pass over `loader` in training mode to recompute every batch-norm layer's running
    statistics as plain averages over the data (each batch's input is its first element when the
    loader yields tuples or lists). The model's training flag is restored afterwards."""
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    try:
        with no_grad():
            for batch in loader:
                if isinstance(batch, (list, tuple)):
                    batch = batch[0]
                model(batch)
    finally:
        for module, momentum in momenta.items():
            module.momentum = momentum
        model.train(was_training)


class SWALR(LRScheduler):
    """Anneals each group's lr from its current value to swa_lr over anneal_epochs epochs ('cos' or
    'linear'), then holds it at swa_lr."""

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos", last_epoch=-1):
        _check_optimizer(optimizer, "SWALR")
        for lr, group in zip(_per_group("swa_lr", optimizer, swa_lr, "SWALR"), optimizer.param_groups):
            group["swa_lr"] = lr
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"SWALR: anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy!r}")
        if isinstance(anneal_epochs, bool) or not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"SWALR: anneal_epochs must be equal or greater than 0, got {anneal_epochs!r}")
        self.anneal_strategy = anneal_strategy
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    def _anneal(self, t):
        return (1 - math.cos(math.pi * t)) / 2 if self.anneal_strategy == "cos" else t

    @staticmethod
    def _initial_lr(lr, swa_lr, alpha):
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self):
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_alpha = self._anneal(max(0.0, min(1.0, (step - 1) / max(1, self.anneal_epochs))))
        alpha = self._anneal(max(0.0, min(1.0, step / max(1, self.anneal_epochs))))
        groups = self.optimizer.param_groups
        starts = [self._initial_lr(group["lr"], group["swa_lr"], prev_alpha) for group in groups]
        return [group["swa_lr"] * alpha + lr * (1 - alpha) for group, lr in zip(groups, starts)]
