"""torch.nn.modules.conv under this library's name (for pickles and programs that import it)."""
from ._alias import exports

__getattr__, __dir__ = exports(
    __name__,
    ['Conv1d', 'Conv2d', 'Conv3d', 'ConvTranspose1d', 'ConvTranspose2d', 'ConvTranspose3d', 'LazyConv1d',
    'LazyConv2d', 'LazyConv3d'],
)
