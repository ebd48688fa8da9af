#!/usr/bin/env python3
"""llmj beside PyTorch on the speed recipes, back to back: for each run and each shape,
`./llmj bench train --shape S --json` and then `tools/pytorch_reference.py bench-train --shape S --json`
(Debian's /usr/bin/python3 with PyTorch, OPENBLAS_CORETYPE=SkylakeX), then the median of the runs
and the ratio (and, for training, the ratio of each engine's fastest run: on a shared machine a
neighbour only ever slows a run down). Prints a Markdown table for the README. PyTorch's "of peak"
is its GFLOPS over the FMA peak that llmj measured in the same run (`bench train`'s peak_gflops).

PyTorch must run on OpenBLAS's OpenMP build, or the comparison flatters llmj (the script stops if not):
  apt-get install python3-torch libopenblas0-openmp
  for l in libblas.so.3 liblapack.so.3 libopenblas.so.0; do
    update-alternatives --set $l-x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/openblas-openmp/$l; done

  tools/bench-vs-pytorch.py [--runs 3] [--shapes small-t128,d384] [--threads 2] [--steps 10] [--wait-idle]
                                  [--generate llama-110m] [--prompt-tokens 128] [--new-tokens 128]

--generate SHAPES (comma-separated; --shapes '' to skip training) also times generation the same way:
`./llmj bench generate --shape S --json` beside `pytorch_reference.py bench-generate --shape S --json`,
prefill and decode tokens/s, each engine's median of its 5 runs per invocation, then the median of --runs.

Each run also records how much CPU other processes took while it ran (from /proc/stat, Linux):
on a shared machine a busy neighbour slows both engines, PyTorch's spinning OpenMP threads most.
--wait-idle waits (up to 10 minutes) for the machine to be idle before each run, and reruns a run
that a neighbour disturbed (once). This script needs only the standard library.
"""
import json, os, resource, statistics, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TORCH_PYTHON = "/usr/bin/python3"


def opts(argv):
    o = {"runs": 3, "shapes": "small-t128,d384", "threads": 2, "steps": 10, "wait_idle": False, "generate": "", "prompt_tokens": 128,
         "new_tokens": 128}
    i = 0
    while i < len(argv):
        k = argv[i].lstrip("-").replace("-", "_")
        if k not in o:
            sys.exit(f"unknown option {argv[i]}; see the top of {__file__}")
        if isinstance(o[k], bool):
            o[k], i = True, i + 1
        else:
            o[k], i = type(o[k])(argv[i + 1]), i + 2
    return o


def busy_seconds():
    """CPU seconds all processes have spent, from /proc/stat (user + nice + system + irq + softirq + steal)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    hz = os.sysconf("SC_CLK_TCK")
    return (fields[0] + fields[1] + fields[2] + fields[5] + fields[6] + fields[7]) / hz


def children_seconds():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def wait_idle(limit=600):
    """Until other processes use less than a tenth of a core over 3 s, or the limit passes."""
    t0 = time.time()
    while time.time() - t0 < limit:
        b0, s0 = busy_seconds(), time.time()
        time.sleep(3)
        if (busy_seconds() - b0) / (time.time() - s0) < 0.1:
            return True
    return False


def run(cmd, env=None):
    """Runs cmd; returns its JSON output and the cores' worth of CPU others used meanwhile."""
    b0, c0, t0 = busy_seconds(), children_seconds(), time.time()
    p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.time() - t0
    others = max(0.0, (busy_seconds() - b0) - (children_seconds() - c0)) / wall
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr}")
    return json.loads(p.stdout.strip().splitlines()[-1]), others


def measure(o, cases, env):
    """Runs every (shape, engine) command o["runs"] times, interleaved; returns {(shape, engine): [result, …]}."""
    results = {(s, e): [] for s, engines in cases for e in engines}
    for r in range(o["runs"]):
        for s, engines in cases:
            for e, cmd in engines.items():
                for attempt in range(2):
                    if o["wait_idle"] and not wait_idle():
                        print("warning: the machine did not become idle in 10 minutes; measuring anyway", file=sys.stderr)
                    if e == "pytorch" and "bench-train" in cmd and results[(s, "llmj")]:  # the FMA peak llmj measured on this machine
                        cmd = cmd + ["--peak-gflops", str(results[(s, "llmj")][-1]["peak_gflops"])]
                    res, others = run(cmd, env)
                    if res.get("blas") and not any("openblas-openmp/" in x for x in res["blas"]):  # [] when PyTorch links no BLAS by that name (MKL)
                        sys.exit(f"PyTorch is using {res['blas']}, not OpenBLAS's OpenMP build: its figures would be far too low "
                                 "(see blas_libraries in tools/pytorch_reference.py)")
                    if not (o["wait_idle"] and others > 0.1 and attempt == 0):
                        break
                    print(f"  (rerun: others took {others:.2f} cores)", file=sys.stderr)
                res["others_cores"] = round(others, 2)
                results[(s, e)].append(res)
                figures = "  ".join(f"{k} {res[k]:,.1f}" for k in ("tokens_per_sec", "ms_per_step", "gflops", "prefill_tokens_per_sec",
                                                                     "decode_tokens_per_sec", "peak_rss_mb") if k in res)
                print(f"run {r + 1} {s:11s} {e:8s} {figures}  others {others:.2f} cores", file=sys.stderr, flush=True)
    return results


