"""Missing, truncated or corrupt model files: a clear error naming the file on every page and
from every command, never a traceback."""

import os
import pickle
import subprocess
import sys

import pytest
from streamlit.testing.v1 import AppTest

from qclass import artifacts

ROOT = artifacts.ROOT
FILES = (artifacts.MODEL_FILE, artifacts.VOCAB_FILE, artifacts.CARD_FILE, *artifacts.LABEL_MAP_FILES)


class Evil:
    def __reduce__(self):
        return (os.system, ("touch /tmp/qclass-pwned",))


FAULTS = {
    "model missing": (artifacts.MODEL_FILE, None),
    "model truncated": (artifacts.MODEL_FILE, lambda data: data[: len(data) // 2]),
    "model corrupt": (artifacts.MODEL_FILE, lambda data: bytes(b ^ 0x5A for b in data[:4096]) + data[4096:]),
    "vocabulary missing": (artifacts.VOCAB_FILE, None),
    "vocabulary truncated": (artifacts.VOCAB_FILE, lambda data: data[: len(data) // 3]),
    "vocabulary corrupt": (artifacts.VOCAB_FILE, lambda data: b"\xff\xfe\xfa" * 20000),
    "label map missing": ("idx2subclass.pkl", None),
    "label map corrupt": ("class2names.pkl", lambda data: data[:7]),
    "label map with code": ("subclass2names.pkl", lambda data: pickle.dumps(Evil())),
    "model card corrupt": (artifacts.CARD_FILE, lambda data: data[:100]),
}


@pytest.fixture(params=FAULTS)
def broken_model_dir(request, tmp_path, monkeypatch):
    """A copy of the model files with one of them broken; MODEL_DIR points at it."""
    name, damage = FAULTS[request.param]
    for file in FILES:
        if file != name or damage is not None:
            data = (ROOT / file).read_bytes()
            (tmp_path / file).write_bytes(damage(data) if file == name else data)
    monkeypatch.setenv("MODEL_DIR", str(tmp_path))
    return name


@pytest.mark.parametrize("page", ["streamlitapp.py", "app_pages/1_Batch.py", "app_pages/2_Model_card.py"])
def test_every_page_names_the_broken_file(broken_model_dir, page):
    at = AppTest.from_file(str(ROOT / page), default_timeout=60).run()
    assert not at.exception
    assert broken_model_dir in at.error[0].value
    assert not at.metric and not at.dataframe
    assert not os.path.exists("/tmp/qclass-pwned")


@pytest.mark.parametrize("command", ["benchmark.py", "loadtest.py"])
def test_commands_exit_non_zero_with_the_same_message(broken_model_dir, command):
    out = subprocess.run([sys.executable, command, "--skip-slug"] if command == "loadtest.py" else
                         [sys.executable, command], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 1
    assert out.stderr.startswith("error: Model file") and broken_model_dir in out.stderr
    assert "Traceback" not in out.stderr
