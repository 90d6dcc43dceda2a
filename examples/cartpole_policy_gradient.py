"""Reinforcement learning on CartPole: REINFORCE and actor-critic, policy networks trained by autograd.

The policy pi_theta(a | s) is a small network giving the probabilities of pushing left or right.
The return from step t is G_t = r_t + gamma r_(t+1) + gamma^2 r_(t+2) + ...

REINFORCE (Williams, 1992) follows the policy gradient
    grad J(theta) = E[ sum_t grad log pi_theta(a_t | s_t) (G_t - b) ],
estimated from whole episodes, with the baseline b the mean return (it lowers the variance and
leaves the expectation unchanged).

Actor-critic adds a critic V_w(s) that learns the expected return (squared error to G_t) and uses
the advantage A_t = G_t - V_w(s_t) in place of G_t - b: actions are judged against what was
expected from their own state, which lowers the variance further.

The environment is autograd_core.envs.CartPoleEnv (the classic equations); --backend gymnasium uses
gymnasium's CartPole-v1 when it is installed.

    python examples/cartpole_policy_gradient.py [--episodes 300] [--plot cartpole.png]
"""

import argparse
import sys

import numpy as np

import autograd_core as ag
from autograd_core import envs, nn, optim


def policy_network(hidden=64):
    return nn.Sequential(nn.Linear(4, hidden), nn.Tanh(), nn.Linear(hidden, 2))


def run_episode(env, policy, rng, seed):
    """Play one episode with actions drawn from the policy; returns (states, actions, rewards)."""
    state, _ = env.reset(seed=seed)
    states, actions, rewards = [], [], []
    done = False
    with ag.no_grad():  # acting builds no graph; log-probabilities are recomputed in one batch below
        while not done:
            probs = policy(ag.from_numpy(state[None, :])).softmax(1).numpy()[0].astype(np.float64)
            action = int(rng.random() < probs[1] / probs.sum())
            states.append(state)
            actions.append(action)
            state, reward, terminated, truncated, _ = env.step(action)
            rewards.append(reward)
            done = terminated or truncated
    return np.array(states), np.array(actions), np.array(rewards, dtype=np.float64)


def discounted_returns(rewards, gamma):
    """G_t = r_t + gamma G_(t+1), computed backwards."""
    returns = np.zeros_like(rewards)
    running = 0.0
    for t in range(len(rewards) - 1, -1, -1):
        running = rewards[t] + gamma * running
        returns[t] = running
    return returns


def train(method, env, episodes, gamma, lr, seed, batch_episodes=4):
    """Policy-gradient training; returns the length (= return) of every episode."""
    ag.manual_seed(seed)
    rng = np.random.default_rng(seed)
    policy = policy_network()
    critic = nn.Sequential(nn.Linear(4, 64), nn.Tanh(), nn.Linear(64, 1)) if method == "actor-critic" else None
    params = list(policy.parameters()) + (list(critic.parameters()) if critic is not None else [])
    optimizer = optim.Adam(params, lr=lr)
    lengths = []
    for start in range(0, episodes, batch_episodes):
        batch = [run_episode(env, policy, rng, seed * 100_000 + start + i)
                 for i in range(min(batch_episodes, episodes - start))]
        lengths += [len(rewards) for _, _, rewards in batch]
        states = ag.from_numpy(np.concatenate([s for s, _, _ in batch]).astype(np.float32))
        actions = ag.from_numpy(np.concatenate([a for _, a, _ in batch]).astype(np.int64))
        returns = np.concatenate([discounted_returns(r, gamma) for _, _, r in batch])
        returns_t = ag.from_numpy(((returns - returns.mean()) / (returns.std() + 1e-8)).astype(np.float32))
        log_probs = policy(states).log_softmax(1).gather(1, actions.reshape(-1, 1)).reshape(-1)
        if critic is None:
            advantage = returns_t  # normalised returns: the mean is the baseline
            loss = -(log_probs * advantage).mean()
        else:
            values = critic(states).reshape(-1)
            advantage = (returns_t - values).detach()  # the actor must not push the critic around
            loss = -(log_probs * advantage).mean() + 0.5 * ((values - returns_t) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return lengths


def moving_average(values, window):
    values = np.asarray(values, dtype=np.float64)
    return np.array([values[max(0, i - window + 1):i + 1].mean() for i in range(len(values))])


def plot(path, runs, limit):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.0, 4.0), layout="constrained")
    ax = fig.subplots()
    for (name, lengths), color in zip(runs.items(), ("C0", "C1")):
        ax.plot(lengths, color=color, alpha=0.25)
        ax.plot(moving_average(lengths, 20), color=color, label=f"{name} (mean of 20 episodes)")
    ax.axhline(limit, color="grey", linestyle=":", label=f"episode limit ({limit} steps)")
    ax.set(xlabel="episode", ylabel="return (steps balanced)", title="policy gradients on CartPole")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.savefig(path, dpi=110)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=300)
    parser.add_argument("--gamma", type=float, default=0.99)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--max-steps", type=int, default=500, help="episode limit of the built-in CartPole")
    parser.add_argument("--backend", default="builtin", choices=["builtin", "gymnasium", "auto"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", help="save the return of each episode, both methods, to this PNG")
    args = parser.parse_args(argv)

    kwargs = {"max_episode_steps": args.max_steps}
    env = envs.make("CartPole-v1", backend=args.backend, **kwargs)
    results, runs = {}, {}
    for method in ("REINFORCE", "actor-critic"):
        lengths = train(method, env, args.episodes, args.gamma, args.lr, args.seed)
        runs[method] = lengths
        key = method.lower().replace("-", "_")
        results[f"{key}_first20"] = float(np.mean(lengths[:20]))
        results[f"{key}_last20"] = float(np.mean(lengths[-20:]))
        print(f"{method:>12}: mean return {results[f'{key}_first20']:.1f} over the first 20 episodes, "
              f"{results[f'{key}_last20']:.1f} over the last 20 (limit {args.max_steps})")
    if args.plot:
        plot(args.plot, runs, args.max_steps)
        print(f"saved {args.plot}")
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
