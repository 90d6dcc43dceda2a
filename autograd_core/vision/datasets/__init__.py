"""ag.vision.datasets (torchvision.datasets' names): MNIST, FashionMNIST, CIFAR10, ImageFolder,
DatasetFolder, FakeData, VisionDataset."""
from .cifar import CIFAR10
from .fakedata import FakeData
from .folder import DatasetFolder, ImageFolder
from .mnist import MNIST, FashionMNIST
from .vision import VisionDataset

__all__ = ["CIFAR10", "MNIST", "DatasetFolder", "FakeData", "FashionMNIST", "ImageFolder", "VisionDataset"]
