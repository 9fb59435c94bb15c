"""Runs the benchmarks and rewrites the results table of bench/README.md (Python 3 standard library only).

Entry point: bench/report (see bench/README.md). Each group of benchmark classes runs as one JMH run
through bench/run and leaves its JSON in the output directory; the PyTorch training step runs through
bench/pytorch/training_step.py; then every ratio is computed and the table between the markers in
bench/README.md is replaced. A ratio is only ever formed from figures of one run (one JMH run, or the
training-step pair: one JMH run and one PyTorch run of the same report).
"""
import argparse
import datetime
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "bench" / "README.md"
BEGIN, END = "<!-- bench/report:begin -->", "<!-- bench/report:end -->"
PACKAGE = "dev.panamaformer.bench."

# Each group is one JMH run, so that the ratios inside it come from one run.
GROUPS = {
    "training": (["TrainingStepBenchmark"], ["-prof", "gc"]),
    "gemm": (["GemmBenchmark", "FmaPeakBenchmark"], []),
    "rows": (["RowKernelBenchmark", "GeluBenchmark"], []),
    "shapes": (["GemmShapesBenchmark", "BlasGemmBenchmark"], []),
    "attention": (["AttentionBenchmark"], []),
}
ALL = list(GROUPS) + ["pytorch"]

# TASKS.md §6: the reference's own PyTorch code, 2 threads, this machine kind.
REFERENCE_MS = {"copy": 96.7, "addition": 557.5, "parser": 193.1}
TRAINING_TARGET = {"copy": 2.0, "addition": 1.5, "parser": 2.0}
FMA_ITERATIONS = 100_000  # FmaPeakBenchmark: flops per call = 2 * lanes * chains * 100,000
SMALL_SHAPES = {"800x64x64", "800x64x128", "800x128x64"}  # the tasks' shapes: >= 1.2x OpenBLAS; the others >= 0.95x

# What bench/run --isa sets for the JIT; PyTorch gets the same OpenBLAS core and its own dispatch level.
ISAS = ["native", "avx512", "avx2", "avx1"]
# avx512 names SkylakeX: OpenBLAS 0.3.21 falls back to Prescott (SSE3) on CPUs newer than it, e.g. Xeon model 207
OPENBLAS_CORE = {"native": None, "avx512": "SkylakeX", "avx2": "Haswell", "avx1": "Sandybridge"}
ATEN_CAPABILITY = {"native": None, "avx512": "avx512", "avx2": "avx2", "avx1": "default"}


# ---------------------------------------------------------------- running
def tee(cmd, log, env=None):
    print("$ " + " ".join(shlex.quote(str(c)) for c in cmd), flush=True)
    with open(log, "w") as out:
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT, env=env)
        for line in p.stdout:
            sys.stdout.write(line)
            out.write(line)
        return p.wait()


def jmh(cmd, log, lock_wait):
    """Runs JMH; while another JMH run holds its lock (/tmp/jmh.lock), waits and tries again rather than
    measuring beside it."""
    deadline = time.monotonic() + lock_wait
    while True:
        code = tee(cmd, log)
        if code == 0 or "Unable to acquire the JMH lock" not in Path(log).read_text() or time.monotonic() > deadline:
            return code
        print("another JMH run holds /tmp/jmh.lock; trying again in 20 s", flush=True)
        time.sleep(20)


def torch_env(isa):
    """PyTorch on the ISA's OpenBLAS kernels and ATen dispatch level, as bench/run sets the JIT's."""
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "ATEN_CPU_CAPABILITY")}
    if OPENBLAS_CORE[isa]:
        env["OPENBLAS_CORETYPE"] = OPENBLAS_CORE[isa]
    if ATEN_CAPABILITY[isa]:
        env["ATEN_CPU_CAPABILITY"] = ATEN_CAPABILITY[isa]
    return env


def describe(isa, out):
    """The CPU, the JVM flags and the kernels of an ISA (bench/run --isa ISA --main Machine), kept in out/machine.json."""
    p = subprocess.run([str(ROOT / "bench" / "run"), "--isa", isa, "--main", "Machine"], capture_output=True, text=True,
                       cwd=ROOT)
    line = next((l for l in p.stdout.splitlines() if l.count("\t") == 2), None)
    if p.returncode != 0 or line is None:
        sys.exit(f"bench/run --isa {isa} --main Machine failed:\n" + p.stdout + p.stderr)
    cpu, flags, kernels = line.split("\t")
    machine = dict(cpu=cpu, flags=flags, kernels=kernels, openblas_core=OPENBLAS_CORE[isa], aten=ATEN_CAPABILITY[isa])
    (out / "machine.json").write_text(json.dumps(machine, indent=2) + "\n")
    return machine


