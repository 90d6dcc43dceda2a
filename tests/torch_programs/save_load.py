"""Save and load the model, as in the tutorial: weights only, the whole model, and a general
checkpoint with the optimizer state to resume training."""
import os
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

torch.manual_seed(0)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3)
        self.pool = nn.MaxPool2d(2, 2)
        self.fc1 = nn.Linear(4 * 3 * 3, 16)
        self.fc2 = nn.Linear(16, 3)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = torch.flatten(x, 1)
        return self.fc2(F.relu(self.fc1(x)))


net = Net()
optimizer = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
criterion = nn.CrossEntropyLoss()
inputs = torch.randn(12, 1, 8, 8)
labels = torch.randint(0, 3, (12,))


def train_steps(model, opt, steps):
    for _ in range(steps):
        opt.zero_grad()
        loss = criterion(model(inputs), labels)
        loss.backward()
        opt.step()
    return loss.item()


print("Model's state_dict:")
for param_tensor in net.state_dict():
    print(param_tensor, "\t", net.state_dict()[param_tensor].size())
print("Optimizer's state_dict:")
for var_name in optimizer.state_dict():
    print(var_name, "\t", optimizer.state_dict()[var_name])

folder = tempfile.mkdtemp()
first = criterion(net(inputs), labels).item()
print(f"loss: {first:.4f}")
loss = train_steps(net, optimizer, 10)
print(f"loss: {loss:.4f}")

PATH = os.path.join(folder, "model_weights.pth")
torch.save(net.state_dict(), PATH)
model = Net()
model.load_state_dict(torch.load(PATH, weights_only=True))
model.eval()
assert torch.equal(model(inputs), net.eval()(inputs))

PATH = os.path.join(folder, "model.pth")
torch.save(net, PATH)
model = torch.load(PATH, weights_only=False)
model.eval()
assert torch.equal(model(inputs), net(inputs))

PATH = os.path.join(folder, "checkpoint.tar")
torch.save({"epoch": 10, "model_state_dict": net.state_dict(), "optimizer_state_dict": optimizer.state_dict(),
            "loss": loss}, PATH)
model = Net()
optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
checkpoint = torch.load(PATH, weights_only=True)
model.load_state_dict(checkpoint["model_state_dict"])
optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
epoch = checkpoint["epoch"]
loss = checkpoint["loss"]
model.train()
loss = train_steps(model, optimizer, 10)
print(f"loss: {loss:.4f} after resuming from epoch {epoch}")
