"""The classic LeNet-5 (LeCun et al., 1998) on the shipped handwritten digits, at its 32x32 input size.

The architecture of the slides, layer by layer (feature maps @ height x width):
    input 1@32x32 -> C1: 6 convolutions 5x5 -> 6@28x28 -> S2: 2x2 subsampling -> 6@14x14
    -> C3: 16 convolutions 5x5 -> 16@10x10 -> S4: 2x2 subsampling -> 16@5x5
    -> C5: 120 convolutions 5x5 -> 120@1x1 -> F6: 84 units -> output: 10 classes
with tanh units and average pooling as in the original (its RBF output layer is replaced by a
linear layer and the cross-entropy loss, as every modern rendition does). A convolution shares one
small set of weights across the whole image, so C1 has 6 x (5 x 5 + 1) = 156 parameters where a
dense layer to the same outputs would have 4.6 million.

The shipped digits are 8x8 (the UCI optical-recognition set); they are upsampled to 32x32 by
bilinear interpolation, so the network runs at its designed size.

    python examples/lenet5.py [--epochs 10] [--plot lenet5.png]
"""

import argparse
import sys

import numpy as np

import autograd_core as ag
from autograd_core import nn, optim
from autograd_core.preprocessing import train_val_split
from autograd_core.datasets import load_digits
from autograd_core.metrics import confusion_matrix
from autograd_core.train import evaluate, fit, predict


def lenet5():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.Tanh(),      # C1: 6@28x28
        nn.AvgPool2d(2),                    # S2: 6@14x14
        nn.Conv2d(6, 16, 5), nn.Tanh(),     # C3: 16@10x10
        nn.AvgPool2d(2),                    # S4: 16@5x5
        nn.Conv2d(16, 120, 5), nn.Tanh(),   # C5: 120@1x1
        nn.Flatten(),
        nn.Linear(120, 84), nn.Tanh(),      # F6
        nn.Linear(84, 10),                  # output
    )


def to_32x32(images):
    """(N, 1, 8, 8) in [0, 1] -> (N, 1, 32, 32), centred at 0 as LeNet expects (background -0.1)."""
    big = nn.functional.interpolate(images, size=(32, 32), mode="bilinear", align_corners=False)
    return big * 1.275 - 0.1


def plot(path, history, matrix, images, predicted, labels):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(14.0, 3.8), layout="constrained")
    curves, confusion, samples = fig.subfigures(1, 3, width_ratios=[1.2, 1.0, 1.2])
    ax = curves.subplots()
    ax.plot(history.epoch, history["accuracy"], "-o", markersize=3, label="training")
    ax.plot(history.epoch, history["val_accuracy"], "-s", markersize=3, label="validation")
    ax.set(xlabel="epoch", ylabel="accuracy", title="LeNet-5 learning curve")
    ax.grid(alpha=0.3)
    ax.legend()
    ax = confusion.subplots()
    ax.imshow(matrix, cmap="Blues")
    for i in range(10):
        for j in range(10):
            if matrix[i, j]:
                ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if matrix[i, j] > matrix.max() / 2 else "black")
    ax.set(xlabel="predicted", ylabel="true", title="test confusion matrix", xticks=range(10), yticks=range(10))
    axes = samples.subplots(3, 6)
    for ax, image, guess, label in zip(axes.ravel(), images, predicted, labels):
        ax.imshow(image[0], cmap="gray_r")
        ax.set_title(f"{guess}" if guess == label else f"{guess} (true {label})", fontsize=8,
                     color="black" if guess == label else "red")
        ax.axis("off")
    samples.suptitle("32x32 test inputs and predictions")
    fig.savefig(path, dpi=110)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--train-size", type=int, default=None, help="use only this many training images")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", help="save the learning curve, test confusion matrix and samples to this PNG")
    args = parser.parse_args(argv)

    ag.manual_seed(args.seed)
    x, y = load_digits("train")
    x_test, y_test = load_digits("test")
    (x_train, y_train), (x_val, y_val) = train_val_split(to_32x32(x), y, val_fraction=0.15, stratify=True,
                                                         seed=args.seed)
    if args.train_size:
        x_train, y_train = x_train[:args.train_size], y_train[:args.train_size]
    x_test = to_32x32(x_test)
    model = lenet5()
    print(f"LeNet-5: {sum(p.numel() for p in model.parameters())} parameters; {len(x_train)} training images")
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    history = fit(model, nn.CrossEntropyLoss(), optimizer, (x_train, y_train), val_data=(x_val, y_val),
                  epochs=args.epochs, batch_size=args.batch_size, metrics=("accuracy",),
                  scheduler=optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs))
    test = evaluate(model, nn.CrossEntropyLoss(), (x_test, y_test), metrics=("accuracy", "f1"))
    print(f"test: accuracy {test['accuracy']:.4f}, macro F1 {test['f1']:.4f}, loss {test['loss']:.4f}")
    if args.plot:
        outputs = predict(model, x_test)
        matrix = confusion_matrix(outputs, y_test)
        predicted = outputs.argmax(1).numpy()
        # show the mistakes first, then correct ones
        order = np.argsort(predicted == y_test.numpy(), kind="stable")[:18]
        plot(args.plot, history, matrix, x_test.numpy()[order], predicted[order], y_test.numpy()[order])
        print(f"saved {args.plot}")
    return {"test_accuracy": test["accuracy"], "test_f1": test["f1"], "test_loss": test["loss"],
            "val_accuracy": history["val_accuracy"][-1]}


if __name__ == "__main__":
    main(sys.argv[1:])
