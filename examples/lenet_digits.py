"""A LeNet-style CNN on the shipped 8x8 handwritten digits (what `python -m autograd_core demo` runs).
For the classic LeNet-5 at its 32x32 input size, see lenet5.py.

    python examples/lenet_digits.py [--epochs 20] [--plot curves.png]
"""

import argparse
import sys

import autograd_core as ag
from autograd_core import nn, optim
from autograd_core.preprocessing import train_val_split
from autograd_core.datasets import load_digits
from autograd_core.train import EarlyStopping, evaluate, fit


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", help="save the learning curves to this file")
    args = parser.parse_args(argv)

    ag.manual_seed(args.seed)
    x, y = load_digits("train")  # (1437, 1, 8, 8) float32 in [0, 1], int64 labels
    x_test, y_test = load_digits("test")  # 360 images, 36 of each digit
    (x_train, y_train), (x_val, y_val) = train_val_split(x, y, val_fraction=0.15, stratify=True, seed=args.seed)

    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # -> 16 x 4 x 4
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # -> 32 x 2 x 2
        nn.Flatten(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10),
    )
    optimizer = optim.Adam(model.parameters(), lr=3e-3)
    history = fit(model, nn.CrossEntropyLoss(), optimizer, (x_train, y_train), val_data=(x_val, y_val),
                  epochs=args.epochs, batch_size=32, metrics=("accuracy",),
                  scheduler=optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs),
                  callbacks=[EarlyStopping(patience=6)])  # keeps the weights of the best validation epoch
    result = evaluate(model, nn.CrossEntropyLoss(), (x_test, y_test), metrics=("accuracy",))
    print("test:", result)
    if args.plot:
        history.plot(args.plot)
        print(f"saved {args.plot}")
    return {"test_accuracy": result["accuracy"], "test_loss": result["loss"]}


if __name__ == "__main__":
    main(sys.argv[1:])
