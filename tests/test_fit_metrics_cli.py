"""Issue 17 item 4: fit's epoch lines without a terminal, class metrics in every cross_entropy layout
(ag.metrics), and the command line: --version, demo --plot without matplotlib, bench from an
installed package, the import error of an unbuilt checkout."""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import autograd_core as ag
from autograd_core import metrics, nn, optim
from autograd_core.train import evaluate, fit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def reference_confusion(true, predicted, n):
    matrix = np.zeros((n, n), dtype=np.int64)
    for t, p in zip(true.ravel(), predicted.ravel()):
        matrix[t, p] += 1
    return matrix


# ------------------------------------------------------------------------------------- epoch lines


def test_fit_prints_one_line_per_epoch_when_not_a_terminal(capsys):
    ag.manual_seed(0)
    x, y = ag.randn(40, 3), ag.randint(0, 2, (40,))
    model = nn.Linear(3, 2)
    history = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), (x, y), val_data=(x, y),
                  epochs=3, batch_size=16, metrics=("accuracy",))  # pytest's captured stderr is no terminal
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith("Epoch")]
    assert len(lines) == 3
    assert lines[0].startswith("Epoch 1/3: loss ") and "val_accuracy" in lines[0] and lines[0].endswith(" s)")
    assert f"loss {history['loss'][2]:.4f}" in lines[2]


def test_fit_progress_false_prints_nothing(capsys):
    x, y = ag.randn(8, 3), ag.randn(8, 1)
    model = nn.Linear(3, 1)
    fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), (x, y), epochs=2, progress=False)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


# ----------------------------------------------------------------------------------------- metrics


@pytest.mark.parametrize("layout", ["rows", "sequence", "segmentation"])
def test_confusion_matrix_in_every_cross_entropy_layout(layout):
    rng = np.random.default_rng(1)
    shape = {"rows": (30, 4), "sequence": (6, 4, 7), "segmentation": (3, 4, 5, 6)}[layout]
    logits = rng.standard_normal(shape)
    targets = rng.integers(0, 4, (shape[0], *shape[2:]))
    got = metrics.confusion_matrix(ag.from_numpy(logits), ag.from_numpy(targets))
    expected = reference_confusion(targets, logits.argmax(axis=1), 4)
    np.testing.assert_array_equal(got, expected)
    scores = metrics.scores_from_confusion(expected, average=None)
    tp = np.diag(expected)
    np.testing.assert_allclose(scores["precision"], tp / expected.sum(0))
    np.testing.assert_allclose(scores["recall"], tp / expected.sum(1))
    np.testing.assert_allclose(scores["iou"], tp / (expected.sum(0) + expected.sum(1) - tp))
    assert metrics.accuracy(ag.from_numpy(logits), ag.from_numpy(targets)) == pytest.approx(tp.sum() / targets.size)


def test_binary_scores_match_hand_counts_and_sklearn():
    logits = ag.tensor([[2.0], [-1.0], [0.5], [-0.2], [3.0], [-4.0]])
    targets = ag.tensor([[1.0], [1.0], [0.0], [0.0], [1.0], [0.0]])
    # predicted 1 0 1 0 1 0 against 1 1 0 0 1 0: tp 2, fp 1, fn 1
    assert metrics.precision(logits, targets) == pytest.approx(2 / 3)
    assert metrics.recall(logits, targets) == pytest.approx(2 / 3)
    assert metrics.f1_score(logits, targets) == pytest.approx(2 / 3)
    assert metrics.iou(logits, targets) == pytest.approx(2 / 4)
    sklearn = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(3)
    scores, true = rng.standard_normal((50, 5)), rng.integers(0, 5, 50)
    out, tgt = ag.from_numpy(scores), ag.from_numpy(true)
    for average in ("macro", "micro"):
        assert metrics.f1_score(out, tgt, average=average) == pytest.approx(
            sklearn.f1_score(true, scores.argmax(1), average=average))
        assert metrics.precision(out, tgt, average=average) == pytest.approx(
            sklearn.precision_score(true, scores.argmax(1), average=average, zero_division=0))


