"""ag.vision.models: ResNet-18/34/50 and VGG-11/13/16 with torchvision's names and state-dict keys,
and LeNet-5. Built with random initialisation (weights=None); no pretrained weights are shipped."""
from .lenet import LeNet5, lenet5
from .resnet import BasicBlock, Bottleneck, ResNet, resnet18, resnet34, resnet50
from .vgg import VGG, vgg11, vgg11_bn, vgg13, vgg16, vgg16_bn

__all__ = ["VGG", "BasicBlock", "Bottleneck", "LeNet5", "ResNet", "lenet5", "resnet18", "resnet34", "resnet50",
           "vgg11", "vgg11_bn", "vgg13", "vgg16", "vgg16_bn"]
