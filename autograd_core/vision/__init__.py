"""ag.vision: the part of torchvision a course uses, under torchvision's names: datasets (MNIST,
FashionMNIST, CIFAR10, ImageFolder, FakeData), transforms, utils (make_grid, save_image) and models
(resnet18, vgg11, ...). Pillow is optional (PIL images where it is installed, numpy arrays where not)."""
from . import datasets, models, transforms, utils

__all__ = ["datasets", "models", "transforms", "utils"]
