"""The course as examples (issue 17): each examples/<topic>.py runs at a small size and must reach
the result its topic is about. The thresholds are ones a broken model, a wrong gradient or a no-op
layer would miss."""

import importlib.util
import math
import os
import subprocess
import sys

import pytest

import autograd_core as ag

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")


def load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", os.path.join(EXAMPLES, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def _quiet_threads():
    # examples are small: one thread avoids OpenMP start-up costs on a shared machine
    previous = ag.get_num_threads()
    ag.set_num_threads(1)
    yield
    ag.set_num_threads(previous)


def test_linear_regression_reaches_least_squares_and_shows_divergence():
    result = load("linear_regression").main(["--iterations", "100", "--alphas", "0.01,0.1,1.05"])
    best, runs = result["least_squares_cost"], result["runs"]
    assert runs[0.1]["coef_error"] < 1e-4 and runs[0.1]["final_cost"] == pytest.approx(best, rel=1e-4)
    assert runs[0.01]["final_cost"] > 1.5 * best  # too small a step is still far off after 100 steps
    assert runs[1.05]["diverged"]  # past 2 / (largest Hessian eigenvalue ~ 2) the cost grows


def test_logistic_regression_grid_search_and_l1_zeros():
    result = load("logistic_regression_l2").main(["--epochs", "40", "--l1", "0.003,0.03"])
    assert result["val_accuracy"] >= 0.95
    assert 1e-4 <= result["best_lambda"] <= 0.3  # neither end of the grid: the penalty matters
    assert result["val_loss"] < result["unregularised_val_loss"]
    weak, strong = result["l1"][0.003], result["l1"][0.03]
    assert strong["zeros"] >= 25 and strong["zeros"] > weak["zeros"]  # exact zeros, more with more L1
    assert strong["val_accuracy"] >= 0.9


def test_polynomial_degree_under_and_overfits_and_early_stopping_helps():
    module = load("polynomial_overfitting")
    result = module.main(["--epochs", "800", "--patience", "100"])
    noise = module.NOISE**2
    degrees = result["degrees"]
    assert degrees[1]["train_mse"] > 10 * noise and degrees[1]["val_mse"] > 10 * noise  # underfits
    assert degrees[3]["val_mse"] < 1.5 * noise  # the right degree: error at the noise level
    high = degrees[max(degrees)]
    assert high["train_mse"] < degrees[3]["train_mse"] / 3 and high["val_mse"] > 20 * degrees[3]["val_mse"]
    assert result["best_epoch"] < result["epochs_run"]
    assert result["early_stopping_test_mse"] < 0.8 * result["full_test_mse"]


def test_mlp_activations_standardisation_and_init():
    result = load("mlp_activations").main(["--epochs", "20", "--samples", "400"])
    for name in ("tanh", "relu", "leaky_relu"):
        assert result[name] >= 0.93, name
    assert result["sigmoid"] < result["relu"]  # saturating units learn slowest
    assert result["standardised"] >= 0.93 and result["raw"] < result["standardised"] - 0.1
    assert result["xavier_deep_tanh"] >= 0.93 and result["tiny_init_deep_tanh"] <= 0.6


def test_backprop_by_hand_matches_autograd_and_learns():
    result = load("backprop_by_hand").main(["--steps", "600", "--samples", "300"])
    assert result["max_gradient_difference"] < 1e-12 * max(1.0, result["largest_gradient"])
    assert result["final_cost"] < 0.3 * result["initial_cost"]
    assert result["accuracy"] >= 0.95


def test_dropout_and_batch_norm_change_what_they_should():
    result = load("dropout_batchnorm").main(["--epochs", "120"])
    assert result["dropout_val_loss"] < 0.5 * result["plain_val_loss"]  # less overconfident on new points
    assert result["dropout_val_accuracy"] >= result["plain_val_accuracy"]
    assert result["no_batchnorm_val_accuracy"] <= 0.6 and result["batchnorm_val_accuracy"] >= 0.8


