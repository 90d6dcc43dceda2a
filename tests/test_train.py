"""ag.train: fit/evaluate/predict, callbacks, grid search, GradientMonitor; autograd diagnostics."""

import math
import warnings

import numpy as np
import pytest

import autograd_core as ag
from autograd_core import nn, optim
from autograd_core.autograd.diagnostics import gradcheck_module, trace_backward
from autograd_core.datasets import make_moons, make_polynomial
from autograd_core.train import (
    DivergenceWarning,
    EarlyStopping,
    ExplodingGradientWarning,
    GradientMonitor,
    History,
    LRSchedulerCallback,
    ModelCheckpoint,
    OverfittingWarning,
    TrainingWarning,
    VanishingGradientWarning,
    evaluate,
    fit,
    grid_search,
    l1_penalty,
    l2_penalty,
    predict,
)


def arr(t):
    return np.asarray(t.detach().numpy())


def mlp(sizes, activation=nn.ReLU):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


@pytest.fixture(scope="module")
def moons():
    train = make_moons(400, noise=0.1, seed=0)
    val = make_moons(200, noise=0.1, seed=1)
    return train, val


# -------------------------------------------------------------------------------------------- fit


def test_fit_two_moons_reaches_97_percent(moons):
    train, val = moons
    ag.manual_seed(0)
    model = mlp([2, 32, 32, 2])
    history = fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.01), train, val_data=val,
                  epochs=40, batch_size=32, metrics=("accuracy",), progress=False)
    assert isinstance(history, History) and len(history) == 40
    assert set(history.keys()) >= {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}
    assert history["val_accuracy"][-1] >= 0.97
    assert history["loss"][-1] < history["loss"][0]
    result = evaluate(model, nn.CrossEntropyLoss(), val, metrics=("accuracy",))
    manual = (arr(predict(model, val[0])).argmax(1) == arr(val[1])).mean()
    assert result["accuracy"] == pytest.approx(manual) and result["loss"] == pytest.approx(history["val_loss"][-1])


def test_fit_accepts_loader_and_dataset_and_records_exact_epoch_loss():
    x = ag.tensor([[1.0], [2.0], [3.0], [4.0], [5.0]])
    y = ag.tensor([[2.0], [4.0], [6.0], [8.0], [10.0]])
    model = nn.Linear(1, 1)
    loader = ag.utils.data.DataLoader(ag.utils.data.TensorDataset(x, y), batch_size=2)
    # lr=0: the weights never move, so the recorded epoch loss must equal the full-data loss exactly
    history = fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.0), loader, epochs=2, progress=False)
    full = float(nn.MSELoss()(model(x), y).item())
    assert history["loss"] == pytest.approx([full, full], rel=1e-5)
    history = fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.0),
                  ag.utils.data.TensorDataset(x, y), epochs=1, batch_size=5, metrics=("mae", "rmse"), progress=False)
    err = arr(model(x)) - arr(y)
    assert history["mae"][0] == pytest.approx(np.abs(err).mean(), rel=1e-5)
    assert history["rmse"][0] == pytest.approx(np.sqrt((err**2).mean()), rel=1e-5)
    # with reduction="sum" the recorded loss is still per sample
    history = fit(model, nn.MSELoss(reduction="sum"), optim.SGD(model.parameters(), lr=0.0), (x, y), epochs=1,
                  batch_size=2, progress=False)
    assert history["loss"][0] == pytest.approx(full, rel=1e-5)


def test_fit_mismatched_target_shape_is_a_clear_error():
    x, y = ag.randn(8, 3), ag.randn(8)
    model = nn.Linear(3, 1)
    with pytest.raises(ValueError, match=r"\(8, 1\).*\(8,\).*reshape"):
        fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), (x, y), epochs=1, progress=False)
    with pytest.raises(ValueError, match="same size along dim 0"):
        fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), (x, ag.randn(7, 1)), epochs=1,
            progress=False)
    with pytest.raises(ValueError, match="unknown metric"):
        fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), (x, y.reshape(-1, 1)), epochs=1,
            metrics=("auroc",), progress=False)


