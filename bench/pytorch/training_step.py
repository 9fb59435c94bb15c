#!/usr/bin/python3
"""One training step in PyTorch, timed at each task's config and batch shape, as TrainingStepBenchmark does in Java.

    training_step.py [--tasks copy,addition,parser] [--threads 2] [--warmup 5] [--steps 30] [--json FILE]

The model is Panamaformer's PyTorch twin, model/src/test/python/torch_reference.py (imported by path),
in float32 and with the dropout Panamaformer applies in training: 0.1 after each embedding LayerNorm,
on each sub-layer output before the residual add, after the feed-forward activation, and on the
attention probabilities. A step is what Trainer.step does with Trainer.Options.reference: zero the
gradients, forward, loss (log-softmax, NLL summed over target positions, divided by the batch size),
backward, Adam (lr 1e-4, betas (0.9, 0.98), eps 1e-9, no decay, no clipping). The batch is as in
TrainingStepBenchmark: source, decoder input and decoder target tokens drawn uniformly from
1..vocab-1 (no padding), fixed for every step.

Each thread count (torch.set_num_threads) runs every task: warm-up steps, then timed steps, each
timed on its own. One line per task goes to stdout; --json writes every step time and the summary.

Needs PyTorch (1.13 was the reference's) with NumPy: Debian's python3-torch and python3-numpy, which
live in /usr/bin/python3 (a pyenv python3 on PATH does not see them): apt-get install python3-torch
"""
import argparse
import ctypes
import importlib.util
import json
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path

# Debian's python3-torch calls BLAS through libblas.so.3, which the system's alternatives may point at the
# reference (netlib) BLAS, one thread and ~6 GFLOPS. With --blas openblas (the default where Debian's
# libopenblas0-pthread is installed) the script runs itself again with OpenBLAS first on the library path;
# nothing outside this process changes.
OPENBLAS_DIR = "/usr/lib/x86_64-linux-gnu/openblas-pthread"
_early = argparse.ArgumentParser(add_help=False)
_early.add_argument("--blas", choices=("openblas", "system"),
                    default="openblas" if os.path.exists(OPENBLAS_DIR + "/libblas.so.3") else "system")
BLAS = _early.parse_known_args()[0].blas
if BLAS == "openblas" and os.environ.get("PANAMAFORMER_BENCH_BLAS") != OPENBLAS_DIR:
    env = dict(os.environ, PANAMAFORMER_BENCH_BLAS=OPENBLAS_DIR,
               LD_LIBRARY_PATH=":".join(filter(None, [OPENBLAS_DIR, os.environ.get("LD_LIBRARY_PATH")])))
    # OpenBLAS's pthreads and PyTorch's OpenMP workers are two pools on the same cores; OpenMP workers
    # that spin between parallel regions starve OpenBLAS (steps 2-5x slower and erratic on 2 cores).
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.execve(sys.executable, [sys.executable] + sys.argv, env)

try:
    import torch
    import torch.nn as nn
except ImportError as e:
    sys.exit(f"{sys.executable} cannot import torch ({e}); install PyTorch, e.g. apt-get install python3-torch, "
             "and run this script with /usr/bin/python3")

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "model/src/test/python/torch_reference.py"

# TrainingStepBenchmark's configs: TransformerConfig.of(vocab, hidden, layers, heads, d_ff, max positions)
# and its batch shapes (batch, source length, target length).
TASKS = {
    "copy": dict(vocab=20, hidden=64, layers=2, heads=2, d_ff=128, max_positions=20, batch=40, src_len=20, tgt_len=20),
    "addition": dict(vocab=11, hidden=256, layers=3, heads=4, d_ff=512, max_positions=10, batch=128, src_len=7, tgt_len=3),
    "parser": dict(vocab=25, hidden=128, layers=3, heads=4, d_ff=512, max_positions=10, batch=64, src_len=5, tgt_len=5),
}
DROPOUT = 0.1  # TransformerConfig.of: hidden and attention-probability dropout


