"""LeNet-5 for 1x28x28 digits (LeCun et al., 1998, with max pooling and ReLU, as courses teach it;
torchvision has no LeNet, so these names are this library's): conv1, conv2, fc1, fc2, fc3."""
from ... import nn
from ._weights import check_weights


class LeNet5(nn.Module):
    def __init__(self, num_classes=10, in_channels=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 6, kernel_size=5, padding=2)  # 28x28 -> 28x28, as 32x32 unpadded
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=5)                       # 14x14 -> 10x10
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)
        self.relu = nn.ReLU()

    def forward(self, x):
        x = self.pool(self.relu(self.conv1(x)))
        x = self.pool(self.relu(self.conv2(x)))
        x = self.relu(self.fc1(x.flatten(1)))
        return self.fc3(self.relu(self.fc2(x)))


def lenet5(*, weights=None, progress=True, **kwargs):
    check_weights("lenet5", weights, kwargs)
    return LeNet5(**kwargs)
