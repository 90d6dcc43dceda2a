"""Dropout and batch normalisation, each with and without, on the same data (few noisy two moons).

Dropout: during training each unit of the previous layer is zeroed with probability p and the
survivors are scaled by 1 / (1 - p), so no unit can rely on another being there; in eval mode it
does nothing. On 60 noisy points a wide network memorises every label and grows overconfident: its
validation loss explodes. Dropout keeps it from fitting the noise as sharply. (How much it helps
depends on the draw of the data: with --seed 1 the two runs end about level.)

Batch normalisation: each unit's pre-activation is normalised over the batch,
x_hat = (x - mean_B) / sqrt(var_B + eps), then y = gamma x_hat + beta with gamma and beta learned
(running averages of the mean and variance replace the batch statistics in eval mode). It keeps a
deep sigmoid network's units out of saturation, so plain SGD trains it in far fewer epochs.

    python examples/dropout_batchnorm.py [--epochs 40] [--plot regularisation.png]
"""

import argparse
import sys

import autograd_core as ag
from autograd_core import nn, optim
from autograd_core.datasets import make_moons
from autograd_core.train import fit


def wide_mlp(dropout, width=256):
    layers = [nn.Linear(2, width), nn.ReLU()]
    layers += [nn.Dropout(dropout)] if dropout else []
    layers += [nn.Linear(width, width), nn.ReLU()]
    layers += [nn.Dropout(dropout)] if dropout else []
    return nn.Sequential(*layers, nn.Linear(width, 2))


def deep_sigmoid_mlp(batch_norm, depth=5, width=64):
    layers, size = [], 2
    for _ in range(depth):
        layers.append(nn.Linear(size, width))
        if batch_norm:
            layers.append(nn.BatchNorm1d(width))
        layers.append(nn.Sigmoid())
        size = width
    return nn.Sequential(*layers, nn.Linear(size, 2))


def plot(path, experiments):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11.0, 3.8), layout="constrained")
    axes = fig.subplots(1, 2)
    for ax, (title, runs) in zip(axes, experiments.items()):
        for (label, history), color in zip(runs.items(), ("C0", "C1")):
            ax.plot(history.epoch, history["accuracy"], "--", color=color, label=f"{label}: training")
            ax.plot(history.epoch, history["val_accuracy"], "-", color=color, label=f"{label}: validation")
        ax.set(xlabel="epoch", ylabel="accuracy", title=title)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.savefig(path, dpi=110)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-size", type=int, default=60, help="training points (few, so a wide net overfits)")
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--dropout", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", help="save training and validation accuracy of each run to this PNG")
    args = parser.parse_args(argv)

    ag.manual_seed(args.seed)
    data = make_moons(args.train_size, noise=0.35, seed=args.seed)
    val = make_moons(1000, noise=0.35, seed=args.seed + 100)
    results, experiments = {}, {}

    runs = {}
    for label, p in (("no dropout", 0.0), (f"dropout p={args.dropout:g}", args.dropout)):
        ag.manual_seed(args.seed)
        model = wide_mlp(p)
        runs[label] = fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=1e-2), data,
                          val_data=val, epochs=args.epochs, batch_size=args.train_size, metrics=("accuracy",),
                          progress=False)
    for key, label in (("plain", "no dropout"), ("dropout", f"dropout p={args.dropout:g}")):
        history = runs[label]
        results[f"{key}_val_accuracy"] = history["val_accuracy"][-1]
        results[f"{key}_val_loss"] = history["val_loss"][-1]
        print(f"{label:>14}: training accuracy {history['accuracy'][-1]:.3f}, validation accuracy "
              f"{results[f'{key}_val_accuracy']:.3f}, validation loss {results[f'{key}_val_loss']:.3f}")
    experiments[f"dropout: 2 x 256 ReLU MLP, {args.train_size} training points"] = runs

    runs = {}
    for label, batch_norm in (("no batch norm", False), ("batch norm", True)):
        ag.manual_seed(args.seed)
        model = deep_sigmoid_mlp(batch_norm)
        runs[label] = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1, momentum=0.9), data,
                          val_data=val, epochs=args.epochs // 4, batch_size=16, metrics=("accuracy",), progress=False)
        key = "batchnorm" if batch_norm else "no_batchnorm"
        results[f"{key}_val_accuracy"] = runs[label]["val_accuracy"][-1]
        print(f"{label:>14}: 5 sigmoid layers, SGD: validation accuracy {results[f'{key}_val_accuracy']:.3f}")
    experiments["batch norm: 5 sigmoid layers, SGD"] = runs
    if args.plot:
        plot(args.plot, experiments)
        print(f"saved {args.plot}")
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
