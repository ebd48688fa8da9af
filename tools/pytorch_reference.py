#!/usr/bin/env python3
"""PyTorch reference for llmj's GPT: the same model written in torch, used two ways.

  fixtures OUT_DIR     write core/src/test/resources/fixtures/*.safetensors: fixed weights and a
                       fixed batch for four configurations (gpt2, llama with GQA and RoPE, an llmj
                       variant with sinusoidal positions and ReLU, and nanoGPT's: exact GELU, no
                       biases in linear layers or LayerNorms) with PyTorch's logits, loss,
                       every parameter's gradient, and the weights after three AdamW steps; then seq2seq-fixtures.
  seq2seq-fixtures OUT_DIR
                       write the encoder block and encoder-decoder fixtures described below.
  hf-check DIR IDS   score a model folder written by llmj (gpt2 or llama) with Hugging Face's
                       formulas written against Hugging Face's tensor names and layouts (GPT-2's
                       Conv1D [in, out] weights and fused c_attn; Llama's q/k/v/o_proj, rotate_half
                       RoPE, repeat_kv), on the ids in IDS (`llmj tokenize --json` output), and print
                       the mean next-token loss over consecutive context windows, which must equal
                       `llmj eval` on the same text.
  bert-check DIR IDS   BertForMaskedLM's forward written out from an llmj (or transformers) bert folder's
                       tensors under transformers' names, on one sentence {"ids": [...]} in IDS; prints the
                       MLM logits as JSON (the fixture of EncoderFolderTest.matchesBertForMaskedLMWrittenOut).
  train [--steps N] [--threads N] [--seed S]
                       nanoGPT's CPU Shakespeare-character recipe (the `small` preset) in PyTorch,
                       printing tokens/s and the validation loss, to compare with `llmj train --preset small`.
  bench-train [--shape NAME] [--threads N] [--steps N] [--warmup N] [--warmup-seconds S] [--json]
                       training speed on random weights and random batches, the same recipes and figures as
                       `llmj bench train` (shapes tiny, small, gpt2-124m, small-t128, d384): full steps (forward,
                       loss, backward, clip, AdamW), warm-up, then the median ms/step, tokens/s, GFLOPS (6·N + 12·L·T·d
                       per token), peak RSS, and with --peak-gflops G (what `llmj bench train` measured on this
                       machine, its "peak_gflops") the fraction of that FMA peak.
  bench-generate [--shape NAME] [--prompt-tokens N] [--new-tokens N] [--threads N] [--runs N] [--json]
                       prefill and decode tokens/s with a KV cache (shapes small, gpt2-124m, llama-110m), as
                       `llmj bench generate`: the prompt in one pass, then one token at a time, sampling at
                       temperature 1; the cached forward is checked against the full forward first.

Run with Debian's python3-torch:  OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 tools/pytorch_reference.py ...
Tests never call this script; they read the fixtures it wrote.

Encoder and encoder-decoder fixtures (seq2seq-fixtures). All tensors are F32 (ids and masks too, as whole-number floats;
llmj's Safetensors reads F32, F16 and BF16 only). Metadata: "config" (JSON: the PyTorch constructor arguments, plus
"llmj_activation" -- PyTorch's activation="gelu" is the exact erf GELU, llmj's "gelu_erf", not the tanh "gelu" -- and the
row lengths) and "torch" (the version). PyTorch ran in training mode with dropout 0, so on its slow path (not
torch._transformer_encoder_layer_fwd, nor TransformerEncoder's nested tensors, which return zeros at padded rows). Each file
is checked before it is written against the same computation in plain tensor ops in double (in_proj split into q, k, v,
-inf on masked scores, softmax, norms placed by norm_first), gradients included, and those double gradients against
central differences on a few entries. Weights are random, biases and LayerNorm gains included (1 + N(0, 0.1^2)).
Masks follow PyTorch: 1 (True) = padding; a padded position is never attended to (its key score is -inf), but as a query
it is computed like any other position (it attends to the real keys), so its output row is finite and well defined;
every loss leaves padded rows out, so a Java implementation may put anything there and tests should compare real rows only.
The key bias (in_proj_bias entries 16-31 of every attention) has a true gradient of 0 (a constant added to all of a query's
scores leaves its softmax unchanged), so its grad holds rounding noise of 1e-9 to 1e-7: compare it with an absolute tolerance.

  encoder-layer.safetensors             nn.TransformerEncoderLayer(d_model=16, nhead=4, dim_feedforward=32, dropout=0,
                                        activation="gelu" (erf), batch_first=True, norm_first=False, layer_norm_eps=1e-5):
                                        post-norm, x = norm1(x + SA(x)); y = norm2(x + FF(x)), FF = linear2(act(linear1)).
  encoder-layer-prenorm-relu.safetensors  the same with norm_first=True, activation="relu":
                                        x = x + SA(norm1(x)); y = x + FF(norm2(x)) (no final norm).
    input.x [3, 5, 16]; input.pad_mask [3, 5] (row lengths 5, 3, 1: row 0 no padding, row 1 its last 2, row 2 its last 4);
    input.R [3, 5, 16] random, also at padded rows (unused there); output.y [3, 5, 16];
    output.loss [1] = sum over b, t with pad_mask 0, and over i, of y[b,t,i] * R[b,t,i] (so dL/dy = R at real rows, 0 at padded);
    grad.input.x [3, 5, 16] (exactly 0 at padded positions); param.NAME and grad.NAME for PyTorch's names:
    self_attn.in_proj_weight [48, 16] (rows 0-15 q, 16-31 k, 32-47 v, each y = x W^T + b), self_attn.in_proj_bias [48],
    self_attn.out_proj.weight [16, 16] / .bias [16], linear1.weight [32, 16] / .bias [32], linear2.weight [16, 32] / .bias [16],
    norm1.weight / .bias [16], norm2.weight / .bias [16]. Heads: 4 of 4 dimensions, head h = columns 4h..4h+3 of q, k and v;
    scores divided by sqrt(4).

  transformer.safetensors               the encoder-decoder as Seq2SeqLM: vocabulary V = 11 (0 pad, 1 bos, 2 eos, 3-10
                                        symbols); one embedding table for source and target, E[id] * sqrt(16) + PE[pos]
                                        (PE[pos, 2i] = sin(pos / 10000^(2i/16)), PE[pos, 2i+1] = cos(same), positions from 0 in
                                        each sequence); nn.Transformer(d_model=16, nhead=4, num_encoder_layers=2,
                                        num_decoder_layers=2, dim_feedforward=32, dropout=0, activation="relu", batch_first=True,
                                        norm_first=False) -- post-norm layers AND a final LayerNorm after each stack
                                        (encoder.norm gives the memory, decoder.norm the decoder output); generator Linear(16, 11)
                                        with bias; log_softmax; loss = NLL averaged over target positions whose label is not 0.
  transformer-prenorm-gelu.safetensors  the same with norm_first=True, activation="gelu" (erf).
    Decoder layer: post-norm x = norm1(x + SA(x)); x = norm2(x + CA(x, memory)); x = norm3(x + FF(x)); pre-norm
    x = x + SA(norm1(x)); x = x + CA(norm2(x), memory); x = x + FF(norm3(x)) (memory itself is not normed again). SA is causal
    (generate_square_subsequent_mask: query t sees keys <= t) and ignores target pad keys; CA takes q from the decoder and k, v
    from the memory (multihead_attn.in_proj_weight rows 16-47), ignoring source pad keys (memory_key_padding_mask = source mask).
    input.src [3, 6] ids (row lengths 6, 4, 2, then 0); input.tgt_in [3, 5] = bos, symbols, then 0 (lengths 5, 4, 2);
    input.labels [3, 5] = the symbols, eos, then 0 (0 = ignored: 11 labels count); input.src_pad_mask [3, 6] and
    input.tgt_pad_mask [3, 5] (1 = pad, i.e. id == 0). Outputs: output.src_embedded [3, 6, 16] (E[src] * 4 + PE),
    output.memory [3, 6, 16] (after encoder.norm), output.decoder [3, 5, 16] (after decoder.norm), output.log_probs [3, 5, 11],
    output.loss [1]. Padded rows of memory, decoder and log_probs are finite (see above) but count for nothing.
    param.NAME / grad.NAME: embedding.weight [11, 16] (its gradient sums the source and the target uses; row 0 is exactly 0,
    since pad ids only sit at padded positions), generator.weight [11, 16] / .bias [11], encoder.norm.*, decoder.norm.* [16],
    and for l in 0, 1: encoder.layers.l.{self_attn.in_proj_weight [48, 16], self_attn.in_proj_bias [48], self_attn.out_proj.*,
    linear1.*, linear2.*, norm1.*, norm2.*}, decoder.layers.l.{the same, plus multihead_attn.in_proj_weight / in_proj_bias /
    out_proj.* (cross-attention) and norm3.*} -- nn.Transformer's names without a "transformer." prefix.
"""
import json, math, os, struct, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F


