"""Regenerate src/reluscope/data/example.npz: a small trained network that ships with reluscope.

A 64;6;6;10 ReLU network (ReLU on the output layer too, as in the paper) trained on
scikit-learn's 8x8 digits, pixels scaled to [0, 1]. Run once; the result is committed.
"""

import numpy as np
import torch
from sklearn.datasets import load_digits

from reluscope.network import ReLUNetwork

torch.manual_seed(3)
digits = load_digits()
x = torch.tensor(digits.data / 16.0, dtype=torch.float32)
y = torch.tensor(digits.target)
model = torch.nn.Sequential(
    torch.nn.Linear(64, 6), torch.nn.ReLU(), torch.nn.Linear(6, 6), torch.nn.ReLU(),
    torch.nn.Linear(6, 10), torch.nn.ReLU(),
)
opt = torch.optim.Adam(model.parameters(), lr=0.003)
for _ in range(1500):
    opt.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
accuracy = (model(x).argmax(1) == y).float().mean().item()
layers = [m for m in model if isinstance(m, torch.nn.Linear)]
net = ReLUNetwork(
    [m.weight.detach().double().numpy() for m in layers],
    [m.bias.detach().double().numpy() for m in layers],
)
net.save("src/reluscope/data/example.npz")
print(f"train accuracy {accuracy:.3f}; {net}")