def load_reference():
    spec = importlib.util.spec_from_file_location("torch_reference", REFERENCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ref = load_reference()


# The reference twin is written for the parity fixtures, which run with dropout 0, so its forward passes
# have no dropout. These subclasses keep its parameters and add dropout where Panamaformer applies it.
class Embeddings(ref.Embeddings):
    def forward(self, ids, positions):
        return self.drop(super().forward(ids, positions))


# the tasks' configs use learned positions: no RoPE rotation and no position bias reach these modules
class Attention(ref.Attention):
    def forward(self, xq, xkv, allowed, rotate_q=None, rotate_k=None, bias=None):
        assert rotate_q is None and rotate_k is None and bias is None
        b, tq, d = xq.shape
        tk, dk = xkv.shape[1], d // self.h
        q = self.q(xq).view(b, tq, self.h, dk).transpose(1, 2)
        k = self.k(xkv).view(b, tk, self.h, dk).transpose(1, 2)
        v = self.v(xkv).view(b, tk, self.h, dk).transpose(1, 2)
        scores = q @ k.transpose(-2, -1) / math.sqrt(dk)
        scores = scores.masked_fill(~allowed, float("-inf"))
        probs = self.drop(torch.softmax(scores, dim=-1))
        context = (probs @ v).transpose(1, 2).reshape(b, tq, d)
        return self.o(context)


class FeedForward(ref.FeedForward):
    def forward(self, x):
        return self.fc2(self.drop(self.act(self.fc1(x))))


class EncoderLayer(ref.EncoderLayer):
    def forward(self, x, src_allowed, src_rot, src_bias=None):
        n = self.norm1(x)
        x = x + self.drop(self.self_attn(n, n, src_allowed))
        return x + self.drop(self.ffn(self.norm2(x)))


class DecoderLayer(ref.DecoderLayer):
    def forward(self, x, memory, tgt_allowed, src_allowed, tgt_rot, src_rot, cross, tgt_bias=None, cross_bias=None):
        n = self.norm1(x)
        x = x + self.drop(self.self_attn(n, n, tgt_allowed))
        x = x + self.drop(self.cross_attn(self.norm2(x), memory, src_allowed))
        return x + self.drop(self.ffn(self.norm3(x)))


WITH_DROPOUT = {ref.Embeddings: Embeddings, ref.Attention: Attention, ref.FeedForward: FeedForward,
                ref.EncoderLayer: EncoderLayer, ref.DecoderLayer: DecoderLayer}


def model_for(cfg):
    """The reference twin with dropout added to each of its modules, initialized as Panamaformer initializes."""
    model = ref.Transformer(cfg)
    for module in list(model.modules()):
        subclass = WITH_DROPOUT.get(type(module))
        if subclass is not None:
            module.__class__ = subclass
            p = cfg["attention_probs_dropout_prob"] if subclass is Attention else cfg["hidden_dropout_prob"]
            module.drop = nn.Dropout(p)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)  # every matrix, embeddings included
            elif not name.endswith("norm.weight"):
                p.zero_()  # biases and LayerNorm betas; LayerNorm gains stay 1
    return model


def blas_libraries():
    """The BLAS shared objects this process has mapped, e.g. [".../blas/libblas.so.3"] for the reference BLAS."""
    torch.ones(4, 4) @ torch.ones(4, 4)
    with open("/proc/self/maps") as f:
        paths = {line.split()[-1] for line in f if "/" in line}
    return sorted(p for p in paths if "blas" in os.path.basename(p))


def set_threads(n, libraries):
    """PyTorch's intra-op threads, and OpenBLAS's own pool where OpenBLAS is loaded (PyTorch does not set it)."""
    torch.set_num_threads(n)
    for path in libraries:
        try:
            ctypes.CDLL(path).openblas_set_num_threads(n)
        except (OSError, AttributeError):
            pass


def reference_config(task):
    return dict(src_vocab_size=task["vocab"], tgt_vocab_size=task["vocab"], hidden_size=task["hidden"],
                num_hidden_layers=task["layers"], num_attention_heads=task["heads"], intermediate_size=task["d_ff"],
                max_position_embeddings=task["max_positions"], hidden_dropout_prob=DROPOUT,
                attention_probs_dropout_prob=DROPOUT, layer_norm_eps=1e-5, hidden_act="relu",
                position_embedding_type="learned", pad_token_id=0)


