"""The web process: the app's pages (streamlitapp.py) behind a few HTTP safeguards.

    streamlit run serve.py     # what the Procfile runs; `streamlit run streamlitapp.py` serves the pages alone

Streamlit serves this st.App the same way as a page script, with the same settings
(.streamlit/config.toml and command-line flags). What it adds to every HTTP response:
- framing only by this site (X-Frame-Options, CSP frame-ancestors): no other site can show a page,
  the Feedback page included, inside its own and trick a click;
- X-Content-Type-Options: nosniff, so a download is never run as a script or page;
- Streamlit's /_stcore/metrics (session counts, cache names, upload memory) answers 404.
"""

import streamlit as st

CLOSED_PATHS = ("/_stcore/metrics",)
HEADERS = [(b"x-frame-options", b"SAMEORIGIN"), (b"content-security-policy", b"frame-ancestors 'self'"),
           (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin")]


class Safeguards:
    """ASGI middleware: the headers above on every HTTP response, and the closed paths closed."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if scope["path"].rstrip("/") in CLOSED_PATHS:
            await send({"type": "http.response.start", "status": 404, "headers": [(b"content-type", b"text/plain"), *HEADERS]})
            return await send({"type": "http.response.body", "body": b"Not found"})

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *(h for h in HEADERS if h[0] not in names)]
            await send(message)

        return await self.app(scope, receive, send_with_headers)


def middleware():
    from starlette.middleware import Middleware

    return [Middleware(Safeguards)]


app = st.App("streamlitapp.py", middleware=middleware())
