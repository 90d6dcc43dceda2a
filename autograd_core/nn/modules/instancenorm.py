"""torch.nn.modules.instancenorm under this library's name (for pickles and programs that import it)."""
from ._alias import exports

__getattr__, __dir__ = exports(
    __name__,
    ['InstanceNorm1d', 'InstanceNorm2d', 'InstanceNorm3d'],
)
