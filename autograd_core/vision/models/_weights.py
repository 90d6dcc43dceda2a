"""The weights= argument of the model builders. Pretrained weights are not shipped and cannot be
downloaded here; torchvision's own .pth files load with ag.load + load_state_dict."""


def check_weights(name, weights, kwargs):
    if kwargs.pop("pretrained", False):
        weights = "pretrained=True"
    if weights is not None:
        raise RuntimeError(f"{name}(weights={weights!r}): autograd_core ships no pretrained weights and does not "
                           f"download them. Build the model with weights=None and load a torchvision checkpoint "
                           f"you have: model.load_state_dict(ag.load('{name}.pth'))")
    kwargs.pop("progress", None)
