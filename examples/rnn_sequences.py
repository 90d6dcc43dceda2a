"""RNN, LSTM and GRU on a memory task, and a character-level language model on the shipped text.

A recurrent layer reads a sequence one step at a time and carries a hidden state:
    RNN:  h_t = tanh(W_ih x_t + W_hh h_(t-1) + b)
    LSTM: gates i, f, o = sigmoid(...), candidate g = tanh(...), c_t = f * c_(t-1) + i * g, h_t = o * tanh(c_t)
    GRU:  gates r, z = sigmoid(...), n = tanh(W_in x_t + r * (W_hn h_(t-1))), h_t = (1 - z) * n + z * h_(t-1)
The plain RNN's gradient through time is a product of Jacobians that shrinks (or grows)
geometrically; the LSTM's cell state and the GRU's update gate give it an additive path instead.

1. Memory: copy a sequence of tokens after a delay of blanks (datasets.make_copy_task). The model
   outputs (N, C, L) scores, the layout cross_entropy and fit's accuracy take for sequences.
2. Language model: an LSTM reads the shipped text (datasets/data/fables.txt, 200 fables generated
   by this project's grammar in datasets/text.py; no third-party rights, under the project's
   licence) and predicts each next character; sampling from it writes new text. The grammar's
   vocabulary says how many sampled words are real words.

    python examples/rnn_sequences.py [--epochs 8] [--lm-epochs 10] [--plot rnn.png]
"""

import argparse
import re
import sys

import numpy as np

import autograd_core as ag
from autograd_core import nn, optim
from autograd_core.datasets import make_copy_task
from autograd_core.datasets.text import load_text, vocabulary
from autograd_core.train import fit

CELLS = {"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}


class SequenceTagger(nn.Module):
    """Embedding -> recurrent layer -> a class score per step, as (N, C, L)."""

    def __init__(self, cell, vocab_size, hidden_size):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, 16)
        self.rnn = CELLS[cell](16, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, tokens):
        hidden, _ = self.rnn(self.embed(tokens))
        return self.head(hidden).permute(0, 2, 1)  # (N, L, C) -> (N, C, L)


class CharLM(nn.Module):
    """A character-level language model: P(next character | characters so far)."""

    def __init__(self, vocab_size, hidden_size):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, 32)
        self.lstm = nn.LSTM(32, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, tokens, state=None):
        hidden, state = self.lstm(self.embed(tokens), state)
        return self.head(hidden), state


def delayed_accuracy(outputs, targets):
    """Accuracy on the steps after the delay, where the model must recall (the blanks are easy)."""
    predicted = outputs.argmax(1)
    recall = targets != 0
    return float(((predicted == targets) & recall).sum().item()) / max(1, int(recall.sum().item()))


def sample(model, stoi, itos, prompt, length, temperature, generator):
    """Feed the prompt, then draw each next character from softmax(logits / temperature)."""
    model.eval()
    with ag.no_grad():
        tokens = ag.tensor([[stoi[c] for c in prompt]])
        logits, state = model(tokens)
        out = list(prompt)
        for _ in range(length):
            probs = (logits[0, -1] / temperature).softmax(0).numpy().astype(np.float64)
            index = int(generator.choice(len(probs), p=probs / probs.sum()))
            out.append(itos[index])
            logits, state = model(ag.tensor([[index]]), state)
    model.train()
    return "".join(out)


def train_language_model(text, hidden_size, seq_len, epochs, seed):
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = np.array([stoi[c] for c in text], dtype=np.int64)
    split = int(0.9 * len(data))
    def windows(part):
        n = (len(part) - 1) // seq_len
        x = part[:n * seq_len].reshape(n, seq_len)
        y = part[1:n * seq_len + 1].reshape(n, seq_len)
        return ag.from_numpy(x), ag.from_numpy(y)

    (x_train, y_train), (x_val, y_val) = windows(data[:split]), windows(data[split:])
    ag.manual_seed(seed)
    model = CharLM(len(chars), hidden_size)

    class NextCharLoss(nn.Module):
        def forward(self, outputs, targets):
            logits, _ = outputs
            return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))

    class Wrapped(nn.Module):  # fit passes the model's output to the loss: keep (logits, state) together
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, tokens):
            return self.inner(tokens)

    history = fit(Wrapped(model), NextCharLoss(), optim.Adam(model.parameters(), lr=5e-3), (x_train, y_train),
                  val_data=(x_val, y_val), epochs=epochs, batch_size=32, progress=False)
    return model, stoi, chars, history


