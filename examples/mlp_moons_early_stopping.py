"""A small MLP on the two-moons problem, with a validation set, early stopping and learning curves.

    python examples/mlp_moons_early_stopping.py [--plot curves.png]
"""

import argparse
import os

import autograd_core as ag
from autograd_core import nn, optim
from autograd_core.datasets import make_moons
from autograd_core.train import EarlyStopping, GradientMonitor, evaluate, fit

parser = argparse.ArgumentParser()
parser.add_argument("--plot", help="save the learning curves (and the decision regions) to this file")
args = parser.parse_args()

ag.manual_seed(0)
train = make_moons(600, noise=0.2)
val = make_moons(300, noise=0.2)
test = make_moons(300, noise=0.2)

model = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 2))
monitor = GradientMonitor()  # warns in plain words if gradients vanish/explode or the net overfits
history = fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.01), train, val_data=val,
              epochs=200, batch_size=32, metrics=("accuracy",),
              callbacks=[EarlyStopping("val_loss", patience=10), monitor])
print(f"trained {len(history)} epochs; best val_loss at epoch {history.best('val_loss')[0]}")
print("test:", evaluate(model, nn.CrossEntropyLoss(), test, metrics=("accuracy",)))
print(monitor.summary())
if args.plot:
    history.plot(args.plot)
    stem, extension = os.path.splitext(args.plot)
    ag.viz.plot_decision_boundary(model, *test, path=f"{stem}-regions{extension}")
    print(f"saved {args.plot} and {stem}-regions{extension}")