def listed_classes():
    p = subprocess.run([str(ROOT / "bench" / "run"), "-l"], capture_output=True, text=True, cwd=ROOT)
    if p.returncode != 0:
        sys.exit("bench/run -l failed:\n" + p.stdout + p.stderr)
    return {line.strip()[len(PACKAGE):].rsplit(".", 1)[0] for line in p.stdout.splitlines()
            if line.strip().startswith(PACKAGE)}


def torch_python(explicit):
    candidates = [explicit] if explicit else [os.environ.get("PANAMAFORMER_PYTHON"), "/usr/bin/python3",
                                               shutil.which("python3"), shutil.which("python")]
    tried = []
    for c in candidates:
        if not c or c in tried or not os.path.exists(c):
            continue
        tried.append(c)
        if subprocess.run([c, "-c", "import torch"], capture_output=True).returncode == 0:
            return c, tried
    return None, tried


# ---------------------------------------------------------------- reading results
SECONDS = {"s/op": 1.0, "ms/op": 1e-3, "us/op": 1e-6, "ns/op": 1e-9}


class Result:
    def __init__(self, entry):
        name = entry["benchmark"][len(PACKAGE):] if entry["benchmark"].startswith(PACKAGE) else entry["benchmark"]
        self.cls, self.method = name.rsplit(".", 1)
        self.params = entry.get("params", {})
        m = entry["primaryMetric"]
        self.unit = m["scoreUnit"]
        self.seconds = m["score"] * SECONDS[self.unit]
        error = m.get("scoreError")
        self.error_seconds = None if error in (None, "NaN") else float(error) * SECONDS[self.unit]
        alloc = entry.get("secondaryMetrics", {}).get("gc.alloc.rate.norm")
        self.bytes = alloc["score"] if alloc else None
        self.bytes_error = float(alloc["scoreError"]) if alloc and alloc.get("scoreError") not in (None, "NaN") else None
        # one mean per fork: a fork that boxes shows here even when the mean over forks hides it
        raw = alloc.get("rawData") if alloc else None
        self.bytes_per_fork = [sum(f) / len(f) for f in raw if f] if raw else []
        self.jdk = f"{entry.get('jdkVersion')} ({entry.get('vmName')} {entry.get('vmVersion')})"
        self.threads_property = next((a.split("=", 1)[1] for a in entry.get("jvmArgs", [])
                                      if a.startswith("-Dpanamaformer.threads=")), None)


class Run:
    """One JMH JSON file."""

    def __init__(self, path):
        self.path = path
        self.date = datetime.datetime.fromtimestamp(path.stat().st_mtime, datetime.timezone.utc)
        self.results = [Result(e) for e in json.loads(path.read_text())]

    def find(self, cls, method, **params):
        for r in self.results:
            if r.cls == cls and r.method == method and all(r.params.get(k) == str(v) for k, v in params.items()):
                return r
        return None

    def param_values(self, cls, name):
        seen = []
        for r in self.results:
            if r.cls == cls and name in r.params and r.params[name] not in seen:
                seen.append(r.params[name])
        return seen


# ---------------------------------------------------------------- the table
def fmt_ms(s):
    return f"{s * 1e3:,.1f} ms" if s >= 1e-2 else f"{s * 1e3:,.2f} ms"


def fmt_us(s):
    return f"{s * 1e6:,.0f} us" if s >= 1e-4 else f"{s * 1e6:,.1f} us"


def fmt_bytes(b):
    return f"{b:,.0f} B"


def status(value, target, at_least=True):
    if value is None:
        return "not measured"
    return "met" if (value >= target if at_least else value <= target) else "**missed**"


def all_met(values, target):
    if not values:
        return "not measured"
    return "met" if all(v >= target for v in values) else "**missed**"