def plot(path, copy_runs, lm_history, text_sample):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13.0, 4.2), layout="constrained")
    left, right = fig.subplots(1, 2)
    for name, history in copy_runs.items():
        left.plot(history.epoch, history["val_accuracy"], "-o", markersize=3, label=name)
    left.set(xlabel="epoch", ylabel="validation accuracy per step", title="copy after a delay: RNN, LSTM, GRU")
    left.legend()
    left.grid(alpha=0.3)
    bits = [v / np.log(2) for v in lm_history["val_loss"]]
    right.plot(lm_history.epoch, [v / np.log(2) for v in lm_history["loss"]], "-o", markersize=3, label="training")
    right.plot(lm_history.epoch, bits, "-s", markersize=3, label="validation")
    right.set(xlabel="epoch", ylabel="bits per character", title="character-level LSTM language model")
    right.legend(loc="center right")
    right.grid(alpha=0.3)
    wrapped = "\n".join(text_sample[i:i + 70] for i in range(0, min(len(text_sample), 280), 70))
    right.text(0.02, 0.97, wrapped, transform=right.transAxes, va="top", fontsize=7, family="monospace",
               bbox={"facecolor": "white", "alpha": 0.8})
    fig.savefig(path, dpi=110)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=2000, help="copy-task sequences")
    parser.add_argument("--seq-len", type=int, default=5)
    parser.add_argument("--delay", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=8, help="epochs of the copy task")
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--lm-epochs", type=int, default=10, help="epochs of the language model (0: skip it)")
    parser.add_argument("--lm-chars", type=int, default=None, help="train on the first N characters of the text")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", help="save the copy-task curves and the language model's curve and sample")
    args = parser.parse_args(argv)

    vocab = 8
    x, y = make_copy_task(args.samples, seq_len=args.seq_len, vocab_size=vocab, delay=args.delay, seed=args.seed)
    x_val, y_val = make_copy_task(500, seq_len=args.seq_len, vocab_size=vocab, delay=args.delay,
                                  seed=args.seed + 1)
    results, runs = {}, {}
    for name in CELLS:
        ag.manual_seed(args.seed)
        model = SequenceTagger(name, vocab, args.hidden)
        runs[name] = fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=1e-2), (x, y),
                         val_data=(x_val, y_val), epochs=args.epochs, batch_size=32, metrics=("accuracy",),
                         progress=False)
        model.eval()
        with ag.no_grad():
            recall = delayed_accuracy(model(x_val), y_val)
        results[f"{name}_recall_accuracy"] = recall
        print(f"{name:>4}: accuracy per step {runs[name]['val_accuracy'][-1]:.3f}, on the recalled tokens {recall:.3f}")

    text_sample = ""
    if args.lm_epochs:
        text = load_text()[:args.lm_chars] if args.lm_chars else load_text()
        model, stoi, itos, history = train_language_model(text, 2 * args.hidden, 64, args.lm_epochs, args.seed)
        text_sample = sample(model, stoi, itos, "once upon a time", 300, 0.7, np.random.default_rng(args.seed))
        words = re.findall(r"[a-z]+", text_sample)
        known = vocabulary()
        results["lm_val_bits_per_char"] = history["val_loss"][-1] / np.log(2)
        results["lm_known_word_fraction"] = sum(w in known for w in words) / max(1, len(words))
        results["lm_sample"] = text_sample
        print(f"language model: {results['lm_val_bits_per_char']:.3f} bits per character on held-out text "
              f"(uniform over {len(itos)} characters: {np.log2(len(itos)):.2f}); "
              f"{results['lm_known_word_fraction']:.0%} of sampled words are words of the text")
        print("sample:", text_sample)
    if args.plot:
        plot(args.plot, runs, history if args.lm_epochs else None, text_sample)
        print(f"saved {args.plot}")
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