def test_metrics_skip_ignore_index_and_reject_bad_layouts():
    logits = ag.tensor([[[2.0, 0.0], [0.0, 1.0]]]).permute(0, 2, 1)  # (1, C=2, L=2)
    targets = ag.tensor([[0, -100]])
    assert metrics.confusion_matrix(logits, targets, ignore_index=-100).sum() == 1
    with pytest.raises(ValueError, match=r"outputs \(4, 3\) and targets \(4, 2\) do not pair up"):
        metrics.confusion_matrix(ag.randn(4, 3), ag.zeros(4, 2, dtype=ag.int64))
    with pytest.raises(ValueError, match=r"target classes must lie in \[0, 3\)"):
        metrics.confusion_matrix(ag.randn(4, 3), ag.tensor([0, 1, 2, 3]))
    with pytest.raises(ValueError, match="average must be"):
        metrics.scores_from_confusion(np.eye(3), average="weighted")


def test_fit_metrics_on_sequences_and_segmentation():
    """The layouts of the issue: (N, C, L) outputs with (N, L) targets, (N, C, H, W) with (N, H, W)."""
    ag.manual_seed(0)
    x = ag.randn(64, 8, 13)  # (N, C_in, L): a 1x1 convolution labels each position
    y = (x[:, 0] > -0.5).long() + (x[:, 0] > 0.5).long()  # 3 ordered classes per position
    model = nn.Conv1d(8, 3, 1)
    loss = nn.CrossEntropyLoss()
    history = fit(model, loss, optim.Adam(model.parameters(), lr=0.1), (x, y), epochs=15, batch_size=16,
                  metrics=("accuracy", "f1", "iou"), progress=False)
    assert history["accuracy"][-1] > 0.9 and history["iou"][-1] > 0.75
    result = evaluate(model, loss, (x, y), metrics=("accuracy", "precision", "recall", "f1", "iou"))
    with ag.no_grad():
        out = model(x)
    expected = metrics.scores_from_confusion(metrics.confusion_matrix(out, y), "macro")
    for name in ("precision", "recall", "f1", "iou", "accuracy"):
        assert result[name] == pytest.approx(expected[name]), name
    images = ag.randn(4, 2, 5, 6)
    masks = (images[:, 0] > 0).long()
    seg = nn.Conv2d(2, 2, 1)
    result = evaluate(seg, loss, (images, masks), metrics=("accuracy", "iou"), batch_size=3)
    with ag.no_grad():
        expected = metrics.scores_from_confusion(metrics.confusion_matrix(seg(images), masks), "binary")
    assert result["iou"] == pytest.approx(expected["iou"]) and result["accuracy"] == pytest.approx(
        expected["accuracy"])


# ------------------------------------------------------------------------------------ command line


def cli(*args, env=None, cwd=ROOT):
    env = dict(os.environ if env is None else env)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "autograd_core", *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd, env=env, check=False)


def test_version_flag():
    result = cli("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"autograd_core {ag.__version__}"


def test_demo_plot_without_matplotlib_fails_before_training(tmp_path, monkeypatch, capsys):
    from autograd_core import __main__ as main_module

    trained = []
    monkeypatch.setattr(main_module, "demo", lambda **kwargs: trained.append(kwargs))
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    with pytest.raises(SystemExit) as exc:
        main_module.main(["demo", "--plot", str(tmp_path / "c.png")])
    assert exc.value.code == 2 and trained == []
    assert "--plot needs matplotlib" in capsys.readouterr().err


def test_bench_from_an_installed_package_runs_the_builtin_benchmark(tmp_path):
    from autograd_core import __main__ as main_module

    lines = []

    class Out:
        def write(self, text):
            lines.append(text)

    assert main_module.bench(["--quick", "--no-torch"], out=Out(), root=str(tmp_path)) == 0
    text = "".join(lines)
    assert "built-in benchmark" in text and "matmul float32 256^3" in text and "ours/numpy" in text
    assert main_module.bench(["--threads", "0"], out=Out(), root=str(tmp_path)) == 2


def test_import_from_an_unbuilt_checkout_says_how_to_build(tmp_path):
    shutil.copytree(os.path.join(ROOT, "autograd_core"), tmp_path / "autograd_core",
                    ignore=shutil.ignore_patterns("*.so", "*.pyd", "__pycache__", "*.c"))
    # -S: no site-packages, so no editable install can supply the extension from elsewhere
    result = subprocess.run([sys.executable, "-S", "-c", "import autograd_core"], capture_output=True, text=True,
                            cwd=tmp_path, timeout=60, check=False)
    assert result.returncode != 0
    assert "circular import" not in result.stderr
    assert "is not built" in result.stderr and "build_ext --inplace" in result.stderr
