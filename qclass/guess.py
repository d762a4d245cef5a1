"""Is this an English question the model can read? If not, its answer is only a guess, and why.

Four signals, each measured on the TREC questions (none of the 500 test questions is flagged; see
docs/model.md and `python benchmark.py --guesses`):
- no words at all ("???", emoji): nothing for the model to read;
- another language, by py3langid (the maintained fork of langid.py; its model ships in the wheel),
  when it names a language other than English with at least MIN_LANGUAGE_CONFIDENCE;
- few words the model can read (typed gibberish, other scripts): of the words of two or more
  letters, fewer than MIN_KNOWN_SHARE in a text of three or more words, or none of two. A word is
  read when the vocabulary holds it whole, or when its WordPiece pieces are words' parts, more than
  MIN_LETTERS_PER_PIECE letters each on average: rare English words split so ("birth ##place",
  "life ##span"), keyboard mash splits into letters ("as ##d ##f");
- a statement, not a question: it ends with "." or "!", names no question word (what, how, ...),
  does not open with a request or a verb that starts a question ("name", "is", ...), asks for nothing
  ("I need ...", "looking for ..."), and has a subject or a verb ("I like pizza.", "It is raining.")
  or is at most two words ("Thanks!"): "Capital of France." is a search, not a statement.

A text that opens with an English question word (what, who, ... how) and whose every word the model
reads is an English question, and no signal can flag it, so it skips them all: on the AMD EPYC host
the language check added 0.1-0.24 ms to an answer of 1.5-2 ms, mostly through what its tables evict
from the processor's caches (docs/performance.md). No text of the labelled set that should be flagged
opens so; two training questions that py3langid took for Dutch and Latin do, and are no longer flagged.
"""

from __future__ import annotations

import re
import threading
import unicodedata

MIN_LANGUAGE_CONFIDENCE = 0.5
MIN_KNOWN_SHARE = 1 / 3
MIN_LETTERS_PER_PIECE = 2
MAX_WORD_CHARS = 100  # the tokenizer reads a longer word as [UNK]
LONGEST_WORD = 30  # letters; a longer "word" is mash ("internationalization" has 20)
# py3langid also names English-based creoles and dialects; short English questions often look like them.
ENGLISH_LIKE = {"en", "pcm", "sco"}
# The spelled ones only: "wat" is also Dutch and Afrikaans.
ENGLISH_OPENERS = {"what", "who", "whom", "whose", "which", "when", "where", "why", "how"}
QUESTION_WORDS = {"what", "what's", "whats", "wat", "who", "whom", "whose", "which", "wich", "when", "where",
                  "why", "how", "how's"}
# First words of requests and yes/no questions; TREC's own imperative questions end with "." ("Name a ...").
OPENERS = {"name", "list", "tell", "give", "define", "describe", "explain", "find", "show", "identify",
           "state", "please", "is", "are", "was", "were", "do", "does", "did", "can", "could", "will", "would",
           "should", "shall", "has", "have", "had", "may", "might", "must"}
# Words of a request that does not open with one ("I need the capital of France.", "looking for ...").
ASKING = {"need", "want", "know", "find", "looking", "wondering", "wonder", "curious", "help", "search"}
# Subjects and common verbs: what a statement has and a search ("Capital of France.") lacks.
SUBJECTS_AND_VERBS = {"i", "i'm", "im", "i've", "you", "you're", "we", "they", "he", "she", "it", "it's", "this",
                      "that", "these", "those", "my", "your", "our", "their", "is", "are", "was", "were", "am",
                      "be", "been", "have", "has", "had", "love", "like", "hate", "think"}
_WORDS = re.compile(r"[^\W\d_]{2,}")
_LETTERS = re.compile(r"[^\W\d_]")
_lock = threading.Lock()
_identifier = None


def _language_identifier():
    """py3langid's identifier, loaded once per process on first use (about 77 MB)."""
    global _identifier
    with _lock:
        if _identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            _identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        return _identifier


