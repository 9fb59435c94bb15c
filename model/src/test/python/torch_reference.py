#!/usr/bin/python3
"""PyTorch twin of Panamaformer's Transformer, for the Java tests' fixtures.

    torch_reference.py fixtures OUTDIR
        Builds the model for small configs, one per position type (ReLU with learned positions and
        source padding; GELU with sinusoidal positions; ReLU with RoPE in self-attention and source
        padding; GELU with RoPE in cross-attention too, RoPE's position scale 0.25 and explicit
        position ids; ReLU with no positions; ReLU with T5's learned bias and GELU with ALiBi's, both with
        random source ids in [0, 400); GELU with T5's bias in cross-attention too; GELU with RoPE in
        cross-attention and an attention window of 1), runs one forward and backward pass with dropout 0 on
        fixed inputs in float64 from float32 weights, and writes OUTDIR/NAME.safetensors with the
        weights (param.*), inputs (input.*; input.src_pos and input.tgt_pos where the ids are
        explicit), logits, log-probabilities, loss (output.*) and
        every parameter gradient (grad.*); the config rides in the header metadata.

    torch_reference.py check CHECKPOINT INPUTS
        Loads a checkpoint written by the Java side into this model, runs the inputs stored in
        INPUTS (input.src, input.tgt_in; written by the Java test beside the checkpoint) and
        compares the logits with the Java ones stored there (output.logits).

Needs Python 3 with PyTorch 1.13 and NumPy: Debian's python3-torch and python3-numpy, which live in
/usr/bin/python3 (hence the shebang; a pyenv python3 on PATH does not see them).
"""
import json
import math
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


