"""Many questions at once: read an upload or pasted lines, write the results as CSV."""

from __future__ import annotations

import csv
import io

from qclass.inference import clean

MAX_QUESTIONS = 10_000
MAX_BYTES = 5 * 1024 * 1024  # Streamlit's server.maxUploadSize is set to the same 5 MB
RESULT_COLUMNS = ["question", "coarse", "class", "fine", "subclass", "coarse_confidence", "fine_confidence"]


class BatchInputError(ValueError):
    """An upload or paste that can't be classified; the message says what to fix."""


def _usable(text: str) -> bool:
    """Whether inf would take it as a question (blank lines and cells are skipped, not errors)."""
    try:
        return bool(clean(text))
    except ValueError:
        return False


def _decode(data: bytes, name: str) -> str:
    if len(data) > MAX_BYTES:
        raise BatchInputError(f"{name} is {len(data) / 1e6:.1f} MB; the limit is {MAX_BYTES // (1024 * 1024)} MB. "
                              "Split it into smaller files.")
    if b"\x00" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise BatchInputError(f"{name} looks like a binary file, not text. Upload a .csv or .txt file.")
    for encoding in ("utf-8-sig", "utf-16"):
        if encoding == "utf-16" and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
            continue
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            pass
    raise BatchInputError(f"{name} is not UTF-8 text. Save it as UTF-8 (in Excel: 'CSV UTF-8') and upload it again.")


def _check_count(questions: list[str]) -> list[str]:
    if not questions:
        raise BatchInputError("No questions found: the input has no non-empty lines.")
    if len(questions) > MAX_QUESTIONS:
        raise BatchInputError(f"{len(questions):,} questions; the limit is {MAX_QUESTIONS:,} at a time. "
                              "Split the input into smaller parts.")
    return questions


def from_lines(text: str) -> list[str]:
    """One question a line; blank lines are skipped."""
    return _check_count([line.strip() for line in text.splitlines() if _usable(line)])


def from_csv(text: str, name: str = "The CSV file") -> list[str]:
    """The `question` column (any case) of a CSV; empty cells are skipped."""
    try:
        rows = csv.reader(io.StringIO(text, newline=""))
        header = next(rows, None)
        if not header:
            raise BatchInputError(f"{name} is empty.")
        columns = [h.strip().lower() for h in header]
        if "question" not in columns:
            found = ", ".join(repr(h) for h in header[:8]) or "none"
            raise BatchInputError(f"{name} has no 'question' column (its columns: {found}). "
                                  "Name the column of questions 'question'.")
        index = columns.index("question")
        return _check_count([row[index].strip() for row in rows if len(row) > index and _usable(row[index])])
    except csv.Error as problem:
        raise BatchInputError(f"{name} is not valid CSV ({problem}).") from problem


def from_upload(name: str, data: bytes) -> list[str]:
    """Questions from an uploaded .csv (a `question` column) or .txt (one a line)."""
    suffix = name.lower().rsplit(".", 1)[-1] if "." in name else ""
    if suffix not in ("csv", "txt"):
        raise BatchInputError(f"{name}: upload a .csv file (with a 'question' column) or a .txt file (one question a line).")
    text = _decode(data, name)
    return from_csv(text, name) if suffix == "csv" else from_lines(text)


def to_csv(results: list[dict]) -> bytes:
    """The results table as UTF-8 CSV (with a BOM, so spreadsheet programs read it right)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, RESULT_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in results:
        writer.writerow({**row, "coarse_confidence": f"{row['coarse_confidence']:.4f}",
                         "fine_confidence": f"{row['fine_confidence']:.4f}"})
    return out.getvalue().encode("utf-8-sig")
