"""Missing, truncated or corrupt model files: a clear error naming the file on every page and
from every command, never a traceback."""

import io
import os
import pickle
import subprocess
import sys
import zipfile

import pytest
from streamlit.testing.v1 import AppTest

from qclass import artifacts

ROOT = artifacts.ROOT
FILES = (artifacts.MODEL_FILE, artifacts.VOCAB_FILE, artifacts.CARD_FILE, *artifacts.LABEL_MAP_FILES)


class Evil:
    def __reduce__(self):
        return (os.system, ("touch /tmp/qclass-pwned",))


def checkpoint(change):
    """Damage for the weights file: the shipped checkpoint, loaded by PyTorch, changed, saved again."""
    def damage(data: bytes) -> bytes:
        import torch

        saved = torch.load(io.BytesIO(data), weights_only=True)
        change(saved)
        out = io.BytesIO()
        torch.save(saved, out)
        return out.getvalue()
    return damage


def zip_bomb(data: bytes) -> bytes:
    """The shipped checkpoint with one tensor's storage swapped for 410 MB of zeros, deflated to
    a few hundred kB: a reader that trusts the archive unpacks all of it."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        storages = [n for n in source.namelist() if n.rsplit("/", 1)[-1].isdigit() and "/data/" in n]
        for name in source.namelist():
            if name == storages[0]:
                with bomb.open(name, "w", force_zip64=True) as f:
                    for _ in range(410):
                        f.write(bytes(1_000_000))
            else:
                bomb.writestr(name, source.read(name))
    return out.getvalue()


def zero_strides(saved):
    import torch

    saved["state_dict"]["heads.1.bias"] = torch.zeros(1).as_strided((50_000, 50_000), (0, 0))  # 10 GB as float32


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
    # Hostile ones: each once used gigabytes, or loaded and then failed under every question.
    "model zip bomb": (artifacts.MODEL_FILE, zip_bomb),
    "model zero strides": (artifacts.MODEL_FILE, checkpoint(zero_strides)),
    "model wrong shape": (artifacts.MODEL_FILE, checkpoint(
        lambda saved: saved["state_dict"].update({"heads.1.weight": saved["state_dict"]["heads.1.weight"][:49]}))),
    "model heads=0": (artifacts.MODEL_FILE, checkpoint(lambda saved: saved["config"].update(heads=0))),
    "model special_tokens not true or false": (artifacts.MODEL_FILE, checkpoint(
        lambda saved: saved["config"].update(special_tokens="no"))),
    "model not finite": (artifacts.MODEL_FILE, checkpoint(lambda saved: saved["state_dict"]["emb_norm.bias"].fill_(float("nan")))),
    "label map wrong codes": ("idx2class.pkl", lambda data: pickle.dumps({0: "LOC", 1: "XYZ", 2: "HUM", 3: "NUM",
                                                                          4: "ENTY", 5: "DESC"})),
    "label map too short": ("idx2subclass.pkl", lambda data: pickle.dumps({0: "LOC:city"})),
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


HOSTILE = [name for name in FAULTS if name.startswith("model ") and name.split()[1] in ("zip", "zero", "wrong", "heads=0")]
PEAK_PROBE = """
import os, re
from qclass import artifacts
try:
    artifacts.load(os.environ["MODEL_DIR"])
except artifacts.ArtifactError as problem:
    print(problem)
print(re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1))
"""


@pytest.mark.parametrize("broken_model_dir", HOSTILE, indirect=True)
def test_hostile_weights_are_refused_before_they_take_memory(broken_model_dir):
    out = subprocess.run([sys.executable, "-c", PEAK_PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120)
    *_, message, peak_kb = out.stdout.strip().splitlines()
    assert message.startswith("Model file unreadable") and broken_model_dir in message, out.stderr[-2000:]
    assert int(peak_kb) < 300_000, f"peak {int(peak_kb) / 1000:.0f} MB"
