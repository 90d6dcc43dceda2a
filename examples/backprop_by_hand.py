"""Backpropagation written out by hand for a 2-layer network, checked against autograd, then trained.

Forward, for a batch of m rows X (m x n) with one-hot targets Y (m x K):
    Z1 = X W1^T + b1,  A1 = g(Z1) with g the sigmoid,  Z2 = A1 W2^T + b2,  P = softmax(Z2),
    J = -(1/m) sum_i sum_k Y_ik log P_ik.
Backward, by the chain rule, each delta the gradient of J with respect to a layer's pre-activation:
    delta2 = (P - Y) / m                      dJ/dW2 = delta2^T A1,  dJ/db2 = sum_i delta2_i
    delta1 = (delta2 W2) * g'(Z1),  g'(Z1) = A1 (1 - A1)
                                              dJ/dW1 = delta1^T X,   dJ/db1 = sum_i delta1_i
The hand-written gradients must equal autograd's to rounding (float64), and gradient descent with
them must learn the task.

    python examples/backprop_by_hand.py [--hidden 16] [--steps 2000] [--plot backprop.png]
"""

import argparse
import sys

import numpy as np

import autograd_core as ag
from autograd_core.preprocessing import StandardScaler
from autograd_core.datasets import make_moons


def forward(params, x):
    w1, b1, w2, b2 = params
    a1 = (x @ w1.T + b1).sigmoid()
    z2 = a1 @ w2.T + b2
    return a1, z2


def cost(z2, y_onehot):
    return -(y_onehot * z2.log_softmax(dim=1)).sum() / z2.shape[0]


def backward_by_hand(params, x, y_onehot):
    """The four gradients from the formulas in the module docstring, with no autograd at all."""
    with ag.no_grad():
        w2 = params[2]
        a1, z2 = forward(params, x)
        delta2 = (z2.softmax(dim=1) - y_onehot) / x.shape[0]
        grad_w2, grad_b2 = delta2.T @ a1, delta2.sum(0)
        delta1 = (delta2 @ w2) * a1 * (1 - a1)
        grad_w1, grad_b1 = delta1.T @ x, delta1.sum(0)
    return [grad_w1, grad_b1, grad_w2, grad_b2]


def init_params(n_in, hidden, n_out, dtype):
    """Small random weights (not zeros: identical hidden units would stay identical forever)."""
    def uniform(*shape, fan_in):
        bound = 1 / np.sqrt(fan_in)
        return (ag.rand(*shape, dtype=dtype) * 2 - 1) * bound

    return [uniform(hidden, n_in, fan_in=n_in), ag.zeros(hidden, dtype=dtype),
            uniform(n_out, hidden, fan_in=hidden), ag.zeros(n_out, dtype=dtype)]


def plot(path, costs, accuracy, params, x, y):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10.0, 3.8), layout="constrained")
    left, right = fig.subplots(1, 2)
    left.plot(costs)
    left.set(xlabel="gradient descent step", ylabel="cost J", title="training with hand-written gradients")
    left.set_yscale("log")
    left.grid(alpha=0.3)
    xs = x.numpy()
    u, v = np.meshgrid(np.linspace(xs[:, 0].min() - 0.5, xs[:, 0].max() + 0.5, 200),
                       np.linspace(xs[:, 1].min() - 0.5, xs[:, 1].max() + 0.5, 200))
    grid = ag.from_numpy(np.c_[u.ravel(), v.ravel()])
    with ag.no_grad():
        classes = forward(params, grid)[1].argmax(1).numpy().reshape(u.shape)
    right.contourf(u, v, classes, alpha=0.3, cmap="coolwarm")
    right.scatter(xs[:, 0], xs[:, 1], c=y.numpy(), s=8, cmap="coolwarm")
    right.set(title=f"decision regions (training accuracy {accuracy:.3f})", xlabel="x1", ylabel="x2")
    fig.savefig(path, dpi=110)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=400)
    parser.add_argument("--hidden", type=int, default=16)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--lr", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", help="save the cost curve and the decision regions to this PNG")
    args = parser.parse_args(argv)

    ag.manual_seed(args.seed)
    x, y = make_moons(args.samples, noise=0.15, seed=args.seed)
    x = StandardScaler().fit_transform(x).double()
    y_onehot = ag.nn.functional.one_hot(y, 2).double()
    params = init_params(2, args.hidden, 2, ag.float64)

    # 1. the check: the same gradients from the formulas and from autograd
    leaves = [p.clone().requires_grad_() for p in params]
    cost(forward(leaves, x)[1], y_onehot).backward()
    by_hand = backward_by_hand(params, x, y_onehot)
    difference = max(float((h - leaf.grad).abs().max()) for h, leaf in zip(by_hand, leaves))
    scale = max(float(leaf.grad.abs().max()) for leaf in leaves)
    print(f"largest |hand - autograd| over all gradients: {difference:.2e} (largest gradient {scale:.2e})")

    # 2. training: plain gradient descent, every gradient from the hand-written backward pass
    costs = []
    for _ in range(args.steps):
        with ag.no_grad():
            costs.append(cost(forward(params, x)[1], y_onehot).item())
        grads = backward_by_hand(params, x, y_onehot)
        params = [p - args.lr * g for p, g in zip(params, grads)]
    with ag.no_grad():
        accuracy = float((forward(params, x)[1].argmax(1) == y).float().mean())
    print(f"after {args.steps} steps: J = {costs[-1]:.4f}, training accuracy {accuracy:.3f}")
    if args.plot:
        plot(args.plot, costs, accuracy, params, x, y)
        print(f"saved {args.plot}")
    return {"max_gradient_difference": difference, "largest_gradient": scale, "final_cost": costs[-1],
            "initial_cost": costs[0], "accuracy": accuracy}


if __name__ == "__main__":
    main(sys.argv[1:])
