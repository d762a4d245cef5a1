"""The app as a Heroku dyno would run it: slug size, server memory, cold start, concurrent visitors.

    python loadtest.py [--json results/loadtest.json] [--skip-slug]

Starts the Procfile's web command on a free 127.0.0.1 port and drives it two ways: with headless
Chromium (Playwright, one browser context per visitor), and with bare WebSocket clients that speak
Streamlit's own protocol, exactly the messages the page's JavaScript sends and receives, without a
browser. On a small machine the browsers, not the server, are the bottleneck (every visitor's
rendering shares the load generator's cores, which never happens to real visitors), so the
WebSocket clients give the server's own answer latency. Every loop is bounded in count and time,
and all traffic stays on this machine. Measures:
- slug: requirements.txt installed into a clean folder plus the app files minus .slugignore, tar+gzip;
- cold start: launching the Procfile command until a browser shows the first answer;
- memory: resident memory of the server's process group after start-up, after 1,000 questions,
  and its peak during each load level;
- load: 10 and 25 concurrent visitors each asking 20 questions, in browsers and over WebSockets
  (and 50 over WebSockets): errors, the latency from clicking Classify to the answer on the page
  (browser) or to the answer's arrival (WebSocket), p50/p95, and the server's CPU time per answer.
  With two or more cores the server runs on one core and the clients on the others.
- the JSON API: 1, 10 and 50 concurrent HTTP clients (keep-alive connections) sending single-question
  and 64-question requests for 15 s each: answers a second, request latency p50/p95, the server's
  CPU time per answer, and answers a second per fully busy server core.

    python loadtest.py --api          # only the API (about 2 minutes)
    python loadtest.py --websockets   # only the page's WebSocket visitors (about 2 minutes)
    python loadtest.py --websockets --page old.py   # ... serving another streamlitapp.py (or: minimal)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fnmatch
import functools
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]
QUESTIONS = [
    "What is the capital of Peru?", "Who wrote Hamlet?", "How many bones are in the human body?",
    "What does NASA stand for?", "Why is the sky blue?", "When did the Berlin Wall fall?",
    "How far is the Moon from Earth?", "What is the boiling point of water?", "Where is Mount Kilimanjaro?",
    "Who invented the telephone?", "What is a fjord?", "How much does an elephant weigh?",
    "Which country has the most people?", "What color is a ruby?", "How do bees make honey?",
    "What language is spoken in Brazil?", "Who was the first president of the United States?",
    "What is the population of Tokyo?", "When was penicillin discovered?", "What animal is the fastest?",
]
ANSWER_TIMEOUT_MS = 30_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_model() -> str:
    """The processor's name: timings move with it far more than with the core count (a shared VM
    may land on a different host from one day to the next)."""
    for line in (Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def group_usage(pgid: int) -> tuple[float, float]:
    """(resident MB, CPU seconds used so far) of every process in the server's process group
    (shell + Streamlit)."""
    rss = cpu = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:  # field 5 of /proc/PID/stat: process group
                rss += int(fields[21]) * os.sysconf("SC_PAGE_SIZE")  # field 24: rss in pages
                cpu += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # 14, 15: utime, stime
        except (OSError, IndexError, ValueError):
            continue
    return rss / 1e6, cpu


def core_times() -> dict[int, tuple[int, int]]:
    """Per CPU: (busy, total) clock ticks since boot, from /proc/stat."""
    times = {}
    for line in Path("/proc/stat").read_text().splitlines():
        name, *fields = line.split()
        if name.startswith("cpu") and name != "cpu":
            ticks = [int(f) for f in fields]
            times[int(name[3:])] = (sum(ticks) - ticks[3] - ticks[4], sum(ticks))  # minus idle, iowait
    return times


def percentiles(seconds: list[float]) -> tuple[float | None, float | None]:
    """(p50, p95) of the timings, or (None, None) when there are none."""
    ordered = sorted(seconds)
    if not ordered:
        return None, None
    return statistics.median(ordered), ordered[max(0, int(0.95 * len(ordered)) - 1)]


def split_cores() -> tuple[set[int] | None, set[int] | None]:
    """(the server's cores, the clients' cores): with two or more, core 0 for the server and the rest
    for the clients (Chromium, this script's WebSocket and HTTP clients), which then do not eat into
    the server's time (a dyno does not run its visitors); with one core, (None, None)."""
    cpus = sorted(os.sched_getaffinity(0))
    return ({cpus[0]}, set(cpus[1:])) if len(cpus) > 1 else (None, None)


@contextlib.contextmanager
def clients_apart(client_cpus: set[int] | None):
    """This process, and what it starts (Chromium), on the clients' cores until the block ends."""
    before = os.sched_getaffinity(0)
    if client_cpus:
        os.sched_setaffinity(0, client_cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


@contextlib.contextmanager
def pinned_server(app: Path, **env):
    """The Procfile's server in app on the server's cores and this process on the clients' (see
    split_cores), healthy, until the block ends: yields the server and the (server, clients) cores
    that load() and api_load() report on, or None on one core."""
    server_cpus, client_cpus = split_cores()
    server = Server(app, server_cpus, **env)
    try:
        with clients_apart(client_cpus):
            server.wait_healthy()
            yield server, (server_cpus, client_cpus) if client_cpus else None
    finally:
        server.stop()


def busy_share(before: dict, after: dict, cpus) -> float:
    """How busy these cores were between two core_times() readings (0..1)."""
    busy = sum(after[c][0] - before[c][0] for c in cpus)
    total = sum(after[c][1] - before[c][1] for c in cpus)
    return round(busy / total, 2) if total else 0.0


def expected_answers() -> list[tuple[str, str, str]]:
    """(question, class, subclass) as the committed model answers, consecutive answers differing,
    so a visitor's wait ends exactly when the new answer is on the page."""
    from streamlitinf import inf, load_model

    model = load_model()
    answers = [(q, r["class"], r["subclass"]) for q, r in ((q, inf(q, model)) for q in QUESTIONS)]
    ordered = [answers.pop(0)]
    while answers:
        nxt = next((a for a in answers if a[1:] != ordered[-1][1:]), answers[0])
        answers.remove(nxt)
        ordered.append(nxt)
    return ordered


def slug_files() -> list[str]:
    """The app files a Heroku slug holds: what git pushes (tracked files, as in the working tree)
    minus what .slugignore drops."""
    ignored = [line.strip() for line in (ROOT / ".slugignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")]
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    return [f for f in tracked.stdout.splitlines()
            if not any(fnmatch.fnmatch(f, pattern) or f.startswith(pattern.rstrip("/") + "/") for pattern in ignored)]


def slug_size() -> dict:
    """requirements.txt into a clean folder, plus the app files minus .slugignore, tar+gzip."""
    work = Path(tempfile.mkdtemp(prefix="qclass-slug-"))
    try:
        site = work / "site-packages"
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--retries", "0", "--no-compile", "--target", str(site),
                        "-r", str(ROOT / "requirements.txt")], check=True)
        app_files = slug_files()
        archive = work / "slug.tgz"
        with tarfile.open(archive, "w:gz") as tar:
            tar.add(site, arcname="site-packages")
            for f in app_files:
                tar.add(ROOT / f, arcname=f"app/{f}")
        sizes = {}
        for item in site.iterdir():
            if item.is_dir() and not item.name.endswith((".dist-info", "__pycache__")):
                sizes[item.name] = sum(p.stat().st_size for p in item.rglob("*") if p.is_file())
        top = sorted(sizes.items(), key=lambda kv: kv[1], reverse=True)[:8]
        return {"slug_compressed_mb": round(archive.stat().st_size / 1e6, 1),
                "installed_mb": round(sum(sizes.values()) / 1e6, 1),
                "app_files": len(app_files),
                "heaviest_packages_mb": {name: round(size / 1e6, 1) for name, size in top}}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def build_app(folder: Path) -> Path:
    """The slug's app files copied into folder, which plays the dyno's /app."""
    for name in slug_files():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, folder / name)
    return folder


