import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ARTIFACTS = ROOT / "test-artifacts"  # screenshots and logs kept by the tests (CI artifacts)
CHROMIUM = "/usr/bin/chromium"
ADMIN_PASSWORD = "correct horse battery staple"
# Our CI (.ci/run) installs every package and has the TREC data, so a missing one fails there.
# Heroku CI (app.json's environments.test) also sets CI but has neither: there such tests skip.
STRICT = bool(os.environ.get("CI")) and not os.environ.get("HEROKU_TEST_RUN_ID")

from qclass import trec  # noqa: E402


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keeps each phase's report on the test (item.report_call ...) for fixtures to read."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(autouse=True)
def isolated_feedback_db(tmp_path, monkeypatch):
    """No test writes to a developer's feedback.sqlite3 or a configured DATABASE_URL."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("FEEDBACK_ADMIN_PASSWORD", raising=False)
    monkeypatch.setenv("FEEDBACK_DB_PATH", str(tmp_path / "feedback.sqlite3"))
    from qclass import admin

    monkeypatch.setattr(admin, "THROTTLE", admin.Throttle())  # AppTests share one process and one address
    return tmp_path / "feedback.sqlite3"


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
        if STRICT:
            raise
        pytest.skip(str(missing))


def required(what: str, install: str):
    """Fail in CI (which installs everything), skip elsewhere."""
    if STRICT:
        pytest.fail(f"{what} missing: .ci/run must install it ({install})")
    pytest.skip(f"{what} not installed ({install})")


@pytest.fixture(scope="session")
def wordnet() -> Path:
    from qclass.corpus import WORDNET_DIR

    if not (WORDNET_DIR / "data.noun").is_file():
        required("WordNet", "apt-get install wordnet-base")
    return WORDNET_DIR


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium; CI installs it, so there a missing browser fails instead of skipping."""
    if shutil.which(CHROMIUM) is None:
        required(CHROMIUM, "apt-get install chromium chromium-driver")
    return CHROMIUM


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def dyno_app(tmp_path_factory) -> Path:
    """The slug's app files in a folder of their own, as a dyno's /app (built once per run)."""
    from loadtest import build_app

    return build_app(tmp_path_factory.mktemp("app"))


def start_dyno(app: Path, log: Path, **env):
    """The Procfile's web command as a dyno runs it (HOME = working directory = app, PORT set),
    once it answers its health check."""
    from loadtest import Server

    server = Server(app, log=log, **env)
    server.wait_healthy()
    return server


@pytest.fixture(scope="session")
def server_url(dyno_app, artifacts_dir):
    """The app served by the Procfile's own command, as on a dyno, for the browser tests."""
    server = start_dyno(dyno_app, artifacts_dir / "server.log", FEEDBACK_ADMIN_PASSWORD=ADMIN_PASSWORD)
    yield server.url
    server.stop()


class Postgres:
    """A throwaway PostgreSQL cluster from Debian's packages, on a free loopback port."""

    def __init__(self):
        import subprocess
        import tempfile

        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        if not bins:
            required("PostgreSQL", "apt-get install postgresql")
        self.bin = bins[-1].parent
        self.base = Path(tempfile.mkdtemp(prefix="qclass-pg-"))
        # initdb refuses to run as root: run the server as Debian's postgres user then.
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.base, "postgres")
        from loadtest import free_port

        self.port = free_port()
        self._run("initdb", "-D", str(self.base / "data"), "-U", "feedback", "--auth=trust", "-E", "UTF8")
        self.start()
        self.url = f"postgresql+psycopg://feedback@127.0.0.1:{self.port}/postgres"
        self.subprocess = subprocess

    def _run(self, tool, *args):
        import subprocess

        subprocess.run([*self.as_user, str(self.bin / tool), *args], check=True, capture_output=True)

    def start(self):
        self._run("pg_ctl", "-D", str(self.base / "data"), "-l", str(self.base / "log"), "-w", "-o",
                  f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1", "start")

    def stop(self):
        self._run("pg_ctl", "-D", str(self.base / "data"), "-m", "fast", "-w", "stop")

    def close(self):
        try:
            self.stop()
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres():
    server = Postgres()
    yield server
    server.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    """An empty feedback store on each backend."""
    from sqlalchemy import text

    from qclass.feedback import FeedbackStore

    if request.param == "sqlite":
        store = FeedbackStore(f"sqlite:///{tmp_path / 'feedback.sqlite3'}")
    else:
        store = FeedbackStore(request.getfixturevalue("postgres").url)
        with store.engine.begin() as connection:
            connection.execute(text("TRUNCATE feedback RESTART IDENTITY"))
    yield store
    store.engine.dispose()
