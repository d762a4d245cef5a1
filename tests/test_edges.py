"""Faults and abuse at the app's edges (issue 14): a database that freezes or is down, a client
that floods "clear cache", an unusable DATABASE_URL. Scripted clients speak Streamlit's own
WebSocket protocol, as any client may."""

import asyncio
import os
import signal
import subprocess
import time

import pytest

from conftest import start_dyno
from loadtest import SocketVisitor, connect, run_page
from qclass.feedback import TIMEOUT_S, FeedbackError, FeedbackStore


def cluster_pids(postgres) -> list[int]:
    """The postmaster and every backend of the test cluster."""
    postmaster = int((postgres.base / "data" / "postmaster.pid").read_text().split()[0])
    children = subprocess.run(["ps", "-o", "pid=", "--ppid", str(postmaster)], capture_output=True, text=True)
    return [postmaster, *map(int, children.stdout.split())]


def answer(question="Where is Lima?", fine="LOC:city") -> dict:
    coarse = fine.split(":")[0]
    return {"question": question, "coarse": coarse, "fine": fine, "coarse_probs": {coarse: 1.0},
            "fine_probs": {fine: 1.0}, "guess": None}


def test_a_save_fails_within_seconds_when_the_database_freezes(postgres):
    store = FeedbackStore(postgres.url)
    store.save(answer(), "v1", correct=True)
    frozen = cluster_pids(postgres)
    for pid in frozen:
        os.kill(pid, signal.SIGSTOP)  # the server answers nothing, as on a frozen network
    try:
        start = time.monotonic()
        with pytest.raises(FeedbackError, match="not saved"):
            store.save(answer("Who wrote Hamlet?", "HUM:ind"), "v1", correct=True)
        waited = time.monotonic() - start
    finally:
        for pid in frozen:
            os.kill(pid, signal.SIGCONT)
        store.close()
    assert waited < TIMEOUT_S + 3, f"the visitor waited {waited:.1f} s"


def server_connections(postgres) -> int:
    out = subprocess.run([str(postgres.bin / "psql"), "-h", "127.0.0.1", "-p", str(postgres.port), "-U", "feedback",
                          "-d", "postgres", "-Atc", "SELECT count(*) FROM pg_stat_activity WHERE backend_type = "
                          "'client backend' AND pid <> pg_backend_pid()"], capture_output=True, text=True, check=True)
    return int(out.stdout)


