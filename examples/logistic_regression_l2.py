"""Logistic regression with an L2 penalty, lambda chosen by a coarse-to-fine grid search; then L1.

h(x) = g(theta_0 + w . x) with g the sigmoid, and J(theta) = mean cross-entropy + lambda * |w|^2.
Too small a lambda overfits the few training points, too large underfits; the validation error
shows where the balance is. The search tries orders of magnitude on part of the data first, then
refines around the best on all of it. The L1 penalty lambda * sum |w_j|, applied as a proximal step
by the optimizer (optim.SGD(..., l1=lambda)), sets many weights to exactly zero: a sparse model that
reads only some of the pixels.

    python examples/logistic_regression_l2.py [--epochs 60] [--plot lambda.png]
"""

import argparse
import sys

import numpy as np

import autograd_core as ag
from autograd_core import nn, optim
from autograd_core.preprocessing import StandardScaler, train_val_split
from autograd_core.datasets import load_digits
from autograd_core.train import fit, grid_search, l2_penalty


def load_three_against_eight(n_train, seed):
    """A binary task with few samples per feature, where regularisation matters: digit 3 against 8."""
    x, y = load_digits("train", flatten=True)
    keep = ag.tensor(((y == 3) | (y == 8)).numpy().nonzero()[0])
    x, y = x.index_select(0, keep), (y.index_select(0, keep) == 8).float().reshape(-1, 1)
    (x_train, y_train), (x_val, y_val) = train_val_split(x, y, val_fraction=0.5, seed=seed)
    x_train, y_train = x_train[:n_train], y_train[:n_train]  # deliberately few training examples
    scaler = StandardScaler().fit(x_train)
    return (scaler.transform(x_train), y_train), (scaler.transform(x_val), y_val)


def build(lam):
    """One candidate: the sigmoid lives in the loss (BCEWithLogitsLoss, stabler than sigmoid + log),
    and the penalty lam * |w|^2 is added to the training loss only, so validation losses compare."""
    model = nn.Linear(64, 1)
    return model, nn.BCEWithLogitsLoss(), optim.Adam(model.parameters(), lr=0.05), l2_penalty(lam)


def train_l1(train, val, lam, epochs):
    """Plain SGD on the data loss with the L1 proximal step: w = sign(w) max(|w| - lr lam, 0)."""
    model = nn.Linear(64, 1)
    history = fit(model, nn.BCEWithLogitsLoss(), optim.SGD(model.parameters(), lr=0.1, l1=lam), train,
                  val_data=val, epochs=epochs, batch_size=len(train[0]), metrics=("accuracy",), progress=False)
    weights = model.weight.detach().numpy().ravel()
    return weights, history["val_accuracy"][-1]


def plot(path, result, l1_runs):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12.0, 3.8), layout="constrained")
    left, middle, right = fig.subplots(1, 3, width_ratios=[1.4, 1.0, 1.0])
    for stage, style in (("coarse", "o--"), ("fine", "s-")):
        rows = sorted((r for r in result if r["stage"] == stage), key=lambda r: r["lam"])
        left.plot([r["lam"] for r in rows], [1 - r["val_accuracy"] for r in rows], style, label=f"{stage} search")
    best = result.best_params["lam"]
    left.axvline(best, color="grey", linestyle=":", label=f"best lambda = {best:.3g}")
    left.set_xscale("log")
    left.set(xlabel="lambda (L2)", ylabel="validation error", title="validation error against lambda")
    left.legend()
    left.grid(alpha=0.3)
    lams = sorted(l1_runs)
    middle.plot(lams, [np.mean(l1_runs[lam][0] == 0) for lam in lams], "o-")
    middle.set_xscale("log")
    middle.minorticks_off()
    middle.set_xticks(lams, [f"{lam:g}" for lam in lams])
    middle.set(xlabel="lambda (L1)", ylabel="fraction of weights exactly 0", title="L1: exact zeros")
    middle.grid(alpha=0.3)
    weights = l1_runs[lams[len(lams) // 2]][0].reshape(8, 8)
    limit = np.abs(weights).max() or 1.0
    image = right.imshow(weights, cmap="RdBu", vmin=-limit, vmax=limit)
    right.set_title(f"L1 weights, lambda = {lams[len(lams) // 2]:g} (white = 0)")
    right.axis("off")
    fig.colorbar(image, ax=right, shrink=0.8)
    fig.savefig(path, dpi=110)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-size", type=int, default=60)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--l1", default="0.003,0.01,0.03", help="L1 strengths to train with")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", help="save validation error against lambda, and the L1 weights, to this PNG")
    args = parser.parse_args(argv)

    ag.manual_seed(args.seed)
    train, val = load_three_against_eight(args.train_size, args.seed)
    result = grid_search(build, {"lam": [1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0]}, train, val_data=val,
                         epochs=args.epochs, batch_size=len(train[0]), metrics=("accuracy",), coarse_fraction=0.5,
                         seed=args.seed, progress=False)
    print(result)
    best = result.best
    print(f"best lambda: {best['lam']:.3g}: validation loss {best['val_loss']:.4f}, accuracy {best['val_accuracy']:.3f}")
    ag.manual_seed(args.seed)  # the same training without the penalty, for comparison
    model, loss_fn, optimizer, _ = build(0.0)
    plain = fit(model, loss_fn, optimizer, train, val_data=val, epochs=args.epochs, batch_size=len(train[0]),
                metrics=("accuracy",), progress=False)
    print(f"without the penalty: validation loss {plain['val_loss'][-1]:.4f}, "
          f"accuracy {plain['val_accuracy'][-1]:.3f}")

    l1_runs = {}
    for lam in (float(v) for v in args.l1.split(",")):
        ag.manual_seed(args.seed)
        weights, accuracy = train_l1(train, val, lam, args.epochs)
        l1_runs[lam] = (weights, accuracy)
        print(f"L1 lambda {lam:g}: {int((weights == 0).sum())} of {weights.size} weights exactly 0, "
              f"validation accuracy {accuracy:.3f}")
    if args.plot:
        plot(args.plot, result, l1_runs)
        print(f"saved {args.plot}")
    return {"best_lambda": best["lam"], "val_loss": best["val_loss"], "val_accuracy": best["val_accuracy"],
            "unregularised_val_loss": plain["val_loss"][-1], "unregularised_val_accuracy": plain["val_accuracy"][-1],
            "l1": {lam: {"zeros": int((w == 0).sum()), "val_accuracy": acc} for lam, (w, acc) in l1_runs.items()}}


if __name__ == "__main__":
    main(sys.argv[1:])
