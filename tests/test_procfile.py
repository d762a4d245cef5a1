"""The Procfile's web command serves the app on $PORT, as a Heroku dyno would run it."""

import tomllib
import urllib.request

from conftest import ROOT, free_port, procfile_web_command, start_server, stop_server


def test_procfile_command_serves_on_port(tmp_path):
    port = free_port()
    process = start_server(procfile_web_command(), port, tmp_path, tmp_path / "server.log")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=5) as reply:
            assert reply.status == 200 and reply.read() == b"ok"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as reply:
            assert b"<noscript>" in reply.read()
    finally:
        stop_server(process)
    config = tomllib.loads((tmp_path / ".streamlit" / "config.toml").read_text())
    assert config["server"] == {"port": port, "address": "0.0.0.0", "headless": True, "fileWatcherType": "none"}
    assert config["browser"]["gatherUsageStats"] is False


def test_setup_keeps_streamlit_security_defaults():
    settings = (ROOT / "setup.sh").read_text() + (ROOT / ".streamlit" / "config.toml").read_text()
    assert "enableXsrfProtection" not in settings and "enableCORS" not in settings
