"""PyTorch-CPU reference for bench/sgd-step.ts: the paper recipe's step (Linear(D, K) + cross-entropy +
global-norm clip + AdamW), float32, on the same shape. Runs as a server so that the TypeScript bench can
interleave rounds with its own (the machine is shared: interleaving makes both sides see the same load).

Protocol (stdin/stdout, one line each): "<steps>" -> "<seconds per step>"; empty line or EOF ends.
Usage: python3 bench/torch_sgd_step.py BATCH D K THREADS
"""
import sys
import time

import torch

batch, d, k, threads = (int(a) for a in sys.argv[1:5])
torch.set_num_threads(threads)
torch.manual_seed(0)
x = torch.randn(batch, d)
y = torch.randint(0, k, (batch,))
model = torch.nn.Linear(d, k)
opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)
loss_fn = torch.nn.CrossEntropyLoss()


def step():
    opt.zero_grad(set_to_none=False)
    loss = loss_fn(model(x), y)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()


for _ in range(5):
    step()
print("ready", torch.__version__, flush=True)
for line in sys.stdin:
    line = line.strip()
    if not line:
        break
    n = int(line)
    t = time.perf_counter()
    for _ in range(n):
        step()
    print((time.perf_counter() - t) / n, flush=True)
