"""ag.nn.modules: the module files of torch.nn.modules (linear, conv, activation, batchnorm, ...),
each re-exporting the classes of that name which ag.nn has, so that `torch.nn.modules.linear.Linear`
in a program or a pickle resolves here. The classes themselves live in ag.nn's own files."""
# (ag.nn is still being initialised when this loads; names are looked up on it when asked for)
from ... import nn
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
    try:
        return getattr(nn, name)
    except AttributeError:
        raise AttributeError(f"torch.nn.modules.{name} is not provided by autograd_core (ag.nn has no {name!r})") from None