def test_history_plot_writes_png(tmp_path, moons):
    pytest.importorskip("matplotlib")
    train, val = moons
    model = mlp([2, 8, 2])
    history = fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.01), train, val_data=val,
                  epochs=2, metrics=("accuracy",), progress=False)
    path = tmp_path / "curves.png"
    fig = history.plot(path)
    assert path.stat().st_size > 1000 and len(fig.axes) == 2
    assert "val_loss" in repr(history)


def overfit_problem():
    """12 noisy points of a cubic and a wide net trained long: validation loss turns up."""
    x, y = make_polynomial(12, degree=3, noise=0.3, coef=[0, 1, 0, -1], seed=0)
    xv, yv = make_polynomial(200, degree=3, noise=0.3, coef=[0, 1, 0, -1], seed=1)
    return (x, y), (xv, yv)


def test_early_stopping_stops_and_restores_best_weights():
    train, val = overfit_problem()
    ag.manual_seed(0)
    model = mlp([1, 128, 128, 1], nn.Tanh)
    stopper = EarlyStopping("val_loss", patience=10)
    history = fit(model, nn.MSELoss(), optim.Adam(model.parameters(), lr=0.01), train, val_data=val,
                  epochs=1500, batch_size=12, callbacks=[stopper], progress=False)
    assert 0 < stopper.stopped_epoch < 1500 and history.stopped_early
    assert len(history) == stopper.stopped_epoch == stopper.best_epoch + 11
    best_epoch, best = history.best("val_loss")
    assert best_epoch == stopper.best_epoch and history["val_loss"][-1] > best
    # the model now holds the best epoch's weights, not the last epoch's
    assert evaluate(model, nn.MSELoss(), val)["loss"] == pytest.approx(best, rel=1e-5)


def test_early_stopping_without_validation_data_says_so():
    x, y = ag.randn(8, 2), ag.randn(8, 1)
    model = nn.Linear(2, 1)
    with pytest.raises(KeyError, match="val_data"):
        fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), (x, y), epochs=2,
            callbacks=[EarlyStopping()], progress=False)


def test_model_checkpoint_saves_best(tmp_path):
    train, val = overfit_problem()
    ag.manual_seed(1)
    model = mlp([1, 16, 1], nn.Tanh)
    path = tmp_path / "best.safetensors"
    checkpoint = ModelCheckpoint(path, monitor="val_loss")
    history = fit(model, nn.MSELoss(), optim.Adam(model.parameters(), lr=0.05), train, val_data=val, epochs=15,
                  callbacks=[checkpoint], progress=False)
    assert path.exists() and checkpoint.saved
    fresh = mlp([1, 16, 1], nn.Tanh)
    fresh.load_state_dict(ag.load(path))
    assert evaluate(fresh, nn.MSELoss(), val)["loss"] == pytest.approx(history.best("val_loss")[1], rel=1e-5)


def test_scheduler_argument_steps_per_epoch():
    x, y = ag.randn(16, 2), ag.randn(16, 1)
    model = nn.Linear(2, 1)
    opt = optim.SGD(model.parameters(), lr=0.1)
    history = fit(model, nn.MSELoss(), opt, (x, y), epochs=4, batch_size=4, progress=False,
                  scheduler=optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5))
    assert history["lr"] == pytest.approx([0.1, 0.05, 0.025, 0.0125])
    opt = optim.SGD(model.parameters(), lr=0.1)
    per_batch = LRSchedulerCallback(optim.lr_scheduler.ExponentialLR(opt, gamma=0.5), per_batch=True)
    fit(model, nn.MSELoss(), opt, (x, y), epochs=1, batch_size=4, callbacks=[per_batch], progress=False)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5**4)


def test_progress_bar_false_is_silent(capsys, moons):
    train, _ = moons
    model = mlp([2, 4, 2])
    fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), train, epochs=1, progress=False)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


