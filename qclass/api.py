"""The JSON API, served by the web process beside the pages (serve.py mounts it at /api).

    POST /api/classify      {"question": "..."} -> one result; {"questions": [...]} (up to 1,000) -> {"results": [...]}
    GET  /api/health        {"status": "ok", "model_loaded": true, "model_version": "..."}
    GET  /api/labels        the taxonomy: codes, names, definitions, examples
    GET  /api/openapi.json  the schema of all of it (qclass/openapi.py)

It shares the pages' one model (streamlitinf.load_model). Questions from all requests go to one
worker thread, which takes whatever is waiting, up to BATCH_SIZE questions, in one model call: a
lone question is answered at once, and concurrent ones share the matrix products (the model
answers 64 questions in far less than 64 times one). Every error is JSON with its status.

Settings, from the environment when the server starts:
- API_TOKEN: when set, POST /api/classify needs "Authorization: Bearer <token>". A weak token
  (see qclass.admin.weakness) closes classify (503) and says why in the log.
- API_RATE_LIMIT: questions a minute per client address (the last X-Forwarded-For entry, which
  Heroku's router adds), in a bucket that holds as many. A request costs 1 when it arrives and
  its questions beyond the first once they are read; a refused request still costs its 1.
  Default 3,000; 0 turns it off.
- API_CORS_ORIGINS: comma-separated origins whose pages may call the API from a browser, or *.
  Default: none (a browser lets no other site read the answers).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import math
import os
import threading
import time
from dataclasses import dataclass

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from qclass import trec
from qclass.admin import client_address, weakness
from qclass.artifacts import ArtifactError
from qclass.glossary import GLOSSARY
from qclass.inference import normalise
from qclass.openapi import OPENAPI
from streamlitinf import inf_batch, load_model, top

MAX_BODY_BYTES = 1_048_576
MAX_QUESTIONS = 1_000
BATCH_SIZE = 64
BODY_TIMEOUT_S = 10  # to send the whole body
ANSWER_TIMEOUT_S = 30  # from the body read to the answers
MAX_WAITING = 20_000  # questions queued for the worker; past that, 503 at once
DEFAULT_RATE = 3_000

log = logging.getLogger(__name__)


class Refusal(Exception):
    """An answer other than 200: its status, a machine code, a message for people, extra headers."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


def json_response(body, status: int = 200, headers: dict | None = None) -> Response:
    # ensure_ascii keeps the body plain ASCII whatever a question holds; no NaN ever leaves.
    return Response(json.dumps(body, ensure_ascii=True, allow_nan=False, separators=(",", ":")), status,
                    {"cache-control": "no-store", **(headers or {})}, media_type="application/json")


def unavailable(problem: ArtifactError) -> Refusal:
    return Refusal(503, "model_unavailable", f"The classifier is unavailable. {problem}")


def too_large() -> Refusal:
    return Refusal(413, "body_too_large", f"The body is over {MAX_BODY_BYTES:,} bytes. Send fewer questions a request.")


@dataclass(frozen=True)
class Settings:
    token: str | None = None
    rate_per_minute: int = DEFAULT_RATE
    cors_origins: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, env=os.environ) -> Settings:
        rate = env.get("API_RATE_LIMIT", "").strip() or str(DEFAULT_RATE)
        if not rate.isdigit():
            log.error("API_RATE_LIMIT=%r is not a whole number of questions a minute; using %d.", rate, DEFAULT_RATE)
            rate = str(DEFAULT_RATE)
        origins = tuple(o.strip() for o in env.get("API_CORS_ORIGINS", "").split(",") if o.strip())
        return cls(env.get("API_TOKEN") or None, int(rate), origins)


