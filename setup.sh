#!/bin/sh
# Heroku: write the server settings the dyno needs into the user's Streamlit config. Static
# settings live in .streamlit/config.toml; XSRF protection and CORS stay at Streamlit's
# (secure) defaults. PORT is set by Heroku; 8501 when run by hand.
mkdir -p "$HOME/.streamlit"
cat > "$HOME/.streamlit/config.toml" <<CONFIG
[server]
port = ${PORT:-8501}
address = "0.0.0.0"
headless = true

[browser]
gatherUsageStats = false
CONFIG
