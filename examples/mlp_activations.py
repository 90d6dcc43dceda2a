"""An MLP on two moons: sigmoid, tanh, ReLU and LeakyReLU compared; input standardisation; weight init.

Each layer computes a^(l+1) = g(Theta^(l) a^(l) + b^(l)). Three experiments on the same data:

1. the activation g: sigmoid saturates (g' <= 1/4, so gradients shrink layer by layer) and learns
   slowest; tanh is centred at 0; ReLU and LeakyReLU pass gradients unchanged where active
   (LeakyReLU also where not, with slope 0.01, so no unit dies);
2. input standardisation: one feature in thousands and one in thousandths (the same data, rescaled)
   make the cost surface a narrow valley that gradient descent zig-zags along; x' = (x - mean) / std
   removes it;
3. weight initialisation: a deep tanh network started with tiny weights (std 0.01) passes almost no
   signal forward or gradient backward; Xavier/Glorot initialisation (variance 2 / (fan_in +
   fan_out)) keeps their scale layer after layer.

    python examples/mlp_activations.py [--epochs 30] [--plot activations.png]
"""

import argparse
import sys

import autograd_core as ag
from autograd_core import nn, optim
from autograd_core.preprocessing import StandardScaler
from autograd_core.datasets import make_moons
from autograd_core.train import fit

ACTIVATIONS = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.01)}


def mlp(activation, depth=2, width=32):
    layers, size = [], 2
    for _ in range(depth):
        layers += [nn.Linear(size, width), ACTIVATIONS[activation]()]
        size = width
    return nn.Sequential(*layers, nn.Linear(size, 2))


def initialise(model, scheme):
    for module in model.modules():
        if isinstance(module, nn.Linear):
            if scheme == "tiny":
                nn.init.normal_(module.weight, std=0.01)
            else:
                nn.init.xavier_uniform_(module.weight, gain=nn.init.calculate_gain("tanh"))
            nn.init.zeros_(module.bias)
    return model


def train(model, data, val, epochs, lr, optimizer="sgd"):
    params = model.parameters()
    opt = optim.SGD(params, lr=lr, momentum=0.9) if optimizer == "sgd" else optim.Adam(params, lr=lr)
    return fit(model, nn.CrossEntropyLoss(), opt, data, val_data=val, epochs=epochs, batch_size=32,
               metrics=("accuracy",), progress=False)


def plot(path, curves):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(14.0, 3.8), layout="constrained")
    axes = fig.subplots(1, 3)
    for ax, (title, runs) in zip(axes, curves.items()):
        for label, history in runs.items():
            ax.plot(history.epoch, history["val_accuracy"], label=label)
        ax.set(xlabel="epoch", ylabel="validation accuracy", title=title, ylim=(0.4, 1.02))
        ax.legend()
        ax.grid(alpha=0.3)
    fig.savefig(path, dpi=110)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=600)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", help="save validation accuracy against epochs for each experiment to this PNG")
    args = parser.parse_args(argv)

    ag.manual_seed(args.seed)
    x, y = make_moons(args.samples, noise=0.2, seed=args.seed)
    x_val, y_val = make_moons(args.samples // 2, noise=0.2, seed=args.seed + 1)
    scaler = StandardScaler().fit(x)
    data, val = (scaler.transform(x), y), (scaler.transform(x_val), y_val)
    curves, results = {}, {}

    runs = {}
    for name in ACTIVATIONS:
        ag.manual_seed(args.seed)
        runs[name] = train(mlp(name), data, val, args.epochs, lr=0.05)
        results[name] = runs[name]["val_accuracy"][-1]
        print(f"{name:>10}: validation accuracy {results[name]:.3f}")
    curves["activations (SGD, lr 0.05)"] = runs

    scale = ag.tensor([1000.0, 0.001])  # the same points in badly scaled units
    raw_data, raw_val = (x * scale, y), (x_val * scale, y_val)
    runs = {}
    for label, (d, v) in {"standardised": (data, val), "raw (x1 in thousands, x2 in thousandths)": (raw_data, raw_val)}.items():
        ag.manual_seed(args.seed)
        runs[label] = train(mlp("relu"), d, v, args.epochs, lr=1e-4 if label.startswith("raw") else 0.05)
    results["standardised"] = runs["standardised"]["val_accuracy"][-1]
    results["raw"] = runs["raw (x1 in thousands, x2 in thousandths)"]["val_accuracy"][-1]
    print(f"ReLU MLP: standardised inputs {results['standardised']:.3f}, raw inputs {results['raw']:.3f} "
          "(raw needs lr 1e-4 not to diverge on the large feature)")
    curves["input standardisation (ReLU)"] = runs

    runs = {}
    for scheme in ("xavier", "tiny"):
        ag.manual_seed(args.seed)
        model = initialise(mlp("tanh", depth=6), scheme)
        runs[f"{scheme} init" if scheme == "xavier" else "normal(0, 0.01) init"] = train(
            model, data, val, args.epochs, lr=0.05)
    results["xavier_deep_tanh"] = runs["xavier init"]["val_accuracy"][-1]
    results["tiny_init_deep_tanh"] = runs["normal(0, 0.01) init"]["val_accuracy"][-1]
    print(f"6-layer tanh MLP: Xavier init {results['xavier_deep_tanh']:.3f}, "
          f"std 0.01 init {results['tiny_init_deep_tanh']:.3f}")
    curves["weight initialisation (6 tanh layers)"] = runs
    if args.plot:
        plot(args.plot, curves)
        print(f"saved {args.plot}")
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
