"""PyTorch side of benchmarks/train/parity.mjs: train from the same initial weights on the same batches.

    /usr/bin/python3 benchmarks/train/parity.py <work dir> <tinyshakespeare.txt>
"""
import json, math, struct, sys, os
import torch, torch.nn.functional as F
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'transformer'))
WORK, CORPUS = sys.argv[1], sys.argv[2]
from torch_peer import forward
torch.set_num_threads(2)
def read_st(path):
    b = open(path, 'rb').read(); n = struct.unpack('<Q', b[:8])[0]; h = json.loads(b[8:8+n]); out = {}
    for k, v in h.items():
        if k == '__metadata__': continue
        s, e = v['data_offsets']; out[k] = torch.frombuffer(bytearray(b[8+n+s:8+n+e]), dtype=torch.float32).reshape(v['shape']).clone()
    return out
W = read_st(os.path.join(WORK, 'init.safetensors'))
w = {'wte': W['transformer.wte.weight'], 'wpe': W['transformer.wpe.weight'], 'lnf': W['transformer.ln_f.weight'], 'lnf_b': None, 'h': []}
for l in range(4):
    p = f'transformer.h.{l}.'
    w['h'].append({'ln1': W[p+'ln_1.weight'], 'ln1_b': None, 'attn': W[p+'attn.c_attn.weight'], 'attn_b': None, 'proj': W[p+'attn.c_proj.weight'], 'proj_b': None,
                   'ln2': W[p+'ln_2.weight'], 'ln2_b': None, 'fc': W[p+'mlp.c_fc.weight'], 'fc_b': None, 'fcp': W[p+'mlp.c_proj.weight'], 'fcp_b': None})
ps = [w['wte'], w['wpe'], w['lnf']] + [t for h in w['h'] for t in h.values() if t is not None]
for t in ps: t.requires_grad_()
raw = open(CORPUS, 'rb').read(); chars = sorted(set(raw)); stoi = {c: i for i, c in enumerate(chars)}
data = torch.tensor([stoi[c] for c in raw], dtype=torch.long)
starts = json.load(open(os.path.join(WORK, 'starts.json')))
decay = [p for p in ps if p.dim() >= 2]; nod = [p for p in ps if p.dim() < 2]
opt = torch.optim.AdamW([{'params': decay, 'weight_decay': 0.1}, {'params': nod, 'weight_decay': 0.0}], lr=1e-3, betas=(0.9, 0.99))
def lr_at(it):
    if it < 100: return 1e-3 * (it + 1) / 101
    return 1e-4 + 0.5 * (1 + math.cos(math.pi * (it - 100) / 1900)) * 9e-4
N = len(starts) // 12; losses = []
for it in range(N):
    for g in opt.param_groups: g['lr'] = lr_at(it)
    ix = starts[it*12:(it+1)*12]
    x = torch.stack([data[i:i+64] for i in ix]); y = torch.stack([data[i+1:i+65] for i in ix])
    loss = F.cross_entropy(forward(w, x, 4).reshape(-1, 65), y.reshape(-1))
    opt.zero_grad(set_to_none=True); loss.backward(); torch.nn.utils.clip_grad_norm_(ps, 1.0); opt.step()
    losses.append(loss.item())
js = json.load(open(os.path.join(WORK, 'js.json')))
print('PyTorch    ', ' '.join(f'{losses[i]:.4f}' for i in range(N) if i % 20 == 0 or i == N-1))
print('max |loss difference| over the first 10 steps:', max(abs(a-b) for a, b in zip(losses[:10], js[:10])), ' first 50:', max(abs(a-b) for a, b in zip(losses[:50], js[:50])), ' all:', max(abs(a-b) for a, b in zip(losses, js)))