def training_rows(run, torch_run):
    rows = []
    torch_results = torch_run["results"] if torch_run else []
    threads = sorted({r["threads"] for r in torch_results}, key=lambda n: (n != 2, n))
    for task in ("copy", "addition", "parser"):
        java = run.find("TrainingStepBenchmark", "trainingStep", task=task) if run else None
        parts = []
        if java is not None:
            spread = f" ± {java.error_seconds * 1e3:,.1f}" if java.error_seconds is not None else ""
            parts.append(f"Java {java.seconds * 1e3:,.1f}{spread} ms")
        else:
            parts.append("Java not run")
        ratio = None
        for n in threads:
            t = next((r for r in torch_results if r["task"] == task and r["threads"] == n), None)
            if t is None:
                continue
            m = t["ms_per_step"]
            text = (f"PyTorch {n} thread{'s' if n > 1 else ''} {m['median']:,.1f} ms (median; p10-p90 "
                    f"{m['p10']:,.1f}-{m['p90']:,.1f})")
            if java is not None:
                r = m["median"] / 1e3 / java.seconds
                ratio = r if ratio is None else ratio
                text += f": **{r:.1f}x**"
            parts.append(text)
        if len(parts) == 1 and java is None:
            continue
        if not threads:
            parts.append("PyTorch not run")
        if java is not None:
            ref = REFERENCE_MS[task]
            parts.append(f"vs the reference figure {ref} ms: {ref / 1e3 / java.seconds:.1f}x")
        rows.append((f"training step, {task}: Java vs PyTorch", "; ".join(parts), f">= {TRAINING_TARGET[task]:g}x",
                     status(ratio, TRAINING_TARGET[task])))
    for task in ("copy", "addition", "parser"):
        java = run.find("TrainingStepBenchmark", "trainingStep", task=task) if run else None
        if java is None:
            continue
        if java.bytes is None:
            rows.append((f"training step, {task}: bytes allocated per step", "run without -prof gc", "<= 1,024 B", "not measured"))
        else:
            spread = f" ± {java.bytes_error:,.0f}" if java.bytes_error is not None else ""
            forks = java.bytes_per_fork or [java.bytes]
            per_fork = f"; per fork {', '.join(fmt_bytes(b) for b in forks)}" if java.bytes_per_fork else ""
            rows.append((f"training step, {task}: bytes allocated per step", fmt_bytes(java.bytes) + spread + per_fork,
                         "<= 1,024 B in every fork", status(max(forks), 1024, at_least=False)))
    return rows


def lanes(machine=None):
    m = re.search(r"\((\d+) float lanes\)", (machine or {}).get("kernels", ""))
    if m:
        return int(m.group(1))
    flags = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                flags = line
                break
    return 16 if " avx512f" in flags else 8 if " avx2" in flags else 4


def gemm_rows(run, machine=None):
    rows = []
    for size in run.param_values("GemmBenchmark", "size"):
        scalar, simd = run.find("GemmBenchmark", "gemmScalar", size=size), run.find("GemmBenchmark", "gemmSimd", size=size)
        if scalar and simd:
            r = scalar.seconds / simd.seconds
            rows.append((f"GEMM {size}³ SIMD vs scalar, 1 thread", f"{fmt_us(scalar.seconds)} vs {fmt_us(simd.seconds)}: "
                         f"**{r:.1f}x**", ">= 20x", status(r, 20)))
        n_lanes = lanes(machine)
        peaks = [2 * n_lanes * chains * FMA_ITERATIONS / r.seconds / 1e9
                 for chains in (12, 16) for r in [run.find("FmaPeakBenchmark", f"chains{chains}")] if r]
        if simd and peaks and size == "256":
            n = int(size)
            gemm = 2 * n ** 3 / simd.seconds / 1e9
            fma = max(peaks)
            rows.append(("GEMM 256³ GFLOPS vs one core's FMA peak", f"{gemm:,.1f} vs {fma:,.1f} GFLOPS "
                         f"({n_lanes} lanes; the faster of 12 and 16 FMA chains): **{100 * gemm / fma:.0f} %**", ">= 80 %",
                         status(gemm / fma, 0.80)))
    return rows


def row_kernel_rows(run):
    rows = []
    for kernel, label in (("softmax", "softmax"), ("layerNorm", "LayerNorm")):
        long_rows, short_rows = [], []
        for cols in run.param_values("RowKernelBenchmark", "cols"):
            s = run.find("RowKernelBenchmark", kernel + "Scalar", cols=cols)
            v = run.find("RowKernelBenchmark", kernel + "Simd", cols=cols)
            if s and v:
                (long_rows if int(cols) >= 256 else short_rows).append((cols, s.seconds / v.seconds))
        if long_rows:
            rows.append((f"{label} SIMD vs scalar, 256 rows of {' / '.join(c for c, _ in long_rows)}",
                         ", ".join(f"**{r:.1f}x**" for _, r in long_rows), ">= 4x each",
                         all_met([r for _, r in long_rows], 4)))
        if short_rows:
            rows.append((f"{label} SIMD vs scalar, 256 rows of {' / '.join(c for c, _ in short_rows)}",
                         ", ".join(f"{r:.1f}x" for _, r in short_rows), "(rows < 256: none)", ""))
    s, v = run.find("GeluBenchmark", "geluScalar"), run.find("GeluBenchmark", "geluSimd")
    if s and v:
        r = s.seconds / v.seconds
        rows.append(("GELU SIMD vs scalar, 1M values", f"{fmt_us(s.seconds)} vs {fmt_us(v.seconds)}: **{r:.1f}x**",
                     ">= 4x", status(r, 4)))
    return rows


