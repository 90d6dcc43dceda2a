"""torch.nn.modules.pixelshuffle under this library's name (for pickles and programs that import it)."""
from ._alias import exports

__getattr__, __dir__ = exports(
    __name__,
    ['PixelShuffle', 'PixelUnshuffle'],
)
