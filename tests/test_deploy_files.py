"""What Heroku reads agrees with the README and with the Python the tests run on."""

import json
import re
import sys

from conftest import ROOT


def test_every_app_json_setting_is_in_the_readme_settings_table():
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## Settings"):readme.index("## Deploy to Heroku")]
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", table, re.M))
    declared = set(json.loads((ROOT / "app.json").read_text())["env"])
    assert declared <= documented, declared - documented
    assert {"PORT", "DATABASE_URL", "FEEDBACK_DB_PATH"} <= documented


def test_the_tests_run_on_the_python_heroku_installs():
    wanted = (ROOT / ".python-version").read_text().strip()
    assert f"{sys.version_info.major}.{sys.version_info.minor}" == wanted



def test_the_readme_stays_a_short_users_guide():
    assert len((ROOT / "README.md").read_text()) <= 8000  # history and tables belong in docs/
