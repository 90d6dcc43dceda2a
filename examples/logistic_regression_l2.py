"""Logistic regression with an L2 penalty, choosing lambda by a coarse-to-fine grid search.

J(theta) = mean cross-entropy + lambda * |w|^2. Too small a lambda overfits the few training points,
too large underfits; the validation loss shows where the balance is. The search first tries orders
of magnitude on part of the data, then refines around the best on all of it.

    python examples/logistic_regression_l2.py [--plot lambda.png]
"""

import argparse

import autograd_core as ag
from autograd_core import nn, optim
from autograd_core.data import StandardScaler, train_val_split
from autograd_core.datasets import load_digits
from autograd_core.train import grid_search, l2_penalty

parser = argparse.ArgumentParser()
parser.add_argument("--plot", help="save validation loss against lambda to this file")
args = parser.parse_args()

# a binary task with few samples per feature, where regularisation matters: digit 3 against digit 8
x, y = load_digits("train", flatten=True)
keep = ((y == 3) | (y == 8)).numpy().nonzero()[0]
index = ag.tensor(keep)
x, y = x.index_select(0, index), (y.index_select(0, index) == 8).float().reshape(-1, 1)
(x_train, y_train), (x_val, y_val) = train_val_split(x, y, val_fraction=0.5, seed=0)
x_train, y_train = x_train[:60], y_train[:60]  # deliberately few training examples
scaler = StandardScaler().fit(x_train)
x_train, x_val = scaler.transform(x_train), scaler.transform(x_val)


def build(lam):
    """One candidate: h(x) = sigmoid(theta_0 + w . x) (the sigmoid lives in the loss) and the penalty
    lam * |w|^2, which is added to the training loss only, so validation losses compare fairly."""
    model = nn.Linear(64, 1)
    return model, nn.BCEWithLogitsLoss(), optim.Adam(model.parameters(), lr=0.05), l2_penalty(lam)


result = grid_search(build, {"lam": [1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0]}, (x_train, y_train),
                     val_data=(x_val, y_val), epochs=60, batch_size=60, metrics=("accuracy",),
                     coarse_fraction=0.5)
print(result)
best = result.best_params["lam"]
print(f"best lambda: {best:.3g}")
print(f"validation loss {result.best['val_loss']:.4f}, accuracy {result.best['val_accuracy']:.3f}")
if args.plot:
    result.plot("lam", args.plot)
    print(f"saved {args.plot}")