# ---------------------------------------------------------------- safetensors, by hand
def write_safetensors(path, tensors, metadata):
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, array in tensors.items():
        array = np.ascontiguousarray(array)
        dtype = {np.dtype("float32"): "F32", np.dtype("int32"): "I32"}[array.dtype]
        data = array.astype(array.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * ((8 - len(raw) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for blob in blobs:
            f.write(blob)


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    metadata = header.pop("__metadata__", {})
    out = {}
    for name, d in header.items():
        dtype = {"F32": "<f4", "I32": "<i4", "I64": "<i8"}[d["dtype"]]
        begin, end = d["data_offsets"]
        out[name] = np.frombuffer(data[begin:end], dtype=dtype).reshape(d["shape"])
    return out, metadata


# ---------------------------------------------------------------- the model
class Embeddings(nn.Module):
    def __init__(self, cfg, vocab):
        super().__init__()
        d, p = cfg["hidden_size"], cfg["max_position_embeddings"]
        self.token = nn.Embedding(vocab, d)
        self.learned = cfg["position_embedding_type"] == "learned"
        if self.learned:
            self.position = nn.Embedding(p, d)
        elif cfg["position_embedding_type"] == "sinusoidal":
            table = torch.zeros(p, d, dtype=torch.float64)
            for pos in range(p):
                for i in range(d):
                    angle = pos / math.pow(10000, (i - i % 2) / d)
                    table[pos, i] = math.sin(angle) if i % 2 == 0 else math.cos(angle)
            # the Java side rounds the table to float32 as well
            self.register_buffer("sinusoid", table.float().double(), persistent=False)
        self.norm = nn.LayerNorm(d, eps=cfg["layer_norm_eps"])

    def forward(self, ids, positions):
        x = self.token(ids)
        if self.learned:
            x = x + self.position(positions)
        elif hasattr(self, "sinusoid"):
            x = x + self.sinusoid[positions]
        return self.norm(x)


def rotary(cfg, positions):
    """RoPE's cos and sin, (B, T, d_k / 2), for position ids (B, T): pair i of a head at id m turns
    by m / scale * 10000^(-2i / d_k), computed in double and rounded to float32 as the Java table is."""
    dk = cfg["hidden_size"] // cfg["num_attention_heads"]
    i = torch.arange(dk // 2, dtype=torch.float64)
    angle = positions.double()[..., None] / cfg.get("rope_position_scale", 1.0) * torch.pow(10000.0, -2.0 * i / dk)
    return torch.cos(angle).float().double(), torch.sin(angle).float().double()


def rotate(x, table):
    """x (B, H, T, d_k): element i of a head's first half and element i of its second half are one pair."""
    cos, sin = table[0][:, None], table[1][:, None]
    half = x.shape[-1] // 2
    a, b = x[..., :half], x[..., half:]
    return torch.cat([a * cos - b * sin, b * cos + a * sin], dim=-1)


def t5_bucket(relative_position, bidirectional, num_buckets=32, max_distance=128):
    """Hugging Face's T5 _relative_position_bucket (transformers 4.x), key - query distances to buckets."""
    buckets = 0
    if bidirectional:
        num_buckets //= 2
        buckets += (relative_position > 0).to(torch.long) * num_buckets
        relative_position = torch.abs(relative_position)
    else:
        relative_position = -torch.min(relative_position, torch.zeros_like(relative_position))
    max_exact = num_buckets // 2
    is_small = relative_position < max_exact
    if_large = max_exact + (torch.log(relative_position.float() / max_exact) / math.log(max_distance / max_exact)
                            * (num_buckets - max_exact)).to(torch.long)
    if_large = torch.min(if_large, torch.full_like(if_large, num_buckets - 1))
    return buckets + torch.where(is_small, relative_position, if_large)


def alibi_slopes(heads):
    """The ALiBi paper's slopes (Press et al. 2022, their reference code's get_slopes)."""
    closest = 2 ** int(math.floor(math.log2(heads)))
    slopes = [2.0 ** (-8.0 * (i + 1) / closest) for i in range(closest)]
    extra = [2.0 ** (-8.0 * (i + 1) / (2 * closest)) for i in range(2 * closest)][0::2][:heads - closest]
    return torch.tensor(slopes + extra, dtype=torch.float64)


def position_bias(cfg, table, q_pos, k_pos, bidirectional):
    """(B, h, Tq, Tk) bias of T5 (table: (32, h) learned) or ALiBi (table None) from (B, Tq) and (B, Tk) ids."""
    distance = k_pos[:, None, :] - q_pos[:, :, None]  # (B, Tq, Tk): key - query
    if table is None:
        # ALiBi; in the encoder, keys after the query take the slopes in reverse head order
        back = alibi_slopes(cfg["num_attention_heads"])
        ahead = back.flip(0) if bidirectional else back
        d = distance[:, None, :, :].double()
        return torch.where(d > 0, -ahead[None, :, None, None] * d, back[None, :, None, None] * d)
    return table[t5_bucket(distance, bidirectional)].permute(0, 3, 1, 2)


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg["hidden_size"]
        self.h = cfg["num_attention_heads"]
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))

    def forward(self, xq, xkv, allowed, rotate_q=None, rotate_k=None, bias=None):
        b, tq, d = xq.shape
        tk, dk = xkv.shape[1], d // self.h
        q = self.q(xq).view(b, tq, self.h, dk).transpose(1, 2)
        k = self.k(xkv).view(b, tk, self.h, dk).transpose(1, 2)
        if rotate_q is not None:
            q, k = rotate(q, rotate_q), rotate(k, rotate_k)
        v = self.v(xkv).view(b, tk, self.h, dk).transpose(1, 2)
        scores = q @ k.transpose(-2, -1) / math.sqrt(dk)
        if bias is not None:  # (B, h, Tq, Tk) position bias, added before the mask
            scores = scores + bias
        scores = scores.masked_fill(~allowed, float("-inf"))
        probs = torch.softmax(scores, dim=-1)
        context = (probs @ v).transpose(1, 2).reshape(b, tq, d)
        return self.o(context)


class FeedForward(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.fc1 = nn.Linear(cfg["hidden_size"], cfg["intermediate_size"])
        self.fc2 = nn.Linear(cfg["intermediate_size"], cfg["hidden_size"])
        self.act = nn.GELU(approximate="tanh") if cfg["hidden_act"] == "gelu" else nn.ReLU()

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class EncoderLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, eps = cfg["hidden_size"], cfg["layer_norm_eps"]
        self.norm1, self.norm2 = nn.LayerNorm(d, eps=eps), nn.LayerNorm(d, eps=eps)
        self.self_attn, self.ffn = Attention(cfg), FeedForward(cfg)

    def forward(self, x, src_allowed, src_rot, src_bias=None):
        n = self.norm1(x)
        x = x + self.self_attn(n, n, src_allowed, src_rot, src_rot, src_bias)
        return x + self.ffn(self.norm2(x))


class DecoderLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, eps = cfg["hidden_size"], cfg["layer_norm_eps"]
        self.norm1, self.norm2, self.norm3 = (nn.LayerNorm(d, eps=eps) for _ in range(3))
        self.self_attn, self.cross_attn, self.ffn = Attention(cfg), Attention(cfg), FeedForward(cfg)

    def forward(self, x, memory, tgt_allowed, src_allowed, tgt_rot, src_rot, cross, tgt_bias=None, cross_bias=None):
        n = self.norm1(x)
        x = x + self.self_attn(n, n, tgt_allowed, tgt_rot, tgt_rot, tgt_bias)
        x = x + self.cross_attn(self.norm2(x), memory, src_allowed, *((tgt_rot, src_rot) if cross else (None, None)),
                                cross_bias)
        return x + self.ffn(self.norm3(x))


class Stack(nn.Module):
    pass


class Transformer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        d, n, eps = cfg["hidden_size"], cfg["num_hidden_layers"], cfg["layer_norm_eps"]
        self.encoder, self.decoder = Stack(), Stack()
        self.encoder.embed = Embeddings(cfg, cfg["src_vocab_size"])
        self.encoder.layers = nn.ModuleList(EncoderLayer(cfg) for _ in range(n))
        self.encoder.norm = nn.LayerNorm(d, eps=eps)
        self.decoder.embed = Embeddings(cfg, cfg["tgt_vocab_size"])
        self.decoder.layers = nn.ModuleList(DecoderLayer(cfg) for _ in range(n))
        self.decoder.norm = nn.LayerNorm(d, eps=eps)
        self.generator = nn.Linear(d, cfg["tgt_vocab_size"])
        if cfg["position_embedding_type"] in ("t5", "t5_cross"):  # one table per stack, shared by its layers
            self.encoder.relative_attention_bias = nn.Parameter(torch.zeros(32, cfg["num_attention_heads"]))
            self.decoder.relative_attention_bias = nn.Parameter(torch.zeros(32, cfg["num_attention_heads"]))
        if cfg["position_embedding_type"] == "t5_cross":  # and one for cross-attention, both sides apart
            self.decoder.cross = Stack()
            self.decoder.cross.relative_attention_bias = nn.Parameter(torch.zeros(32, cfg["num_attention_heads"]))

    def forward(self, src, tgt_in, src_pos=None, tgt_pos=None):
        """src_pos, tgt_pos: (B, S) and (B, T) position ids, or None for 0, 1, 2, ... in every row."""
        pad, kind = self.cfg["pad_token_id"], self.cfg["position_embedding_type"]
        b, s = src.shape
        t = tgt_in.shape[1]
        # without ids, one row of positions for the whole batch (broadcast), as the model had before ids
        src_pos = torch.arange(s) if src_pos is None else src_pos
        tgt_pos = torch.arange(t) if tgt_pos is None else tgt_pos
        rope = kind in ("rope", "rope_cross")
        src_rot = rotary(self.cfg, src_pos.expand(b, s)) if rope else None
        tgt_rot = rotary(self.cfg, tgt_pos.expand(b, t)) if rope else None
        src_allowed = (src != pad)[:, None, None, :]
        causal = torch.tril(torch.ones(t, t, dtype=torch.bool))
        tgt_allowed = (tgt_in != pad)[:, None, None, :] & causal[None, None, :, :]
        src_bias = tgt_bias = cross_bias = None
        if kind in ("t5", "alibi", "t5_cross"):
            t5 = kind != "alibi"
            sp, tp = src_pos.expand(b, s), tgt_pos.expand(b, t)
            src_bias = position_bias(self.cfg, self.encoder.relative_attention_bias if t5 else None, sp, sp, True)
            tgt_bias = position_bias(self.cfg, self.decoder.relative_attention_bias if t5 else None, tp, tp, False)
            if kind == "t5_cross":  # target queries against source keys
                cross_bias = position_bias(self.cfg, self.decoder.cross.relative_attention_bias, tp, sp, True)
        window = self.cfg.get("attention_window", 0)
        if window > 0:  # keys whose id is further than the window from the query's are held off, in all three attentions
            assert kind not in ("t5", "t5_cross", "alibi"), "a window with a bias of its own is refused by the Java side"
            sp, tp = src_pos.expand(b, s), tgt_pos.expand(b, t)
            def held_off(q_pos, k_pos):
                distance = (k_pos[:, None, :] - q_pos[:, :, None]).abs()  # (B, Tq, Tk)
                return torch.where(distance <= window, 0.0, -1e9).double()[:, None, :, :]
            src_bias, tgt_bias, cross_bias = held_off(sp, sp), held_off(tp, tp), held_off(tp, sp)
        x = self.encoder.embed(src, src_pos)
        for layer in self.encoder.layers:
            x = layer(x, src_allowed, src_rot, src_bias)
        memory = self.encoder.norm(x)
        y = self.decoder.embed(tgt_in, tgt_pos)
        for layer in self.decoder.layers:
            y = layer(y, memory, tgt_allowed, src_allowed, tgt_rot, src_rot, kind == "rope_cross", tgt_bias, cross_bias)
        return self.generator(self.decoder.norm(y))


def loss_of(cfg, logits, tgt_out):
    log_probs = F.log_softmax(logits, dim=-1)
    v = log_probs.shape[-1]
    nll = F.nll_loss(log_probs.reshape(-1, v), tgt_out.reshape(-1), ignore_index=cfg["pad_token_id"], reduction="sum")
    return log_probs, nll / tgt_out.shape[0]


def load_weights(model, tensors, prefix=""):
    state = {}
    for name, p in model.state_dict().items():
        state[name] = torch.from_numpy(np.array(tensors[prefix + name], dtype=np.float64))
    model.load_state_dict(state)


# ---------------------------------------------------------------- fixtures
CONFIGS = {
    "relu-learned": dict(src_vocab_size=13, tgt_vocab_size=11, hidden_size=16, num_hidden_layers=2,
                         num_attention_heads=2, intermediate_size=24, max_position_embeddings=8,
                         hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, layer_norm_eps=1e-5,
                         hidden_act="relu", position_embedding_type="learned", pad_token_id=0),
    "gelu-sinusoidal": dict(src_vocab_size=9, tgt_vocab_size=10, hidden_size=12, num_hidden_layers=1,
                            num_attention_heads=3, intermediate_size=20, max_position_embeddings=7,
                            hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, layer_norm_eps=1e-5,
                            hidden_act="gelu", position_embedding_type="sinusoidal", pad_token_id=0),
    "relu-rope": dict(src_vocab_size=11, tgt_vocab_size=9, hidden_size=16, num_hidden_layers=2,
                      num_attention_heads=2, intermediate_size=20, max_position_embeddings=8,
                      hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, layer_norm_eps=1e-5,
                      hidden_act="relu", position_embedding_type="rope", pad_token_id=0, rope_position_scale=1.0),
    "gelu-rope_cross": dict(src_vocab_size=10, tgt_vocab_size=12, hidden_size=12, num_hidden_layers=2,
                            num_attention_heads=2, intermediate_size=16, max_position_embeddings=24,
                            hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, layer_norm_eps=1e-5,
                            hidden_act="gelu", position_embedding_type="rope_cross", pad_token_id=0,
                            rope_position_scale=0.25),
    "relu-none": dict(src_vocab_size=8, tgt_vocab_size=8, hidden_size=8, num_hidden_layers=1,
                      num_attention_heads=2, intermediate_size=12, max_position_embeddings=7,
                      hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, layer_norm_eps=1e-5,
                      hidden_act="relu", position_embedding_type="none", pad_token_id=0),
    # source ids in [0, 400): T5's exact, log-spaced and clamped buckets, ALiBi far out; 3 heads: ALiBi's
    # slopes for a count that is not a power of 2
    "relu-t5": dict(src_vocab_size=11, tgt_vocab_size=10, hidden_size=12, num_hidden_layers=2,
                    num_attention_heads=3, intermediate_size=16, max_position_embeddings=400,
                    hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, layer_norm_eps=1e-5,
                    hidden_act="relu", position_embedding_type="t5", pad_token_id=0),
    "gelu-alibi": dict(src_vocab_size=9, tgt_vocab_size=11, hidden_size=12, num_hidden_layers=2,
                       num_attention_heads=3, intermediate_size=16, max_position_embeddings=400,
                       hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, layer_norm_eps=1e-5,
                       hidden_act="gelu", position_embedding_type="alibi", pad_token_id=0),
    # T5's bias in cross-attention too: target ids against source ids
    "gelu-t5_cross": dict(src_vocab_size=10, tgt_vocab_size=9, hidden_size=12, num_hidden_layers=2,
                          num_attention_heads=2, intermediate_size=16, max_position_embeddings=300,
                          hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, layer_norm_eps=1e-5,
                          hidden_act="gelu", position_embedding_type="t5_cross", pad_token_id=0),
    # RoPE in cross-attention with an attention window of 1: each row's source ids a permutation of
    # 1..6, its target ids 5 in a row from 0, 1 or 2, so every query has keys inside its window and
    # most keys are outside some query's
    "gelu-rope_cross-window": dict(src_vocab_size=10, tgt_vocab_size=12, hidden_size=12, num_hidden_layers=2,
                                   num_attention_heads=2, intermediate_size=16, max_position_embeddings=8,
                                   hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, layer_norm_eps=1e-5,
                                   hidden_act="gelu", position_embedding_type="rope_cross", pad_token_id=0,
                                   rope_position_scale=0.25, attention_window=1),
}
# fixtures whose sources are padded (keys masked, targets ignored by the loss)
PADDED = {"relu-learned", "relu-rope", "relu-t5"}
# fixtures with explicit position ids: random source ids, and each row's target from a random start
EXPLICIT_IDS = {"gelu-rope_cross", "relu-t5", "gelu-alibi", "gelu-t5_cross", "gelu-rope_cross-window"}


def fixture(name, cfg, out_dir, seed):
    torch.manual_seed(seed)
    model = Transformer(cfg).double()
    # random weights everywhere, LayerNorm gains around 1, all rounded to float32 first
    with torch.no_grad():
        for pname, p in model.named_parameters():
            values = torch.randn_like(p) * 0.5
            if pname.endswith("norm.weight") or ".norm" in pname and pname.endswith(".weight"):
                values = 1 + 0.2 * torch.randn_like(p)
            p.copy_(values.float().double())
    b, s, t = 3, 6, 5
    pad = cfg["pad_token_id"]
    src = torch.randint(1, cfg["src_vocab_size"], (b, s))
    tgt = torch.randint(1, cfg["tgt_vocab_size"], (b, t + 1))
    if name in PADDED:
        src[1, 4:] = pad  # padded source keys are masked
        src[2, 5:] = pad
        tgt[2, 4:] = pad  # padded targets are ignored by the loss
    tgt_in, tgt_out = tgt[:, :-1].clone(), tgt[:, 1:].clone()
    src_pos = tgt_pos = None
    if cfg.get("attention_window", 0) > 0:
        src_pos = torch.stack([torch.randperm(s) + 1 for _ in range(b)])
        tgt_pos = torch.randint(0, 3, (b, 1)) + torch.arange(t)[None, :]
    elif name in EXPLICIT_IDS:
        p = cfg["max_position_embeddings"]
        src_pos = torch.randint(0, p, (b, s))
        tgt_pos = torch.randint(0, p - t + 1, (b, 1)) + torch.arange(t)[None, :]
    logits = model(src, tgt_in, src_pos, tgt_pos)
    log_probs, loss = loss_of(cfg, logits, tgt_out)
    loss.backward()
    tensors = {}
    for pname, p in model.named_parameters():
        tensors["param." + pname] = p.detach().float().numpy()
        tensors["grad." + pname] = p.grad.detach().float().numpy()
    tensors["input.src"] = src.int().numpy()
    tensors["input.tgt_in"] = tgt_in.int().numpy()
    tensors["input.tgt_out"] = tgt_out.int().numpy()
    if src_pos is not None:
        tensors["input.src_pos"] = src_pos.int().numpy()
        tensors["input.tgt_pos"] = tgt_pos.int().numpy()
    tensors["output.logits"] = logits.detach().float().numpy()
    tensors["output.log_probs"] = log_probs.detach().float().numpy()
    tensors["output.loss"] = np.array([loss.item()], dtype=np.float32)
    path = f"{out_dir}/{name}.safetensors"
    write_safetensors(path, tensors, {"config": json.dumps(cfg), "made_by": "torch_reference.py fixtures, torch "
                                      + torch.__version__})
    print(f"{path}: loss {loss.item():.6f}, {sum(p.numel() for p in model.parameters())} parameters")


def check(checkpoint, inputs):
    weights, meta = read_safetensors(checkpoint)
    cfg = json.loads(meta["config"])
    model = Transformer(cfg).double()
    load_weights(model, weights)
    model.eval()
    data, _ = read_safetensors(inputs)
    src = torch.from_numpy(data["input.src"].astype(np.int64))
    tgt_in = torch.from_numpy(data["input.tgt_in"].astype(np.int64))
    with torch.no_grad():
        logits = model(src, tgt_in).numpy()
    java = data["output.logits"].reshape(logits.shape)
    err = np.abs(logits - java).max()
    scale = np.abs(logits).max()
    print(f"{checkpoint}: {len(weights)} tensors loaded into PyTorch {torch.__version__}; logits {logits.shape}, "
          f"max |PyTorch - Java| = {err:.3e}, relative to max |logit| {scale:.3f}: {err / scale:.3e}")
    return 0 if err <= 1e-5 * scale else 1


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "fixtures":
        for i, (name, cfg) in enumerate(CONFIGS.items()):
            fixture(name, cfg, sys.argv[2], seed=1234 + i)
    elif len(sys.argv) == 4 and sys.argv[1] == "check":
        sys.exit(check(sys.argv[2], sys.argv[3]))
    else:
        print(__doc__)
        sys.exit(2)
