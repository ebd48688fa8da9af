#!/usr/bin/env python3
"""How learnable the bundled seq2seq task is: torch.nn.Transformer (2 encoder + 2 decoder layers, 4 heads,
pre-norm, no dropout, learned positions, char-level both sides) trained with teacher forcing on
data/number-words-train.tsv, then greedy decoding scored by exact match on data/number-words-test.tsv.
A yardstick for llmj's Seq2SeqLM, not a test (tests never call Python).

  OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 tools/number_words_reference.py D_MODEL STEPS

d=64, 1500 steps of batch 64 on one thread: 242,210 parameters, loss 0.004 at step 250, exact match
0.998 on the 1000 held-out numbers, 115 s (PyTorch 1.13, 2-core machine).
"""
import sys, time, math, torch, torch.nn as nn
torch.manual_seed(0); torch.set_num_threads(1)
def read(p): return [l.rstrip('\n').split('\t') for l in open(p, encoding='utf-8') if l.strip()]
tr, te = read('data/number-words-train.tsv'), read('data/number-words-test.tsv')
chars = sorted(set(''.join(a + b for a, b in tr))); PAD, BOS, EOS = len(chars), len(chars)+1, len(chars)+2; V = len(chars)+3
ix = {c: i for i, c in enumerate(chars)}
if len(sys.argv) != 3: sys.exit(__doc__)
d, steps, B = int(sys.argv[1]), int(sys.argv[2]), 64
class M(nn.Module):
    def __init__(s):
        super().__init__(); s.emb = nn.Embedding(V, d); s.pos = nn.Embedding(64, d)
        s.t = nn.Transformer(d, 4, 2, 2, 4*d, 0.0, batch_first=True, norm_first=True); s.out = nn.Linear(d, V)
    def e(s, x): return s.emb(x) + s.pos(torch.arange(x.shape[1]))[None]
    def forward(s, src, tin):
        m = s.t.generate_square_subsequent_mask(tin.shape[1])
        h = s.t(s.e(src), s.e(tin), tgt_mask=m, src_key_padding_mask=src == PAD, tgt_key_padding_mask=tin == PAD, memory_key_padding_mask=src == PAD)
        return s.out(h)
def pad(seqs): L = max(map(len, seqs)); return torch.tensor([q + [PAD]*(L-len(q)) for q in seqs])
def batch(ps):
    src = pad([[ix[c] for c in a] for a, _ in ps]); t = [[ix[c] for c in b] for _, b in ps]
    return src, pad([[BOS]+q for q in t]), pad([q+[EOS] for q in t])
model = M(); opt = torch.optim.AdamW(model.parameters(), 3e-3 if d <= 64 else 1e-3, weight_decay=0.01)
g = torch.Generator().manual_seed(0); t0 = time.time()
for step in range(steps):
    lr = (1e-3 if d > 64 else 3e-3) * min(1, (step+1)/100) * 0.5*(1+math.cos(math.pi*step/steps))
    for pg in opt.param_groups: pg['lr'] = lr
    src, tin, lab = batch([tr[i] for i in torch.randint(len(tr), (B,), generator=g)])
    loss = nn.functional.cross_entropy(model(src, tin).reshape(-1, V), lab.reshape(-1), ignore_index=PAD)
    opt.zero_grad(); loss.backward(); nn.utils.clip_grad_norm_(model.parameters(), 1.0); opt.step()
    if step % 250 == 0: print(step, round(loss.item(), 4), round(time.time()-t0, 1), flush=True)
model.eval(); ok = 0
with torch.no_grad():
    for k in range(0, len(te), 200):
        ps = te[k:k+200]; src = pad([[ix[c] for c in a] for a, _ in ps]); out = torch.full((len(ps), 1), BOS)
        for _ in range(45):
            nxt = model(src, out)[:, -1].argmax(-1, keepdim=True); out = torch.cat([out, nxt], 1)
        for r, (_, b) in enumerate(ps):
            ids = out[r, 1:].tolist(); ids = ids[:ids.index(EOS)] if EOS in ids else ids
            ok += ''.join(chars[i] if i < len(chars) else '?' for i in ids) == b
print('params', sum(p.numel() for p in model.parameters()), 'exact match', ok / len(te), 'train s', round(time.time()-t0, 1))