class Cfg:
    def __init__(self, **kw):
        self.__dict__.update(kw)


_masks = {}


def causal_mask(T):
    """[T, T], True above the diagonal (the future); made once per T, as nanoGPT keeps it in a buffer."""
    if T not in _masks:
        _masks[T] = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
    return _masks[T]


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        hd = c.d_model // c.n_heads
        self.q = nn.Linear(c.d_model, c.n_heads * hd, bias=c.bias)
        self.k = nn.Linear(c.d_model, c.n_kv_heads * hd, bias=c.bias)
        self.v = nn.Linear(c.d_model, c.n_kv_heads * hd, bias=c.bias)
        self.o = nn.Linear(c.n_heads * hd, c.d_model, bias=c.bias)

    def forward(self, x):
        c = self.c
        B, T, _ = x.shape
        hd = c.d_model // c.n_heads
        q = self.q(x).view(B, T, c.n_heads, hd).transpose(1, 2)
        k = self.k(x).view(B, T, c.n_kv_heads, hd).transpose(1, 2)
        v = self.v(x).view(B, T, c.n_kv_heads, hd).transpose(1, 2)
        if c.position == "rope":
            inv = 1.0 / (c.rope_theta ** (torch.arange(0, hd, 2).float() / hd))
            f = torch.outer(torch.arange(T).float(), inv)
            emb = torch.cat((f, f), dim=-1)
            cos, sin = emb.cos(), emb.sin()
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
        g = c.n_heads // c.n_kv_heads
        if g > 1:  # grouped-query: each k/v head serves g q heads (with g = 1 this would only copy)
            k = k.repeat_interleave(g, dim=1)
            v = v.repeat_interleave(g, dim=1)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(hd)
        att = att.masked_fill(causal_mask(T), float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, c.n_heads * hd)
        return self.o(y)


class Mlp(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        if c.activation == "swiglu":
            self.gate = nn.Linear(c.d_model, c.hidden_dim, bias=c.bias)
            self.up = nn.Linear(c.d_model, c.hidden_dim, bias=c.bias)
            self.down = nn.Linear(c.hidden_dim, c.d_model, bias=c.bias)
        else:
            self.fc = nn.Linear(c.d_model, c.hidden_dim, bias=c.bias)
            self.proj = nn.Linear(c.hidden_dim, c.d_model, bias=c.bias)

    def forward(self, x):
        a = self.c.activation
        if a == "swiglu":
            return self.down(F.silu(self.gate(x)) * self.up(x))
        h = self.fc(x)
        h = F.gelu(h, approximate="tanh") if a == "gelu" else F.gelu(h) if a == "gelu_erf" else F.relu(h) if a == "relu" else F.silu(h)
        return self.proj(h)


def make_norm(c):
    if c.norm == "rmsnorm":
        return RmsNorm(c.d_model, c.norm_eps)
    return nn.LayerNorm(c.d_model, eps=c.norm_eps) if c.bias else LayerNormNoBias(c.d_model, c.norm_eps)


class LayerNormNoBias(nn.Module):
    """nanoGPT's LayerNorm(bias=False): torch 1.13's nn.LayerNorm cannot drop the bias."""
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, None, self.eps)


class RmsNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.norm1, self.attn, self.norm2, self.mlp = make_norm(c), Attention(c), make_norm(c), Mlp(c)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class GPT(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.tokens = nn.Embedding(c.vocab_size, c.d_model)
        if c.position == "learned":
            self.positions = nn.Embedding(c.context_length, c.d_model)
        self.layers = nn.ModuleList([Block(c) for _ in range(c.n_layers)])
        self.final_norm = make_norm(c)
        if not c.tied_head:
            self.head = nn.Linear(c.d_model, c.vocab_size, bias=False)

    def forward(self, ids):
        c = self.c
        B, T = ids.shape
        h = self.tokens(ids)
        if c.position == "learned":
            h = h + self.positions(torch.arange(T))
        elif c.position == "sinusoidal":
            pos = torch.arange(T, dtype=torch.float64).unsqueeze(1)
            i = torch.arange(0, c.d_model, 2, dtype=torch.float64)
            ang = pos / torch.pow(10000.0, i / c.d_model)
            pe = torch.zeros(T, c.d_model, dtype=torch.float64)
            pe[:, 0::2], pe[:, 1::2] = torch.sin(ang), torch.cos(ang)
            h = h + pe.float()
        for b in self.layers:
            h = b(h)
        h = self.final_norm(h)
        w = self.tokens.weight if c.tied_head else self.head.weight
        return h @ w.t()


def llmj_names(model):
    """Map torch parameter names to llmj's (layers.0.norm1.weight, tokens.weight, …)."""
    return {n: n for n, _ in model.named_parameters()}


def write_safetensors(path, tensors, metadata):
    header, offset, blobs = {"__metadata__": metadata}, 0, []
    for name, t in tensors.items():
        data = t.detach().contiguous().float().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


VARIANTS = {
    "gpt2": dict(family="gpt2", vocab_size=13, context_length=16, d_model=16, n_layers=2, n_heads=4, n_kv_heads=4, hidden_dim=64,
                 position="learned", norm="layernorm", activation="gelu", bias=True, tied_head=True, norm_eps=1e-5, rope_theta=10000.0),
    "llama": dict(family="llama", vocab_size=13, context_length=16, d_model=16, n_layers=2, n_heads=4, n_kv_heads=2, hidden_dim=40,
                  position="rope", norm="rmsnorm", activation="swiglu", bias=False, tied_head=False, norm_eps=1e-5, rope_theta=10000.0),
    "llmj-sinusoidal-relu": dict(family="llmj", vocab_size=13, context_length=16, d_model=16, n_layers=2, n_heads=2, n_kv_heads=2,
                                 hidden_dim=48, position="sinusoidal", norm="layernorm", activation="relu", bias=True, tied_head=False,
                                 norm_eps=1e-5, rope_theta=10000.0),
    "llmj-nanogpt": dict(family="llmj", vocab_size=13, context_length=16, d_model=16, n_layers=2, n_heads=4, n_kv_heads=4,
                         hidden_dim=64, position="learned", norm="layernorm", activation="gelu_erf", bias=False, tied_head=True,
                         norm_eps=1e-5, rope_theta=10000.0),
}
STEPS, LR, WD, BETAS, EPS, CLIP = 3, 1e-2, 0.1, (0.9, 0.95), 1e-8, 1.0


def fixtures(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    for name, kw in VARIANTS.items():
        torch.manual_seed(1234)
        c = Cfg(**kw)
        model = GPT(c)
        with torch.no_grad():  # every parameter random, biases and gains included
            for p in model.parameters():
                p.copy_(torch.randn_like(p) * (0.3 if p.dim() > 1 else 0.1) + (1.0 if p.dim() == 1 and p.shape[0] == c.d_model else 0.0))
        B, T = 2, 8
        ids = torch.randint(0, c.vocab_size, (B, T))
        labels = torch.randint(0, c.vocab_size, (B, T))
        labels[0, 3] = -100
        tensors = {"input_ids": ids.float(), "labels": labels.float()}
        for n, p in model.named_parameters():
            tensors["init." + n] = p.detach().clone()
        logits = model(ids)
        loss = F.cross_entropy(logits.view(-1, c.vocab_size), labels.view(-1), ignore_index=-100)
        loss.backward()
        tensors["logits"] = logits.detach().view(B * T, c.vocab_size)
        tensors["loss"] = loss.detach().view(1)
        for n, p in model.named_parameters():
            tensors["grad." + n] = p.grad.detach().clone()
        decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and not n.startswith(("tokens.", "positions."))]
        rest = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and not n.startswith(("tokens.", "positions.")))]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": WD}, {"params": rest, "weight_decay": 0.0}], lr=LR, betas=BETAS, eps=EPS)
        model.zero_grad()
        for _ in range(STEPS):
            opt.zero_grad()
            logits = model(ids)
            loss = F.cross_entropy(logits.view(-1, c.vocab_size), labels.view(-1), ignore_index=-100)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
            opt.step()
        for n, p in model.named_parameters():
            tensors["step3." + n] = p.detach().clone()
        meta = {"config": json.dumps(kw), "steps": str(STEPS), "lr": str(LR), "weight_decay": str(WD), "beta1": str(BETAS[0]),
                "beta2": str(BETAS[1]), "eps": str(EPS), "grad_clip": str(CLIP), "torch": torch.__version__}
        path = os.path.join(out_dir, name + ".safetensors")
        write_safetensors(path, tensors, meta)
        print(f"wrote {path}: loss {loss.item():.6f}")


# ---- encoder block and encoder–decoder (seq2seq-fixtures) ----

ENCODER_LAYERS = {
    "encoder-layer": dict(d_model=16, nhead=4, dim_feedforward=32, activation="gelu", norm_first=False, layer_norm_eps=1e-5),
    "encoder-layer-prenorm-relu": dict(d_model=16, nhead=4, dim_feedforward=32, activation="relu", norm_first=True, layer_norm_eps=1e-5),
}
TRANSFORMERS = {
    "transformer": dict(vocab_size=11, d_model=16, nhead=4, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=32,
                        activation="relu", norm_first=False, layer_norm_eps=1e-5),
    "transformer-prenorm-gelu": dict(vocab_size=11, d_model=16, nhead=4, num_encoder_layers=2, num_decoder_layers=2,
                                     dim_feedforward=32, activation="gelu", norm_first=True, layer_norm_eps=1e-5),
}
PAD, BOS, EOS = 0, 1, 2
LLMJ_ACTIVATION = {"relu": "relu", "gelu": "gelu_erf"}  # PyTorch's "gelu" string is F.gelu, the exact erf form


def randomize(model):
    """Every parameter random, so a mistake in a bias or a LayerNorm gain shows: matrices N(0, 0.3²), biases N(0, 0.1²),
    LayerNorm weights 1 + N(0, 0.1²)."""
    with torch.no_grad():
        for n, p in model.named_parameters():
            norm_weight = n.split(".")[-2].startswith("norm") and n.endswith(".weight")
            p.copy_(torch.randn_like(p) * (0.3 if p.dim() > 1 else 0.1) + (1.0 if norm_weight else 0.0))


def sinusoid(T, d):
    """[T, d]: PE[pos, 2i] = sin(pos / 10000^(2i/d)), PE[pos, 2i+1] = cos(...), computed in double and rounded once."""
    pos = torch.arange(T, dtype=torch.float64).unsqueeze(1)
    ang = pos / torch.pow(10000.0, torch.arange(0, d, 2, dtype=torch.float64) / d)
    pe = torch.zeros(T, d, dtype=torch.float64)
    pe[:, 0::2], pe[:, 1::2] = torch.sin(ang), torch.cos(ang)
    return pe.float()


def lengths_mask(lengths, T):
    """[B, T] bool, True at padded positions (PyTorch's key_padding_mask convention)."""
    return torch.arange(T).unsqueeze(0) >= torch.tensor(lengths).unsqueeze(1)


class Seq2Seq(nn.Module):
    """The encoder–decoder as llmj's Seq2SeqLM builds it: one embedding table for source and target, scaled by √d, plus
    sinusoidal positions; torch.nn.Transformer; a generator Linear(d, V) and log_softmax."""
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.embedding = nn.Embedding(c["vocab_size"], c["d_model"])
        self.transformer = nn.Transformer(d_model=c["d_model"], nhead=c["nhead"], num_encoder_layers=c["num_encoder_layers"],
                                          num_decoder_layers=c["num_decoder_layers"], dim_feedforward=c["dim_feedforward"],
                                          dropout=0.0, activation=c["activation"], layer_norm_eps=c["layer_norm_eps"],
                                          batch_first=True, norm_first=c["norm_first"])
        self.generator = nn.Linear(c["d_model"], c["vocab_size"])

    def embed(self, ids):
        d = self.c["d_model"]
        return self.embedding(ids) * math.sqrt(d) + sinusoid(ids.shape[1], d)

    def forward(self, src, tgt_in, src_pad, tgt_pad):
        """Returns (log-probabilities [B, Tt, V], memory [B, Ts, d], decoder output after its final norm [B, Tt, d])."""
        t = self.transformer
        causal = t.generate_square_subsequent_mask(tgt_in.shape[1])  # [Tt, Tt] float: 0 on and below the diagonal, -inf above
        memory = t.encoder(self.embed(src), src_key_padding_mask=src_pad)
        out = t.decoder(self.embed(tgt_in), memory, tgt_mask=causal, tgt_key_padding_mask=tgt_pad, memory_key_padding_mask=src_pad)
        return F.log_softmax(self.generator(out), dim=-1), memory, out


def seq2seq_names(model):
    """Fixture names: nn.Transformer's own (encoder.layers.0.self_attn.in_proj_weight, decoder.norm.weight, …), without the
    wrapper's "transformer." prefix, beside embedding.weight and generator.weight / generator.bias."""
    return {n: n[len("transformer."):] if n.startswith("transformer.") else n for n, _ in model.named_parameters()}


# The same computations written out in plain tensor ops (run in double), to check nn's modules and the fixtures against.