class RateLimit:
    """A bucket per client address that holds per_minute questions and refills at per_minute a
    minute. take() spends them, or says how many seconds until it could."""

    MAX_ADDRESSES = 10_000

    def __init__(self, per_minute: int, clock=time.monotonic):
        self.capacity, self.per_s, self.clock = per_minute, per_minute / 60, clock
        self.buckets: dict[str, tuple[float, float]] = {}  # address -> (questions left, when)

    def take(self, address: str, cost: int = 1) -> float:
        """0 once cost is spent from the address's bucket; else the seconds to wait (nothing spent)."""
        if not self.capacity:
            return 0.0
        now = self.clock()
        left, when = self.buckets.get(address, (self.capacity, now))
        left = min(self.capacity, left + (now - when) * self.per_s)
        cost = min(cost, self.capacity)  # a request bigger than the bucket waits for a full one
        if left < cost:
            self.buckets[address] = (left, now)
            return (cost - left) / self.per_s
        if len(self.buckets) >= self.MAX_ADDRESSES and address not in self.buckets:
            self._forget_full(now)
        self.buckets[address] = (left - cost, now)
        return 0.0

    def _forget_full(self, now: float):
        """Drop the buckets that have refilled (nothing to remember), else the oldest half."""
        full = [a for a, (left, when) in self.buckets.items() if left + (now - when) * self.per_s >= self.capacity]
        for address in full or sorted(self.buckets, key=lambda a: self.buckets[a][1])[: len(self.buckets) // 2]:
            del self.buckets[address]


class Job:
    """One request's questions, answered in pieces by the worker; its future gets the results."""

    def __init__(self, texts: list[str]):
        self.texts, self.results, self.next = texts, [None] * len(texts), 0
        self.loop = asyncio.get_running_loop()
        self.future = self.loop.create_future()

    @property
    def left(self) -> int:
        return len(self.texts) - self.next

    def finish(self, error: Exception | None = None):
        """From the worker thread: hand the results (or the error) to the request's event loop."""
        def settle():
            if not self.future.done():
                self.future.set_exception(error) if error else self.future.set_result(self.results)
        try:
            self.loop.call_soon_threadsafe(settle)
        except RuntimeError:  # the loop has closed: nobody is waiting
            pass


class Batcher:
    """One worker thread answers every request's questions, up to batch_size at a time, smallest
    requests first, so a single question never waits behind a whole batch of 1,000."""

    def __init__(self, loader=load_model, batch_size: int = BATCH_SIZE, max_waiting: int = MAX_WAITING):
        self.loader, self.batch_size, self.max_waiting = loader, batch_size, max_waiting
        self.jobs: list[Job] = []
        self.waiting = 0  # questions in self.jobs not yet taken
        self.wake = threading.Condition()
        self.thread: threading.Thread | None = None

    async def answer(self, texts: list[str], timeout: float = ANSWER_TIMEOUT_S) -> list[dict]:
        job = Job(texts)
        with self.wake:
            if self.waiting + len(texts) > self.max_waiting:
                raise Refusal(503, "busy", "The server has too many questions waiting. Try again shortly.",
                              {"retry-after": "5"})
            self.jobs.append(job)
            self.waiting += len(texts)
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._work, name="api-batcher", daemon=True)
                self.thread.start()
            self.wake.notify()
        try:
            return await asyncio.wait_for(asyncio.shield(job.future), timeout)
        except asyncio.TimeoutError:
            self._drop(job)  # what the worker has not taken yet, it never will
            raise Refusal(503, "busy", f"No answer within {timeout:g} seconds: the server is busy. Try again shortly.",
                          {"retry-after": "10"}) from None

    def _drop(self, job: Job):
        """Take what is left of a job out of the queue."""
        with self.wake:
            if job in self.jobs:
                self.jobs.remove(job)
                self.waiting -= job.left

    def _take(self) -> list[tuple[Job, int, int]]:
        """Up to batch_size waiting questions, as (job, start, stop) pieces, smallest jobs first."""
        with self.wake:
            while not self.jobs:
                self.wake.wait()
            pieces, room = [], self.batch_size
            for job in sorted(self.jobs, key=lambda j: j.left):
                n = min(room, job.left)
                pieces.append((job, job.next, job.next + n))
                job.next += n
                room -= n
                if not room:
                    break
            self.waiting -= self.batch_size - room
            self.jobs = [j for j in self.jobs if j.left]
            return pieces

    def _work(self):
        while True:
            pieces = self._take()
            texts = [t for job, start, stop in pieces for t in job.texts[start:stop]]
            try:
                model = self.loader()
                answers = [api_result(r, model) for r in inf_batch(texts, model, batch_size=self.batch_size)]
            except ArtifactError as problem:
                failure = unavailable(problem)
            except Exception as problem:  # the worker goes on; these requests get a 500
                log.exception("the API's model call failed")
                failure = problem
            else:
                failure = None
            at = 0
            for job, start, stop in pieces:
                if failure:
                    job.finish(failure)
                    self._drop(job)  # the rest of it is not worth answering
                    continue
                job.results[start:stop] = answers[at : at + stop - start]
                at += stop - start
                if stop == len(job.texts):
                    job.finish()