def dims(shape):
    return [int(x) for x in re.findall(r"\d+", shape)]


def shapes_rows(run):
    rows = []
    shapes = run.param_values("GemmShapesBenchmark", "shape") or run.param_values("BlasGemmBenchmark", "shape")
    forms = run.param_values("GemmShapesBenchmark", "form") or run.param_values("BlasGemmBenchmark", "form")
    for shape in shapes:
        blas, java_blas, threads = [], [], []
        for form in forms:
            one = run.find("GemmShapesBenchmark", "gemmSimd", shape=shape, form=form, threads=1)
            two = run.find("GemmShapesBenchmark", "gemmSimd", shape=shape, form=form, threads=2)
            native = run.find("BlasGemmBenchmark", "sgemmOpenBlas", shape=shape, form=form)
            netlib = run.find("BlasGemmBenchmark", "sgemmJava", shape=shape, form=form)
            if one and native:
                blas.append((form, native.seconds / one.seconds))
            if one and netlib:
                java_blas.append((form, netlib.seconds / one.seconds))
            if one and two:
                threads.append((form, one.seconds / two.seconds))
        if blas:
            target = 1.2 if shape in SMALL_SHAPES else 0.95
            rows.append((f"GEMM {shape} vs OpenBLAS, 1 thread", ", ".join(f"{f} **{r:.2f}x**" for f, r in blas),
                         f">= {target:g}x each", all_met([r for _, r in blas], target)))
        if java_blas:
            rows.append((f"GEMM {shape} vs netlib pure Java, 1 thread", ", ".join(f"{f} {r:.2f}x" for f, r in java_blas),
                         "(none)", ""))
        if threads:
            big = min(dims(shape)) >= 256
            rows.append((f"GEMM {shape}, 2 threads vs 1", ", ".join(f"{f} {'**' if big else ''}{r:.2f}x{'**' if big else ''}"
                                                                 for f, r in threads),
                         ">= 1.8x each" if big else "(a dimension < 256: none)",
                         all_met([r for _, r in threads], 1.8) if big else ""))
    return rows


def attention_rows(run):
    """fusedX against materializedX (X = Forward, Backward) at the same params: >= 2x at T = 4096, never slower at T >= 512."""
    rows = []
    results = [r for r in run.results if r.cls == "AttentionBenchmark"]
    for f in results:
        if not f.method.startswith("fused"):
            continue
        part = f.method[len("fused"):]
        m = next((r for r in results if r.method == "materialized" + part and r.params == f.params), None)
        if m is None:
            continue
        length = int(f.params.get("length", "0"))
        causal = f.params.get("causal", "false") == "true"
        ratio = m.seconds / f.seconds
        if length >= 4096:
            target, met = ">= 2x", ("met" if ratio >= 2 else "**missed**")
        elif length >= 512:
            target, met = ">= 1x (never slower)", ("met" if ratio >= 1 else "**missed**")
        else:
            target, met = "(T < 512: none)", ""
        rows.append((f"attention {part.lower()}, T {length}{', causal' if causal else ''}, 8 heads of 64: materialized vs fused",
                     f"{fmt_us(m.seconds)} vs {fmt_us(f.seconds)}: **{ratio:.2f}x**", target, met))
    if results and not rows:
        rows.append(("AttentionBenchmark", "no fusedX/materializedX method pair found in its results", "", ""))
    return rows


def isa_label(isa, machine):
    """For a row: the ISA and the CPU it ran on, e.g. 'avx2 (AMD EPYC family 26, -XX:UseAVX=2)'."""
    if not machine:
        return isa
    cpu = machine["cpu"].split(",")[0].replace("(family", "family").replace(")", "")
    return f"{isa} ({cpu}{', ' + machine['flags'] if machine['flags'] != '(none)' else ''})"


