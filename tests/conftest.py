import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ARTIFACTS = ROOT / "test-artifacts"  # screenshots and logs kept by the tests (CI artifacts)
CHROMIUM = "/usr/bin/chromium"

from qclass import trec  # noqa: E402


@pytest.fixture(scope="session")
def model():
    from streamlitinf import load_model

    return load_model()


@pytest.fixture(scope="session")
def trec_dir() -> Path:
    """The TREC folder; in CI it must be there, elsewhere its tests are skipped without it."""
    try:
        return trec.data_dir()
    except FileNotFoundError as missing:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(missing))


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium; CI installs it, so there a missing browser fails instead of skipping."""
    if shutil.which(CHROMIUM) is None:
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} missing: .ci/run must install Debian's chromium")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium chromium-driver)")
    return CHROMIUM


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
