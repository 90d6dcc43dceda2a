"""ag.nn.modules: the module files of torch.nn.modules (linear, conv, activation, batchnorm, ...),
each re-exporting the classes of that name which ag.nn has, so that `torch.nn.modules.linear.Linear`
in a program or a pickle resolves here. The classes themselves live in ag.nn's own files."""
from . import (  # noqa: F401
    activation,
    batchnorm,
    channelshuffle,
    container,
    conv,
    distance,
    dropout,
    flatten,
    fold,
    instancenorm,
    linear,
    loss,
    module,
    normalization,
    padding,
    pixelshuffle,
    pooling,
    rnn,
    sparse,
    transformer,
    upsampling,
)


def __getattr__(name):
    from autograd_core import nn
    try:
        return getattr(nn, name)
    except AttributeError:
        raise AttributeError(f"torch.nn.modules.{name} is not provided by autograd_core (ag.nn has no {name!r})") from None
