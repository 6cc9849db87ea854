"""PyTorch peer for benchmarks/train: ms per training iteration (forward, backward, global-norm clip,
AdamW step) of the nanoGPT CPU configuration, with the model of benchmarks/transformer/torch_peer.py.
Optionally trains for N iterations on a byte stream and reports val loss, for a quality check.

    /usr/bin/python3 benchmarks/train/torch_train.py '{"iters": 60, "threads": 2}'

Needs Debian's python3-torch and libopenblas0-pthread. Prints one JSON object.
"""
import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "transformer"))
from torch_peer import forward, init_model, params  # noqa: E402


def main():
    spec = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    torch.set_num_threads(spec.get("threads", 2))
    V, C, L, H, T, B = spec.get("vocab", 256), 128, 4, 4, 64, 12
    iters = spec.get("iters", 60)
    torch.manual_seed(1337)
    w = init_model(V, C, L, T, False)
    ps = params(w)
    decay = [p for p in ps if p.dim() >= 2]
    no_decay = [p for p in ps if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}], lr=1e-3, betas=(0.9, 0.99))
    data = torch.randint(0, V, (200_000,), generator=torch.Generator().manual_seed(0))
    times = []
    for it in range(iters + 5):
        ix = torch.randint(len(data) - T - 1, (B,))
        x = torch.stack([data[i:i + T] for i in ix])
        y = torch.stack([data[i + 1:i + 1 + T] for i in ix])
        t0 = time.perf_counter()
        logits = forward(w, x, H)
        loss = F.cross_entropy(logits.reshape(-1, V), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(ps, 1.0)
        opt.step()
        dt = (time.perf_counter() - t0) * 1000
        if it >= 5:
            times.append(dt)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "ms_per_iter": statistics.median(times), "iters": iters}))


if __name__ == "__main__":
    main()
