"""ag.nn.parallel: DistributedDataParallel (one process per replica, over MPI)."""
from .distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
