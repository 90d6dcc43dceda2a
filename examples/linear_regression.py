"""Linear regression by gradient descent, written out step by step.

The hypothesis h(x) = theta_0 + theta . x, the cost J = mean((h(x) - y)^2), and the update
theta := theta - alpha * dJ/dtheta, all simultaneously. autograd computes dJ/dtheta for us; the
closed-form least-squares answer is printed next to it for comparison.

    python examples/linear_regression.py
"""

import numpy as np

import autograd_core as ag
from autograd_core.data import StandardScaler
from autograd_core.datasets import make_regression

ag.manual_seed(0)
x, y, true_w, true_b = make_regression(200, n_features=3, noise=0.3, bias=1.5, seed=0, return_coef=True)
x = StandardScaler().fit_transform(x)  # gradient descent converges much faster on standardised inputs

theta = ag.zeros(3, 1, requires_grad=True)
theta_0 = ag.zeros(1, requires_grad=True)
alpha = 0.1  # learning rate: too large diverges, too small crawls

for step in range(201):
    h = x @ theta + theta_0
    cost = ((h - y) ** 2).mean()
    cost.backward()
    with ag.no_grad():  # the update itself is not part of the model
        theta -= alpha * theta.grad
        theta_0 -= alpha * theta_0.grad
    theta.grad = None
    theta_0.grad = None
    if step % 40 == 0:
        print(f"step {step:>3}: J = {cost.item():.5f}")

# the same fit in closed form (normal equations) on the standardised inputs
design = np.c_[np.ones(len(x)), x.numpy()]
exact = np.linalg.lstsq(design, y.numpy(), rcond=None)[0].ravel()
print("gradient descent:", np.r_[theta_0.detach().numpy(), theta.detach().numpy().ravel()].round(4))
print("least squares:   ", exact.round(4))
