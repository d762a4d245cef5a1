"""Speed, size and memory of the committed model (or $MODEL_DIR's, as the app reads it), measured
through the public inference functions.

    python benchmark.py [--json benchmark.json]
    python benchmark.py --guesses
    python benchmark.py --robustness [--json results/robustness.json]
    python benchmark.py --mending
    python benchmark.py --breakdown


Prints: file size and parameters; single-question latency p50/p95 on one thread through inf(),
next to a seed-size model (12 encoder layers, 512 wide: the size of the article's 6+6-layer
transformer), next to the same model run by PyTorch instead of NumPy, and next to it with the
other shape of matrix products (whole, or in column slices: NumPy's OpenBLAS core decides which the
app uses, see qclass/numpy_model.py), all timed in turns over the same questions in the same run;
batch throughput on two threads through inf_batch(); and the peak resident memory of a fresh process
that loads the model and answers 1,000 questions. PyTorch (a test and training requirement, not a
runtime one) builds the two comparison models.

--guesses prints instead how often qclass.guess flags text as not an English question: on the
labelled set tests/guess_set.tsv (English questions typed as visitors type them, and text that is
not one), and on the TREC questions as written and in lower case without "?" (none should be).

--robustness prints instead the model's accuracy on TREC_10 as written, in lower case without "?",
and with seeded character typos (qclass/noise.py, seed 13: the same questions every run), and on
tests/visitor_set.tsv: questions written as visitors type them, none of them from TREC.

--mending prints instead what mending typos (qclass/spelling.py) changes on the validation split
that train.py carves out of the training file (seed 13): subclasses right as typed and mended, and
how many questions each gains and loses, as written, in lower case without "?", and with seeded
typos (three seeds, the third in lower case).

--breakdown prints instead where one question's time goes on one thread: the whole forward pass,
then each of its parts timed alone, over and over, so that its weights stay in the processor's
caches; and how fast this machine copies memory at the size of the encoder's weights. When the
parts add up to much less than the whole, the time goes to fetching weights from memory.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from loadtest import cpu_model

from TwoClassHeadClassificationTransformer import TwoClassHeadClassificationTransformer
from qclass import artifacts, metrics, noise, spelling, trec
from qclass.guess import why_a_guess
from qclass.numpy_model import (SLICE_COLUMNS, Linear, NumpyTransformer, _attention, _gelu, _layer_norm, blas_core,
                                blas_threads, read_checkpoint)
from streamlitinf import inf, inf_batch, load_model, model_folder
from train import as_numpy, parse_args

SEED_SIZE = dict(emb_dim=512, dim_model=512, dim_inner=2048, layers=12, heads=8)
FALLBACK_QUESTIONS = [
    "What is the capital of Peru?", "Who wrote the Canterbury Tales?", "How many bones are in the human body?",
    "What does NASA stand for?", "Why is the sky blue?", "When did the Berlin Wall fall?",
    "How far is it from Denver to Aspen?", "What is the boiling point of water in Fahrenheit?",
]

# VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so a child would report its parent's
# peak (here the benchmark's, with the seed-size model in memory) instead of its own.
MEMORY_PROBE = """
import re, sys
from streamlitinf import inf, load_model
model = load_model()
questions = sys.stdin.read().splitlines()
for i in range(1000):
    inf(questions[i % len(questions)], model)
print(re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1))
"""


def questions() -> list[str]:
    """TREC_10's questions when the data is there (realistic lengths), else a built-in handful."""
    try:
        return [q for _, q in trec.read_questions(trec.data_dir() / trec.TEST_FILE)]
    except FileNotFoundError:
        return FALLBACK_QUESTIONS


def times_ms(call, n: int) -> list[float]:
    """How long call(i) took for i in range(n), in ms, sorted."""
    times = []
    for i in range(n):
        start = time.perf_counter()
        call(i)
        times.append((time.perf_counter() - start) * 1000)
    return sorted(times)


BLOCK = 50  # questions a model answers in a row, between the other models' turns


