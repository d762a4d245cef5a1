#!/bin/sh
# Heroku: write the server settings the dyno needs into the user's Streamlit config. Static
# settings live in .streamlit/config.toml; XSRF protection and CORS stay at Streamlit's
# (secure) defaults. PORT is set by Heroku; 8501 when run by hand. A dyno's files never change,
# so the server watches none (watching the app folder costs CPU and memory for nothing).
mkdir -p "$HOME/.streamlit"
cat > "$HOME/.streamlit/config.toml" <<CONFIG
[server]
port = ${PORT:-8501}
address = "0.0.0.0"
headless = true
fileWatcherType = "none"

[browser]
gatherUsageStats = false
CONFIG