def main():
    o = opts(sys.argv[1:])
    env = dict(os.environ, OPENBLAS_CORETYPE="SkylakeX")
    t, llmj, ref = str(o["threads"]), os.path.join(ROOT, "llmj"), os.path.join(ROOT, "tools", "pytorch_reference.py")
    summary = {}
    shapes = [s for s in o["shapes"].split(",") if s]
    if shapes:
        cases = [(s, {"llmj": [llmj, "bench", "train", "--shape", s, "--threads", t, "--steps", str(o["steps"]), "--json"],
                      "pytorch": [TORCH_PYTHON, ref, "bench-train", "--shape", s, "--threads", t, "--steps", str(o["steps"]), "--json"]})
                 for s in shapes]
        results = measure(o, cases, env)
        print(f"\ntraining: {o['threads']} threads, median of {o['runs']} runs each, {o['steps']} measured steps per run after the warm-up\n")
        print("| shape | llmj tokens/s | PyTorch tokens/s | llmj / PyTorch | best runs | llmj GFLOPS | of peak | PyTorch GFLOPS | of peak | llmj RSS MB | PyTorch RSS MB |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for s in shapes:
            med = {e: {k: statistics.median(x[k] for x in results[(s, e)]) for k in ("tokens_per_sec", "gflops", "peak_fraction", "peak_rss_mb")}
                   for e in ("llmj", "pytorch")}
            ratio = med["llmj"]["tokens_per_sec"] / med["pytorch"]["tokens_per_sec"]
            # each engine's fastest run: a neighbour on a shared machine only ever slows a run down
            best = max(x["tokens_per_sec"] for x in results[(s, "llmj")]) / max(x["tokens_per_sec"] for x in results[(s, "pytorch")])
            summary["train " + s] = {"median": med, "ratio": ratio, "best_runs_ratio": best, "runs": {e: results[(s, e)] for e in ("llmj", "pytorch")}}
            print(f"| `{s}` | {med['llmj']['tokens_per_sec']:,.0f} | {med['pytorch']['tokens_per_sec']:,.0f} | {ratio:.2f}× | {best:.2f}× | "
                  f"{med['llmj']['gflops']:.1f} | {100 * med['llmj']['peak_fraction']:.1f}% | {med['pytorch']['gflops']:.1f} | "
                  f"{100 * med['pytorch']['peak_fraction']:.1f}% | {med['llmj']['peak_rss_mb']:,.0f} | {med['pytorch']['peak_rss_mb']:,.0f} |")
    gen = [s for s in o["generate"].split(",") if s]
    if gen:
        p, n = str(o["prompt_tokens"]), str(o["new_tokens"])
        cases = [(s, {"llmj": [llmj, "bench", "generate", "--shape", s, "--threads", t, "--prompt-tokens", p, "--new-tokens", n, "--json"],
                      "pytorch": [TORCH_PYTHON, ref, "bench-generate", "--shape", s, "--threads", t, "--prompt-tokens", p, "--new-tokens", n,
                                  "--json"]})
                 for s in gen]
        results = measure(o, cases, env)
        print(f"\ngeneration: {o['threads']} threads, {p}-token prompt, {n} new tokens; median of {o['runs']} invocations (each the median of 5 runs)\n")
        print("| shape | llmj prefill tokens/s | PyTorch prefill | ratio | llmj decode tokens/s | PyTorch decode | ratio | llmj RSS MB | PyTorch RSS MB |")
        print("|---|---|---|---|---|---|---|---|---|")
        for s in gen:
            med = {e: {k: statistics.median(x[k] for x in results[(s, e)]) for k in ("prefill_tokens_per_sec", "decode_tokens_per_sec", "peak_rss_mb")}
                   for e in ("llmj", "pytorch")}
            rp = med["llmj"]["prefill_tokens_per_sec"] / med["pytorch"]["prefill_tokens_per_sec"]
            rd = med["llmj"]["decode_tokens_per_sec"] / med["pytorch"]["decode_tokens_per_sec"]
            summary["generate " + s] = {"median": med, "prefill_ratio": rp, "decode_ratio": rd, "runs": {e: results[(s, e)] for e in ("llmj", "pytorch")}}
            print(f"| `{s}` | {med['llmj']['prefill_tokens_per_sec']:,.0f} | {med['pytorch']['prefill_tokens_per_sec']:,.0f} | {rp:.2f}× | "
                  f"{med['llmj']['decode_tokens_per_sec']:,.1f} | {med['pytorch']['decode_tokens_per_sec']:,.1f} | {rd:.2f}× | "
                  f"{med['llmj']['peak_rss_mb']:,.0f} | {med['pytorch']['peak_rss_mb']:,.0f} |")
    print("\n" + json.dumps(summary))


if __name__ == "__main__":
    main()
