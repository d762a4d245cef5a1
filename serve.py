"""The web process: the app's pages (streamlitapp.py) and the JSON API (qclass/api.py, at /api),
behind a few HTTP safeguards.

    streamlit run serve.py     # what the Procfile runs; `streamlit run streamlitapp.py` serves the pages alone

Streamlit serves this st.App the same way as a page script, with the same settings
(.streamlit/config.toml and command-line flags). What it adds to every HTTP response:
- framing only by this site (X-Frame-Options, CSP frame-ancestors): no other site can show a page,
  the Feedback page included, inside its own and trick a click;
- X-Content-Type-Options: nosniff, so a download is never run as a script or page;
- Streamlit's /_stcore/metrics (session counts, cache names, upload memory) answers 404;
- a made file (/media/..., e.g. a Batch or Feedback download) answers only the browser whose session
  made it (see made_for).
And one thing to every connection: TCP_NODELAY (see no_nagle).
"""

import gc
import hmac
import socket

import streamlit as st
from streamlit.logger import get_logger

CLOSED_PATHS = ("/_stcore/metrics",)
XSRF_COOKIE = "_streamlit_xsrf"
HEADERS = [(b"x-frame-options", b"SAMEORIGIN"), (b"content-security-policy", b"frame-ancestors 'self'"),
           (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin")]


class Safeguards:
    """ASGI middleware: the headers above on every HTTP response, the closed paths closed, and a
    made file only for its maker."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket":
            remember_makers()  # before any page can draw a download button
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if scope["path"].rstrip("/") in CLOSED_PATHS or (scope["path"].startswith("/media/") and not made_for(scope)):
            await send({"type": "http.response.start", "status": 404, "headers": [(b"content-type", b"text/plain"), *HEADERS]})
            return await send({"type": "http.response.body", "body": b"Not found"})

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *(h for h in HEADERS if h[0] not in names)]
            await send(message)

        return await self.app(scope, receive, send_with_headers)


def made_for(scope) -> bool:
    """Whether this request for /media/<file> comes from the browser whose session made the file.

    Streamlit answers a media URL to any client while the file lives, so a download address seen
    in a log, a proxy or over a shoulder would hand out the Feedback export. The request must carry
    the XSRF cookie that the making session's browser opened its WebSocket with: a cookie other sites
    cannot read. With XSRF protection off there is no such cookie to compare."""
    from starlette.requests import HTTPConnection
    from streamlit.runtime import Runtime

    if not st.get_option("server.enableXsrfProtection"):
        return True
    file_id = media_file_id(scope["path"])
    cookie = HTTPConnection(scope).cookies.get(XSRF_COOKIE, "")
    runtime = Runtime.instance()
    for session in sessions_holding(runtime.media_file_mgr, file_id) or _made_by.get(file_id, ()):
        websocket = getattr(runtime.get_client(session), "_websocket", None)
        made_with = websocket.cookies.get(XSRF_COOKIE, "") if websocket is not None else ""
        if cookie and made_with and hmac.compare_digest(cookie, made_with):
            return True
    return False


_made_by: dict[str, list[str]] = {}  # file made on a click -> the sessions whose button made it


def media_file_id(path: str) -> str:
    """/media/<id>.<extension> (a path or a URL) -> <id>."""
    return path.rsplit("/", 1)[-1].split(".", 1)[0]


def sessions_holding(files, file_id: str) -> list[str]:
    """The sessions whose page holds this media file (Streamlit's own record, read under its lock)."""
    with files._lock:
        return [session for session, ids in files._files_by_session_and_coord.items() if file_id in ids.values()]


def remember_makers():
    """Streamlit keeps no owner for a file a download button makes on the click (only for the
    button's placeholder), so its maker is noted here, once per process, around execute_deferred."""
    from streamlit.runtime import Runtime

    files = Runtime.instance().media_file_mgr
    if getattr(files, "_makers_remembered", False):
        return
    make = files.execute_deferred

    def execute_deferred(placeholder: str) -> str:
        makers = sessions_holding(files, placeholder)
        url = make(placeholder)
        if len(_made_by) > 10_000:  # files live minutes; forget the oldest half
            for old in list(_made_by)[:5_000]:
                del _made_by[old]
        _made_by[media_file_id(url)] = makers
        return url

    files.execute_deferred = execute_deferred
    files._makers_remembered = True


def middleware():
    from starlette.middleware import Middleware

    return [Middleware(Safeguards)]


def no_nagle() -> int:
    """TCP_NODELAY on the server's listening sockets, which Linux passes on to every connection.

    Streamlit binds its socket as socket.socket(family) (protocol 0), and asyncio sets TCP_NODELAY
    only on sockets whose protocol reads IPPROTO_TCP, so every connection kept Nagle's algorithm:
    on a kept-alive connection a response's body waited for the client's delayed ACK of its headers,
    40 ms on every HTTP answer after a connection's first (tests/test_api.py measures it). The socket
    is already listening when `streamlit run` imports this file; it is found among live objects."""
    listening = [s for s in gc.get_objects() if isinstance(s, socket.socket) and s.fileno() >= 0
                 and s.family in (socket.AF_INET, socket.AF_INET6) and s.type == socket.SOCK_STREAM
                 and s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)]
    for sock in listening:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if not listening:
        get_logger(__name__).warning("serve.py found no listening socket to set TCP_NODELAY on")
    return len(listening)


def routes():
    from starlette.routing import Mount

    from qclass import api

    return [Mount("/api", app=api.build())]


no_nagle()
for name in ("streamlitinf", "qclass"):  # our modules' log lines, formatted as Streamlit's own
    get_logger(name)
app = st.App("streamlitapp.py", routes=routes(), middleware=middleware())
