"""Generative models on the shipped digits and a 2-d mixture: autoencoder, denoising autoencoder, VAE, GAN.

Autoencoder: an encoder squeezes each 8x8 digit (64 numbers) through a code of 8, a decoder
rebuilds it; the loss is the reconstruction error. The denoising autoencoder sees a corrupted
input (Gaussian noise, sigma 0.3) and must rebuild the clean digit, so it learns what digits look
like rather than the identity.

Variational autoencoder: the encoder gives a Gaussian q(z|x) = N(mu, diag(sigma^2)); z is drawn by
the reparameterisation z = mu + sigma * eps, eps ~ N(0, I), so gradients flow through the draw; the
decoder gives Bernoulli pixel probabilities p(x|z). Training maximises the evidence lower bound
    ELBO = E_q[log p(x|z)] - KL(q(z|x) || N(0, I)),  KL = -1/2 sum(1 + log sigma^2 - mu^2 - sigma^2),
and decoding z ~ N(0, I) draws new digits.

GAN: a generator G maps noise to samples, a discriminator D tells them from real data; D minimises
-[log D(x) + log(1 - D(G(z)))] and G minimises -log D(G(z)) (the non-saturating loss). On a ring of
8 Gaussians, a generator that found all modes covers the ring; a collapsed one sits on a few.

    python examples/generative.py [--epochs 60] [--gan-steps 3000] [--plot generative.png]
"""

import argparse
import sys

import numpy as np

import autograd_core as ag
from autograd_core import nn, optim
from autograd_core.datasets import load_digits, make_gaussian_mixture

F = nn.functional


def autoencoder(code=8):
    encoder = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, code))
    decoder = nn.Sequential(nn.Linear(code, 128), nn.ReLU(), nn.Linear(128, 64), nn.Sigmoid())
    return nn.Sequential(encoder, decoder)


class VAE(nn.Module):
    def __init__(self, latent=4, hidden=128):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(64, hidden), nn.ReLU())
        self.mu = nn.Linear(hidden, latent)
        self.log_var = nn.Linear(hidden, latent)
        self.decoder = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, 64))
        self.latent = latent

    def forward(self, x):
        h = self.encoder(x)
        mu, log_var = self.mu(h), self.log_var(h)
        z = mu + (0.5 * log_var).exp() * ag.randn_like(mu)  # reparameterisation
        return self.decoder(z), mu, log_var

    def elbo(self, x):
        """Per-image ELBO terms (reconstruction log-likelihood, KL), each averaged over the batch."""
        logits, mu, log_var = self(x)
        log_likelihood = -F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]
        kl = -0.5 * (1 + log_var - mu**2 - log_var.exp()).sum() / x.shape[0]
        return log_likelihood, kl

    def sample(self, n):
        with ag.no_grad():
            return self.decoder(ag.randn(n, self.latent)).sigmoid()


def batches(n, batch_size):
    order = ag.randperm(n)
    for start in range(0, n, batch_size):
        yield order[start:start + batch_size]


def train_autoencoder(x, noise, epochs, lr=3e-3):
    model = autoencoder()
    opt = optim.Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        for rows in batches(len(x), 64):
            clean = x[rows]
            given = (clean + noise * ag.randn_like(clean)).clamp(0, 1) if noise else clean
            loss = F.mse_loss(model(given), clean)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model.eval()


def train_vae(x, x_test, epochs, lr=3e-3):
    model = VAE()
    opt = optim.Adam(model.parameters(), lr=lr)
    curve = []
    for _ in range(epochs):
        for rows in batches(len(x), 64):
            log_likelihood, kl = model.elbo(x[rows])
            loss = kl - log_likelihood
            opt.zero_grad()
            loss.backward()
            opt.step()
        with ag.no_grad():
            log_likelihood, kl = model.elbo(x_test)
        curve.append((log_likelihood.item() - kl.item(), kl.item()))
    return model, curve


