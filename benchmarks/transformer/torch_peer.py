"""PyTorch peer for benchmarks/transformer: the same GPT-2-style decoder (pre-norm, LayerNorm,
tanh-GELU MLP, causal attention, tied head) written in plain torch, timed for forward+backward
and for greedy decoding with and without a KV cache. Prints one JSON object.

    /usr/bin/python3 benchmarks/transformer/torch_peer.py '{"train": [...], "decode": {...}}'

Needs Debian's python3-torch (apt-get install python3-torch). Threads: torch's default
(all cores) unless "threads" is given.
"""
import json
import math
import statistics
import sys
import time

import torch
import torch.nn.functional as F


def init_model(V, C, L, P, bias, seed=0):
    g = torch.Generator().manual_seed(seed)
    n = lambda *s: (torch.randn(*s, generator=g) * 0.02).requires_grad_()
    z = lambda *s: torch.zeros(*s, requires_grad=True) if bias else None
    o = lambda *s: torch.ones(*s, requires_grad=True)
    w = {"wte": n(V, C), "wpe": n(P, C), "lnf": o(C), "lnf_b": z(C), "h": []}
    for _ in range(L):
        w["h"].append({"ln1": o(C), "ln1_b": z(C), "attn": n(C, 3 * C), "attn_b": z(3 * C), "proj": n(C, C), "proj_b": z(C),
                       "ln2": o(C), "ln2_b": z(C), "fc": n(C, 4 * C), "fc_b": z(4 * C), "fcp": n(4 * C, C), "fcp_b": z(C)})
    return w


def lin(x, W, b):
    y = x @ W
    return y + b if b is not None else y


def forward(w, ids, H, cache=None):
    B, T = ids.shape
    C = w["wte"].shape[1]
    past = 0 if cache is None or cache[0] is None else cache[0][0].shape[2]
    pos = torch.arange(past, past + T)
    x = w["wte"][ids] + w["wpe"][pos]
    for l, h in enumerate(w["h"]):
        a = F.layer_norm(x, (C,), h["ln1"], h["ln1_b"])
        q, k, v = lin(a, h["attn"], h["attn_b"]).split(C, dim=2)
        q, k, v = (t.view(B, T, H, C // H).transpose(1, 2) for t in (q, k, v))
        if cache is not None:
            if cache[l] is not None:
                k = torch.cat([cache[l][0], k], 2)
                v = torch.cat([cache[l][1], v], 2)
            cache[l] = (k, v)
        Tk = k.shape[2]
        s = (q @ k.transpose(-2, -1)) / math.sqrt(C // H)
        mask = torch.ones(T, Tk, dtype=torch.bool).tril(diagonal=Tk - T)
        s = s.masked_fill(~mask, float("-inf"))
        y = (F.softmax(s, dim=-1) @ v).transpose(1, 2).reshape(B, T, C)
        x = x + lin(y, h["proj"], h["proj_b"])
        m = F.layer_norm(x, (C,), h["ln2"], h["ln2_b"])
        x = x + lin(F.gelu(lin(m, h["fc"], h["fc_b"]), approximate="tanh"), h["fcp"], h["fcp_b"])
    x = F.layer_norm(x, (C,), w["lnf"], w["lnf_b"])
    return x @ w["wte"].T


def params(w):
    out = [w["wte"], w["wpe"], w["lnf"], w["lnf_b"]]
    for h in w["h"]:
        out += list(h.values())
    return [p for p in out if p is not None]


def time_train(cfg, reps):
    V, C, L, H, T, B = cfg["vocab"], cfg["n_embd"], cfg["n_layer"], cfg["n_head"], cfg["block"], cfg["batch"]
    w = init_model(V, C, L, T, cfg.get("bias", False))
    ids = torch.randint(0, V, (B, T + 1), generator=torch.Generator().manual_seed(1))
    times = []
    for r in range(reps + 2):
        t0 = time.perf_counter()
        logits = forward(w, ids[:, :-1], H)
        loss = F.cross_entropy(logits.reshape(-1, V), ids[:, 1:].reshape(-1))
        grads = torch.autograd.grad(loss, params(w))
        dt = time.perf_counter() - t0
        if r >= 2:
            times.append(dt * 1000)
    return statistics.median(times)


@torch.no_grad()
def time_decode(cfg, use_cache):
    V, C, L, H = cfg["vocab"], cfg["n_embd"], cfg["n_layer"], cfg["n_head"]
    prompt, new = cfg["prompt"], cfg["new"]
    w = init_model(V, C, L, prompt + new, False)
    ids = torch.randint(0, V, (1, prompt), generator=torch.Generator().manual_seed(2))
    step_ms = []
    cache = [None] * L if use_cache else None
    t_all = time.perf_counter()
    logits = forward(w, ids, H, cache)
    seq = ids
    for s in range(new):
        nxt = logits[:, -1].argmax(-1, keepdim=True)
        seq = torch.cat([seq, nxt], 1)
        t0 = time.perf_counter()
        logits = forward(w, nxt if use_cache else seq, H, cache)
        step_ms.append((time.perf_counter() - t0) * 1000)
    total = time.perf_counter() - t_all
    return {"tokens_per_s": new / total, "step_ms": step_ms}


def main():
    spec = json.loads(sys.argv[1])
    if "threads" in spec:
        torch.set_num_threads(spec["threads"])
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "train": [], "decode": {}}
    for cfg in spec.get("train", []):
        out["train"].append({"name": cfg["name"], "ms": time_train(cfg, cfg.get("reps", spec.get("reps", 5)))})
    if "decode" in spec:
        d = spec["decode"]
        out["decode"] = {"cached": time_decode(d, True), "uncached": time_decode(d, False)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
