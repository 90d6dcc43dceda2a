"""Semantic segmentation of synthetic shapes: a small encoder-decoder labels every pixel; IoU measures it.

Each 32x32 image holds a disc and a rectangle of the same brightness on a noisy background, so a
pixel's class (0 background, 1 disc, 2 rectangle) cannot be read from its own value: the network
must look at the shape around it. The model is a small U-Net: two convolution stages that halve the
resolution (more context per unit), one that brings it back up, and a skip connection that hands
the decoder the full-resolution features for sharp edges. Its output is (N, C, H, W), one score per
class and pixel, the layout cross_entropy and fit's metrics take.

Intersection over union of class c, IoU_c = |predicted c AND true c| / |predicted c OR true c|,
averaged over the classes (mean IoU), is the usual score: unlike pixel accuracy it is not inflated
by a large, easy background.

    python examples/segmentation_shapes.py [--epochs 12] [--plot segmentation.png]
"""

import argparse
import sys

import numpy as np

import autograd_core as ag
from autograd_core import nn, optim
from autograd_core.metrics import confusion_matrix, scores_from_confusion
from autograd_core.train import evaluate, fit, predict

CLASSES = ["background", "disc", "rectangle"]


def make_shapes(n, size=32, noise=0.15, seed=0):
    """(images float32 (n, 1, size, size), masks int64 (n, size, size)): one disc and one rectangle each."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    images = np.zeros((n, 1, size, size), dtype=np.float32)
    masks = np.zeros((n, size, size), dtype=np.int64)
    for i in range(n):
        h, w = rng.integers(6, 14, size=2)
        top, left = rng.integers(0, size - h), rng.integers(0, size - w)
        rectangle = (yy >= top) & (yy < top + h) & (xx >= left) & (xx < left + w)
        radius = rng.uniform(4, 7)
        cy, cx = rng.uniform(radius, size - radius, size=2)
        disc = (yy - cy) ** 2 + (xx - cx) ** 2 <= radius**2
        masks[i][rectangle] = 2
        masks[i][disc] = 1  # the disc lies on top where they overlap
        images[i, 0] = (rectangle | disc) * 1.0
    images += noise * rng.standard_normal(images.shape).astype(np.float32)
    return ag.from_numpy(images), ag.from_numpy(masks)


def block(c_in, c_out):
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(),
                         nn.Conv2d(c_out, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU())


class SmallUNet(nn.Module):
    def __init__(self, classes=3, width=16):
        super().__init__()
        self.down1 = block(1, width)                      # 32x32
        self.down2 = block(width, 2 * width)              # 16x16
        self.middle = block(2 * width, 2 * width)         # 8x8
        self.pool = nn.MaxPool2d(2)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.decode2 = block(4 * width, width)            # 16x16, with the skip from down2
        self.decode1 = block(2 * width, width)            # 32x32, with the skip from down1
        self.head = nn.Conv2d(width, classes, 1)

    def forward(self, x):
        d1 = self.down1(x)
        d2 = self.down2(self.pool(d1))
        m = self.middle(self.pool(d2))
        u2 = self.decode2(ag.cat([self.up(m), d2], 1))
        u1 = self.decode1(ag.cat([self.up(u2), d1], 1))
        return self.head(u1)


def plot(path, history, images, masks, predicted, per_class_iou):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13.0, 4.6), layout="constrained")
    left, right = fig.subfigures(1, 2, width_ratios=[1.0, 1.6])
    ax = left.subplots()
    ax.plot(history.epoch, history["iou"], "-o", markersize=3, label="training mean IoU")
    ax.plot(history.epoch, history["val_iou"], "-s", markersize=3, label="validation mean IoU")
    ax.plot(history.epoch, history["val_accuracy"], ":", label="validation pixel accuracy")
    ax.set(xlabel="epoch", ylabel="score", title="per-class IoU on test: " +
           ", ".join(f"{name} {value:.2f}" for name, value in zip(CLASSES, per_class_iou)))
    ax.title.set_fontsize(9)
    ax.legend()
    ax.grid(alpha=0.3)
    axes = right.subplots(3, 5)
    for column in range(5):
        for row, (picture, cmap) in enumerate(((images[column, 0], "gray"), (masks[column], "viridis"),
                                               (predicted[column], "viridis"))):
            axes[row, column].imshow(picture, cmap=cmap, vmin=None if row == 0 else 0, vmax=None if row == 0 else 2)
            axes[row, column].axis("off")
    for row, label in enumerate(("input", "true mask", "predicted")):
        axes[row, 0].set_title(label, fontsize=9, loc="left")
    fig.savefig(path, dpi=110)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-size", type=int, default=800)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", help="save the IoU curves and test predictions to this PNG")
    args = parser.parse_args(argv)

    ag.manual_seed(args.seed)
    train = make_shapes(args.train_size, seed=args.seed)
    val = make_shapes(200, seed=args.seed + 1)
    test = make_shapes(200, seed=args.seed + 2)
    model = SmallUNet(width=args.width)
    optimizer = optim.Adam(model.parameters(), lr=3e-3)
    history = fit(model, nn.CrossEntropyLoss(), optimizer, train, val_data=val, epochs=args.epochs, batch_size=32,
                  metrics=("accuracy", "iou"),
                  scheduler=optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs))
    result = evaluate(model, nn.CrossEntropyLoss(), test, metrics=("accuracy", "iou"))
    outputs = predict(model, test[0])
    per_class = scores_from_confusion(confusion_matrix(outputs, test[1]), average=None)["iou"]
    print(f"test: pixel accuracy {result['accuracy']:.4f}, mean IoU {result['iou']:.4f} (" +
          ", ".join(f"{name} {value:.3f}" for name, value in zip(CLASSES, per_class)) + ")")
    if args.plot:
        plot(args.plot, history, test[0].numpy(), test[1].numpy(), outputs.argmax(1).numpy(), per_class)
        print(f"saved {args.plot}")
    return {"test_accuracy": result["accuracy"], "test_mean_iou": result["iou"],
            "test_iou": dict(zip(CLASSES, map(float, per_class)))}


if __name__ == "__main__":
    main(sys.argv[1:])