def procfile_web_command(app: Path = ROOT) -> str:
    return next(line[4:].strip() for line in (app / "Procfile").read_text().splitlines() if line.startswith("web:"))


def dyno_env(app: Path, port: int, **env) -> dict:
    """The environment a dyno gives the web process: HOME is the app folder, PORT is set, and
    nothing of this machine's test set-up leaks in (the feedback store's own default applies)."""
    base = {k: v for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "FEEDBACK_DB_PATH", "FEEDBACK_ADMIN_PASSWORD", "MODEL_DIR")}
    return {**base, "HOME": str(app), "PORT": str(port), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
            **env}


class Server:
    """The Procfile's web command started as a dyno starts it: in a copy of the slug's app files,
    which is both HOME and the working directory, in its own process group."""

    def __init__(self, app: Path, cpus: set[int] | None = None, log: Path | None = None, **env):
        self.port = free_port()
        self.cpus = cpus or os.sched_getaffinity(0)  # where it runs
        self.log = log or app / "server.log"
        self.started = time.perf_counter()
        self.process = subprocess.Popen(procfile_web_command(app), shell=True, cwd=app,
                                        env=dyno_env(app, self.port, **env), start_new_session=True,
                                        stdout=self.log.open("wb"), stderr=subprocess.STDOUT,
                                        preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None)
        self.url = f"http://127.0.0.1:{self.port}"

    def wait_healthy(self, seconds: float = 60) -> None:
        import urllib.request

        deadline = time.time() + seconds
        while time.time() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as reply:
                    if reply.read() == b"ok":
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"the Procfile command did not serve within {seconds} s: {self.log.read_text()[-2000:]}")

    def rss_mb(self) -> float:
        return group_usage(self.process.pid)[0]

    def cpu_s(self) -> float:
        return group_usage(self.process.pid)[1]

    def stop(self):
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)


