"""The TREC question classification corpus (Li & Roth 2002): taxonomy, file reader, splits."""

from __future__ import annotations

import hashlib
import os
import random
from collections import defaultdict
from pathlib import Path

DATA_DIR_ENV = "TREC_DATA_DIR"
DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "trec"
TRAIN_FILE = "train_5500.label"
TEST_FILE = "TREC_10.label"

COARSE_NAMES = {
    "ABBR": "ABBREVIATION",
    "DESC": "DESCRIPTION",
    "ENTY": "ENTITY",
    "HUM": "HUMAN",
    "LOC": "LOCATION",
    "NUM": "NUMERIC",
}

# The 50 fine classes, always written with their coarse class, and the names of
# Li & Roth's taxonomy table.
FINE_NAMES = {
    "ABBR:abb": "abbreviation",
    "ABBR:exp": "expression abbreviated",
    "DESC:def": "definition",
    "DESC:desc": "description",
    "DESC:manner": "manner of an action",
    "DESC:reason": "reason",
    "ENTY:animal": "animal",
    "ENTY:body": "organ of body",
    "ENTY:color": "color",
    "ENTY:cremat": "creative work",
    "ENTY:currency": "currency",
    "ENTY:dismed": "disease or medicine",
    "ENTY:event": "event",
    "ENTY:food": "food",
    "ENTY:instru": "musical instrument",
    "ENTY:lang": "language",
    "ENTY:letter": "letter",
    "ENTY:other": "other entity",
    "ENTY:plant": "plant",
    "ENTY:product": "product",
    "ENTY:religion": "religion",
    "ENTY:sport": "sport",
    "ENTY:substance": "element or substance",
    "ENTY:symbol": "symbol or sign",
    "ENTY:techmeth": "technique or method",
    "ENTY:termeq": "equivalent term",
    "ENTY:veh": "vehicle",
    "ENTY:word": "word with a special property",
    "HUM:desc": "description of a person",
    "HUM:gr": "group or organization",
    "HUM:ind": "individual",
    "HUM:title": "title of a person",
    "LOC:city": "city",
    "LOC:country": "country",
    "LOC:mount": "mountain",
    "LOC:other": "other location",
    "LOC:state": "state",
    "NUM:code": "postcode or other code",
    "NUM:count": "number of something",
    "NUM:date": "date",
    "NUM:dist": "distance",
    "NUM:money": "price",
    "NUM:ord": "rank",
    "NUM:other": "other number",
    "NUM:perc": "percent or fraction",
    "NUM:period": "period of time",
    "NUM:volsize": "size, area or volume",
    "NUM:speed": "speed",
    "NUM:temp": "temperature",
    "NUM:weight": "weight",
}

COARSE_CLASSES = sorted(COARSE_NAMES)
FINE_CLASSES = sorted(FINE_NAMES)


def coarse_of(fine: str) -> str:
    return fine.split(":", 1)[0]


class TrecFormatError(ValueError):
    """A line that is not `COARSE:fine question text` with a known label."""


def parse_line(line: str, where: str = "") -> tuple[str, str]:
    """`NUM:dist How far is it ?` -> ("NUM:dist", "How far is it ?")."""
    label, _, text = line.strip().partition(" ")
    if label not in FINE_NAMES or not text.strip():
        raise TrecFormatError(f"{where}: expected 'COARSE:fine question', got {line.strip()[:80]!r}")
    return label, text.strip()


def read_questions(path: str | Path, encoding: str = "latin-1") -> list[tuple[str, str]]:
    """All (fine label, question) pairs of a TREC-format file: the corpus is Latin-1, files we
    write (exported feedback) are UTF-8."""
    path = Path(path)
    lines = path.read_text(encoding=encoding).splitlines()
    return [parse_line(line, f"{path}:{n}") for n, line in enumerate(lines, 1) if line.strip()]


def format_line(fine: str, question: str) -> str:
    """The inverse of parse_line: one line of a TREC-format training file."""
    return f"{fine} {' '.join(question.split())}"


def data_dir(option: str | None = None) -> Path:
    """The TREC folder: the command-line option, else $TREC_DATA_DIR, else ../shared/data/trec."""
    folder = Path(option or os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR)
    missing = [name for name in (TRAIN_FILE, TEST_FILE) if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"TREC data not found: {', '.join(missing)} missing in {folder}. "
            f"Download train_5500.label and TREC_10.label from "
            f"https://cogcomp.seas.upenn.edu/Data/QA/QC/ and pass the folder with "
            f"--data-dir or ${DATA_DIR_ENV}."
        )
    return folder


def sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def stratified_split(rows: list, fraction: float, seed: int) -> tuple[list, list]:
    """Split (label, text) rows into (train, validation), `fraction` of each label to validation."""
    by_label = defaultdict(list)
    for row in rows:
        by_label[row[0]].append(row)
    rng = random.Random(seed)
    train, val = [], []
    for label in sorted(by_label):
        group = by_label[label]
        rng.shuffle(group)
        n_val = int(round(len(group) * fraction))
        val += group[:n_val]
        train += group[n_val:]
    rng.shuffle(train)
    rng.shuffle(val)
    return train, val
