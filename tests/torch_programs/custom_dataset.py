"""Datasets & DataLoaders, as in the tutorial: a custom Dataset reading an annotations file,
with transform and target_transform (one-hot through Lambda), iterated by a DataLoader and used
to train a small network."""
import csv
import os
import tempfile

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torchvision.transforms import Lambda

torch.manual_seed(0)
folder = tempfile.mkdtemp()
rng = np.random.default_rng(0)
rows = []
for i in range(96):
    label = int(rng.integers(0, 4))
    features = rng.normal(label, 0.5, size=6).astype(np.float32)
    np.save(os.path.join(folder, f"sample_{i}.npy"), features)
    rows.append((f"sample_{i}.npy", label))
with open(os.path.join(folder, "annotations.csv"), "w", newline="") as handle:
    csv.writer(handle).writerows(rows)


class CustomFeatureDataset(Dataset):
    def __init__(self, annotations_file, data_dir, transform=None, target_transform=None):
        with open(annotations_file, newline="") as handle:
            self.labels = [(name, int(label)) for name, label in csv.reader(handle)]
        self.data_dir = data_dir
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        path = os.path.join(self.data_dir, self.labels[idx][0])
        features = torch.from_numpy(np.load(path))
        label = self.labels[idx][1]
        if self.transform:
            features = self.transform(features)
        if self.target_transform:
            label = self.target_transform(label)
        return features, label


target_transform = Lambda(lambda y: torch.zeros(4, dtype=torch.float).scatter_(0, torch.tensor(y), value=1))
data = CustomFeatureDataset(os.path.join(folder, "annotations.csv"), folder, target_transform=target_transform)
train_dataloader = DataLoader(data, batch_size=16, shuffle=True)
train_features, train_labels = next(iter(train_dataloader))
print(f"Feature batch shape: {train_features.size()}")
print(f"Labels batch shape: {train_labels.size()}")

model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 4))
loss_fn = nn.CrossEntropyLoss()  # class probabilities as targets
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
for epoch in range(8):
    total = 0.0
    for X, y in train_dataloader:
        loss = loss_fn(model(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item()
    print(f"loss: {total / len(train_dataloader):.4f}")