async def ask(page, question: str, klass: str, subclass: str) -> float:
    """Type, click, and wait for this answer; seconds the visitor waited after the click."""
    from playwright.async_api import expect

    await page.get_by_label("Your question").fill(question)
    start = time.perf_counter()
    await page.get_by_role("button", name="Classify", exact=True).click()
    await expect(page.get_by_test_id("stMetricValue")).to_have_text([klass, subclass], timeout=ANSWER_TIMEOUT_MS)
    return time.perf_counter() - start


def describe(problem: Exception) -> str:
    """An error in one line: its type and the start of its message (e.g. what the page showed)."""
    lines = [line.strip() for line in str(problem).splitlines() if line.strip()]
    return f"{type(problem).__name__}: {' / '.join(lines[:3])[:300]}"


class SocketVisitor:
    """A visitor without a browser: Streamlit's WebSocket protocol (protobuf BackMsg up, ForwardMsg
    down), as the page's JavaScript speaks it. Clicking Classify is a rerun whose widget states carry
    the typed question and the button's trigger."""

    def __init__(self, websocket):
        self.websocket = websocket
        self.question_id = self.submit_id = None

    async def rerun(self, widgets=(), until=None) -> tuple[list, float | None]:
        """Send one rerun; read until the script finishes. Returns the elements it drew, and the
        seconds until until(elements) first held (the answer arrived), or None."""
        start, arrived, elements = time.perf_counter(), None, []
        async for reply in script_run(self.websocket, widgets=widgets):
            if reply.WhichOneof("type") == "delta" and reply.delta.WhichOneof("type") == "new_element":
                elements.append(reply.delta.new_element)
                if arrived is None and until and until(elements):
                    arrived = time.perf_counter() - start
        return elements, arrived

    async def open_page(self):
        elements, _ = await self.rerun()
        self.question_id = next(e.text_input.id for e in elements
                                if e.WhichOneof("type") == "text_input" and e.text_input.label == "Your question")
        self.submit_id = next(e.button.id for e in elements
                              if e.WhichOneof("type") == "button" and e.button.label == "Classify")

    async def ask(self, question: str, klass: str, subclass: str) -> float:
        """Seconds from the click until the right answer reached the visitor's connection."""
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        def answered(elements):
            return [e.metric.body for e in elements if e.WhichOneof("type") == "metric"] == [klass, subclass]

        _, seconds = await asyncio.wait_for(self.rerun(
            [WidgetState(id=self.question_id, string_value=question), WidgetState(id=self.submit_id, trigger_value=True)],
            until=answered), timeout=ANSWER_TIMEOUT_MS / 1000)
        if seconds is None:
            raise AssertionError("the page finished without this answer")
        return seconds