# ------------------------------------------------------------------------------------- grid search


def ridge_problem():
    rng = np.random.default_rng(0)
    d = 20
    w = rng.standard_normal(d) * 0.3
    def sample(n):
        x = rng.standard_normal((n, d))
        return x, x @ w + rng.standard_normal(n) * 1.0
    xt, yt = sample(60)
    xv, yv = sample(400)
    return xt, yt, xv, yv


def ridge_val_mse(xt, yt, xv, yv, lam):
    """Closed form: w minimises mean((x w - y)^2) + lam * |w|^2."""
    n, d = xt.shape
    w = np.linalg.solve(xt.T @ xt / n + lam * np.eye(d), xt.T @ yt / n)
    return float(np.mean((xv @ w - yv) ** 2))


def test_grid_search_finds_the_known_best_lambda():
    xt, yt, xv, yv = ridge_problem()
    t = lambda a: ag.from_numpy(np.ascontiguousarray(a, dtype=np.float32).reshape(len(a), -1))
    train, val = (t(xt), t(yt)), (t(xv), t(yv))

    def build(lam):
        model = nn.Linear(20, 1, bias=False)
        nn.init.zeros_(model.weight)
        # the penalty goes in as a regularizer: it shapes training but stays out of val_loss
        lr = 0.8 / (3.0 + lam)  # below 1 / (largest curvature): plain gradient descent converges
        return model, nn.MSELoss(), optim.SGD(model.parameters(), lr=lr), l2_penalty(lam)

    grid = [1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0]
    result = grid_search(build, {"lam": grid}, train, val_data=val, epochs=150, batch_size=60,
                         coarse_fraction=1.0, n_fine=5, progress=False)
    assert [r["stage"] for r in result].count("coarse") == 6 and [r["stage"] for r in result].count("fine") == 5
    # every trained run agrees with the closed-form ridge solution
    for row in result:
        assert row["val_loss"] == pytest.approx(ridge_val_mse(xt, yt, xv, yv, row["lam"]), rel=2e-3)
    # the best lambda is the one the closed form prefers among the candidates searched
    fine = [r["lam"] for r in result if r["stage"] == "fine"]
    expected = min(fine, key=lambda lam: ridge_val_mse(xt, yt, xv, yv, lam))
    assert result.best_params["lam"] == pytest.approx(expected)
    dense = np.geomspace(1e-4, 10, 400)
    true_best = dense[np.argmin([ridge_val_mse(xt, yt, xv, yv, lam) for lam in dense])]
    assert true_best / 2 < result.best_params["lam"] < true_best * 2
    assert "<- best" in str(result)


def test_grid_search_coarse_subset_and_plot(tmp_path):
    pytest.importorskip("matplotlib")
    xt, yt, xv, yv = ridge_problem()
    t = lambda a: ag.from_numpy(np.ascontiguousarray(a, dtype=np.float32).reshape(len(a), -1))

    def build(lam):
        model = nn.Linear(20, 1)
        return model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1, weight_decay=lam)

    result = grid_search(build, {"lam": [1e-3, 1e-1, 10.0]}, (t(xt), t(yt)), val_data=(t(xv), t(yv)), epochs=3,
                         coarse_fraction=0.5, n_fine=3, progress=False)
    assert {r["n_train"] for r in result if r["stage"] == "coarse"} == {30}
    assert {r["n_train"] for r in result if r["stage"] == "fine"} == {60}
    fig = result.plot("lam", tmp_path / "lam.png")
    assert fig.axes[0].get_xscale() == "log" and (tmp_path / "lam.png").exists()


def test_grid_search_empty_grid_is_a_clear_error():
    data = (ag.randn(10, 2), ag.randn(10, 1))
    with pytest.raises(ValueError, match="param_grid is empty"):
        grid_search(lambda: None, {}, data)
    with pytest.raises(ValueError, match="empty list"):
        grid_search(lambda lam: None, {"lam": []}, data)


# ------------------------------------------------------------------------------------- diagnostics


