"""ag.backends: the switches PyTorch programs set or query (`backends.cudnn.benchmark = True`,
`backends.mps.is_available()`). There is no cuDNN or MPS here: the queries say so and the flags are
plain attributes with no effect."""
from . import cudnn, mps  # noqa: F401