def connect(url: str):
    """A WebSocket to the server at url (http://host:port), as the page opens it."""
    import websockets

    return websockets.connect(url.replace("http://", "ws://") + "/_stcore/stream",
                              subprotocols=["streamlit"], max_size=None, open_timeout=60)


async def ask_each(ask, answers, n: int, offset: int, latencies: list, errors: list):
    """n of the answers' questions from offset on, one after another, through
    ask(question, class, subclass) -> seconds; each failure is one error, and the visitor goes on."""
    for i in range(n):
        question, klass, subclass = answers[(offset + i) % len(answers)]
        try:
            latencies.append(await ask(question, klass, subclass))
        except Exception as problem:  # a timeout or a wrong answer: one visitor-visible error
            errors.append(f"{question}: {describe(problem)}")


async def socket_visitor(url: str, answers, n: int, offset: int, latencies: list, errors: list):
    try:
        async with connect(url) as websocket:
            visitor = SocketVisitor(websocket)
            await asyncio.wait_for(visitor.open_page(), timeout=60)
            await ask_each(visitor.ask, answers, n, offset, latencies, errors)
    except Exception as problem:
        errors.append(f"session: {type(problem).__name__}: {problem}")


async def browser_visitor(browser, url: str, answers, n: int, offset: int, latencies: list, errors: list):
    context = await browser.new_context()
    try:
        page = await context.new_page()
        await page.goto(url, timeout=60_000)
        await page.get_by_label("Your question").wait_for(timeout=60_000)
        await ask_each(functools.partial(ask, page), answers, n, offset, latencies, errors)
    except Exception as problem:
        errors.append(f"session: {type(problem).__name__}: {problem}")
    finally:
        await context.close()


async def load(browser, server: Server, answers, sessions: int, questions: int, cpus=None) -> dict:
    """sessions concurrent visitors, each asking questions: in browser contexts, or over bare
    WebSockets when browser is None."""
    latencies, errors, peak = [], [], [server.rss_mb()]

    async def watch():
        while True:
            peak.append(server.rss_mb())
            await asyncio.sleep(0.25)

    watcher = asyncio.create_task(watch())
    started, cpu_before, cores_before = time.perf_counter(), server.cpu_s(), core_times()
    visitors = [browser_visitor(browser, server.url, answers, questions, 3 * s, latencies, errors) if browser else
                socket_visitor(server.url, answers, questions, 3 * s, latencies, errors) for s in range(sessions)]
    await asyncio.wait_for(asyncio.gather(*visitors), timeout=900)
    watcher.cancel()
    server_cpu, cores = server.cpu_s() - cpu_before, core_times()
    p50, p95 = percentiles(latencies)
    return {"client": "browser" if browser else "websocket", "sessions": sessions, "questions_each": questions,
            "answered": len(latencies),
            "errors": len(errors), "error_samples": errors[:5],
            "latency_p50_s": p50 and round(p50, 3), "latency_p95_s": p95 and round(p95, 3),
            "peak_rss_mb": round(max(peak), 1), "seconds": round(time.perf_counter() - started, 1),
            # The server's own work per answer (a whole Streamlit rerun: page, model, feedback
            # widgets), apart from the browsers sharing its cores: what sizes a dyno.
            "server_cpu_ms_per_answer": round(1000 * server_cpu / len(latencies), 1) if latencies else None,
            # Which side was the bottleneck: the server's core, or the clients' cores.
            **({"server_core_busy": busy_share(cores_before, cores, cpus[0]),
                "client_cores_busy": busy_share(cores_before, cores, cpus[1])} if cpus else {})}