def ref_attention(xq, xkv, w, b, wo, bo, H, key_pad, causal=False):
    """xq [B, Tq, d] queries, xkv [B, Tk, d] keys and values; w [3d, d] = q, k, v projections stacked; key_pad [B, Tk] True
    = pad: those keys get -inf scores, so no query attends to them (a padded query still attends to the real keys)."""
    B, Tq, d = xq.shape
    Tk, hd = xkv.shape[1], d // H
    wq, wk, wv = w.split(d)
    bq, bk, bv = b.split(d)
    q = (xq @ wq.t() + bq).view(B, Tq, H, hd).transpose(1, 2)   # [B, H, Tq, hd]
    k = (xkv @ wk.t() + bk).view(B, Tk, H, hd).transpose(1, 2)
    v = (xkv @ wv.t() + bv).view(B, Tk, H, hd).transpose(1, 2)
    s = (q @ k.transpose(-2, -1)) / math.sqrt(hd)                # [B, H, Tq, Tk]
    s = s.masked_fill(key_pad[:, None, None, :], float("-inf"))
    if causal:
        s = s.masked_fill(torch.triu(torch.ones(Tq, Tk, dtype=torch.bool), 1), float("-inf"))
    y = (s.softmax(-1) @ v).transpose(1, 2).reshape(B, Tq, d)
    return y @ wo.t() + bo


def ref_layer(p, pre, x, H, act, norm_first, eps, pad, memory=None, mem_pad=None):
    """One encoder layer (memory None) or decoder layer, with p[name] its parameters under the prefix pre."""
    ln = lambda h, n: F.layer_norm(h, h.shape[-1:], p[pre + n + ".weight"], p[pre + n + ".bias"], eps)
    g = lambda n: p[pre + n]
    sa = lambda h: ref_attention(h, h, g("self_attn.in_proj_weight"), g("self_attn.in_proj_bias"), g("self_attn.out_proj.weight"),
                                 g("self_attn.out_proj.bias"), H, pad, causal=memory is not None)
    ca = lambda h: ref_attention(h, memory, g("multihead_attn.in_proj_weight"), g("multihead_attn.in_proj_bias"),
                                 g("multihead_attn.out_proj.weight"), g("multihead_attn.out_proj.bias"), H, mem_pad)
    ff = lambda h: (F.relu if act == "relu" else F.gelu)(h @ g("linear1.weight").t() + g("linear1.bias")) @ g("linear2.weight").t() + g("linear2.bias")
    subs = [sa, ca, ff] if memory is not None else [sa, ff]
    for i, f in enumerate(subs):  # norm1, norm2 (, norm3) in that order
        n = f"norm{i + 1}"
        x = x + f(ln(x, n)) if norm_first else ln(x + f(x), n)
    return x


def ref_seq2seq(p, c, src, tgt_in, src_pad, tgt_pad):
    d, eps = c["d_model"], c["layer_norm_eps"]
    embed = lambda ids: p["embedding.weight"][ids] * math.sqrt(d) + sinusoid(ids.shape[1], d).double()
    ln = lambda h, n: F.layer_norm(h, (d,), p[n + ".weight"], p[n + ".bias"], eps)
    h = embed(src)
    for l in range(c["num_encoder_layers"]):
        h = ref_layer(p, f"encoder.layers.{l}.", h, c["nhead"], c["activation"], c["norm_first"], eps, src_pad)
    memory = ln(h, "encoder.norm")
    h = embed(tgt_in)
    for l in range(c["num_decoder_layers"]):
        h = ref_layer(p, f"decoder.layers.{l}.", h, c["nhead"], c["activation"], c["norm_first"], eps, tgt_pad, memory, src_pad)
    return F.log_softmax(ln(h, "decoder.norm") @ p["generator.weight"].t() + p["generator.bias"], dim=-1)


