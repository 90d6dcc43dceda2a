"""A training loop for learners: fit / evaluate / predict, callbacks, grid search and diagnostics.

    history = ag.train.fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), 1e-3),
                           (X_train, y_train), val_data=(X_val, y_val), epochs=20, batch_size=32,
                           metrics=("accuracy",), callbacks=[ag.train.EarlyStopping(patience=3)])
    history.plot("curves.png")

Data may be a DataLoader, a Dataset, or a tuple of tensors (inputs..., targets). A batch is a tuple
whose last entry is the target; the others are passed to the model.

One module per concept: loop (fit, evaluate, predict), callbacks, metrics (per-epoch sums),
history (records and curves), monitor (GradientMonitor and its warnings), penalties (L1/L2
regularizers), lr_finder (LR range test), search (grid search).
"""

from .callbacks import Callback, EarlyStopping, LRSchedulerCallback, ModelCheckpoint
from .history import History
from .loop import evaluate, fit, predict
from .lr_finder import LRFinderResult, lr_range_test
from .monitor import (
    DeadReLUWarning,
    DivergenceWarning,
    ExplodingGradientWarning,
    GradientMonitor,
    OverfittingWarning,
    TrainingWarning,
    VanishingGradientWarning,
)
from .penalties import l1_penalty, l2_penalty
from .search import GridSearchResult, grid_search

__all__ = [
    "Callback",
    "DeadReLUWarning",
    "DivergenceWarning",
    "EarlyStopping",
    "ExplodingGradientWarning",
    "GradientMonitor",
    "GridSearchResult",
    "History",
    "LRFinderResult",
    "LRSchedulerCallback",
    "ModelCheckpoint",
    "OverfittingWarning",
    "TrainingWarning",
    "VanishingGradientWarning",
    "evaluate",
    "fit",
    "grid_search",
    "l1_penalty",
    "l2_penalty",
    "lr_range_test",
    "predict",
]
