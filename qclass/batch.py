"""Many questions at once: read an upload or pasted lines, write the results as CSV."""

from __future__ import annotations

import csv
import io
import threading
from dataclasses import dataclass

from qclass.inference import clean

MAX_QUESTIONS = 10_000
MAX_BYTES = 5 * 1024 * 1024  # Streamlit's server.maxUploadSize is set to the same 5 MB
# What the model says of each question, after the input's own columns.
RESULT_COLUMNS = ["coarse", "class", "fine", "subclass", "coarse_confidence", "fine_confidence", "guess", "cut",
                  "read_as"]
DELIMITERS = (",", ";", "\t")  # Excel writes ; where the decimal mark is a comma


# Batches classified at once per process; the rest wait their turn (qclass.batch.Queue). One
# batch of 10,000 questions keeps a core busy for about 20 s and holds its table in memory.
CONCURRENT_BATCHES = 1


class Queue:
    """Turns for batches: at most `size` run at once, the rest wait in arrival order and can see
    how many are ahead of them."""

    def __init__(self, size: int = CONCURRENT_BATCHES):
        self.size, self._free, self._waiting = size, size, []
        self._changed = threading.Condition()

    def join(self) -> object:
        """A ticket at the back of the line."""
        ticket = object()
        with self._changed:
            self._waiting.append(ticket)
        return ticket

    def wait_turn(self, ticket, seconds: float) -> int:
        """0 once the ticket's batch may run (it then holds a turn until done()); otherwise, after
        up to `seconds`, how many batches are ahead of it (running ones included)."""
        with self._changed:
            if self._changed.wait_for(lambda: self._free > 0 and self._waiting[0] is ticket, timeout=seconds):
                self._waiting.pop(0)
                self._free -= 1
                return 0
            return self._waiting.index(ticket) + self.size - self._free

    def leave(self, ticket):
        """Out of the line without running (the visitor cancelled or left)."""
        with self._changed:
            if ticket in self._waiting:
                self._waiting.remove(ticket)
                self._changed.notify_all()

    def done(self):
        with self._changed:
            self._free += 1
            self._changed.notify_all()


QUEUE = Queue()


def slim(result: dict) -> dict:
    """Only what the results table needs: a batch keeps 10,000 of these in the session."""
    return {key: result[key] for key in ("coarse", "class", "fine", "subclass", "coarse_confidence",
                                         "fine_confidence", "guess", "truncated", "read_as")}


class BatchInputError(ValueError):
    """An upload or paste that can't be classified; the message says what to fix."""


@dataclass
class Table:
    """The input as the person gave it: its columns, every row in order, and which column holds
    the questions. Rows whose question is blank stay, and get blank results."""

    columns: list[str]
    rows: list[list[str]]
    question: int = 0

    def questions(self) -> list[str | None]:
        """Each row's question, or None where it is blank."""
        return [row[self.question].strip() if _usable(row[self.question]) else None for row in self.rows]

    def with_results(self, results: list[dict | None]) -> tuple[list[str], list[dict]]:
        """(columns, one dict per row): the input's columns, then RESULT_COLUMNS (renamed
        'name (model)' where the input already has a column of that name)."""
        taken = {c.strip().lower() for c in self.columns}
        named = {c: f"{c} (model)" if c in taken else c for c in RESULT_COLUMNS}
        out = []
        for row, result in zip(self.rows, results):
            merged = dict(zip(self.columns, row))
            merged.update({named[c]: None for c in RESULT_COLUMNS} if result is None else {
                named["coarse"]: result["coarse"], named["class"]: result["class"], named["fine"]: result["fine"],
                named["subclass"]: result["subclass"], named["coarse_confidence"]: round(result["coarse_confidence"], 4),
                named["fine_confidence"]: round(result["fine_confidence"], 4),
                named["guess"]: result["guess"] is not None, named["cut"]: result["truncated"],
                named["read_as"]: result["read_as"]})
            out.append(merged)
        return self.columns + [named[c] for c in RESULT_COLUMNS], out


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


def _check_count(table: Table) -> Table:
    count = sum(q is not None for q in table.questions())
    if not count:
        raise BatchInputError("No questions found: the input has no non-empty lines.")
    if count > MAX_QUESTIONS or len(table.rows) > 2 * MAX_QUESTIONS:
        raise BatchInputError(f"{count:,} questions; the limit is {MAX_QUESTIONS:,} at a time. "
                              "Split the input into smaller parts.")
    return table


def from_lines(text: str) -> Table:
    """One question a line; blank lines are skipped."""
    return _check_count(Table(["question"], [[line.strip()] for line in text.splitlines() if _usable(line)]))


def from_csv(text: str, name: str = "The CSV file") -> Table:
    """A CSV (comma, semicolon or tab separated) with a `question` column (any case): every row
    and column kept, in order."""
    first_line = text.split("\n", 1)[0]
    try:
        for delimiter in DELIMITERS:
            header = next(csv.reader([first_line], delimiter=delimiter), None)
            if header and "question" in [h.strip().lower() for h in header]:
                break
        else:
            header = next(csv.reader([first_line]), None)
            if not header or not any(h.strip() for h in header):
                raise BatchInputError(f"{name} is empty.")
            found = ", ".join(repr(h) for h in header[:8])
            raise BatchInputError(f"{name} has no 'question' column (its columns: {found}). "
                                  "Name the column of questions 'question'.")
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))[1:]
        rows = [row + [""] * (len(header) - len(row)) for row in rows if row]
        return _check_count(Table(header, rows, [h.strip().lower() for h in header].index("question")))
    except csv.Error as problem:
        raise BatchInputError(f"{name} is not valid CSV ({problem}).") from problem


def from_upload(name: str, data: bytes) -> Table:
    """Questions from an uploaded .csv (a `question` column) or .txt (one a line)."""
    suffix = name.lower().rsplit(".", 1)[-1] if "." in name else ""
    if suffix not in ("csv", "txt"):
        raise BatchInputError(f"{name}: upload a .csv file (with a 'question' column) or a .txt file (one question a line).")
    text = _decode(data, name)
    return from_csv(text, name) if suffix == "csv" else from_lines(text)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """A cell a spreadsheet shows as text, never runs: text starting with =, +, -, @, a tab or a
    carriage return gets a leading single quote (OWASP's advice against CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_bytes(rows: list[dict], columns: list[str]) -> bytes:
    """rows as UTF-8 CSV (with a BOM, so spreadsheet programs read it right), every cell made
    spreadsheet_safe: every CSV the app gives out is written here."""
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, extrasaction="ignore")
    writer.writerow({c: spreadsheet_safe(c) for c in columns})
    for row in rows:
        writer.writerow({c: spreadsheet_safe(row.get(c, "")) for c in columns})
    return out.getvalue().encode("utf-8-sig")


def to_csv(table: Table, results: list[dict | None]) -> bytes:
    """The input's rows with their results, as a spreadsheet-safe CSV."""
    columns, rows = table.with_results(results)
    return csv_bytes(rows, columns)