def check_reference(name, tensors, loss_fn, params, rtol=2e-4):
    """Recompute the loss and its gradients in double from the written tensors with the plain-ops reference, compare with
    PyTorch's (written) values, and spot-check the double gradients by central differences. Exits on a mismatch."""
    p = {n: t.double().requires_grad_() for n, t in params.items()}
    loss, outputs = loss_fn(p)
    loss.backward()
    worst = 0.0
    for key, got in list(outputs.items()) + [("output.loss", loss.detach().view(1))] + [("grad." + n, t.grad) for n, t in p.items()]:
        want = tensors[key].double()
        err = float((got.detach() - want).abs().max() / (want.abs().max() + 1e-3))
        worst = max(worst, err)
        if not err <= rtol:
            sys.exit(f"{name}: {key} differs from the plain-ops reference by {err:.2e} (relative to its largest entry)")
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for n in sorted(p)[:: max(1, len(p) // 6)]:  # a handful of parameters, one random entry each
            t = p[n].view(-1)
            i = int(torch.randint(t.numel(), (1,), generator=g))
            h, old = 1e-6, float(t[i])
            t[i] = old + h
            up = float(loss_fn(p)[0])
            t[i] = old - h
            down = float(loss_fn(p)[0])
            t[i] = old
            fd, an = (up - down) / (2 * h), float(p[n].grad.view(-1)[i])
            if abs(fd - an) > 1e-6 * max(1.0, abs(an)):
                sys.exit(f"{name}: d loss / d {n}[{i}]: finite difference {fd:.9g}, autograd {an:.9g}")
    return worst


def encoder_layer_fixture(name, kw):
    torch.manual_seed(4321)
    layer = nn.TransformerEncoderLayer(dropout=0.0, batch_first=True, **kw)
    randomize(layer)
    layer.train()  # training mode (dropout is 0) keeps PyTorch on the slow path, not torch._transformer_encoder_layer_fwd
    B, T, d = 3, 5, kw["d_model"]
    pad = lengths_mask([5, 3, 1], T)
    keep = (~pad).float().unsqueeze(-1)                            # [B, T, 1]
    x = torch.randn(B, T, d).requires_grad_()
    R = torch.randn(B, T, d)
    y = layer(x, src_key_padding_mask=pad)
    loss = (y * R * keep).sum()
    loss.backward()
    tensors = {"input.x": x.detach(), "input.pad_mask": pad.float(), "input.R": R}
    for n, p in layer.named_parameters():
        tensors["param." + n] = p.detach().clone()
    tensors["output.y"], tensors["output.loss"], tensors["grad.input.x"] = y.detach(), loss.detach().view(1), x.grad.clone()
    for n, p in layer.named_parameters():
        tensors["grad." + n] = p.grad.clone()
    if tensors["grad.input.x"][pad].abs().max() != 0:
        sys.exit(f"{name}: a padded position's input has a gradient, so padding leaks into real positions")

    def loss_fn(p):
        xx = p.pop("input.x")
        try:
            yy = ref_layer(p, "", xx, kw["nhead"], kw["activation"], kw["norm_first"], kw["layer_norm_eps"], pad)
        finally:
            p["input.x"] = xx
        return (yy * R.double() * keep.double()).sum(), {"output.y": yy}
    params = {n: tensors["param." + n] for n, _ in layer.named_parameters()}
    params["input.x"] = tensors["input.x"]
    worst = check_reference(name, tensors, loss_fn, params)
    config = dict(kw, dropout=0.0, batch_first=True, llmj_activation=LLMJ_ACTIVATION[kw["activation"]], lengths=[5, 3, 1])
    return tensors, {"config": json.dumps(config), "torch": torch.__version__}, loss, worst


def transformer_fixture(name, c):
    torch.manual_seed(2468)
    model = Seq2Seq(c)
    randomize(model)
    model.train()  # slow path throughout (dropout is 0), as for the encoder layer
    V = c["vocab_size"]
    src_len, tgt_len = [6, 4, 2], [4, 3, 1]                        # target symbols per row, before bos / eos
    Ts, Tt = max(src_len), max(tgt_len) + 1
    src = torch.full((3, Ts), PAD, dtype=torch.long)
    tgt_in = torch.full((3, Tt), PAD, dtype=torch.long)
    labels = torch.full((3, Tt), PAD, dtype=torch.long)
    for b in range(3):
        src[b, :src_len[b]] = torch.randint(3, V, (src_len[b],))
        t = torch.randint(3, V, (tgt_len[b],))
        tgt_in[b, 0], tgt_in[b, 1:tgt_len[b] + 1] = BOS, t
        labels[b, :tgt_len[b]], labels[b, tgt_len[b]] = t, EOS
    src_pad, tgt_pad = src == PAD, tgt_in == PAD
    logp, memory, out = model(src, tgt_in, src_pad, tgt_pad)
    loss = F.nll_loss(logp.reshape(-1, V), labels.view(-1), ignore_index=PAD)
    loss.backward()
    names = seq2seq_names(model)
    tensors = {"input.src": src.float(), "input.tgt_in": tgt_in.float(), "input.labels": labels.float(),
               "input.src_pad_mask": src_pad.float(), "input.tgt_pad_mask": tgt_pad.float()}
    for n, p in model.named_parameters():
        tensors["param." + names[n]] = p.detach().clone()
    tensors.update({"output.src_embedded": model.embed(src).detach(), "output.memory": memory.detach(),
                    "output.decoder": out.detach(), "output.log_probs": logp.detach(), "output.loss": loss.detach().view(1)})
    for n, p in model.named_parameters():
        tensors["grad." + names[n]] = p.grad.clone()

    def loss_fn(p):
        lp = ref_seq2seq(p, c, src, tgt_in, src_pad, tgt_pad)
        return F.nll_loss(lp.reshape(-1, V), labels.view(-1), ignore_index=PAD), {"output.log_probs": lp}
    worst = check_reference(name, tensors, loss_fn, {names[n]: tensors["param." + names[n]] for n, _ in model.named_parameters()})
    config = dict(c, dropout=0.0, batch_first=True, llmj_activation=LLMJ_ACTIVATION[c["activation"]], pad_id=PAD, bos_id=BOS,
                  eos_id=EOS, embedding_scale=math.sqrt(c["d_model"]), position="sinusoidal", shared_embedding=True,
                  final_norms=True, src_lengths=src_len, tgt_lengths=[n + 1 for n in tgt_len])
    return tensors, {"config": json.dumps(config), "torch": torch.__version__}, loss, worst


def seq2seq_fixtures(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    for name, kw in ENCODER_LAYERS.items():
        tensors, meta, loss, worst = encoder_layer_fixture(name, kw)
        write_safetensors(os.path.join(out_dir, name + ".safetensors"), tensors, meta)
        print(f"wrote {os.path.join(out_dir, name + '.safetensors')}: loss {loss.item():.6f} (plain-ops reference within {worst:.1e})")
    for name, c in TRANSFORMERS.items():
        tensors, meta, loss, worst = transformer_fixture(name, c)
        write_safetensors(os.path.join(out_dir, name + ".safetensors"), tensors, meta)
        print(f"wrote {os.path.join(out_dir, name + '.safetensors')}: loss {loss.item():.6f} (plain-ops reference within {worst:.1e})")


def train(argv):
    steps = int(argv[argv.index("--steps") + 1]) if "--steps" in argv else 2000
    threads = int(argv[argv.index("--threads") + 1]) if "--threads" in argv else 2
    seed = int(argv[argv.index("--seed") + 1]) if "--seed" in argv else 1337
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    text = open(os.path.join(root, "data", "tinyshakespeare.txt"), encoding="utf-8").read()
    chars = sorted(set(text))
    stoi = {ch: i for i, ch in enumerate(chars)}
    data = torch.tensor([stoi[ch] for ch in text], dtype=torch.long)
    n = len(data) - int(len(data) * 0.1)
    tr, va = data[:n], data[n:]
    c = Cfg(**dict(VARIANTS["gpt2"], vocab_size=len(chars), context_length=64, d_model=128, n_layers=4, n_heads=4, n_kv_heads=4, hidden_dim=512))
    model = GPT(c)
    for pn, p in model.named_parameters():
        if p.dim() >= 2:
            std = 0.02 / math.sqrt(2 * c.n_layers) if pn.endswith((".o.weight", ".proj.weight")) else 0.02
            torch.nn.init.normal_(p, 0.0, std)
    B, T = 12, 64
    decay = [p for n_, p in model.named_parameters() if p.dim() >= 2 and not n_.startswith(("tokens.", "positions."))]
    rest = [p for n_, p in model.named_parameters() if not (p.dim() >= 2 and not n_.startswith(("tokens.", "positions.")))]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}], lr=1e-3, betas=(0.9, 0.99))

    def lr_at(it, warmup=100, lr=1e-3, min_lr=1e-4, decay_steps=steps):
        if it < warmup:
            return lr * (it + 1) / (warmup + 1)
        if it > decay_steps:
            return min_lr
        r = (it - warmup) / max(1, decay_steps - warmup)
        return min_lr + 0.5 * (1 + math.cos(math.pi * r)) * (lr - min_lr)

    def batch(d):
        ix = torch.randint(len(d) - T, (B,))
        return torch.stack([d[i:i + T] for i in ix]), torch.stack([d[i + 1:i + 1 + T] for i in ix])

    @torch.no_grad()
    def estimate(d, iters=20):
        model.eval()
        s = sum(F.cross_entropy(model(x).view(-1, c.vocab_size), y.view(-1)).item() for x, y in (batch(d) for _ in range(iters)))
        model.train()
        return s / iters

    t0 = time.time()
    train_time = 0.0
    for it in range(steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(it)
        s = time.time()
        x, y = batch(tr)
        loss = F.cross_entropy(model(x).view(-1, c.vocab_size), y.view(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        train_time += time.time() - s
        if (it + 1) % 250 == 0 or it + 1 == steps:
            print(f"step {it + 1}: train {estimate(tr):.4f} val {estimate(va):.4f}  {(it + 1) * B * T / train_time:,.0f} tok/s (training steps only)", flush=True)
    print(f"done: {steps} steps in {time.time() - t0:.1f} s wall, {steps * B * T / train_time:,.0f} tokens/s in training steps, {threads} threads")
    # the whole validation split in consecutive windows, as `llmj eval` scores it
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for s_ in range(0, len(va) - 1, T):
            n_ = min(T, len(va) - 1 - s_)
            x, y = va[s_:s_ + n_].unsqueeze(0), va[s_ + 1:s_ + 1 + n_].unsqueeze(0)
            total += F.cross_entropy(model(x).view(-1, c.vocab_size), y.view(-1), reduction="sum").item()
            count += n_
    print(f"whole validation split: loss {total / count:.4f} over {count} tokens")


# ---------------------------------------------------------------- speed: the same recipes as `llmj bench train` and `bench generate`

def blas_libraries():
    """The BLAS libraries this process has loaded (Linux), e.g. ['openblas-openmp/libopenblasp-r0.3.21.so']. PyTorch's speed
    depends on them: with Debian's reference libblas3 it trains ~20× slower, and with OpenBLAS's pthread build its threads
    fight PyTorch's OpenMP threads (~3× slower here). The fair comparison is OpenBLAS's OpenMP build (libopenblas0-openmp,
    chosen with update-alternatives for libblas.so.3 and libopenblas.so.0)."""
    try:
        with open("/proc/self/maps") as f:
            libs = {"/".join(line.split()[-1].split("/")[-2:]) for line in f if "blas" in line.split("/")[-1]}
    except OSError:
        return []
    return sorted(libs)


def blas_warning():
    libs = blas_libraries()
    if libs and not any("openblas-openmp/" in x for x in libs):
        return ("warning: PyTorch is using " + ", ".join(libs) + ", not OpenBLAS's OpenMP build; its figures will be far too low "
                "(install libopenblas0-openmp and select it: see blas_libraries in tools/pytorch_reference.py)")
    return None


def gpt2_cfg(vocab, ctx, d, layers, heads):
    return Cfg(**dict(VARIANTS["gpt2"], vocab_size=vocab, context_length=ctx, d_model=d, n_layers=layers, n_heads=heads,
                      n_kv_heads=heads, hidden_dim=4 * d))


# name: (model, batch), as in llmj's TrainBench
TRAIN_SHAPES = {
    "tiny": (lambda: gpt2_cfg(65, 64, 64, 2, 4), 16),
    "small": (lambda: gpt2_cfg(65, 64, 128, 4, 4), 12),
    "gpt2-124m": (lambda: gpt2_cfg(50257, 1024, 768, 12, 12), 8),
    "small-t128": (lambda: gpt2_cfg(65, 128, 128, 4, 4), 16),
    "d384": (lambda: gpt2_cfg(65, 256, 384, 6, 6), 8),
}
# as in llmj's BenchCommand.SHAPES
GENERATE_SHAPES = {
    "small": lambda: gpt2_cfg(65, 64, 128, 4, 4),
    "gpt2-124m": lambda: gpt2_cfg(50257, 1024, 768, 12, 12),
    "llama-110m": lambda: Cfg(**dict(VARIANTS["llama"], vocab_size=32000, context_length=1024, d_model=768, n_layers=12, n_heads=12,
                                     n_kv_heads=12, hidden_dim=2048)),
}


def matmul_weights(c):
    """The weights of every matrix product (q, k, v, o, the MLP, the LM head), as llmj's TrainBench counts them."""
    hd = c.d_model // c.n_heads
    mlp = (3 if c.activation == "swiglu" else 2) * c.d_model * c.hidden_dim
    return c.n_layers * (2 * c.d_model * c.n_heads * hd + 2 * c.d_model * c.n_kv_heads * hd + mlp) + c.vocab_size * c.d_model


def options(argv, **defaults):
    """--name value pairs (and bare --flags for booleans) over the defaults; an unknown option is an error."""
    o, i = dict(defaults), 0
    while i < len(argv):
        k = argv[i].lstrip("-").replace("-", "_")
        if not argv[i].startswith("--") or k not in o:
            sys.exit(f"unknown option {argv[i]}; options: " + " ".join("--" + n.replace("_", "-") for n in defaults))
        if isinstance(o[k], bool):
            o[k], i = True, i + 1
        else:
            o[k], i = type(o[k])(argv[i + 1]), i + 2
    return o


def peak_rss_mb():
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6  # Linux reports KiB


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def random_init(model, c):
    """GPT-2's initialisation, as llmj's DecoderLM: N(0, 0.02), residual projections N(0, 0.02/√(2L)); norms at 1, biases 0."""
    for pn, p in model.named_parameters():
        if p.dim() >= 2:
            std = 0.02 / math.sqrt(2 * c.n_layers) if pn.endswith((".o.weight", ".proj.weight", ".down.weight")) else 0.02
            torch.nn.init.normal_(p, 0.0, std)


def bench_train(argv):
    o = options(argv, shape="small-t128", threads=2, steps=10, warmup=5, warmup_seconds=3.0, seed=1337, peak_gflops=0.0, json=False)
    if o["shape"] not in TRAIN_SHAPES:
        sys.exit(f"unknown --shape {o['shape']}: use " + ", ".join(TRAIN_SHAPES))
    torch.set_num_threads(o["threads"])
    torch.manual_seed(o["seed"])
    make, B = TRAIN_SHAPES[o["shape"]]
    c = make()
    T, V = c.context_length, c.vocab_size
    model = GPT(c)
    random_init(model, c)
    decay = [p for n_, p in model.named_parameters() if p.dim() >= 2 and not n_.startswith(("tokens.", "positions."))]
    rest = [p for n_, p in model.named_parameters() if not (p.dim() >= 2 and not n_.startswith(("tokens.", "positions.")))]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}], lr=1e-3, betas=(0.9, 0.99), eps=1e-8)

    def step():  # the whole step, as the `train` subcommand (and nanoGPT) makes it: random ids and labels
        x, y = torch.randint(0, V, (B, T)), torch.randint(0, V, (B, T))
        loss = F.cross_entropy(model(x).view(-1, V), y.view(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()

    t0, warm = time.perf_counter(), 0
    first = None
    while warm < o["warmup"] or time.perf_counter() - t0 < o["warmup_seconds"]:
        loss = step()
        first = loss if first is None else first
        warm += 1
    warm_s = time.perf_counter() - t0
    ms = []
    for _ in range(o["steps"]):
        s_ = time.perf_counter()
        loss = step()
        ms.append((time.perf_counter() - s_) * 1e3)
    first = loss if first is None else first
    n_mm = matmul_weights(c)
    flops_per_token = 6 * n_mm + 12 * c.n_layers * T * c.d_model
    tps = B * T / (median(ms) / 1e3)
    gflops = flops_per_token * tps / 1e9
    peak = o["peak_gflops"] or None
    r = {"shape": o["shape"], "engine": "pytorch " + torch.__version__, "layers": c.n_layers, "heads": c.n_heads, "d_model": c.d_model,
         "context_length": T, "batch_size": B, "vocab_size": V, "parameters": sum(p.numel() for p in model.parameters()),
         "matmul_parameters": n_mm, "threads": o["threads"], "warmup_steps": warm, "warmup_s": round(warm_s, 2), "steps": o["steps"],
         "tokens_per_step": B * T, "ms_per_step": round(median(ms), 2), "ms_per_step_min": round(min(ms), 2),
         "ms_per_step_max": round(max(ms), 2), "tokens_per_sec": round(tps, 1), "flops_per_token": flops_per_token,
         "gflops": round(gflops, 2), "peak_gflops": peak, "peak_fraction": round(gflops / peak, 4) if peak else None,
         "peak_rss_mb": round(peak_rss_mb(), 1), "loss_first": round(first, 4), "loss_last": round(loss, 4),
         "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"), "blas": blas_libraries()}
    if o["json"]:
        print(json.dumps(r))
        return
    print(f"{o['shape']} (PyTorch {torch.__version__}): {c.n_layers} layers, {c.n_heads} heads, d={c.d_model}, context {T}, batch {B}, "
          f"vocabulary {V:,} — {r['parameters']:,} parameters; {o['threads']} threads")
    print(f"warm-up  {warm} steps ({warm_s:.1f} s), then {o['steps']} measured")
    print(f"step     {median(ms):,.1f} ms (median; fastest {min(ms):,.1f}, slowest {max(ms):,.1f})")
    print(f"speed    {tps:,.0f} tokens/s")
    print(f"compute  {gflops:.1f} GFLOPS" + (f", {100 * gflops / peak:.1f}% of {peak:.0f} GFLOPS (--peak-gflops)" if peak else "")
          + f"; {flops_per_token / 1e6:.2f} MFLOP per token")
    print(f"memory   peak RSS {peak_rss_mb():,.0f} MB")
    if os.environ.get("OPENBLAS_CORETYPE") is None:
        print("note: OPENBLAS_CORETYPE is not set; Debian's OpenBLAS may fall back to slow kernels (set OPENBLAS_CORETYPE=SkylakeX)")
    if blas_warning():
        print(blas_warning())


@torch.no_grad()
def forward_cached(model, ids, cache, start):
    """The simplest KV-cache forward: ids [1, n] take positions start..start+n-1; each layer writes their k and v into
    cache[l] = (K, V), each [1, Hkv, context, hd], and attends over positions 0..start+n-1 of it (causally among the n new
    ones). Returns the logits of the last new token, [V] (as llmj, only that row goes through the final norm and head)."""
    c = model.c
    n = ids.shape[1]
    H, Hkv, hd = c.n_heads, c.n_kv_heads, c.d_model // c.n_heads
    end = start + n
    h = model.tokens(ids)
    if c.position == "learned":
        h = h + model.positions(torch.arange(start, end))
    if c.position == "rope":
        inv = 1.0 / (c.rope_theta ** (torch.arange(0, hd, 2).float() / hd))
        f = torch.outer(torch.arange(start, end).float(), inv)
        emb = torch.cat((f, f), dim=-1)
        cos, sin = emb.cos(), emb.sin()
    mask = None
    if n > 1:  # query i (position start+i) must not see keys after it
        mask = torch.arange(end).unsqueeze(0) > torch.arange(start, end).unsqueeze(1)
    for l, b in enumerate(model.layers):
        x = b.norm1(h)
        a = b.attn
        q = a.q(x).view(1, n, H, hd).transpose(1, 2)
        k = a.k(x).view(1, n, Hkv, hd).transpose(1, 2)
        v = a.v(x).view(1, n, Hkv, hd).transpose(1, 2)
        if c.position == "rope":
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
        K, Vc = cache[l]
        K[:, :, start:end] = k
        Vc[:, :, start:end] = v
        ks, vs = K[:, :, :end], Vc[:, :, :end]
        if H > Hkv:
            ks, vs = ks.repeat_interleave(H // Hkv, dim=1), vs.repeat_interleave(H // Hkv, dim=1)
        att = (q @ ks.transpose(-2, -1)) / math.sqrt(hd)
        if mask is not None:
            att = att.masked_fill(mask, float("-inf"))
        y = (att.softmax(dim=-1) @ vs).transpose(1, 2).reshape(1, n, H * hd)
        h = h + a.o(y)
        h = h + b.mlp(b.norm2(h))
    hn = model.final_norm(h[:, -1])
    w = model.tokens.weight if c.tied_head else model.head.weight
    return (hn @ w.t())[0]


def bench_generate(argv):
    o = options(argv, shape="llama-110m", prompt_tokens=128, new_tokens=128, threads=2, runs=5, warmup=2, seed=7, json=False)
    if o["shape"] not in GENERATE_SHAPES:
        sys.exit(f"unknown --shape {o['shape']}: use " + ", ".join(GENERATE_SHAPES))
    torch.set_num_threads(o["threads"])
    torch.manual_seed(o["seed"])
    c = GENERATE_SHAPES[o["shape"]]()
    P, N = o["prompt_tokens"], o["new_tokens"]
    if P < 1 or N < 1 or P + N - 1 > c.context_length:
        sys.exit(f"--prompt-tokens {P} and --new-tokens {N} must be positive and fit the context length {c.context_length}")
    model = GPT(c).eval()
    random_init(model, c)
    hd = c.d_model // c.n_heads
    prompt = torch.randint(0, c.vocab_size, (1, P))

    def new_cache():
        return [(torch.zeros(1, c.n_kv_heads, c.context_length, hd), torch.zeros(1, c.n_kv_heads, c.context_length, hd))
                for _ in range(c.n_layers)]

    # the cached path must give the model's own logits: prefill, then two decoded tokens, against model(ids) on the whole sequence
    with torch.no_grad():
        cache, ids = new_cache(), prompt
        got = [forward_cached(model, prompt, cache, 0)]
        for i in range(2):
            nxt = torch.tensor([[int(got[-1].argmax())]])
            ids = torch.cat([ids, nxt], dim=1)
            got.append(forward_cached(model, nxt, cache, P + i))
        full = model(ids)[0]
        diff = max(float((got[i] - full[P - 1 + i]).abs().max()) for i in range(3))
        if diff > 1e-3:
            sys.exit(f"the KV-cache forward differs from the full forward by {diff}")

    def run(seed):
        g = torch.Generator().manual_seed(seed)
        cache = new_cache()
        with torch.no_grad():
            t0 = time.perf_counter()
            logits = forward_cached(model, prompt, cache, 0)
            t1 = time.perf_counter()
            # decode as llmj's Generator: sample (temperature 1, full softmax), feed it back; the last token is not fed back
            for i in range(N):
                nxt = torch.multinomial(logits.softmax(-1), 1, generator=g)
                if i == N - 1:
                    break
                logits = forward_cached(model, nxt.view(1, 1), cache, P + i)
            t2 = time.perf_counter()
        return P / (t1 - t0), N / (t2 - t1)

    for w in range(o["warmup"]):
        run(-1 - w)
    prefill, decode = zip(*(run(i) for i in range(o["runs"])))
    weights_mb = sum(p.numel() for p in model.parameters()) * 4 / 1e6
    r = {"shape": o["shape"], "engine": "pytorch " + torch.__version__, "parameters": sum(p.numel() for p in model.parameters()),
         "threads": o["threads"], "prompt_tokens": P, "new_tokens": N, "prefill_tokens_per_sec": round(median(prefill), 1),
         "decode_tokens_per_sec": round(median(decode), 1), "weights_mb": round(weights_mb, 1), "peak_rss_mb": round(peak_rss_mb(), 1),
         "runs": o["runs"], "kv_cache_check_max_abs_diff": diff, "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
         "blas": blas_libraries()}
    if o["json"]:
        print(json.dumps(r))
        return
    print(f"{o['shape']} (PyTorch {torch.__version__}): {r['parameters']:,} parameters, {o['threads']} threads")
    print(f"prefill  {median(prefill):10,.1f} tokens/s   ({P}-token prompt)")
    print(f"decode   {median(decode):10,.1f} tokens/s   ({N} new tokens, KV cache)")
    print(f"memory   weights {weights_mb:.1f} MB, peak RSS {peak_rss_mb():,.0f} MB (median of {o['runs']} runs)")
    if blas_warning():
        print(blas_warning())


def read_safetensors(path):
    import numpy as np
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype=np.float32).copy()).view(*t["shape"])
    return out