def latencies_ms(bundles: list, texts: list[str], n: int) -> list[tuple[float, float]]:
    """(p50, p95) of inf() per model, over the same n questions. The models take turns, BLOCK
    questions each, so a slow spell of the machine falls on all of them alike; each turn starts
    with a few untimed questions, so that a model is timed with its weights in the processor's
    caches, as when it answers one visitor after another, not just after another model ran."""
    times = [[] for _ in bundles]
    for first in range(0, n, BLOCK):
        for bundle, kept in zip(bundles, times):
            for text in texts[:5]:
                inf(text, bundle)
            kept += times_ms(lambda i: inf(texts[(first + i) % len(texts)], bundle), min(BLOCK, n - first))
    return [(statistics.median(t), sorted(t)[int(0.95 * n) - 1]) for t in times]


def throughput(bundle, texts: list[str], n: int = 2000) -> float:
    batch = (texts * (n // len(texts) + 1))[:n]
    inf_batch(batch[:128], bundle)
    start = time.perf_counter()
    inf_batch(batch, bundle)
    return n / (time.perf_counter() - start)


GUESS_SET = artifacts.ROOT / "tests" / "guess_set.tsv"
VISITOR_SET = artifacts.ROOT / "tests" / "visitor_set.tsv"


def labelled_rows(path) -> list[tuple[str, str]]:
    """(label, text) rows of a tab-separated file, skipping blank lines and # comments."""
    return [tuple(line.rstrip("\n").split("\t")) for line in path.read_text().splitlines(True)
            if line.strip() and not line.startswith("#")]


def visitor_set() -> list[tuple[str, str]]:
    """(fine label, question) rows of VISITOR_SET."""
    return labelled_rows(VISITOR_SET)


def guess_rates(bundle) -> dict:
    """Flagged / total for each labelled group and each TREC file, and the time the rule takes."""
    labelled = labelled_rows(GUESS_SET)
    groups = {f"guess_set_{kind}": [text for want, text in labelled if want == kind] for kind in ("english", "guess")}
    for name in (trec.TEST_FILE, trec.TRAIN_FILE):
        try:
            asked = [q for _, q in trec.read_questions(trec.data_dir() / name)]
        except FileNotFoundError:
            continue
        groups[name] = asked
        groups[f"{name}_lower_case_no_question_mark"] = [noise.casual(q) for q in asked]
    figures, seconds, texts = {}, 0.0, 0
    for name, group in groups.items():
        start = time.perf_counter()
        flagged = sum(why_a_guess(text, bundle.vocab) is not None for text in group)
        seconds, texts = seconds + time.perf_counter() - start, texts + len(group)
        figures[f"flagged_{name}"] = f"{flagged} / {len(group)}"
    figures["rule_ms_per_text"] = round(1000 * seconds / texts, 3)
    return figures


def robustness(bundle) -> dict:
    """Class and subclass accuracy (%) of the app's answers (typos mended, qclass/spelling.py) on
    TREC_10 as written, as visitors type it, and with typos, and on the visitor set; the model's own,
    reading every question as typed, are in the model card."""
    sets = noise.readings(trec.read_questions(trec.data_dir() / trec.TEST_FILE))
    sets["visitor_set"] = visitor_set()
    figures = {}
    for name, rows in sets.items():
        gold = [fine for fine, _ in rows]
        results = inf_batch([q for _, q in rows], bundle)
        figures[f"{name}_class_pct"] = round(100 * metrics.accuracy([trec.coarse_of(f) for f in gold],
                                                                    [r["coarse"] for r in results]), 1)
        figures[f"{name}_subclass_pct"] = round(100 * metrics.accuracy(gold, [r["fine"] for r in results]), 1)
        figures[f"{name}_flagged_as_guess"] = sum(r["guess"] is not None for r in results)
        figures[f"{name}_read_as_mended"] = sum(r["read_as"] is not None for r in results)
        figures[f"{name}_examples"] = " | ".join(q for _, q in rows[:3])
    figures["visitor_set_questions"] = len(sets["visitor_set"])
    return figures


def mending(bundle) -> dict:
    """Subclasses right of the validation split's questions, read as typed and mended, per reading."""
    rows = trec.read_questions(trec.data_dir() / trec.TRAIN_FILE)
    defaults = parse_args([])
    _, val = trec.stratified_split(rows, defaults.val_fraction, defaults.seed)  # train.py's split
    sets = noise.readings(val)
    sets["character_typos_seed_14"] = noise.readings(val, noise.SEED + 1)["character_typos"]
    typos_15 = noise.readings(val, noise.SEED + 2)["character_typos"]
    sets["lower_case_typos_seed_15"] = [(f, noise.casual(q)) for f, q in typos_15]
    as_typed = replace(bundle, speller=spelling.Speller({}))
    figures = {"questions": len(val)}
    for name, group in sets.items():
        typed, mended = (inf_batch([q for _, q in group], b) for b in (as_typed, bundle))
        right = [[r["fine"] == f for (f, _), r in zip(group, results)] for results in (typed, mended)]
        figures[f"{name}_subclass_right"] = f"{sum(right[0])} -> {sum(right[1])}"
        gained = sum(m and not t for t, m in zip(*right))
        lost = sum(t and not m for t, m in zip(*right))
        figures[f"{name}_gained_lost"] = f"+{gained} -{lost}"
        figures[f"{name}_read_as_mended"] = sum(r["read_as"] is not None for r in mended)
    return figures


def spelling_ms(bundle, texts: list[str]) -> dict:
    """What mending typos adds to a question (its lookups remembered by no earlier question): the
    median over texts as written and with seeded typos, and the most one text can cost; and a
    question with seeded typos through inf(), which reads a mended text twice (as typed and mended)."""
    rng = random.Random(noise.SEED)
    worst = " ".join("".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(spelling.MAX_LETTERS))
                     for _ in range(spelling.MAX_WORDS))
    with_typos = [noise.typos(t, rng) for t in texts]
    figures = {}
    for name, group in (("as_written", texts), ("with_typos", with_typos), ("worst", [worst])):
        speller = spelling.Speller(bundle.speller.counts, bundle.speller.also_known)
        figures[f"spelling_ms_{name}" + ("_p50" if name != "worst" else "")] = round(
            statistics.median(times_ms(lambda i: speller.correct(group[i]), len(group))), 3)
    figures["latency_p50_ms_1_thread_with_typos"] = round(
        statistics.median(times_ms(lambda i: inf(with_typos[i], bundle), len(with_typos))), 3)
    return figures


def median_ms(f, n: int = 300) -> float:
    f()
    return statistics.median(times_ms(lambda _: f(), n))


def breakdown(model: NumpyTransformer, tokens: int = 14) -> dict:
    """One question of `tokens` tokens: the forward pass, and its parts each timed hot."""
    rng = np.random.default_rng(0)
    ids = rng.integers(5, model.vocab_size, size=(1, tokens))
    in_proj, out_proj, g1, b1, linear1, linear2, _, _ = model.layers[0]
    width, heads = g1.shape[0], model.heads
    x = rng.standard_normal((tokens, width)).astype(np.float32)
    inner = linear1(x)
    q, k, v = rng.standard_normal((3, 1, heads, tokens, width // heads)).astype(np.float32)
    parts = {"in_proj": lambda: in_proj(x), "out_proj": lambda: out_proj(x), "linear1": lambda: linear1(x),
             "linear2": lambda: linear2(inner), "attention": lambda: _attention(q, k, v),
             "two_layer_norms": lambda: (_layer_norm(x, g1, b1), _layer_norm(x, g1, b1)), "gelu": lambda: _gelu(inner)}
    layer = {name: median_ms(f) for name, f in parts.items()}
    weights = sum(linear.stack.nbytes for layer_parts in model.layers for linear in layer_parts
                  if isinstance(linear, Linear))
    figures = {"tokens": tokens, "forward_ms": round(median_ms(lambda: model(ids)), 3)}
    figures.update({f"{name}_hot_ms": round(ms, 3) for name, ms in layer.items()})
    figures["layers_hot_ms"] = round(sum(layer.values()) * len(model.layers), 3)
    figures["encoder_weights_mb"] = round(weights / 2**20, 1)
    for mb in (1, round(weights / 2**20)):
        a = np.ones(mb * 2**18, np.float32)
        b = np.empty_like(a)
        figures[f"copy_{mb}_mb_gb_per_s"] = round(2 * mb / 1024 / (median_ms(lambda: np.copyto(b, a), 50) / 1000), 1)
    return figures


def products(columns) -> str:
    return f"{columns}-column slices" if columns else "whole"


def print_figures(figures: dict):
    width = max(map(len, figures))
    for name, value in figures.items():
        print(f"{name:<{width}}  {value}")


def write_json(path: str | None, figures: dict):
    if path:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "w") as f:
            json.dump(figures, f, indent=1, ensure_ascii=False)


def peak_memory_mb(texts: list[str]) -> float:
    out = subprocess.run([sys.executable, "-c", MEMORY_PROBE], input="\n".join(texts), text=True,
                         capture_output=True, check=True, cwd=artifacts.ROOT)
    return int(out.stdout.split()[-1]) / 1024  # VmHWM is in KiB


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", help="also write the figures to this JSON file")
    parser.add_argument("--n", type=int, default=1000, help="single-question timings per model (the same questions)")
    parser.add_argument("--guesses", action="store_true", help="only the guess rule's flag rates")
    parser.add_argument("--robustness", action="store_true", help="only: accuracy on TREC_10 typed casually and with typos")
    parser.add_argument("--mending", action="store_true", help="only: what mending typos changes on the validation split")
    parser.add_argument("--breakdown", action="store_true", help="only: where one question's time goes")
    args = parser.parse_args(argv)
    try:
        bundle = load_model()
    except artifacts.ArtifactError as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    if args.guesses:
        print_figures(guess_rates(bundle))
        return 0
    if args.mending:
        print_figures(mending(bundle))
        return 0
    if args.robustness:
        figures = robustness(bundle)
        print_figures(figures)
        write_json(args.json, figures)
        return 0
    if args.breakdown:
        blas_threads(1)
        print_figures({**breakdown(bundle.model), "products": products(bundle.model.columns),
                       "openblas_core": blas_core(), "machine": cpu_model()})
        return 0
    texts = questions()
    model_file = Path(model_folder()) / artifacts.MODEL_FILE  # the file load_model read
    checkpoint = read_checkpoint(model_file)
    seed_config = {**checkpoint["config"], **SEED_SIZE}
    seed_model = TwoClassHeadClassificationTransformer(**seed_config)
    seed_bundle = replace(bundle, model=NumpyTransformer(seed_config, {k: v.numpy() for k, v in seed_model.state_dict().items()}))
    torch_model = TwoClassHeadClassificationTransformer(**checkpoint["config"])
    torch_model.load_state_dict({k: torch.from_numpy(v) for k, v in checkpoint["state_dict"].items()})
    torch_bundle = replace(bundle, model=as_numpy(torch_model))
    other_columns = None if bundle.model.columns else SLICE_COLUMNS  # the product shape this host's core did not get
    other_bundle = replace(bundle, model=NumpyTransformer(checkpoint["config"], checkpoint["state_dict"], other_columns))

    blas_threads(1)
    torch.set_num_threads(1)
    (p50, p95), (seed_p50, seed_p95), (torch_p50, torch_p95), (other_p50, other_p95) = latencies_ms(
        [bundle, seed_bundle, torch_bundle, other_bundle], texts, args.n)
    blas_threads(2)
    qps = throughput(bundle, texts)
    blas_threads(1)
    figures = {
        "model_file_mb": round(model_file.stat().st_size / 1e6, 2),
        "parameters": sum(v.size for v in checkpoint["state_dict"].values()),
        "latency_p50_ms_1_thread": round(p50, 3),
        "latency_p95_ms_1_thread": round(p95, 3),
        "seed_size_latency_p50_ms_1_thread": round(seed_p50, 3),
        "seed_size_latency_p95_ms_1_thread": round(seed_p95, 3),
        "speedup_vs_seed_size_p50": round(seed_p50 / p50, 1),
        "pytorch_latency_p50_ms_1_thread": round(torch_p50, 3),
        "pytorch_latency_p95_ms_1_thread": round(torch_p95, 3),
        "products": products(bundle.model.columns),
        "other_products": products(other_columns),
        "other_products_latency_p50_ms_1_thread": round(other_p50, 3),
        "other_products_latency_p95_ms_1_thread": round(other_p95, 3),
        "batch_throughput_questions_per_s_2_threads": round(qps),
        **spelling_ms(bundle, texts),
        "peak_rss_mb_load_and_1000_questions": round(peak_memory_mb(texts), 1),
        "seed_size_parameters": sum(p.numel() for p in seed_model.parameters()),
        "questions": "TREC_10" if texts is not FALLBACK_QUESTIONS else "built-in examples",
        "machine": f"{cpu_model()}, {platform.machine()}, {os.cpu_count()} CPUs, numpy {np.__version__}, torch {torch.__version__}",
        "openblas_core": blas_core(),
    }
    print_figures(figures)
    write_json(args.json, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