def train_gan(real, steps, noise_size=2, batch_size=128, lr=1e-3, squash=False):
    """Alternating updates: one discriminator step, then one generator step, per iteration.
    squash: end the generator with tanh, for data scaled to [-1, 1]."""
    generator = nn.Sequential(nn.Linear(noise_size, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(),
                              nn.Linear(128, real.shape[1]), *([nn.Tanh()] if squash else []))
    discriminator = nn.Sequential(nn.Linear(real.shape[1], 128), nn.LeakyReLU(0.2), nn.Linear(128, 128),
                                  nn.LeakyReLU(0.2), nn.Linear(128, 1))
    opt_g = optim.Adam(generator.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = optim.Adam(discriminator.parameters(), lr=lr, betas=(0.5, 0.999))
    ones, zeros = ag.ones(batch_size, 1), ag.zeros(batch_size, 1)
    losses = []
    for _ in range(steps):
        batch = real[ag.randint(0, len(real), (batch_size,))]
        fake = generator(ag.randn(batch_size, noise_size))
        d_loss = (F.binary_cross_entropy_with_logits(discriminator(batch), ones)
                  + F.binary_cross_entropy_with_logits(discriminator(fake.detach()), zeros))
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = F.binary_cross_entropy_with_logits(discriminator(fake), ones)  # non-saturating: -log D(G(z))
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        losses.append((d_loss.item(), g_loss.item()))
    return generator.eval(), losses


def mixture_coverage(samples, centers, std):
    """(modes holding at least 2% of the samples within 4 std, fraction of samples within 4 std of a mode)."""
    distance = np.linalg.norm(samples[:, None, :] - centers[None, :, :], axis=2)
    nearest, close = distance.argmin(1), distance.min(1) < 4 * std
    counts = np.bincount(nearest[close], minlength=len(centers))
    return int((counts >= 0.02 * len(samples)).sum()), float(close.mean())


def nearest_distance(samples, reference):
    """Mean Euclidean distance from each sample to its nearest reference image."""
    d = (samples**2).sum(1)[:, None] - 2 * samples @ reference.T + (reference**2).sum(1)[None, :]
    return float(np.sqrt(np.maximum(d.min(1), 0)).mean())


def plot(path, panels):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(15.0, 6.5), layout="constrained")
    top, bottom = fig.subfigures(2, 1)
    for sub, (title, images) in zip(top.subfigures(1, 3), panels["images"][:3]):
        axes = sub.subplots(3, 8)
        for ax, image in zip(axes.ravel(), images):
            ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
            ax.axis("off")
        sub.suptitle(title, fontsize=10)
    left, middle, right = bottom.subplots(1, 3)
    elbo = panels["elbo"]
    left.plot(range(1, len(elbo) + 1), [e[0] for e in elbo], label="ELBO")
    left.plot(range(1, len(elbo) + 1), [e[1] for e in elbo], label="KL term")
    left.set(xlabel="epoch", ylabel="nats per image (test)", title="VAE: evidence lower bound")
    left.legend()
    left.grid(alpha=0.3)
    real, fake = panels["mixture"]
    middle.scatter(real[:, 0], real[:, 1], s=3, alpha=0.4, label="data")
    middle.scatter(fake[:, 0], fake[:, 1], s=3, alpha=0.4, label="generator")
    middle.set(title="GAN on a ring of 8 Gaussians", aspect="equal")
    middle.legend(markerscale=4)
    right.axis("off")
    grid = panels["gan_digits"][:24].reshape(3, 8, 8, 8).transpose(0, 2, 1, 3).reshape(24, 64)
    right.imshow(grid, cmap="gray_r", vmin=0, vmax=1)
    right.set_title("GAN samples of digits")
    fig.savefig(path, dpi=100)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=60, help="epochs of the autoencoders and the VAE")
    parser.add_argument("--gan-steps", type=int, default=3000, help="iterations of the 2-d mixture GAN")
    parser.add_argument("--digit-gan-steps", type=int, default=3000, help="iterations of the digits GAN (0: skip)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", help="save reconstructions, VAE samples and curves, GAN samples to this PNG")
    args = parser.parse_args(argv)

    ag.manual_seed(args.seed)
    x, _ = load_digits("train", flatten=True)
    x_test, _ = load_digits("test", flatten=True)
    noisy_test = (x_test + 0.3 * ag.randn_like(x_test)).clamp(0, 1)
    results = {}

    plain = train_autoencoder(x, 0.0, args.epochs)
    denoising = train_autoencoder(x, 0.3, args.epochs)
    with ag.no_grad():
        results["ae_test_mse"] = F.mse_loss(plain(x_test), x_test).item()
        results["ae_noisy_input_mse"] = F.mse_loss(plain(noisy_test), x_test).item()
        results["dae_noisy_input_mse"] = F.mse_loss(denoising(noisy_test), x_test).item()
        denoised = denoising(noisy_test[:8]).numpy()
    results["noisy_input_mse"] = F.mse_loss(noisy_test, x_test).item()
    print(f"autoencoder: test reconstruction MSE {results['ae_test_mse']:.4f}; on noisy inputs (MSE of the noisy "
          f"input itself {results['noisy_input_mse']:.4f}): plain {results['ae_noisy_input_mse']:.4f}, "
          f"denoising {results['dae_noisy_input_mse']:.4f}")

    ag.manual_seed(args.seed)
    vae, curve = train_vae(x, x_test, args.epochs)
    results["vae_test_elbo"], results["vae_test_kl"] = curve[-1]
    results["vae_first_epoch_elbo"] = curve[0][0]
    vae_samples = vae.sample(16).numpy()
    results["vae_sample_nearest_distance"] = nearest_distance(vae_samples, x.numpy())
    print(f"VAE: test ELBO {curve[0][0]:.1f} after one epoch, {curve[-1][0]:.1f} nats per image after "
          f"{args.epochs} (KL term {curve[-1][1]:.2f})")

    ag.manual_seed(args.seed)
    std = 0.05
    real, _ = make_gaussian_mixture(4000, n_components=8, radius=2.0, std=std, seed=args.seed)
    generator, _ = train_gan(real, args.gan_steps)
    with ag.no_grad():
        fake = generator(ag.randn(2000, 2)).numpy()
    centers = 2.0 * np.stack([np.cos(np.arange(8) * np.pi / 4), np.sin(np.arange(8) * np.pi / 4)], 1)
    results["gan_modes"], results["gan_on_mode_fraction"] = mixture_coverage(fake, centers, std)
    print(f"GAN on the ring: {results['gan_modes']} of 8 modes covered, {results['gan_on_mode_fraction']:.0%} of "
          "samples within 4 std of a mode")

    gan_digits = np.zeros((24, 64), dtype=np.float32)
    if args.digit_gan_steps:
        ag.manual_seed(args.seed)
        digit_generator, _ = train_gan(x * 2 - 1, args.digit_gan_steps, noise_size=16, batch_size=64, lr=5e-4,
                                       squash=True)
        with ag.no_grad():
            gan_digits = ((digit_generator(ag.randn(200, 16)) + 1) / 2).numpy()
        uniform = np.random.default_rng(args.seed).uniform(0, 1, gan_digits.shape).astype(np.float32)
        results["gan_digits_nearest_distance"] = nearest_distance(gan_digits, x.numpy())
        results["uniform_nearest_distance"] = nearest_distance(uniform, x.numpy())
        print(f"GAN on digits: mean distance to the nearest training digit {results['gan_digits_nearest_distance']:.2f} "
              f"(uniform noise images: {results['uniform_nearest_distance']:.2f})")
    if args.plot:
        panels = {
            "images": [("test digits + noise (top), denoised (middle), clean (bottom)",
                        np.concatenate([noisy_test[:8].numpy(), denoised, x_test[:8].numpy()])),
                       ("VAE samples from N(0, I)", np.concatenate([vae_samples, vae.sample(8).numpy()])),
                       ("test digits (top), autoencoder (middle), denoising one (bottom)",
                        np.concatenate([x_test[8:16].numpy(), plain(x_test[8:16]).detach().numpy(),
                                        denoising(x_test[8:16]).detach().numpy()]))],
            "elbo": curve, "mixture": (real.numpy()[:2000], fake), "gan_digits": gan_digits,
        }
        plot(args.plot, panels)
        print(f"saved {args.plot}")
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
