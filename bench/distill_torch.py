"""PyTorch side of bench/distill.ts: the same head, batch, optimizer and schedule on the same features.

usage: distill_torch.py <student.npy> <teacher.npy> <head linear|mlp> <hidden> <batch> <epochs> <threads>
Prints one JSON line: {"seconds": training time, "samples": rows processed, "last_loss": ...}.
"""
import json
import math
import sys
import time

import numpy as np
import torch

xs, ts, head, hidden, batch, epochs, threads = sys.argv[1:8]
hidden, batch, epochs, threads = int(hidden), int(batch), int(epochs), int(threads)
torch.set_num_threads(threads)
torch.manual_seed(0)
x = torch.from_numpy(np.load(xs))
t = torch.from_numpy(np.load(ts))
n, ds = x.shape
dt = t.shape[1]
if head == "linear":
    net = torch.nn.Linear(ds, dt)
else:
    net = torch.nn.Sequential(torch.nn.Linear(ds, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, dt))
opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-4)
steps_per_epoch = math.ceil(n / batch)
total = epochs * steps_per_epoch
sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * s / total)))
loss_fn = torch.nn.MSELoss()
g = torch.Generator().manual_seed(0)
t0 = time.perf_counter()
last = float("nan")
for e in range(epochs):
    perm = torch.randperm(n, generator=g)
    for s in range(steps_per_epoch):
        idx = perm[s * batch : (s + 1) * batch]
        out = net(x[idx])
        loss = loss_fn(out, t[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        last = loss.item()
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "samples": n * epochs, "last_loss": last}))