def run_monitored(model, opt, data, epochs, val=None):
    monitor = GradientMonitor()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit(model, nn.CrossEntropyLoss(), opt, data, val_data=val, epochs=epochs, batch_size=50,
            callbacks=[monitor], progress=False)
    return monitor, [w for w in caught if issubclass(w.category, TrainingWarning)]


def test_monitor_warns_on_vanishing_gradients_in_deep_sigmoid_stack(moons):
    train, _ = moons
    ag.manual_seed(0)
    model = mlp([2] + [16] * 14 + [2], nn.Sigmoid)
    _monitor, caught = run_monitored(model, optim.SGD(model.parameters(), lr=0.1), train, epochs=1)
    kinds = {w.category for w in caught}
    assert VanishingGradientWarning in kinds
    message = str(next(w.message for w in caught if w.category is VanishingGradientWarning))
    assert "Vanishing gradients" in message and "ReLU" in message


def test_monitor_warns_on_exploding_and_diverging_with_huge_learning_rate(moons):
    train, _ = moons
    ag.manual_seed(0)
    model = mlp([2, 32, 32, 2])
    _monitor, caught = run_monitored(model, optim.SGD(model.parameters(), lr=1e4), train, epochs=3)
    kinds = {w.category for w in caught}
    assert ExplodingGradientWarning in kinds and DivergenceWarning in kinds
    assert any("learning rate" in str(w.message) for w in caught if w.category is DivergenceWarning)


def test_monitor_quiet_on_healthy_net_and_records(moons, tmp_path):
    train, val = moons
    ag.manual_seed(0)
    model = mlp([2, 32, 32, 2])
    monitor, caught = run_monitored(model, optim.Adam(model.parameters(), lr=0.01), train, epochs=5, val=val)
    assert caught == []
    assert list(monitor.record["grad_norm"]) == ["0", "2", "4"]
    assert all(len(v) == 5 and all(math.isfinite(x) and x > 0 for x in v)
               for v in monitor.record["grad_norm"].values())
    assert list(monitor.record["dead_relu"]) == ["1", "3"]
    assert all(0.0 <= x <= 1.0 for v in monitor.record["dead_relu"].values() for x in v)
    assert "grad norm" in monitor.summary()
    if pytest.importorskip("matplotlib"):
        monitor.plot(tmp_path / "monitor.png")
        assert (tmp_path / "monitor.png").exists()


def test_monitor_dead_relu_fraction_is_measured():
    monitor = GradientMonitor(warn=False)
    model = mlp([2, 10, 1])
    with ag.no_grad():
        model[0].bias.fill_(-100.0)  # every unit negative before the ReLU for inputs in [-1, 1]
    monitor.attach(model)
    x = ag.rand(20, 2) * 2 - 1
    loss = model(x).sum()
    loss.backward()
    monitor.after_backward(loss)
    issued = monitor.end_epoch(float(loss.item()))
    monitor.detach()
    assert monitor.record["dead_relu"]["1"] == [1.0]
    assert any("Dead ReLUs" in m for m in issued)