def hf_logits(cfg, w, ids):
    """Hugging Face's forward, written against its own tensor names."""
    T = ids.shape[0]
    if cfg["model_type"] == "gpt2":
        d, H, eps = cfg["n_embd"], cfg["n_head"], cfg["layer_norm_epsilon"]
        hd = d // H
        h = w["transformer.wte.weight"][ids] + w["transformer.wpe.weight"][:T]
        ln = lambda x, p: F.layer_norm(x, (d,), w[p + ".weight"], w[p + ".bias"], eps)
        conv1d = lambda x, p: x @ w[p + ".weight"] + w[p + ".bias"]  # Conv1D: weight is [in, out]
        for l in range(cfg["n_layer"]):
            p = f"transformer.h.{l}."
            q, k, v = conv1d(ln(h, p + "ln_1"), p + "attn.c_attn").split(d, dim=-1)
            q, k, v = (t.view(T, H, hd).transpose(0, 1) for t in (q, k, v))
            att = (q @ k.transpose(-2, -1)) / math.sqrt(hd)
            att = att.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), 1), float("-inf")).softmax(-1)
            h = h + conv1d((att @ v).transpose(0, 1).reshape(T, d), p + "attn.c_proj")
            m = conv1d(ln(h, p + "ln_2"), p + "mlp.c_fc")
            h = h + conv1d(F.gelu(m, approximate="tanh"), p + "mlp.c_proj")
        return ln(h, "transformer.ln_f") @ w["transformer.wte.weight"].t()
    d, H, Hkv, eps = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["rms_norm_eps"]
    hd = d // H
    rms = lambda x, p: w[p + ".weight"] * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))
    inv = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, hd, 2).float() / hd))
    emb = torch.cat((torch.outer(torch.arange(T).float(), inv),) * 2, dim=-1)
    cos, sin = emb.cos(), emb.sin()
    h = w["model.embed_tokens.weight"][ids]
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        x = rms(h, p + "input_layernorm")
        q = (x @ w[p + "self_attn.q_proj.weight"].t()).view(T, H, hd).transpose(0, 1)
        k = (x @ w[p + "self_attn.k_proj.weight"].t()).view(T, Hkv, hd).transpose(0, 1)
        v = (x @ w[p + "self_attn.v_proj.weight"].t()).view(T, Hkv, hd).transpose(0, 1)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        k, v = k.repeat_interleave(H // Hkv, 0), v.repeat_interleave(H // Hkv, 0)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(hd)
        att = att.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), 1), float("-inf")).softmax(-1)
        h = h + (att @ v).transpose(0, 1).reshape(T, d) @ w[p + "self_attn.o_proj.weight"].t()
        x = rms(h, p + "post_attention_layernorm")
        g = F.silu(x @ w[p + "mlp.gate_proj.weight"].t()) * (x @ w[p + "mlp.up_proj.weight"].t())
        h = h + g @ w[p + "mlp.down_proj.weight"].t()
    head = w["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings") else w["lm_head.weight"]
    return rms(h, "model.norm") @ head.t()


