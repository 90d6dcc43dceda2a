"""An LSTM learning to continue sine waves (the time-sequence-prediction example, small), with
Adam and gradient clipping."""
import numpy as np
import torch
import torch.nn as nn

torch.manual_seed(0)
np.random.seed(0)
T, L, N = 20, 60, 16
x = np.empty((N, L), np.float32)
x[:] = np.arange(L) + np.random.randint(-4 * T, 4 * T, N).reshape(N, 1)
data = np.sin(x / 1.0 / T).astype(np.float32)
inputs = torch.from_numpy(data[:, :-1]).unsqueeze(-1)
targets = torch.from_numpy(data[:, 1:]).unsqueeze(-1)


class Sequence(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(1, 24, num_layers=1, batch_first=True)
        self.linear = nn.Linear(24, 1)

    def forward(self, inp):
        out, _ = self.lstm(inp)
        return self.linear(out)


seq = Sequence().double().float()
criterion = nn.MSELoss()
optimizer = torch.optim.Adam(seq.parameters(), lr=0.02)
for i in range(25):
    optimizer.zero_grad()
    out = seq(inputs)
    loss = criterion(out, targets)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(seq.parameters(), 1.0)
    optimizer.step()
    if i % 5 == 0 or i == 24:
        print(f"step {i} loss: {loss.item():.5f}")
with torch.no_grad():
    future = seq(inputs[:2])
    print("prediction shape", tuple(future.shape))
