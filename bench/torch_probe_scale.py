"""PyTorch-CPU side of bench/probe-scale.ts: the paper's probe recipe on a feature directory written by that
bench (features.npy float32 [N, D], labels.npy int64 [N]): Linear(D, K) + cross-entropy, AdamW (lr 1e-3,
weight decay 0.1), 500 warmup steps then cosine, global-norm clip 1, batch 256, a fresh permutation each
epoch (drop_last=False), as a PyTorch user would write it: the features loaded into memory with np.load.

Usage: python3 bench/torch_probe_scale.py DIR EPOCHS THREADS
Prints one JSON line: seconds (training loop, after loading), evaluations (steps), iterations (epochs),
loss (mean batch loss of the last epoch), maxRssMiB (peak RSS of this process).
"""
import json
import math
import resource
import sys
import time

import numpy as np
import torch

directory, epochs, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
torch.manual_seed(0)
x = torch.from_numpy(np.load(f"{directory}/features.npy"))
y = torch.from_numpy(np.load(f"{directory}/labels.npy"))
n, d = x.shape
k = int(y.max()) + 1
batch, warmup = 256, 500
steps_per_epoch = math.ceil(n / batch)
total = epochs * steps_per_epoch
model = torch.nn.Linear(d, k)
opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)


def lr_at(step):
    if step < warmup:
        return (step + 1) / warmup
    return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))


sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
loss_fn = torch.nn.CrossEntropyLoss()
t = time.perf_counter()
last = 0.0
for epoch in range(epochs):
    perm = torch.randperm(n)
    acc = 0.0
    for s in range(steps_per_epoch):
        idx = perm[s * batch : (s + 1) * batch]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x[idx]), y[idx])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        acc += float(loss)
    last = acc / steps_per_epoch
seconds = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "evaluations": total, "iterations": epochs, "loss": last, "maxRssMiB": rss}))
