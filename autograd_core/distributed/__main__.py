"""python -m autograd_core.distributed: which MPI mpi4py uses and which mpiexec starts it."""
from .launcher import report

print(report())
