"""The LeNet-style CNN of lenet_digits.py, trained data-parallel over MPI.

    mpiexec -n 2 python examples/lenet_distributed.py [--epochs 15]

Every process builds the same model and data; fit(distributed=True) wraps the model in
DistributedDataParallel (rank 0's initial weights are copied to all), gives each rank its share of
every epoch through a DistributedSampler and averages the gradients after each backward. The global
batch stays 32 (32 / world size per rank), so the result matches a single-process run up to rounding.
Only rank 0 prints and saves. Needs: pip install "autograd_core[distributed]".
"""

import argparse

import autograd_core as ag
import autograd_core.distributed as dist
from autograd_core import nn, optim
from autograd_core.preprocessing import train_val_split
from autograd_core.datasets import load_digits
from autograd_core.train import EarlyStopping, ModelCheckpoint, evaluate, fit

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=20)
parser.add_argument("--global-batch", type=int, default=32, help="samples per step over all processes")
parser.add_argument("--save", help="save the best weights here (rank 0 only), e.g. lenet.safetensors")
args = parser.parse_args()

dist.init_process_group(backend="mpi")
world = dist.get_world_size()
if args.global_batch % world:
    raise SystemExit(f"--global-batch {args.global_batch} must be a multiple of the {world} processes")

ag.manual_seed(0)
x, y = load_digits("train")  # (1437, 1, 8, 8) float32 in [0, 1], int64 labels
x_test, y_test = load_digits("test")
(x_train, y_train), (x_val, y_val) = train_val_split(x, y, val_fraction=0.15, stratify=True, seed=0)

model = nn.Sequential(
    nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # -> 16 x 4 x 4
    nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # -> 32 x 2 x 2
    nn.Flatten(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10),
)
optimizer = optim.Adam(model.parameters(), lr=3e-3)
callbacks = [EarlyStopping(patience=6)]
if args.save:
    callbacks.append(ModelCheckpoint(args.save))
history = fit(model, nn.CrossEntropyLoss(), optimizer, (x_train, y_train), val_data=(x_val, y_val),
              epochs=args.epochs, batch_size=args.global_batch // world, metrics=("accuracy",),
              scheduler=optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs),
              callbacks=callbacks, distributed=True)
if dist.get_rank() == 0:
    last = {key: history[key][-1] for key in history if key != "lr"}
    print(f"{world} processes, last epoch: " + ", ".join(f"{key} {value:.4g}" for key, value in last.items()))
    print("test:", evaluate(model, nn.CrossEntropyLoss(), (x_test, y_test), metrics=("accuracy",)))
dist.destroy_process_group()