def table(by_isa, notes, command, load):
    """by_isa: {isa: (runs, torch_run, machine)}; one table, every row naming its ISA and CPU."""
    rows = []
    builders = {"gemm": gemm_rows, "rows": row_kernel_rows, "shapes": shapes_rows, "attention": attention_rows}
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [BEGIN, f"Written by `{command}` on {now}.", ""]
    lines.append(f"- machine: {os.cpu_count()} cores; other processes may share it"
                 + (f" (1-minute load average {load[0]:.1f} when the runs began, {load[1]:.1f} when they ended)" if load else ""))
    for isa, (runs, torch_run, machine) in by_isa.items():
        label = isa_label(isa, machine)
        isa_rows = []
        if runs.get("training") or torch_run:
            isa_rows += training_rows(runs.get("training"), torch_run)
        for group, build in builders.items():
            if runs.get(group):
                isa_rows += build(runs[group], machine) if group == "gemm" else build(runs[group])
        rows += [(label,) + r for r in isa_rows]
        jdk = next((r.jdk for run in runs.values() for r in run.results), None)
        parts = []
        if machine:
            parts.append(f"{machine['cpu']}; JVM flags {machine['flags']}; kernels {machine['kernels']}; "
                         f"OpenBLAS core {machine.get('openblas_core') or 'its own choice'}")
        if jdk:
            training = runs.get("training")
            forced = next((r.threads_property for r in training.results if r.threads_property), None) if training else None
            java_threads = (f"{forced} (`-Dpanamaformer.threads={forced}`)" if forced else
                            f"{os.cpu_count()} (all available processors)")
            parts.append(f"JDK {jdk}; threads of the Java training step: {java_threads}; the kernel pairs use 1 thread")
        if torch_run:
            libs = ", ".join(os.path.basename(p) for p in torch_run.get("blas_libraries", [])) or "none mapped"
            threads = sorted({r["threads"] for r in torch_run["results"]})
            wait = torch_run.get("omp_wait_policy")
            parts.append(f"PyTorch {torch_run['torch_version']}, BLAS {libs}, threads {' and '.join(map(str, threads))}"
                         + (f", OMP_WAIT_POLICY={wait}" if wait else "")
                         + (f", ATEN_CPU_CAPABILITY={machine['aten']}" if machine and machine.get("aten") else "")
                         + f"; {torch_run['results'][0]['steps']} timed steps after {torch_run['results'][0]['warmup_steps']} warm-up")
        sources = [f"`{isa}/{run.path.name}` ({run.date:%Y-%m-%d %H:%M})" for run in runs.values()]
        if torch_run:
            sources.append(f"`{isa}/pytorch.json` ({torch_run['date']})")
        parts.append("runs: " + (", ".join(sources) or "none"))
        lines.append(f"- **{isa}**: " + "; ".join(parts))
    lines += ["", "| ISA, CPU | measure | result | target | |", "|---|---|---|---|---|"]
    lines += [f"| {i} | {a} | {b} | {c} | {d} |" for i, a, b, c, d in rows]
    if notes:
        lines.append("")
        lines += [f"- {n}" for n in notes]
    lines.append(END)
    return "\n".join(lines), rows


def rewrite_readme(block):
    text = README.read_text()
    if BEGIN not in text or END not in text:
        sys.exit(f"{README} has no {BEGIN} ... {END} markers")
    before, rest = text.split(BEGIN, 1)
    after = rest.split(END, 1)[1]
    README.write_text(before + block + after)


