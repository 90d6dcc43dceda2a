"""VGG-11/13/16 (with and without batch norm) with torchvision's module names: features.<i>,
avgpool, classifier.<i>, so state-dict keys match its checkpoints."""
from ... import nn
from ._weights import check_weights

_CONFIGS = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
}


class VGG(nn.Module):
    """Simonyan and Zisserman's VGG: a convolutional ``features`` stack, adaptive average pooling to
    7x7, and a classifier of three linear layers with dropout; torchvision's module names.

    Args:
        features (Module): the convolutional part (see the vgg11 ... vgg16_bn builders).
        num_classes (int): the outputs of the last linear layer.
        init_weights (bool): torchvision's initialisation.
        dropout (float): the dropout probability in the classifier.

    """

    def __init__(self, features, num_classes=1000, init_weights=True, dropout=0.5):
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    if m.bias is not None:
                        nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.constant_(m.bias, 0)

    def forward(self, x):
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


def make_layers(cfg, batch_norm=False):
    layers, in_channels = [], 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        layers.append(nn.Conv2d(in_channels, v, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(v))
        layers.append(nn.ReLU(inplace=True))
        in_channels = v
    return nn.Sequential(*layers)


def _vgg(name, cfg, batch_norm, weights, kwargs):
    check_weights(name, weights, kwargs)
    return VGG(make_layers(_CONFIGS[cfg], batch_norm), **kwargs)


def vgg11(*, weights=None, progress=True, **kwargs):
    """VGG-11 (configuration A). Raises RuntimeError if ``weights`` (or ``pretrained=True``) is given: no
    pretrained weights are shipped or downloaded; load a torchvision checkpoint you have with
    ``load_state_dict``.
    """
    return _vgg("vgg11", "A", False, weights, kwargs)


def vgg11_bn(*, weights=None, progress=True, **kwargs):
    """VGG-11 with batch normalisation. Raises RuntimeError if ``weights`` (or ``pretrained=True``) is given:
    no pretrained weights are shipped or downloaded; load a torchvision checkpoint you have with
    ``load_state_dict``.
    """
    return _vgg("vgg11_bn", "A", True, weights, kwargs)


def vgg13(*, weights=None, progress=True, **kwargs):
    """VGG-13 (configuration B). Raises RuntimeError if ``weights`` (or ``pretrained=True``) is given: no
    pretrained weights are shipped or downloaded; load a torchvision checkpoint you have with
    ``load_state_dict``.
    """
    return _vgg("vgg13", "B", False, weights, kwargs)


def vgg16(*, weights=None, progress=True, **kwargs):
    """VGG-16 (configuration D). Raises RuntimeError if ``weights`` (or ``pretrained=True``) is given: no
    pretrained weights are shipped or downloaded; load a torchvision checkpoint you have with
    ``load_state_dict``.
    """
    return _vgg("vgg16", "D", False, weights, kwargs)


def vgg16_bn(*, weights=None, progress=True, **kwargs):
    """VGG-16 with batch normalisation. Raises RuntimeError if ``weights`` (or ``pretrained=True``) is given:
    no pretrained weights are shipped or downloaded; load a torchvision checkpoint you have with
    ``load_state_dict``.
    """
    return _vgg("vgg16_bn", "D", True, weights, kwargs)