async def measure_server(answers) -> dict:
    from playwright.async_api import async_playwright

    home = build_app(Path(tempfile.mkdtemp(prefix="qclass-load-")))
    server_cpus, client_cpus = split_cores()
    server = Server(home, server_cpus)
    figures = {"server_cpus": sorted(server.cpus), "client_cpus": sorted(client_cpus or server.cpus)}
    try:
        with clients_apart(client_cpus):  # Chromium inherits it
            async with async_playwright() as p:
                browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
                page = await browser.new_page()
                deadline = time.perf_counter() + 120
                while True:  # the dyno's first visitor keeps reloading until the app is up
                    try:
                        await page.goto(server.url, timeout=5_000)
                        await page.get_by_label("Your question").wait_for(timeout=30_000)
                        break
                    except Exception:
                        if time.perf_counter() > deadline or server.process.poll() is not None:
                            raise RuntimeError(f"server did not start: {(home / 'server.log').read_text()[-2000:]}")
                        await asyncio.sleep(0.2)
                await ask(page, *answers[0])
                figures["cold_start_s"] = round(time.perf_counter() - server.started, 2)
                await page.close()
                await asyncio.sleep(2)
                figures["rss_after_start_mb"] = round(server.rss_mb(), 1)
                cpus = (server_cpus, client_cpus) if client_cpus else None
                warm = await load(None, server, answers, sessions=5, questions=200, cpus=cpus)
                figures["rss_after_1000_questions_mb"] = round(server.rss_mb(), 1)
                figures["warmup_1000_questions"] = warm
                figures["load"] = [await load(client, server, answers, sessions=n, questions=20, cpus=cpus)
                                   for client, levels in ((browser, (10, 25)), (None, (10, 25, 50))) for n in levels]
                await browser.close()
    finally:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)
    return figures


def api_client(url: str, body: bytes, deadline: float, most: int, latencies: list, errors: list, answered: list):
    """One HTTP client on one keep-alive connection: POST body to /api/classify until the deadline
    or `most` requests, each timed; a non-200 or a broken connection is an error, and it goes on."""
    import http.client
    from urllib.parse import urlsplit

    where = urlsplit(url)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=ANSWER_TIMEOUT_MS / 1000)
    headers = {"Content-Type": "application/json"}
    try:
        for _ in range(most):
            if time.perf_counter() > deadline:
                break
            start = time.perf_counter()
            try:
                connection.request("POST", "/api/classify", body, headers)
                reply = connection.getresponse()
                data = reply.read()
                if reply.status != 200:
                    raise RuntimeError(f"{reply.status} {data[:200]!r}")
                answer = json.loads(data)
                answered.append(len(answer["results"]) if "results" in answer else 1)
                latencies.append(time.perf_counter() - start)
            except Exception as problem:
                errors.append(describe(problem))
                connection.close()
    finally:
        connection.close()