def test_monitor_warns_on_overfitting():
    train, val = overfit_problem()
    ag.manual_seed(0)
    model = mlp([1, 128, 128, 1], nn.Tanh)
    monitor = GradientMonitor(overfit_patience=3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit(model, nn.MSELoss(), optim.Adam(model.parameters(), lr=0.01), train, val_data=val, epochs=400,
            batch_size=12, callbacks=[monitor], progress=False)
    assert any(w.category is OverfittingWarning for w in caught)


# ---------------------------------------------------------------------------- gradcheck_module / trace


class WrongSquare(ag.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x * 3  # should be 2x


class WithBug(nn.Module):
    def __init__(self):
        super().__init__()
        self.good = nn.Linear(3, 4)
        self.bad = nn.Linear(4, 1)

    def forward(self, x):
        return self.bad(WrongSquare.apply(self.good(x)).tanh())


def test_gradcheck_module_passes_on_a_correct_model_and_leaves_it_alone():
    ag.manual_seed(0)
    model = mlp([3, 5, 4, 2], nn.Tanh)
    before = {k: arr(v).copy() for k, v in model.state_dict().items()}
    report = gradcheck_module(model, nn.CrossEntropyLoss(), ag.randn(6, 3), ag.tensor([0, 1, 1, 0, 1, 0]))
    assert report.passed and bool(report)
    assert [r["name"] for r in report.rows] == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    assert all(r["max_abs_error"] < 1e-7 for r in report.rows)
    assert "PASS" in str(report)
    assert all(p.dtype == ag.float32 for p in model.parameters())
    assert all(np.array_equal(before[k], arr(v)) for k, v in model.state_dict().items())


def test_gradcheck_module_names_the_wrong_parameter():
    ag.manual_seed(0)
    report = gradcheck_module(WithBug(), nn.MSELoss(), ag.randn(5, 3), ag.randn(5, 1))
    assert not report.passed
    status = {r["name"]: r["passed"] for r in report.rows}
    assert status["good.weight"] is False and status["bad.weight"] is True
    assert "FAIL" in str(report)


def test_trace_backward_records_ops_shapes_and_flags():
    from autograd_core.autograd import engine

    x = ag.randn(4, 3, requires_grad=True)
    w = ag.randn(3, 2, requires_grad=True)
    with trace_backward() as trace:
        loss = (x @ w).tanh().sum()
        loss.backward()
    assert engine._node_observers == []
    ops = [e.op for e in trace.entries]
    assert len(ops) == 3 and any("Sum" in o for o in ops) and any("Tanh" in o for o in ops)
    matmul = trace.entries[-1]
    assert matmul.shapes == [(4, 2)]
    g = 1 - np.tanh(arr(x) @ arr(w)) ** 2
    assert matmul.grad_norm == pytest.approx(np.linalg.norm(g), rel=1e-5)
    assert trace.flagged == [] and "grad norm" in str(trace)

    with trace_backward() as trace:
        (ag.randn(3, requires_grad=True) * 1e-9).sum().backward()
    assert any("vanishing" in e.flags for e in trace.entries)
    with trace_backward() as trace:
        (ag.randn(3, requires_grad=True) * 1e6).sum().backward()
    assert any("exploding" in e.flags for e in trace.entries)
    with trace_backward() as trace:
        ag.zeros(3, requires_grad=True).sqrt().sum().backward()
    assert any("nan/inf" in e.flags for e in trace.entries)
    assert "flagged" in str(trace)


# ------------------------------------------------------------------------------- progress and extras


def test_progress_bar_shows_epoch_loss_and_metrics(capsys, monkeypatch, moons):
    import autograd_core.train.loop as train_module

    monkeypatch.setattr(train_module, "_progress_wanted", lambda progress: bool(progress))
    train, val = moons
    model = mlp([2, 4, 2])
    fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), train, val_data=val, epochs=2,
        metrics=("accuracy",))
    err = capsys.readouterr().err
    assert "Epoch 1/2" in err and "Epoch 2/2" in err
    assert "loss=" in err and "accuracy=" in err and "val_loss=" in err


def test_plot_without_matplotlib_names_the_extra(monkeypatch):
    import sys

    history = History()
    history.append(1, {"loss": 1.0})
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"pip install autograd_core\[plot\]"):
        history.plot()


def test_l2_penalty_value_and_fit_records_it():
    model = nn.Linear(3, 2)
    penalty = l2_penalty(0.5)(model)
    assert penalty.item() == pytest.approx(0.5 * float((arr(model.weight) ** 2).sum()), rel=1e-6)
    with_bias = l2_penalty(0.5, include_bias=True)(model)
    assert with_bias.item() > penalty.item()
    lasso = l1_penalty(0.25)(model)
    assert lasso.item() == pytest.approx(0.25 * float(np.abs(arr(model.weight)).sum()), rel=1e-6)
    x, y = ag.randn(8, 3), ag.randn(8, 2)
    history = fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.0), (x, y), epochs=1, batch_size=8,
                  regularizer=l2_penalty(0.5), progress=False)
    assert history["penalty"][0] == pytest.approx(penalty.item(), rel=1e-5)
    assert history["loss"][0] == pytest.approx(nn.MSELoss()(model(x), y).item(), rel=1e-5)


