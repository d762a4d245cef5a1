"""The Procfile's web command as a Heroku dyno runs it: a copy of the slug's app files that is both
HOME and the working directory, PORT set. The running server must use the committed settings
(.streamlit/config.toml and the Procfile's flags), and start-up must write no file of ours or the
developer's."""

import asyncio
import hashlib

from conftest import start_dyno
from loadtest import connect, run_page


async def session_view(url: str, page: str = "") -> tuple:
    """(NewSession message, elements drawn) of one page run, over Streamlit's own protocol."""
    async with connect(url) as websocket:
        return await asyncio.wait_for(run_page(websocket, page), 30)


def digests(folder):
    return {p.relative_to(folder): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in folder.rglob("*") if p.is_file() and p.name != "server.log"}


def test_dyno_runs_the_committed_settings(tmp_path):
    from loadtest import build_app
    from streamlit.proto.NewSession_pb2 import Config

    app = build_app(tmp_path)
    before = digests(app)
    server = start_dyno(app, tmp_path / "server.log")
    try:
        new_session, _ = asyncio.run(session_view(server.url))
        _, batch = asyncio.run(session_view(server.url, "batch"))
    finally:
        server.stop()
    # What the browser is told
    assert new_session.config.toolbar_mode == Config.VIEWER
    assert new_session.config.gather_usage_stats is False
    assert new_session.config.disable_data_export is True  # tables offer no raw CSV
    assert new_session.custom_theme.primary_color == "#1f6feb"
    assert [e.file_uploader.max_upload_size_mb for e in batch if e.WhichOneof("type") == "file_uploader"] == [5]
    # What the server logs of its own settings
    line = next(line for line in (tmp_path / "server.log").read_text().splitlines() if "Serving with" in line)
    for setting in (f"server.port={server.port}", "server.address='0.0.0.0'", "server.headless=True",
                    "server.fileWatcherType='none'", "server.maxUploadSize=5", "runner.postScriptGC=False",
                    "client.showErrorDetails='none'", "client.toolbarMode='viewer'"):
        assert setting in line, line
    # Start-up wrote nothing over the app's files (a visitor's feedback file may appear; none here)
    assert digests(app) == before


def test_start_leaves_a_developers_own_config_alone(tmp_path):
    from loadtest import build_app

    (tmp_path / "app").mkdir()
    app, home = build_app(tmp_path / "app"), tmp_path / "home"
    personal = home / ".streamlit" / "config.toml"
    personal.parent.mkdir(parents=True)
    personal.write_text('[theme]\nbase = "dark"\n')
    server = start_dyno(app, tmp_path / "server.log", HOME=str(home))
    server.stop()
    assert personal.read_text() == '[theme]\nbase = "dark"\n'


def test_setup_names_a_missing_model_file_and_the_page_still_starts(tmp_path):
    from loadtest import build_app

    (tmp_path / "app").mkdir()
    app = build_app(tmp_path / "app")
    (app / "idx2class.pkl").unlink()
    server = start_dyno(app, tmp_path / "server.log")
    server.stop()
    assert "model file missing or empty: ./idx2class.pkl" in (tmp_path / "server.log").read_text()