def api_load(server: Server, clients: int, per_request: int, seconds: float = 15, cpus=None) -> dict:
    """clients concurrent HTTP clients, each sending requests of per_request questions for the given
    seconds (at most 2,000 requests each): answers a second, request latency, server CPU per answer."""
    import threading

    questions = [q for q, *_ in expected_answers()]
    body = json.dumps({"question": questions[0]} if per_request == 1 else
                      {"questions": [questions[i % len(questions)] for i in range(per_request)]}).encode()
    latencies, errors, answered = [], [], []
    started, cpu_before, cores_before = time.perf_counter(), server.cpu_s(), core_times()
    deadline = started + seconds
    threads = [threading.Thread(target=api_client, args=(server.url, body, deadline, 2000, latencies, errors, answered))
               for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 2 * ANSWER_TIMEOUT_MS / 1000)
    elapsed, server_cpu, cores = time.perf_counter() - started, server.cpu_s() - cpu_before, core_times()
    answers, (p50, p95) = sum(answered), percentiles(latencies)
    return {"clients": clients, "questions_per_request": per_request, "requests": len(latencies),
            "errors": len(errors), "error_samples": errors[:3],
            "answers_per_s": round(answers / elapsed, 1),
            "latency_p50_ms": p50 and round(1000 * p50, 1), "latency_p95_ms": p95 and round(1000 * p95, 1),
            "server_cpu_ms_per_answer": round(1000 * server_cpu / answers, 2) if answers else None,
            # answers a second the server's CPU time would allow on one fully busy core
            "answers_per_core_s": round(answers / server_cpu, 1) if server_cpu else None,
            **({"server_core_busy": busy_share(cores_before, cores, cpus[0]),
                "client_cores_busy": busy_share(cores_before, cores, cpus[1])} if cpus else {})}


def measure_api(seconds: float = 15) -> dict:
    """The JSON API on the Procfile's server, pinned to one core (the clients on the others), with
    no rate limit (all clients share one address): single-question and 64-question requests from
    1, 10 and 50 concurrent clients."""
    with tempfile.TemporaryDirectory() as folder, pinned_server(build_app(Path(folder)), API_RATE_LIMIT="0") as (server, pinned):
        api_load(server, 2, 64, seconds=3)  # warm-up: the model loads on the first question
        levels = [api_load(server, clients, per_request, seconds, pinned)
                  for per_request in (1, 64) for clients in (1, 10, 50)]
        return {"server_cpus": sorted(server.cpus), "rss_after_mb": round(server.rss_mb(), 1), "levels": levels}


# The least page that does the Classify page's job, the reference for what Streamlit itself costs.
MINIMAL_PAGE = """import streamlit as st
from streamlitinf import inf, load_model
model = load_model()
question = st.text_input("Your question")
if st.button("Classify") and question:
    result = inf(question, model)
    st.metric("Class", result["class"])
    st.metric("Subclass", result["subclass"])
"""


async def measure_sockets(page: str | None = None) -> dict:
    """Only the WebSocket visitors (10, 25, 50, 20 questions each) on the Procfile's server pinned to
    one core: the page's server CPU per answer in about two minutes, without browsers. page: another
    file to serve as streamlitapp.py (e.g. an older one from git show), or "minimal"."""
    answers = expected_answers()
    with tempfile.TemporaryDirectory() as folder:
        app = build_app(Path(folder))
        if page:
            (app / "streamlitapp.py").write_text(MINIMAL_PAGE if page == "minimal" else Path(page).read_text())
        with pinned_server(app) as (server, pinned):
            await load(None, server, answers, sessions=3, questions=20)  # warm-up
            return {"server_cpus": sorted(server.cpus),
                    "load": [await load(None, server, answers, sessions=n, questions=20, cpus=pinned) for n in (10, 25, 50)]}


