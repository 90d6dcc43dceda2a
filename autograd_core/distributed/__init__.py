"""ag.distributed: torch.distributed's process group and collectives, over MPI (mpi4py).

    import autograd_core.distributed as dist
    dist.init_process_group(backend="mpi")        # launched with: mpiexec -n 4 python train.py
    dist.all_reduce(t, op=dist.ReduceOp.SUM)      # in place, on every rank

Install with `pip install "autograd_core[distributed]"` (mpi4py and MPICH wheels) or against a system
MPI with `pip install mpi4py`.
"""
from .collectives import (
                          ReduceOp,
                          Work,
                          all_gather,
                          all_gather_into_tensor,
                          all_gather_object,
                          all_reduce,
                          broadcast,
                          broadcast_object_list,
                          gather,
                          gather_object,
                          irecv,
                          isend,
                          recv,
                          reduce,
                          reduce_scatter,
                          reduce_scatter_tensor,
                          scatter,
                          send,
)
from .process_group import (
                          GroupMember,
                          barrier,
                          destroy_process_group,
                          get_backend,
                          get_rank,
                          get_world_size,
                          group,
                          init_process_group,
                          is_available,
                          is_initialized,
                          is_mpi_available,
)

__all__ = [  # noqa: RUF022  (grouped: the group, then collectives)
    "init_process_group", "destroy_process_group", "is_available", "is_mpi_available", "is_initialized",
    "get_rank", "get_world_size", "get_backend", "barrier", "group", "GroupMember",
    "ReduceOp", "Work", "all_reduce", "broadcast", "reduce", "all_gather", "all_gather_into_tensor",
    "all_gather_object", "gather", "gather_object", "scatter", "reduce_scatter", "reduce_scatter_tensor",
    "broadcast_object_list", "send", "recv", "isend", "irecv",
]