def time_task(name, task, warmup, steps):
    torch.manual_seed(1)
    cfg = reference_config(task)
    model = model_for(cfg)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4, betas=(0.9, 0.98), eps=1e-9)
    b, s, t, vocab = task["batch"], task["src_len"], task["tgt_len"], task["vocab"]
    src = torch.randint(1, vocab, (b, s))
    tgt_in = torch.randint(1, vocab, (b, t))
    tgt_out = torch.randint(1, vocab, (b, t))

    def step():
        optimizer.zero_grad()
        _, loss = ref.loss_of(cfg, model(src, tgt_in), tgt_out)
        loss.backward()
        optimizer.step()
        return loss.item()

    first_loss = step()
    for _ in range(warmup - 1):
        step()
    times, loss = [], first_loss
    for _ in range(steps):
        start = time.perf_counter()
        loss = step()
        times.append((time.perf_counter() - start) * 1e3)
    ordered = sorted(times)

    def percentile(q):  # the timed step at rank q of the sorted times, interpolating nothing
        return ordered[round(q * (len(ordered) - 1))]

    return dict(task=name, threads=torch.get_num_threads(), batch=b, src_len=s, tgt_len=t,
                parameters=sum(p.numel() for p in model.parameters()), warmup_steps=warmup, steps=steps,
                ms_per_step=dict(median=statistics.median(times), mean=statistics.fmean(times), min=ordered[0],
                                 p10=percentile(0.1), p90=percentile(0.9), max=ordered[-1]),
                step_ms=times, first_loss=first_loss, last_loss=loss)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", default="copy,addition,parser", help="comma-separated subset of " + ",".join(TASKS))
    parser.add_argument("--threads", default="2", help="comma-separated thread counts, e.g. 2 or 1,2 (default 2)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first (default 5)")
    parser.add_argument("--steps", type=int, default=30, help="timed steps (default 30)")
    parser.add_argument("--blas", choices=("openblas", "system"), default=BLAS,
                        help="openblas: run on Debian's OpenBLAS (" + OPENBLAS_DIR + "); system: on whatever libblas.so.3 "
                             "resolves to (default: openblas where installed)")
    parser.add_argument("--json", help="write the results here as JSON")
    args = parser.parse_args()
    names = [n.strip() for n in args.tasks.split(",") if n.strip()]
    unknown = [n for n in names if n not in TASKS]
    if unknown or not names:
        parser.error(f"unknown task(s) {unknown}; choose from {', '.join(TASKS)}")
    threads = [int(n) for n in args.threads.split(",")]
    if args.warmup < 1 or args.steps < 1 or min(threads) < 1:
        parser.error("--warmup, --steps and --threads must be at least 1")

    libraries = blas_libraries()
    blas = ", ".join(libraries) or "none mapped"
    print(f"pytorch {torch.__version__} on {sys.executable}, BLAS {blas}", flush=True)
    results = []
    for n in threads:
        set_threads(n, libraries)
        for name in names:
            r = time_task(name, TASKS[name], args.warmup, args.steps)
            m = r["ms_per_step"]
            print(f"pytorch {torch.__version__} {name:8s} threads {r['threads']}: {m['median']:8.2f} ms/step median "
                  f"(p10 {m['p10']:.2f}, p90 {m['p90']:.2f}, min {m['min']:.2f}, max {m['max']:.2f}; "
                  f"{r['steps']} steps after {r['warmup_steps']} warm-up), loss {r['first_loss']:.3f} -> {r['last_loss']:.3f}",
                  flush=True)
            results.append(r)
    if args.json:
        out = dict(torch_version=torch.__version__, python=sys.executable, python_version=platform.python_version(),
                   interop_threads=torch.get_num_interop_threads(), cpu_count=os.cpu_count(), blas_choice=args.blas,
                   blas_libraries=libraries, omp_wait_policy=os.environ.get("OMP_WAIT_POLICY"),
                   model=str(REFERENCE.relative_to(ROOT)) + " with dropout " + str(DROPOUT),
                   optimizer="Adam lr 1e-4 betas (0.9, 0.98) eps 1e-9", date=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                   results=results)
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