async def script_run(websocket, page: str = "", widgets=()):
    """Ask for one script run over Streamlit's own protocol, as the page's JavaScript does, and
    yield the server's messages (ForwardMsg) until the run ends."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    message = BackMsg()
    message.rerun_script.page_name = page
    message.rerun_script.widget_states.widgets.extend(widgets)
    await websocket.send(message.SerializeToString())
    while True:
        reply = ForwardMsg()
        reply.ParseFromString(await websocket.recv())
        if reply.WhichOneof("type") == "script_finished" and reply.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
            return
        yield reply


async def run_page(websocket, page: str = "", widgets=()) -> tuple:
    """One script run: (the NewSession message, or None on a later run; the elements drawn) once it ends."""
    new_session, elements = None, []
    async for reply in script_run(websocket, page, widgets):
        kind = reply.WhichOneof("type")
        if kind == "new_session":
            new_session = reply.new_session
        elif kind == "delta" and reply.delta.WhichOneof("type") == "new_element":
            elements.append(reply.delta.new_element)
    return new_session, elements


async def paste_batch(url: str, text: str) -> str:
    """A visitor without a browser pastes text on the Batch page and presses Classify all; returns
    the page's messages once its run ends (after waiting its turn in the batch queue)."""
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    async with connect(url) as websocket:
        _, elements = await run_page(websocket, "batch")
        box = next(e.text_area.id for e in elements if e.WhichOneof("type") == "text_area")
        go = next(e.button.id for e in elements if e.WhichOneof("type") == "button" and e.button.label == "Classify all")
        _, elements = await run_page(websocket, "batch", [WidgetState(id=box, string_value=text),
                                                          WidgetState(id=go, trigger_value=True)])
        return " ".join(e.alert.body for e in elements if e.WhichOneof("type") == "alert")


def heavy_batches(sessions: int = 3, questions: int = 10_000) -> dict:
    """sessions visitors each paste `questions` questions of 480 characters with typos (4.8 MB: inside
    every limit) at the same moment; the server's peak memory, sampled every 0.2 s, and how long it took."""
    import tempfile
    import threading

    # Typos: a mended question is read twice, as typed and as mended (streamlitinf.inf_batch).
    question = ("What is the name of the lnogest rievr that flows through the contry described here " * 6)[:479] + "?"
    text = "\n".join([question] * questions)
    with tempfile.TemporaryDirectory() as folder:
        server = Server(build_app(Path(folder)))
        server.wait_healthy()
        peak, done, start = [server.rss_mb()], threading.Event(), time.perf_counter()

        def sample():
            while not done.wait(0.2):
                peak.append(server.rss_mb())

        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            async def all_at_once():
                return await asyncio.gather(*(paste_batch(server.url, text) for _ in range(sessions)))

            messages = asyncio.run(asyncio.wait_for(all_at_once(), 1800))
        finally:
            done.set()
            sampler.join()
            server.stop()
    return {"sessions": sessions, "questions_each": questions, "mb_pasted_each": round(len(text.encode()) / 1e6, 2),
            "completed": sum(f"Classified {questions:,} questions" in m for m in messages),
            "seconds": round(time.perf_counter() - start, 1), "peak_rss_mb": round(max(peak), 1)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", help="also write the figures to this JSON file")
    parser.add_argument("--skip-slug", action="store_true", help="skip the slug build (it installs packages)")
    parser.add_argument("--api", action="store_true", help="only: the JSON API's throughput under 1, 10 and 50 clients")
    parser.add_argument("--websockets", action="store_true", help="only: the page's WebSocket visitors (10, 25, 50)")
    parser.add_argument("--page", help="with --websockets: serve this file as streamlitapp.py, or 'minimal'")
    parser.add_argument("--heavy-batches", action="store_true",
                        help="only: three visitors paste 10,000 long questions each at once; peak server memory")
    args = parser.parse_args(argv)
    if args.heavy_batches:
        print(json.dumps(heavy_batches(), indent=1))
        return 0
    machine = f"{cpu_model()}, {os.cpu_count()} CPUs"
    if args.api:
        print(json.dumps({"machine": machine, "api": measure_api()}, indent=1))
        return 0
    if args.websockets:
        print(json.dumps({"machine": machine, "page": asyncio.run(measure_sockets(args.page))}, indent=1))
        return 0
    from qclass.artifacts import ArtifactError

    try:
        answers = expected_answers()
    except ArtifactError as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    figures = {"machine": machine}
    if not args.skip_slug:
        figures["slug"] = slug_size()
    figures["server"] = asyncio.run(measure_server(answers))
    figures["api"] = measure_api()
    print(json.dumps(figures, indent=1))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