def test_lenet5_on_32x32_digits():
    module = load("lenet5")
    model = module.lenet5()
    assert tuple(model(ag.zeros(2, 1, 32, 32)).shape) == (2, 10)
    assert sum(p.numel() for p in model.parameters()) == 61706  # the classic count
    result = module.main(["--epochs", "3", "--train-size", "700"])
    assert result["test_accuracy"] >= 0.9 and result["test_f1"] >= 0.9


def test_example_runs_as_a_script_and_writes_its_figure(tmp_path):
    pytest.importorskip("matplotlib")
    figure = tmp_path / "cost.png"
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = subprocess.run([sys.executable, os.path.join(EXAMPLES, "linear_regression.py"), "--iterations", "30",
                             "--plot", str(figure)], capture_output=True, text=True, env=env, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert "least squares" in result.stdout and figure.stat().st_size > 10_000
    assert math.isfinite(float(result.stdout.split("J = ")[1].split(",")[0]))


def test_rnn_lstm_gru_memory_and_character_language_model():
    result = load("rnn_sequences").main(["--samples", "1500", "--epochs", "6", "--hidden", "48", "--lm-epochs", "14",
                                         "--lm-chars", "20000"])
    gated = min(result["LSTM_recall_accuracy"], result["GRU_recall_accuracy"])
    assert gated >= 0.65 and gated > result["RNN_recall_accuracy"] + 0.25  # the gates carry the memory
    assert result["lm_val_bits_per_char"] < 1.8  # uniform over the 31 characters would be 4.95
    assert result["lm_known_word_fraction"] >= 0.5 and result["lm_sample"].startswith("once upon a time")


def test_autoencoders_vae_and_gans():
    result = load("generative").main(["--epochs", "15", "--gan-steps", "1200", "--digit-gan-steps", "800"])
    assert result["ae_test_mse"] < 0.025
    # the denoising autoencoder removes most of the noise; the plain one keeps more of it
    assert result["dae_noisy_input_mse"] < 0.65 * result["noisy_input_mse"]
    assert result["dae_noisy_input_mse"] < 0.9 * result["ae_noisy_input_mse"]
    assert result["vae_test_elbo"] > result["vae_first_epoch_elbo"] + 3 and result["vae_test_kl"] > 1.0
    assert result["vae_sample_nearest_distance"] < 2.0  # samples look like digits (uniform noise: ~3.6)
    assert result["gan_modes"] >= 6 and result["gan_on_mode_fraction"] >= 0.5
    assert result["gan_digits_nearest_distance"] < 0.85 * result["uniform_nearest_distance"]


def test_gpt_transformer_learns_the_text():
    result = load("gpt_text").main(["--chars", "20000", "--context", "32", "--epochs", "6"])
    # a model of single-character frequencies scores ~4.1 bits and 0.18 accuracy: context is used
    assert result["val_bits_per_char"] < 2.4 and result["val_accuracy"] >= 0.5
    assert result["sample"].startswith("once upon a time") and len(result["sample"]) == 416


def test_reinforce_and_actor_critic_learn_cartpole():
    result = load("cartpole_policy_gradient").main(["--episodes", "160", "--max-steps", "200"])
    for method in ("reinforce", "actor_critic"):
        first, last = result[f"{method}_first20"], result[f"{method}_last20"]
        assert first < 40 and last >= 120, method  # random pushing balances ~20 steps


def test_segmentation_of_shapes_reaches_mean_iou():
    result = load("segmentation_shapes").main(["--train-size", "320", "--epochs", "6", "--width", "8"])
    # all background would score a mean IoU near 0.3; brightness alone cannot tell disc from rectangle
    assert result["test_accuracy"] >= 0.93 and result["test_mean_iou"] >= 0.75
    assert min(result["test_iou"].values()) >= 0.55


def test_mlp_moons_with_early_stopping():
    result = load("mlp_moons_early_stopping").main(["--samples", "300", "--epochs", "60", "--patience", "5"])
    assert result["test_accuracy"] >= 0.95 and result["best_epoch"] <= result["epochs_run"]


def test_lenet_style_digits():
    result = load("lenet_digits").main(["--epochs", "6"])
    assert result["test_accuracy"] >= 0.9