def test_history_records_and_best():
    history = History()
    history.append(1, {"loss": 3.0, "val_accuracy": 0.5})
    history.append(2, {"loss": 2.0, "val_accuracy": 0.9})
    history.append(3, {"loss": 1.0})
    assert history["loss"] == [3.0, 2.0, 1.0] and len(history) == 3
    assert math.isnan(history["val_accuracy"][2])
    assert history.best("val_accuracy") == (2, 0.9) and history.best("loss") == (3, 1.0)
    with pytest.raises(KeyError, match="recorded"):
        history["accuracy"]


def test_early_stopping_on_a_maximised_metric_and_checkpoint_every_epoch(tmp_path):
    x, y = ag.randn(20, 2), ag.randint(0, 2, (20,))
    model = nn.Linear(2, 2)
    stopper = EarlyStopping("accuracy", patience=0)
    checkpoint = ModelCheckpoint(tmp_path / "ep{epoch}.st", save_best_only=False)
    history = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.0), (x, y), epochs=5,
                  metrics=("accuracy",), callbacks=[stopper, checkpoint], progress=False)
    # lr=0: accuracy never improves after epoch 1, so patience 0 stops at epoch 2
    assert stopper.mode == "max" and len(history) == 2 and stopper.stopped_epoch == 2
    assert [p.rsplit("/", 1)[-1] for p in checkpoint.saved] == ["ep1.st", "ep2.st"]


def test_grid_search_two_parameters():
    x, y = ag.randn(40, 3), ag.randn(40, 1)

    def build(lr, width):
        model = mlp([3, width, 1])
        return model, nn.MSELoss(), optim.SGD(model.parameters(), lr=lr)

    result = grid_search(build, {"lr": [1e-3, 1e-2, 1e-1], "width": [2, 8]}, (x, y), epochs=2, n_fine=3,
                         progress=False)
    coarse = [r for r in result if r["stage"] == "coarse"]
    assert len(coarse) == 6 and {(r["lr"], r["width"]) for r in coarse} == {(a, b) for a in (1e-3, 1e-2, 1e-1)
                                                                          for b in (2, 8)}
    assert all(r["n_train"] == 10 for r in coarse)  # 30% of the 32 rows left after the 20% hold-out
    assert set(result.best_params) == {"lr", "width"}


def test_lr_range_test_suggests_a_rate_that_trains_well_and_restores_state(moons, tmp_path):
    from autograd_core.train import lr_range_test

    train, _ = moons
    ag.manual_seed(3)
    model = mlp([2, 32, 2])
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.0)
    before = {k: arr(v).copy() for k, v in model.state_dict().items()}
    result = lr_range_test(model, nn.CrossEntropyLoss(), opt, train, steps=100)
    assert all(np.array_equal(before[k], arr(v)) for k, v in model.state_dict().items())
    assert opt.param_groups[0]["lr"] == 0.1
    assert result.lrs[0] == pytest.approx(1e-6) and result.lrs == sorted(result.lrs)
    final = {}
    for name, lr in (("suggested", result.suggestion), ("too large", result.suggestion * 30),
                     ("too small", result.suggestion / 300)):
        ag.manual_seed(3)
        fresh = mlp([2, 32, 2])
        history = fit(fresh, nn.CrossEntropyLoss(), optim.SGD(fresh.parameters(), lr=lr), train, epochs=10,
                      progress=False)
        final[name] = history["loss"][-1]
    assert final["suggested"] < final["too large"] and final["suggested"] < final["too small"]
    pytest.importorskip("matplotlib")
    result.plot(tmp_path / "lr.png")
    assert (tmp_path / "lr.png").exists()