# ---------------------------------------------------------------- main
def main():
    p = argparse.ArgumentParser(prog="bench/report", description="Runs the benchmarks and rewrites bench/README.md's table.")
    p.add_argument("--run", default=",".join(ALL),
                   help=f"comma-separated groups to run now, of {', '.join(ALL)} (default all); 'none' runs nothing")
    p.add_argument("--reuse", action="store_true",
                   help="for the groups not run now, read the JSON an earlier report left in --out")
    p.add_argument("--out", default=str(ROOT / "bench" / "target" / "report"), help="where the JSON and logs go")
    p.add_argument("--jmh", default="", help="extra JMH options for every run, e.g. \"-f 1 -wi 2 -i 3\"")
    p.add_argument("--pytorch", default="", help="extra options for bench/pytorch/training_step.py, e.g. \"--steps 20 --threads 1,2\"")
    p.add_argument("--python", help="a python with torch (default: the first of $PANAMAFORMER_PYTHON, /usr/bin/python3, "
                                    "python3, python that imports torch)")
    p.add_argument("--isa", default="native",
                   help=f"comma-separated instruction sets to run each group on, of {', '.join(ISAS)} (default native); "
                        "see bench/run")
    p.add_argument("--lock-wait", type=float, default=3600,
                   help="seconds to keep waiting while another JMH run holds /tmp/jmh.lock (default 3600)")
    p.add_argument("--no-readme", action="store_true", help="print the table, leave bench/README.md alone")
    args = p.parse_args()
    wanted = [] if args.run == "none" else [g.strip() for g in args.run.split(",") if g.strip()]
    unknown = [g for g in wanted if g not in ALL]
    if unknown:
        p.error(f"unknown group(s) {unknown}; choose from {', '.join(ALL)}")
    isas = [i.strip() for i in args.isa.split(",") if i.strip()]
    bad = [i for i in isas if i not in ISAS]
    if bad:
        p.error(f"unknown ISA(s) {bad}; choose from {', '.join(ISAS)}")
    out = Path(args.out)
    notes, by_isa = [], {}
    load_before = os.getloadavg()[0]
    jmh_groups = [g for g in wanted if g in GROUPS]
    present = listed_classes() if jmh_groups else set()
    if jmh_groups:
        known = {c for classes, _ in GROUPS.values() for c in classes}
        for extra in sorted(present - known - {"TileSweep", "Machine"}):
            notes.append(f"{extra} is in the jar but bench/report has no rule for it: skipped")
    for isa in isas:
        here_out = out / isa
        here_out.mkdir(parents=True, exist_ok=True)
        runs, torch_run = {}, None
        machine = describe(isa, here_out) if wanted else None
        for group in jmh_groups:
            classes, options = GROUPS[group]
            here = [c for c in classes if c in present]
            for missing in (c for c in classes if c not in present):
                notes.append(f"{missing} is not in this build's benchmarks jar (`bench/run -l`): skipped")
            if not here:
                continue
            path = here_out / f"{group}.json"
            if path.exists():
                path.unlink()
            regex = r"\.(" + "|".join(here) + r")\."
            code = jmh([ROOT / "bench" / "run", "--isa", isa, regex, "-rf", "json", "-rff", path, *options,
                        *shlex.split(args.jmh)], here_out / f"{group}.log", args.lock_wait)
            if code != 0 or not path.exists():
                notes.append(f"{isa}: {' and '.join(here)}: JMH failed (exit {code}); see {here_out / (group + '.log')}")
            else:
                runs[group] = Run(path)

        if "pytorch" in wanted:
            python, tried = torch_python(args.python)
            path = here_out / "pytorch.json"
            if python is None:
                notes.append(f"PyTorch not run: none of {', '.join(tried) or 'no python found'} imports torch "
                             "(install it: apt-get install python3-torch)")
                print(notes[-1], file=sys.stderr)
            else:
                if path.exists():
                    path.unlink()
                code = tee([python, ROOT / "bench" / "pytorch" / "training_step.py", "--json", path,
                            *shlex.split(args.pytorch)], here_out / "pytorch.log", env=torch_env(isa))
                if code != 0 or not path.exists():
                    notes.append(f"{isa}: PyTorch training step failed (exit {code}); see {here_out / 'pytorch.log'}")
                else:
                    torch_run = json.loads(path.read_text())

        if args.reuse:
            for group in GROUPS:
                path = here_out / f"{group}.json"
                if group not in runs and group not in wanted and path.exists():
                    runs[group] = Run(path)
            path = here_out / "pytorch.json"
            if torch_run is None and "pytorch" not in wanted and path.exists():
                torch_run = json.loads(path.read_text())
            if machine is None and (here_out / "machine.json").exists():
                machine = json.loads((here_out / "machine.json").read_text())
        for group in ALL:
            if group not in wanted and not (runs.get(group) or (group == "pytorch" and torch_run)):
                notes.append(f"{isa}: {group}: not run this time (`bench/report --isa {isa} --run {group}`)")
        by_isa[isa] = (runs, torch_run, machine)

    command = "bench/report" + "".join(" " + shlex.quote(a) for a in sys.argv[1:])
    load = (load_before, os.getloadavg()[0]) if wanted else None
    block, rows = table(by_isa, notes, command, load)
    (out / "report.json").write_text(json.dumps(
        dict(command=command, rows=[dict(isa=i, measure=a, result=b, target=c, status=d) for i, a, b, c, d in rows],
             notes=notes),
        indent=2) + "\n")
    print()
    print(block)
    if not args.no_readme:
        rewrite_readme(block)
        print(f"\nrewrote the table in {README.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