def language(text: str) -> tuple[str, float]:
    """(ISO 639 code, confidence 0..1) of the text's language."""
    code, confidence = _language_identifier().classify(text)
    return code, float(confidence)


def word_pieces(word: str, vocab: dict) -> int | None:
    """How many pieces the model's tokenizer reads a lower-case word in (WordPiece: the longest piece
    the vocabulary holds, then the longest "##" piece of the rest, and so on); None where it reads
    [UNK] (a letter the vocabulary lacks, or a word over MAX_WORD_CHARS)."""
    word = "".join(c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn")
    if len(word) > MAX_WORD_CHARS:
        return None
    pieces, start = 0, 0
    while start < len(word):
        end = len(word)
        while end > start and (word[start:end] if start == 0 else "##" + word[start:end]) not in vocab:
            end -= 1
        if end == start:
            return None
        pieces, start = pieces + 1, end
    return pieces


def readable(word: str, vocab: dict) -> bool:
    """A lower-case word the model reads as a word: held whole (or a question word or opener), or of at
    most LONGEST_WORD letters in pieces of more than MIN_LETTERS_PER_PIECE letters on average."""
    if word in vocab or word in QUESTION_WORDS or word in OPENERS:
        return True
    if len(word) > LONGEST_WORD:  # also bounds the work: splitting costs up to len(word) squared lookups
        return False
    pieces = word_pieces(word, vocab)
    return pieces is not None and len(word) / pieces > MIN_LETTERS_PER_PIECE


def why_a_guess(text: str, vocab: dict) -> str | None:
    """Why the model can only guess at text, in a visitor's words; None for an English question."""
    if not _LETTERS.search(text):
        return "it has no words"
    # The words of two or more letters, and which of them the model reads as words.
    words = [w.lower() for w in _WORDS.findall(text)]
    read = [readable(w, vocab) for w in words]
    if words and words[0] in ENGLISH_OPENERS and all(read):
        return None  # an English question the model reads: no signal below can flag it
    code, confidence = language(text)
    if code not in ENGLISH_LIKE and confidence >= MIN_LANGUAGE_CONFIDENCE:
        return f"it looks like {LANGUAGE_NAMES.get(code, f'another language ({code})')}, not English"
    if not words:
        return "it has no words the model knows"
    share = sum(read) / len(words)
    if share < MIN_KNOWN_SHARE and len(words) >= 3 or share == 0 and len(words) >= 2:
        return "the model knows few of its words"
    if is_statement(text):
        return "it reads as a statement, not a question"
    return None


def is_statement(text: str) -> bool:
    """Ends like a sentence and reads as one: see the module docstring."""
    words = re.findall(r"[\w']+", text.lower())
    return (text.rstrip().endswith((".", "!")) and bool(words) and words[0] not in OPENERS
            and not QUESTION_WORDS.intersection(words) and not ASKING.intersection(words)
            and (len(words) <= 2 or bool(SUBJECTS_AND_VERBS.intersection(words))))


LANGUAGE_NAMES = {
    "ar": "Arabic", "bg": "Bulgarian", "ca": "Catalan", "cs": "Czech", "da": "Danish", "de": "German",
    "el": "Greek", "es": "Spanish", "et": "Estonian", "fa": "Persian", "fi": "Finnish", "fr": "French",
    "he": "Hebrew", "hi": "Hindi", "hr": "Croatian", "hu": "Hungarian", "id": "Indonesian", "it": "Italian",
    "ja": "Japanese", "ko": "Korean", "la": "Latin", "lt": "Lithuanian", "lv": "Latvian", "nl": "Dutch",
    "no": "Norwegian", "pl": "Polish", "pt": "Portuguese", "ro": "Romanian", "ru": "Russian", "sk": "Slovak",
    "sl": "Slovenian", "sr": "Serbian", "sv": "Swedish", "th": "Thai", "tr": "Turkish", "uk": "Ukrainian",
    "vi": "Vietnamese", "zh": "Chinese",
}
