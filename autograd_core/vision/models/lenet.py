"""LeNet-5 for 1x28x28 digits (LeCun et al., 1998, with max pooling and ReLU, as courses teach it;
torchvision has no LeNet, so these names are this library's): conv1, conv2, fc1, fc2, fc3."""
from ... import nn
from ._weights import check_weights


class LeNet5(nn.Module):
    """LeCun et al.'s LeNet-5 with ReLU and max pooling: conv 5x5 (6) - pool - conv 5x5 (16) - pool -
    fc 120 - fc 84 - fc num_classes.

    The first convolution pads by 2, so 28x28 inputs (MNIST) go through the same sizes as the
    original 32x32 ones: 28 -> 28 -> 14 -> 10 -> 5.

    Args:
        num_classes (int): the number of outputs (class scores).
        in_channels (int): 1 for grayscale, 3 for colour.

    Shape:
        - Input: ``(N, in_channels, 28, 28)``; output: ``(N, num_classes)``.

    Example:
        >>> from autograd_core.vision.models import LeNet5
        >>> LeNet5()(ag.zeros(2, 1, 28, 28)).shape
        Size([2, 10])

    """

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
    """A :class:`LeNet5` (keyword arguments go to it). Raises RuntimeError if ``weights`` (or
    ``pretrained=True``) is given: no pretrained weights are shipped or downloaded; load a torchvision
    checkpoint you have with ``load_state_dict``.
    """
    check_weights("lenet5", weights, kwargs)
    return LeNet5(**kwargs)