def hf_check(folder, ids_file):
    cfg = json.load(open(os.path.join(folder, "config.json")))
    w = read_safetensors(os.path.join(folder, "model.safetensors"))
    ids = torch.tensor(json.load(open(ids_file))["ids"])
    ctx = cfg.get("n_positions") or cfg.get("max_position_embeddings")
    total, count = 0.0, 0
    with torch.no_grad():
        for s_ in range(0, len(ids) - 1, ctx):
            n_ = min(ctx, len(ids) - 1 - s_)
            logits = hf_logits(cfg, w, ids[s_:s_ + n_])
            total += F.cross_entropy(logits, ids[s_ + 1:s_ + 1 + n_], reduction="sum").item()
            count += n_
    print(json.dumps({"loss": total / count, "tokens": count, "model_type": cfg["model_type"]}))


def bert_check(folder, ids_file):
    """BertForMaskedLM's forward written out in torch from a bert folder's safetensors under transformers' names
    (transformers itself is not installed here): embeddings word + position + token_type (all 0) -> LayerNorm; per layer
    post-norm x = LN(x + attention.output.dense(SA(x))), x = LN(x + output.dense(act(intermediate.dense(x))));
    cls.predictions.transform (dense, act, LayerNorm), then x @ word_embeddings^T + cls.predictions.bias.
    ids_file: {"ids": [...]} one unpadded sentence. Prints {"logits": [[...] per position]} as JSON."""
    cfg = json.load(open(os.path.join(folder, "config.json")))
    assert cfg["model_type"] == "bert", cfg["model_type"]
    w = {k: v.double() for k, v in read_safetensors(os.path.join(folder, "model.safetensors")).items()}
    ids = torch.tensor(json.load(open(ids_file))["ids"])
    T, d, H, eps = len(ids), cfg["hidden_size"], cfg["num_attention_heads"], cfg["layer_norm_eps"]
    act = {"gelu": F.gelu, "relu": F.relu, "gelu_new": lambda x: F.gelu(x, approximate="tanh")}[cfg["hidden_act"]]
    ln = lambda x, n: F.layer_norm(x, (d,), w[n + ".weight"], w[n + ".bias"], eps)
    lin = lambda x, n: x @ w[n + ".weight"].t() + w[n + ".bias"]
    e = "bert.embeddings."
    x = w[e + "word_embeddings.weight"][ids] + w[e + "position_embeddings.weight"][:T] + w[e + "token_type_embeddings.weight"][0]
    x = ln(x, e + "LayerNorm")
    for l in range(cfg["num_hidden_layers"]):
        p = "bert.encoder.layer.%d." % l
        heads = lambda t: t.view(T, H, d // H).transpose(0, 1)                       # [H, T, hd]
        q, k, v = (heads(lin(x, p + "attention.self." + n)) for n in ("query", "key", "value"))
        a = ((q @ k.transpose(-2, -1)) / math.sqrt(d // H)).softmax(-1) @ v         # bidirectional: no mask
        x = ln(x + lin(a.transpose(0, 1).reshape(T, d), p + "attention.output.dense"), p + "attention.output.LayerNorm")
        x = ln(x + lin(act(lin(x, p + "intermediate.dense")), p + "output.dense"), p + "output.LayerNorm")
    h = ln(act(lin(x, "cls.predictions.transform.dense")), "cls.predictions.transform.LayerNorm")
    dec = w.get("cls.predictions.decoder.weight", w[e + "word_embeddings.weight"])  # tied: usually not in the file
    logits = h @ dec.t() + w["cls.predictions.bias"]
    print(json.dumps({"ids": ids.tolist(), "logits": [[round(float(z), 6) for z in row] for row in logits]}))


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "fixtures":
        fixtures(sys.argv[2])
        seq2seq_fixtures(sys.argv[2])
    elif len(sys.argv) >= 3 and sys.argv[1] == "seq2seq-fixtures":
        seq2seq_fixtures(sys.argv[2])
    elif len(sys.argv) >= 4 and sys.argv[1] == "hf-check":
        hf_check(sys.argv[2], sys.argv[3])
    elif len(sys.argv) >= 2 and sys.argv[1] == "train":
        train(sys.argv[2:])
    elif len(sys.argv) >= 2 and sys.argv[1] == "bench-train":
        bench_train(sys.argv[2:])
    elif len(sys.argv) >= 2 and sys.argv[1] == "bench-generate":
        bench_generate(sys.argv[2:])
    elif len(sys.argv) >= 4 and sys.argv[1] == "bert-check":
        bert_check(sys.argv[2], sys.argv[3])
    else:
        print(__doc__)
        sys.exit(2)