def ranked(probs: dict, names: dict) -> list[dict]:
    return [{"code": code, "name": names[code], "confidence": round(p, 6)} for code, p in top(probs)]


def api_result(result: dict, model) -> dict:
    """streamlitinf's result as the API gives it: codes, names, confidences, the top 3 of each head."""
    return {
        "question": result["question"], "read_as": result["read_as"],
        "coarse": result["coarse"], "class": result["class"], "coarse_confidence": round(result["coarse_confidence"], 6),
        "fine": result["fine"], "subclass": result["subclass"], "fine_confidence": round(result["fine_confidence"], 6),
        "coarse_top": ranked(result["coarse_probs"], model.class2names),
        "fine_top": ranked(result["fine_probs"], model.subclass2names),
        "guess": result["guess"] is not None, "guess_reason": result["guess"],
        "truncated": result["truncated"], "model_version": model.version,
    }


# -- reading a request ------------------------------------------------------------------------------

def check_media_type(request: Request):
    kind, _, params = request.headers.get("content-type", "").partition(";")
    charset = next((p.split("=", 1)[1].strip().strip('"').lower() for p in params.split(";")
                    if p.strip().lower().startswith("charset=")), "utf-8")
    if kind.strip().lower() != "application/json" or charset not in ("utf-8", "utf8"):
        raise Refusal(415, "unsupported_media_type", "Send the body as JSON: Content-Type: application/json (UTF-8).")


async def read_body(request: Request) -> bytes:
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
        raise too_large()
    body = bytearray()
    with anyio.move_on_after(BODY_TIMEOUT_S) as waited:
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                raise too_large()
    if waited.cancelled_caught:
        raise Refusal(408, "body_timeout", f"The body did not arrive within {BODY_TIMEOUT_S} seconds.")
    return bytes(body)


def parse(body: bytes):
    try:
        return json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise Refusal(400, "invalid_json", "The body is not UTF-8 text.") from None
    except (ValueError, RecursionError) as problem:  # JSONDecodeError, a number too long, nesting too deep
        raise Refusal(400, "invalid_json", f"The body is not valid JSON: {str(problem)[:200]}") from None


def questions_of(payload) -> tuple[list[str], bool]:
    """(the questions, whether the request sent a list); Refusal 422 for anything else."""
    if not isinstance(payload, dict):
        raise Refusal(422, "invalid_request", 'Send a JSON object: {"question": "..."} or {"questions": ["...", ...]}.')
    unknown = sorted(set(payload) - {"question", "questions"})
    if unknown or len(payload) != 1:
        what = f"unknown field {unknown[0]!r}" if unknown else "both or neither of question and questions"
        raise Refusal(422, "invalid_request", f'The object has {what}: send exactly one of "question" or "questions".')
    if "question" in payload:
        return [check_question(payload["question"], "question")], False
    items = payload["questions"]
    if not isinstance(items, list) or not items:
        raise Refusal(422, "invalid_request", '"questions" must be a list of 1 to 1,000 strings.')
    if len(items) > MAX_QUESTIONS:
        raise Refusal(422, "too_many_questions",
                      f"{len(items):,} questions: at most {MAX_QUESTIONS:,} a request. Split them into several.")
    return [check_question(item, f"questions[{i}]") for i, item in enumerate(items)], True


