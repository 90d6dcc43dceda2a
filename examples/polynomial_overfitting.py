"""Underfitting and overfitting with the degree of a polynomial, then early stopping on validation error.

h(x) = theta_0 + theta_1 x + ... + theta_d x^d fitted to a few noisy samples of a cubic. Degree 1
underfits (high error on training and validation data: bias); the right degree fits both; a high
degree threads through the training points and misses new ones (low training, high validation
error: variance). Each degree is fitted exactly (least squares), so the curves show the model's
capacity and not the optimizer.

Early stopping: a network with far more parameters than points, trained by Adam, first learns the
curve and then the noise. Its validation error falls, then rises; EarlyStopping keeps the weights of
the epoch with the lowest validation error.

    python examples/polynomial_overfitting.py [--epochs 1500] [--plot degree.png]
"""

import argparse
import sys

import numpy as np

import autograd_core as ag
from autograd_core import nn, optim
from autograd_core.datasets import make_polynomial
from autograd_core.train import EarlyStopping, evaluate, fit

COEF = [0.5, -1.0, -2.0, 2.5]  # the true cubic, lowest power first
NOISE = 0.15


def features(x, degree):
    """[x, x^2, ..., x^d] as columns (theta_0 is the bias)."""
    return ag.cat([x**k for k in range(1, degree + 1)], 1)


def fit_degree(train, val, degree):
    """Exact least-squares fit of one degree; returns (train MSE, validation MSE, coefficients)."""
    design = np.c_[np.ones(len(train[0])), features(train[0], degree).numpy()].astype(np.float64)
    theta = np.linalg.lstsq(design, train[1].numpy().astype(np.float64), rcond=None)[0]

    def mse(data):
        rows = np.c_[np.ones(len(data[0])), features(data[0], degree).numpy()].astype(np.float64)
        return float(np.mean((rows @ theta - data[1].numpy()) ** 2))

    return mse(train), mse(val), theta.ravel()


def wide_net():
    return nn.Sequential(nn.Linear(1, 128), nn.Tanh(), nn.Linear(128, 128), nn.Tanh(), nn.Linear(128, 1))


def plot(path, train, degrees, errors, fits, full, stopper):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(14.0, 3.8), layout="constrained")
    curves, sweep, stopping = fig.subplots(1, 3)
    grid = np.linspace(-1, 1, 200)[:, None]
    curves.scatter(train[0].numpy(), train[1].numpy(), color="black", s=12, label="training points", zorder=3)
    for degree, theta in fits.items():
        curves.plot(grid, np.polynomial.polynomial.polyval(grid, theta), label=f"degree {degree}")
    curves.set_ylim(train[1].numpy().min() - 1, train[1].numpy().max() + 1)
    curves.set(xlabel="x", ylabel="y", title="fits of increasing degree")
    curves.legend(fontsize=8)
    sweep.plot(degrees, [e[0] for e in errors], "o-", label="training")
    sweep.plot(degrees, [e[1] for e in errors], "s-", label="validation")
    sweep.axhline(NOISE**2, color="grey", linestyle=":", label="noise variance")
    sweep.set_yscale("log")
    sweep.set(xlabel="degree", ylabel="mean squared error", title="underfitting and overfitting")
    sweep.legend()
    stopping.plot(full.epoch, full["loss"], label="training")
    stopping.plot(full.epoch, full["val_loss"], label="validation")
    stopping.axvline(stopper.best_epoch, color="grey", linestyle=":", label=f"early stop (epoch {stopper.best_epoch})")
    stopping.set_yscale("log")
    stopping.set(xlabel="epoch", ylabel="mean squared error", title="early stopping on validation error")
    stopping.legend()
    for ax in (curves, sweep, stopping):
        ax.grid(alpha=0.3)
    fig.savefig(path, dpi=110)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-size", type=int, default=15)
    parser.add_argument("--max-degree", type=int, default=12)
    parser.add_argument("--epochs", type=int, default=1500, help="epochs of the early-stopping run")
    parser.add_argument("--patience", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", help="save the fits, the error-against-degree curve and the early stopping run")
    args = parser.parse_args(argv)

    ag.manual_seed(args.seed)
    train = make_polynomial(args.train_size, degree=3, coef=COEF, noise=NOISE, seed=args.seed)
    val = make_polynomial(200, degree=3, coef=COEF, noise=NOISE, seed=args.seed + 1)
    test = make_polynomial(200, degree=3, coef=COEF, noise=NOISE, seed=args.seed + 2)

    degrees = list(range(1, args.max_degree + 1))
    errors, fits = [], {}
    for degree in degrees:
        train_mse, val_mse, theta = fit_degree(train, val, degree)
        errors.append((train_mse, val_mse))
        if degree in (1, 3, args.max_degree):
            fits[degree] = theta
        print(f"degree {degree:>2}: training MSE {train_mse:.4f}, validation MSE {val_mse:.4f}")
    by_degree = {d: {"train_mse": e[0], "val_mse": e[1]} for d, e in zip(degrees, errors)}

    # the same network trained twice from the same start: to the end, and with early stopping
    loss = nn.MSELoss()
    ag.manual_seed(args.seed)
    model = wide_net()
    full = fit(model, loss, optim.Adam(model.parameters(), lr=0.01), train, val_data=val, epochs=args.epochs,
               batch_size=len(train[0]), progress=False)
    full_test = evaluate(model, loss, test)["loss"]
    ag.manual_seed(args.seed)
    model = wide_net()
    stopper = EarlyStopping("val_loss", patience=args.patience, restore_best=True)
    stopped = fit(model, loss, optim.Adam(model.parameters(), lr=0.01), train, val_data=val, epochs=args.epochs,
                  batch_size=len(train[0]), callbacks=[stopper], progress=False)
    stopped_test = evaluate(model, loss, test)["loss"]
    print(f"network trained {len(full)} epochs: training MSE {full['loss'][-1]:.4f}, test MSE {full_test:.4f}")
    print(f"early stopping kept epoch {stopper.best_epoch} (stopped after {len(stopped)}): test MSE {stopped_test:.4f}")
    if args.plot:
        plot(args.plot, train, degrees, errors, fits, full, stopper)
        print(f"saved {args.plot}")
    return {"degrees": by_degree, "full_train_mse": full["loss"][-1], "full_test_mse": full_test,
            "early_stopping_test_mse": stopped_test, "best_epoch": stopper.best_epoch, "epochs_run": len(stopped)}


if __name__ == "__main__":
    main(sys.argv[1:])
