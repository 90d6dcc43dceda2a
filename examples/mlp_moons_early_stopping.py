"""A small MLP on the two-moons problem, with a validation set, early stopping and learning curves.

    python examples/mlp_moons_early_stopping.py [--epochs 200] [--plot curves.png]
"""

import argparse
import os
import sys

import autograd_core as ag
from autograd_core import nn, optim
from autograd_core.datasets import make_moons
from autograd_core.train import EarlyStopping, GradientMonitor, evaluate, fit


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=600)
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--patience", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", help="save the learning curves (and the decision regions) to this file")
    args = parser.parse_args(argv)

    ag.manual_seed(args.seed)
    train = make_moons(args.samples, noise=0.2)
    val = make_moons(300, noise=0.2)
    test = make_moons(300, noise=0.2)

    model = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 2))
    monitor = GradientMonitor()  # warns in plain words if gradients vanish/explode or the net overfits
    stopper = EarlyStopping("val_loss", patience=args.patience)
    history = fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.01), train, val_data=val,
                  epochs=args.epochs, batch_size=32, metrics=("accuracy",), callbacks=[stopper, monitor])
    print(f"trained {len(history)} epochs; best val_loss at epoch {history.best('val_loss')[0]}")
    result = evaluate(model, nn.CrossEntropyLoss(), test, metrics=("accuracy",))
    print("test:", result)
    print(monitor.summary())
    if args.plot:
        history.plot(args.plot)
        stem, extension = os.path.splitext(args.plot)
        ag.viz.plot_decision_boundary(model, *test, path=f"{stem}-regions{extension}")
        print(f"saved {args.plot} and {stem}-regions{extension}")
    return {"test_accuracy": result["accuracy"], "test_loss": result["loss"], "epochs_run": len(history),
            "best_epoch": stopper.best_epoch}


if __name__ == "__main__":
    main(sys.argv[1:])
