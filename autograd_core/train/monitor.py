"""GradientMonitor: watches gradient norms and ReLU activity during fit and warns (with the
TrainingWarning family) about vanishing or exploding gradients, divergence, overfitting and dead ReLUs."""

import math
import os
import warnings

import numpy as np

from ..tensor import is_tensor
from ..viz import require_matplotlib
from ._batches import _loss_value
from .callbacks import Callback


class TrainingWarning(UserWarning):
    """Base class of the plain-language warnings raised by GradientMonitor."""


class VanishingGradientWarning(TrainingWarning):
    """Gradients of some layer have become so small that it has practically stopped learning."""


class ExplodingGradientWarning(TrainingWarning):
    """Gradients have become very large (or non-finite): lower the learning rate or clip them."""


class DivergenceWarning(TrainingWarning):
    """The loss has become NaN or infinite, or keeps growing: training diverges."""


class OverfittingWarning(TrainingWarning):
    """The validation loss rises while the training loss falls: the model is overfitting."""


class DeadReLUWarning(TrainingWarning):
    """Most units of a ReLU layer output zero for every input: they no longer learn."""


def _layer_of(parameter_name):
    return parameter_name.rsplit(".", 1)[0] if "." in parameter_name else "(model)"


class GradientMonitor(Callback):
    """Watches training and explains common failures in plain words.

    Records, per epoch: the gradient norm of each layer (mean over batches), the fraction of dead
    ReLU units (units whose output is 0 for every sample of the epoch, measured with forward hooks on
    ReLU modules), and the losses. Warns (warnings.warn, subclasses of TrainingWarning) once per
    kind about:
      - vanishing gradients: a layer's gradient norm below `vanish_threshold`, or `vanish_ratio`
        times smaller than the largest layer's;
      - exploding gradients: a layer's gradient norm above `explode_threshold`, or Inf/NaN gradients;
      - a NaN/Inf loss or a loss that grew to `diverge_factor` times its first value (divergence);
      - validation loss rising for `overfit_patience` epochs while the training loss falls;
      - more than `dead_threshold` of a ReLU layer's units dead.
    stop_on_nan: stop fit at the end of an epoch whose loss was NaN/Inf.
    Use it in fit(callbacks=[GradientMonitor()]), or by hand: attach(model), after_backward() after
    each loss.backward(), end_epoch(train_loss, val_loss) after each epoch.
    """

    def __init__(self, vanish_threshold=1e-7, vanish_ratio=1e-4, explode_threshold=1e3, diverge_factor=10.0,
                 overfit_patience=3, dead_threshold=0.5, stop_on_nan=True, warn=True):
        self.vanish_threshold, self.vanish_ratio = vanish_threshold, vanish_ratio
        self.explode_threshold, self.diverge_factor = explode_threshold, diverge_factor
        self.overfit_patience, self.dead_threshold = overfit_patience, dead_threshold
        self.stop_on_nan, self.warn = stop_on_nan, warn
        self.model = None
        self._handles = []
        self.reset()

    def reset(self):
        """Clear the record and the warnings given, to monitor a new run."""
        self.record = {"epoch": [], "grad_norm": {}, "dead_relu": {}, "loss": [], "val_loss": []}
        self.warned = {}
        self._grad_sums, self._grad_batches, self._grad_nonfinite = {}, 0, False
        self._alive = {}
        self._batch_loss_nonfinite = False

    # -- wiring
    def attach(self, model):
        """Start watching `model` (registers forward hooks on its ReLU modules)."""
        self.detach()
        self.model = model
        for name, module in model.named_modules():
            if type(module).__name__ == "ReLU":
                self._handles.append(module.register_forward_hook(self._relu_hook(name or "relu")))
        return self

    def detach(self):
        """Stop watching the model: remove the hooks :meth:`attach` registered."""
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def _relu_hook(self, name):
        def hook(module, args, output):
            if not module.training or not is_tensor(output) or output.ndim == 0 or output.shape[0] == 0:
                return  # only training batches count (not validation passes in eval mode)
            out = np.asarray(output.detach().numpy())
            units = out.reshape(out.shape[0], -1)
            active = np.any(units > 0, axis=0)
            seen = self._alive.get(name)
            # a unit is dead when it outputs 0 for every sample of the epoch
            self._alive[name] = active if seen is None or seen.shape != active.shape else seen | active

        return hook

    # -- per batch
    def after_backward(self, loss=None):
        """Read the gradients now in .grad (call after loss.backward(), before optimizer.step())."""
        if self.model is None:
            raise RuntimeError("GradientMonitor: call attach(model) first")
        squares = {}
        for name, param in self.model.named_parameters():
            if param.grad is None:
                continue
            g = np.asarray(param.grad.detach().numpy(), dtype=np.float64)
            layer = _layer_of(name)
            squares[layer] = squares.get(layer, 0.0) + float(np.sum(g * g))
        for layer, sq in squares.items():
            norm = math.sqrt(sq) if math.isfinite(sq) else math.inf
            if not math.isfinite(sq):
                self._grad_nonfinite = True
            self._grad_sums[layer] = self._grad_sums.get(layer, 0.0) + norm
        self._grad_batches += 1
        if loss is not None:
            value = _loss_value(loss) if is_tensor(loss) else float(loss)
            if not math.isfinite(value):
                self._batch_loss_nonfinite = True

    # -- per epoch
    def end_epoch(self, train_loss, val_loss=None):
        """Close the epoch: store its averages and check for trouble. Returns the warnings issued."""
        epoch = len(self.record["epoch"]) + 1
        self.record["epoch"].append(epoch)
        n = max(self._grad_batches, 1)
        norms = {layer: total / n for layer, total in self._grad_sums.items()}
        self._append_per_layer(self.record["grad_norm"], norms, epoch)
        dead = {layer: 1.0 - float(np.mean(alive)) for layer, alive in self._alive.items()}
        self._append_per_layer(self.record["dead_relu"], dead, epoch)
        self.record["loss"].append(float(train_loss))
        self.record["val_loss"].append(float("nan") if val_loss is None else float(val_loss))
        issued = self._check(epoch, norms, dead)
        self._grad_sums, self._grad_batches, self._grad_nonfinite = {}, 0, False
        self._alive = {}
        self._batch_loss_nonfinite = False
        return issued

    @staticmethod
    def _append_per_layer(table, values, epoch):
        for layer, value in values.items():
            column = table.setdefault(layer, [float("nan")] * (epoch - 1))
            column.append(value)
        for column in table.values():
            if len(column) < epoch:
                column.append(float("nan"))

    def _emit(self, kind, category, message, issued):
        if kind in self.warned:
            return
        self.warned[kind] = message
        issued.append(message)
        if self.warn:
            warnings.warn(message, category, stacklevel=3)

    def _check(self, epoch, norms, dead):
        issued = []
        losses = self.record["loss"]
        loss = losses[-1]
        if self._batch_loss_nonfinite or not math.isfinite(loss):
            self._emit("divergence", DivergenceWarning,
                       f"Training diverged: the loss became NaN/Inf in epoch {epoch}. The learning rate is "
                       "probably too large; try one 10 times smaller (or clip gradients with "
                       "nn.utils.clip_grad_norm_).", issued)
        elif len(losses) > 1 and math.isfinite(losses[0]) and loss > self.diverge_factor * max(losses[0], 1e-12):
            self._emit("divergence", DivergenceWarning,
                       f"The training loss is diverging: {loss:.4g} in epoch {epoch} against {losses[0]:.4g} "
                       "in epoch 1. Try a smaller learning rate.", issued)
        finite = {layer: v for layer, v in norms.items() if math.isfinite(v)}
        if self._grad_nonfinite or len(finite) < len(norms):
            self._emit("exploding", ExplodingGradientWarning,
                       f"Exploding gradients: some gradients were Inf/NaN in epoch {epoch}. Lower the learning "
                       "rate, clip gradients (nn.utils.clip_grad_norm_) or standardise the inputs.", issued)
        elif finite and max(finite.values()) > self.explode_threshold:
            layer = max(finite, key=finite.get)
            self._emit("exploding", ExplodingGradientWarning,
                       f"Exploding gradients: layer '{layer}' has gradient norm {finite[layer]:.3g} (above "
                       f"{self.explode_threshold:g}) in epoch {epoch}. Lower the learning rate, clip gradients "
                       "(nn.utils.clip_grad_norm_) or standardise the inputs.", issued)
        if finite:
            smallest = min(finite, key=finite.get)
            largest = max(finite.values())
            tiny = finite[smallest] < self.vanish_threshold
            lopsided = largest > 0 and finite[smallest] < self.vanish_ratio * largest
            if tiny or lopsided:
                self._emit("vanishing", VanishingGradientWarning,
                           f"Vanishing gradients: layer '{smallest}' gets gradient norm {finite[smallest]:.3g}, "
                           f"against {largest:.3g} for the largest layer, so it barely learns. Saturating "
                           "activations (sigmoid/tanh) in deep stacks do this: try ReLU, careful initialisation "
                           "(nn.init.kaiming_*), batch normalisation or fewer layers.", issued)
        for layer, fraction in dead.items():
            if fraction > self.dead_threshold:
                self._emit("dead_relu", DeadReLUWarning,
                           f"Dead ReLUs: {fraction:.0%} of the units after '{layer}' output 0 for every sample, "
                           "so they no longer learn. Try a smaller learning rate, LeakyReLU, or Kaiming "
                           "initialisation.", issued)
                break
        vals = self.record["val_loss"]
        k = self.overfit_patience
        if len(vals) > k and all(math.isfinite(v) for v in vals[-k - 1:]):
            val_rising = all(vals[-i] > vals[-i - 1] for i in range(1, k + 1))
            train_falling = losses[-1] < losses[-k - 1]
            if val_rising and train_falling:
                self._emit("overfitting", OverfittingWarning,
                           f"Overfitting: the validation loss rose for {k} epochs in a row (to {vals[-1]:.4g}) "
                           f"while the training loss kept falling (to {losses[-1]:.4g}). Stop earlier "
                           "(EarlyStopping), add regularisation (weight_decay, dropout) or get more data.", issued)
        return issued

    # -- as a fit callback
    def on_train_begin(self, state):
        self.reset()
        self.attach(state.model)

    def on_after_backward(self, state):
        self.after_backward(state.last_loss)

    def on_epoch_end(self, state, epoch, logs):
        self.end_epoch(logs.get("loss", float("nan")), logs.get("val_loss"))
        if self.stop_on_nan and not math.isfinite(logs.get("loss", 0.0)):
            state.stop_training = True

    def on_train_end(self, state):
        self.detach()

    def summary(self):
        """A short text table of the last epoch's gradient norms and dead-ReLU fractions."""
        lines = [f"{'layer':<24}{'grad norm':>12}"]
        for layer, values in self.record["grad_norm"].items():
            lines.append(f"{layer:<24}{values[-1]:>12.4g}")
        for layer, values in self.record["dead_relu"].items():
            lines.append(f"{layer + ' dead ReLU':<24}{values[-1]:>11.1%}")
        for message in self.warned.values():
            lines.append("warning: " + message)
        return "\n".join(lines)

    def plot(self, path=None):
        """Gradient norm per layer (log scale) and dead-ReLU fraction against the epoch."""
        Figure = require_matplotlib("GradientMonitor.plot")
        if not self.record["epoch"]:
            raise ValueError("GradientMonitor.plot: nothing recorded yet")
        panels = 2 if self.record["dead_relu"] else 1
        fig = Figure(figsize=(5.5 * panels, 3.6), layout="constrained")
        axes = fig.subplots(1, panels, squeeze=False)[0]
        epochs = self.record["epoch"]
        for layer, values in self.record["grad_norm"].items():
            axes[0].plot(epochs, values, "-o", markersize=3, label=layer)
        axes[0].set_yscale("log")
        axes[0].set(xlabel="epoch", ylabel="mean gradient norm", title="gradient norm per layer")
        axes[0].legend(fontsize="small")
        if panels == 2:
            for layer, values in self.record["dead_relu"].items():
                axes[1].plot(epochs, values, "-o", markersize=3, label=layer)
            axes[1].set(xlabel="epoch", ylabel="fraction of units", title="dead ReLU units", ylim=(0, 1))
            axes[1].legend(fontsize="small")
        if path is not None:
            fig.savefig(os.fspath(path), dpi=110)
        return fig
