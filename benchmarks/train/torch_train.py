"""PyTorch peer for benchmarks/train: ms per training iteration (forward, backward, global-norm clip,
AdamW step) of the nanoGPT CPU configuration, with the model of benchmarks/transformer/torch_peer.py.
Optionally trains for N iterations on a byte stream and reports val loss, for a quality check.

    /usr/bin/python3 benchmarks/train/torch_train.py '{"iters": 60, "threads": 2}'
    /usr/bin/python3 benchmarks/train/torch_train.py '{"quality": true, "data": "../shared/data/tinyshakespeare.txt"}'

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


def quality(spec):
    """Train the nanoGPT CPU config on a text file (char vocabulary), then score the whole val split."""
    torch.manual_seed(spec.get("seed", 1337))
    raw = open(spec["data"], "rb").read()
    chars = sorted(set(raw))
    stoi = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([stoi[c] for c in raw], dtype=torch.long)
    n = int(len(data) * 0.9)
    train_d, val_d = data[:n], data[n:]
    V, C, L, H, T, B = len(chars), 128, 4, 4, 64, 12
    iters = spec.get("iters", 2000)
    w = init_model(V, C, L, T, False)
    if spec.get("scaled_residual_init"):  # nanoGPT: c_proj weights ~ N(0, (0.02 / sqrt(2 n_layer))^2)
        with torch.no_grad():
            for h in w["h"]:
                for k in ("proj", "fcp"):
                    h[k].normal_(0.0, 0.02 / math.sqrt(2 * L))
    ps = params(w)
    decay = [p for p in ps if p.dim() >= 2]
    no_decay = [p for p in ps if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}], lr=1e-3, betas=(0.9, 0.99))

    def lr_at(it):
        if it < 100:
            return 1e-3 * (it + 1) / 101
        if it > 2000:
            return 1e-4
        return 1e-4 + 0.5 * (1 + math.cos(math.pi * (it - 100) / 1900)) * 9e-4

    t0 = time.perf_counter()
    for it in range(iters):
        for g in opt.param_groups:
            g["lr"] = lr_at(it)
        ix = torch.randint(len(train_d) - T, (B,))
        x = torch.stack([train_d[i:i + T] for i in ix])
        y = torch.stack([train_d[i + 1:i + 1 + T] for i in ix])
        logits = forward(w, x, H)
        loss = F.cross_entropy(logits.reshape(-1, V), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(ps, 1.0)
        opt.step()
    wall = time.perf_counter() - t0
    with torch.no_grad():
        tot, cnt = 0.0, 0
        for s in range(0, len(val_d) - 65 + 1, 64 * 32):
            starts = [s + r * 64 for r in range(32) if s + r * 64 + 65 <= len(val_d)]
            x = torch.stack([val_d[a:a + 64] for a in starts])
            y = torch.stack([val_d[a + 1:a + 65] for a in starts])
            tot += F.cross_entropy(forward(w, x, H).reshape(-1, V), y.reshape(-1), reduction="sum").item()
            cnt += y.numel()
    return {"full_val_loss": tot / cnt, "tokens": cnt, "wall_s": wall, "vocab": V}


def main():
    spec = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    if spec.get("quality"):
        torch.set_num_threads(spec.get("threads", 1))
        print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), **quality(spec)}))
        return
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
