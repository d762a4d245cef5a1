"""Every lock (requirements*.txt) is what pip-compile makes of its source (requirements*.in) today.

Each lock's header records the pip-compile command that wrote it; this reruns that command into a
copy of the lock (so pip-compile keeps its pins, as `make lock` does) and fails on any difference:
a pin added to a source but not locked, a package dropped, or a lock edited by hand.
"""

import shlex
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT

LOCKS = ["requirements.txt", "requirements-dev.txt", "requirements-train.txt"]


def header_command(lock: str) -> list[str]:
    lines = (ROOT / lock).read_text().splitlines()
    command = next(line.strip("# ") for line in lines if line.startswith("#    pip-compile "))
    return shlex.split(command)[1:]


@pytest.mark.parametrize("lock", LOCKS)
def test_lock_matches_its_source(lock, tmp_path):
    pytest.importorskip("piptools", reason="pip-tools is in requirements-dev.txt")
    args = header_command(lock)
    assert f"--output-file={lock}" in args and args[-1] == lock.replace(".txt", ".in")
    fresh = tmp_path / lock
    shutil.copy(ROOT / lock, fresh)
    args[args.index(f"--output-file={lock}")] = f"--output-file={fresh}"
    # An index this machine cannot reach (PyTorch's, where pip's own find-links holds the wheel)
    # fails at once instead of after pip's five retries per package.
    done = subprocess.run([sys.executable, "-m", "piptools", "compile", "--quiet", "--pip-args=--retries 0", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]

    def body(text):  # the header's command names the output file; everything else must match
        return [line for line in text.splitlines() if not line.startswith("#    pip-compile ")]

    assert body(fresh.read_text()) == body((ROOT / lock).read_text()), (
        f"{lock} is out of date with {lock.replace('.txt', '.in')}: run `make lock` and commit both")