def check_question(value, where: str) -> str:
    if not isinstance(value, str):
        raise Refusal(422, "invalid_request", f"{where} must be a string, not {json_type(value)}.")
    try:
        return normalise(value)
    except ValueError:
        raise Refusal(422, "empty_question", f"{where} is empty.") from None


def json_type(value) -> str:
    return {dict: "an object", list: "a list", bool: "a boolean", type(None): "null"}.get(type(value), "a number")


# -- the app ----------------------------------------------------------------------------------------

def build(settings: Settings | None = None, batcher: Batcher | None = None) -> Starlette:
    """The API as its own Starlette app, to mount at /api (serve.py) or to test on its own."""
    settings = settings or Settings.from_env()
    batcher = batcher or Batcher()
    limit = RateLimit(settings.rate_per_minute)
    token_problem = settings.token is not None and weakness(settings.token)
    if token_problem:
        log.error("API_TOKEN is too weak (%s): POST /api/classify answers 503 until it is changed.", token_problem)

    def spend(request: Request, cost: int = 1):
        address = client_address(request.headers, request.client.host if request.client else None)
        wait = limit.take(address, cost)
        if wait:
            raise Refusal(429, "rate_limited", f"Too many questions from this address: at most "
                          f"{settings.rate_per_minute:,} a minute. Try again in {math.ceil(wait)} s.",
                          {"retry-after": str(math.ceil(wait))})

    def authorise(request: Request):
        if settings.token is None:
            return
        if token_problem:
            raise Refusal(503, "closed", "The API is closed: its API_TOKEN is too weak (the server log says why).")
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), settings.token.encode()):
            raise Refusal(401, "unauthorized", "This API needs its token: Authorization: Bearer <API_TOKEN>.",
                          {"www-authenticate": 'Bearer realm="api"'})

    async def classify(request: Request) -> Response:
        spend(request)
        authorise(request)
        check_media_type(request)
        texts, many = questions_of(parse(await read_body(request)))
        if len(texts) > 1:
            spend(request, len(texts) - 1)
        results = await batcher.answer(texts)
        return json_response({"results": results} if many else results[0])

    async def health(request: Request) -> Response:
        spend(request)
        try:
            version = load_model().version
        except ArtifactError as problem:
            return json_response({"status": "unavailable", "model_loaded": False, "message": str(problem)}, 503)
        return json_response({"status": "ok", "model_loaded": True, "model_version": version})

    async def labels(request: Request) -> Response:
        spend(request)
        try:
            model = load_model()
        except ArtifactError as problem:
            raise unavailable(problem) from None
        return json_response({"model_version": model.version, "classes": [
            {"code": code, "name": name, "definition": GLOSSARY[code][0], "example": GLOSSARY[code][1],
             "subclasses": [{"code": fine, "name": model.subclass2names[fine], "definition": GLOSSARY[fine][0],
                             "example": GLOSSARY[fine][1]}
                            for fine in model.subclass2names if trec.coarse_of(fine) == code]}
            for code, name in model.class2names.items()]})

    async def openapi(request: Request) -> Response:
        spend(request)
        return json_response(OPENAPI)

    async def refused(request: Request, refusal: Refusal) -> Response:
        return json_response({"error": refusal.code, "message": refusal.message}, refusal.status, refusal.headers)

    async def http_error(request: Request, problem: HTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(problem.status_code, "http_error")
        message = {404: "No such endpoint: see /api/openapi.json.",
                   405: "This endpoint does not take that method."}.get(problem.status_code, str(problem.detail))
        return json_response({"error": code, "message": message}, problem.status_code, problem.headers)

    async def crashed(request: Request, problem: Exception) -> Response:
        return json_response({"error": "internal_error", "message": "Something went wrong on the server."}, 500)

    middleware = [Middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"],
                             allow_headers=["Authorization", "Content-Type"], max_age=600)] if settings.cors_origins else []
    return Starlette(
        routes=[Route("/classify", classify, methods=["POST"]), Route("/health", health, methods=["GET"]),
                Route("/labels", labels, methods=["GET"]), Route("/openapi.json", openapi, methods=["GET"])],
        middleware=middleware,
        exception_handlers={Refusal: refused, HTTPException: http_error, Exception: crashed})