async def confirm_then_flood_clear_cache(url: str, floods: int):
    """Ask, confirm the answer (the store opens its pool), then send "clear cache" and confirm again, floods times."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    async with connect(url) as websocket:
        visitor = SocketVisitor(websocket)
        await visitor.open_page()
        await visitor.ask("Who wrote Hamlet?", "HUMAN", "individual")
        for _ in range(floods):
            elements, _ = await visitor.rerun([WidgetState(id=visitor.question_id, string_value="Who wrote Hamlet?")])
            confirm = [e.button.id for e in elements if e.WhichOneof("type") == "button" and e.button.label == "Yes, it's right"]
            if confirm:
                await visitor.rerun([WidgetState(id=visitor.question_id, string_value="Who wrote Hamlet?"),
                                     WidgetState(id=confirm[0], trigger_value=True)])
            clear = BackMsg()
            clear.clear_cache = True
            await websocket.send(clear.SerializeToString())
            await visitor.ask("Who wrote Hamlet?", "HUMAN", "individual")


def test_clear_cache_from_a_client_neither_reloads_the_model_nor_opens_connections(dyno_app, postgres, tmp_path):
    server = start_dyno(dyno_app, tmp_path / "server.log", DATABASE_URL=postgres.url.replace("+psycopg", ""))
    try:
        asyncio.run(asyncio.wait_for(confirm_then_flood_clear_cache(server.url, 1), 120))
        connections, rss = server_connections(postgres), server.rss_mb()
        asyncio.run(asyncio.wait_for(confirm_then_flood_clear_cache(server.url, 15), 300))
        after_connections, after_rss = server_connections(postgres), server.rss_mb()
    finally:
        server.stop()
    assert 1 <= after_connections <= 4 and after_connections <= connections + 1, (connections, after_connections)
    assert after_rss < rss + 40, f"RSS {rss:.0f} -> {after_rss:.0f} MB"


@pytest.mark.parametrize("path", ["/", "/feedback", "/_stcore/health", "/_stcore/host-config"])
def test_no_other_site_may_frame_a_page_and_nothing_is_sniffed(server_url, path):
    import urllib.request

    with urllib.request.urlopen(server_url + path, timeout=10) as reply:
        headers = reply.headers
    assert headers["X-Frame-Options"] == "SAMEORIGIN"
    assert headers["Content-Security-Policy"] == "frame-ancestors 'self'"
    assert headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", ["/_stcore/metrics", "/_stcore/metrics/"])
def test_streamlits_metrics_are_closed(server_url, path):
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(server_url + path, timeout=10)
    assert refused.value.code == 404 and b"session" not in refused.value.read()


async def feedback_run(websocket, widgets=()) -> tuple[str | None, list]:
    """One run of the Feedback page: (this session's id on its first run, the elements drawn)."""
    new_session, elements = await asyncio.wait_for(run_page(websocket, "feedback", widgets), 30)
    return (new_session.initialize.session_id if new_session else None), elements


def signed_in(elements) -> bool:
    return any(e.WhichOneof("type") == "heading" and "Feedback, newest first" in e.heading.body for e in elements)


async def sign_in_then_resume_elsewhere(url: str, password: str) -> tuple[bool, bool]:
    """Sign in as a browser would (cookie, user agent), leave, then resume that session by its id
    from a client without the cookie. (Was the first signed in, is the second?)"""
    import websockets
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    stream = url.replace("http://", "ws://") + "/_stcore/stream"
    browser = {"Cookie": "_streamlit_xsrf=2|a|b|c", "User-Agent": "Admin's browser"}
    async with websockets.connect(stream, subprotocols=["streamlit"], additional_headers=browser) as websocket:
        session_id, elements = await feedback_run(websocket)
        box = next(e.text_input.id for e in elements if e.WhichOneof("type") == "text_input")
        submit = next(e.button.id for e in elements if e.WhichOneof("type") == "button" and e.button.label == "Open")
        _, elements = await feedback_run(websocket, [WidgetState(id=box, string_value=password),
                                                     WidgetState(id=submit, trigger_value=True)])
        if not signed_in(elements):
            _, elements = await feedback_run(websocket)  # the page reruns itself after signing in
        first = signed_in(elements)
    async with websockets.connect(stream, subprotocols=["streamlit", "x", session_id]) as websocket:
        _, elements = await feedback_run(websocket)
        return first, signed_in(elements)


def test_a_session_id_alone_does_not_resume_a_sign_in(server_url):
    from conftest import ADMIN_PASSWORD

    first, resumed = asyncio.run(asyncio.wait_for(sign_in_then_resume_elsewhere(server_url, ADMIN_PASSWORD), 120))
    assert first and not resumed


def test_the_batch_queue_runs_in_turn_and_says_the_place_in_line():
    from qclass.batch import Queue

    queue = Queue(1)
    first, second, third = queue.join(), queue.join(), queue.join()
    assert queue.wait_turn(first, 0) == 0
    assert queue.wait_turn(second, 0) == 1 and queue.wait_turn(third, 0) == 2  # running one included
    queue.leave(second)  # cancelled
    assert queue.wait_turn(third, 0) == 1
    queue.done()
    assert queue.wait_turn(third, 0) == 0


async def oversized_question(url: str, megabytes: int):
    from streamlit.proto.WidgetStates_pb2 import WidgetState
    from websockets.exceptions import ConnectionClosed

    async with connect(url) as websocket:
        visitor = SocketVisitor(websocket)
        await visitor.open_page()
        try:
            await visitor.rerun([WidgetState(id=visitor.question_id, string_value="why " * (megabytes * 262_144)),
                                 WidgetState(id=visitor.submit_id, trigger_value=True)])
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None
        return "answered"


def test_a_message_over_the_limit_closes_only_its_own_connection(server_url):
    assert asyncio.run(asyncio.wait_for(oversized_question(server_url, 7), 60)) == 1009  # Message Too Big

    async def still_answers():
        async with connect(server_url) as websocket:
            visitor = SocketVisitor(websocket)
            await visitor.open_page()
            await visitor.ask("Who wrote Hamlet?", "HUMAN", "individual")

    asyncio.run(asyncio.wait_for(still_answers(), 60))

