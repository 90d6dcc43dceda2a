"""Automatic differentiation with torch.autograd, as in the beginner tutorial: gradients of a
one-layer network, disabling tracking, Jacobian-vector products, then a few training steps."""
import torch

torch.manual_seed(0)
x = torch.ones(5)
y = torch.zeros(3)
w = torch.randn(5, 3, requires_grad=True)
b = torch.randn(3, requires_grad=True)
z = torch.matmul(x, w) + b
loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
print(f"Gradient function for z = {z.grad_fn}")
print(f"Gradient function for loss = {loss.grad_fn}")
loss.backward()
print(w.grad)
print(b.grad)
# d loss / d b = sigmoid(z) / 3 for targets 0; each row of w gets the same since x is ones
expected = torch.sigmoid(z.detach()) / 3
assert torch.allclose(b.grad, expected, atol=1e-6)
assert torch.allclose(w.grad, expected.expand(5, 3), atol=1e-6)

z = torch.matmul(x, w) + b
print(z.requires_grad)
with torch.no_grad():
    z = torch.matmul(x, w) + b
print(z.requires_grad)
z_det = (torch.matmul(x, w) + b).detach()
print(z_det.requires_grad)

inp = torch.eye(4, 5, requires_grad=True)
out = (inp + 1).pow(2).t()
out.backward(torch.ones_like(out), retain_graph=True)
print(f"First call\n{inp.grad}")
out.backward(torch.ones_like(out), retain_graph=True)
print(f"\nSecond call\n{inp.grad}")
inp.grad.zero_()
out.backward(torch.ones_like(out), retain_graph=True)
print(f"\nCall after zeroing gradients\n{inp.grad}")
assert torch.equal(inp.grad, 2 * (inp.detach() + 1))

# a few steps of gradient descent on the same model
target = torch.tensor([0.0, 1.0, 0.0])
for step in range(30):
    z = torch.matmul(x, w) + b
    loss = torch.nn.functional.binary_cross_entropy_with_logits(z, target)
    if step % 10 == 0:
        print(f"loss: {loss.item():.4f}")
    w.grad, b.grad = None, None
    loss.backward()
    with torch.no_grad():
        w -= 0.1 * w.grad
        b -= 0.1 * b.grad
print(f"loss: {loss.item():.4f}")
