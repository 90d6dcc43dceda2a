"""Linear regression by gradient descent, written out step by step, with learning rates compared.

The hypothesis h(x) = theta_0 + theta . x, the cost J = (1/m) sum (h(x_i) - y_i)^2 and the update
theta_j := theta_j - alpha * dJ/dtheta_j, all parameters at once. autograd computes dJ/dtheta; the
closed-form least-squares answer (normal equations) is the reference the descent should reach.

Too small an alpha crawls, a good one converges in tens of steps, and past 2 / (largest eigenvalue
of the Hessian 2 X^T X / m) the steps overshoot further each time and J grows without bound.

    python examples/linear_regression.py [--iterations 200] [--alphas 0.01,0.1,0.5,1.05] [--plot cost.png]
"""

import argparse
import sys

import numpy as np

import autograd_core as ag
from autograd_core.preprocessing import StandardScaler
from autograd_core.datasets import make_regression


def gradient_descent(x, y, alpha, iterations):
    """Batch gradient descent on J from theta = 0; returns (theta_0, theta, costs per iteration)."""
    theta = ag.zeros(x.shape[1], 1, requires_grad=True)
    theta_0 = ag.zeros(1, requires_grad=True)
    costs = []
    for _ in range(iterations):
        h = x @ theta + theta_0
        cost = ((h - y) ** 2).mean()
        costs.append(cost.item())
        if not np.isfinite(costs[-1]):
            break  # diverged: the remaining steps would only overflow further
        cost.backward()
        with ag.no_grad():  # the update itself is not part of the model
            theta -= alpha * theta.grad
            theta_0 -= alpha * theta_0.grad
        theta.grad = None
        theta_0.grad = None
    return theta_0.detach(), theta.detach(), costs


def plot(path, runs, best_cost):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.0, 4.0), layout="constrained")
    ax = fig.subplots()
    for alpha, costs in runs.items():
        ax.plot(range(len(costs)), costs, label=f"alpha = {alpha:g}")
    ax.axhline(best_cost, color="grey", linestyle=":", label="least squares")
    ax.set_yscale("log")
    ax.set_ylim(best_cost * 0.5, max(c[0] for c in runs.values()) * 20)
    ax.set(xlabel="iteration", ylabel="cost J", title="gradient descent on linear regression")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.savefig(path, dpi=110)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--features", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--alphas", default="0.01,0.1,0.5,1.05", help="learning rates to compare")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", help="save J against iterations, one curve per alpha, to this PNG")
    args = parser.parse_args(argv)
    alphas = [float(a) for a in args.alphas.split(",")]

    ag.manual_seed(args.seed)
    x, y = make_regression(args.samples, n_features=args.features, noise=0.3, bias=1.5, seed=args.seed)
    x = StandardScaler().fit_transform(x)  # gradient descent converges much faster on standardised inputs

    # the reference: least squares in closed form on the same standardised inputs
    design = np.c_[np.ones(len(x)), x.numpy()].astype(np.float64)
    exact = np.linalg.lstsq(design, y.numpy().astype(np.float64), rcond=None)[0].ravel()
    best_cost = float(np.mean((design @ exact - y.numpy().ravel()) ** 2))

    runs, results = {}, {}
    for alpha in alphas:
        theta_0, theta, costs = gradient_descent(x, y, alpha, args.iterations)
        runs[alpha] = costs
        found = np.r_[theta_0.numpy(), theta.numpy().ravel()]
        diverged = not np.isfinite(costs[-1]) or costs[-1] > costs[0]
        error = float(np.abs(found - exact).max()) if not diverged else float("inf")
        results[alpha] = {"final_cost": costs[-1], "coef_error": error, "diverged": diverged}
        state = "diverged" if diverged else f"J = {costs[-1]:.5f}, max |theta - least squares| = {error:.2e}"
        print(f"alpha {alpha:>6g}: {state}")
    print(f"least squares: J = {best_cost:.5f}, theta = {exact.round(4)}")
    if args.plot:
        plot(args.plot, runs, best_cost)
        print(f"saved {args.plot}")
    return {"least_squares_cost": best_cost, "runs": results}


if __name__ == "__main__":
    main(sys.argv[1:])
