"""The JSON API (qclass/api.py): in process through Starlette's test client, then on the server the
Procfile starts, where the pages and the API share one process and one model."""

import asyncio
import http.client
import json
import statistics
import threading
import time

import pytest
from jsonschema import Draft202012Validator
from starlette.testclient import TestClient

from qclass import api
from qclass.artifacts import ArtifactError
from qclass.openapi import OPENAPI
from streamlitinf import inf

TOKEN = "kept secret by the data team"


def schema(name: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"#/components/schemas/{name}", "components": OPENAPI["components"]})


def client(**settings) -> TestClient:
    return TestClient(api.build(api.Settings(**{"rate_per_minute": 0, **settings})), raise_server_exceptions=False)


def refused(reply, status: int, code: str) -> dict:
    """The reply is the JSON error the schema describes, with this status and code."""
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"] == "application/json"
    body = reply.json()
    schema("Error").validate(body)
    assert body["error"] == code, body
    return body


@pytest.fixture(scope="module")
def plain():
    return client()


def test_one_question_is_answered_as_the_page_answers_it(plain, model):
    reply = plain.post("/classify", json={"question": "  What is the capital of Peru?  "})
    assert reply.status_code == 200
    body = reply.json()
    schema("Result").validate(body)
    expected = inf("What is the capital of Peru?", model)
    assert (body["question"], body["coarse"], body["fine"]) == (expected["question"], "LOC", "LOC:city")
    assert body["fine_confidence"] == pytest.approx(expected["fine_confidence"], abs=1e-6)
    assert [t["code"] for t in body["fine_top"]][0] == "LOC:city" and len(body["fine_top"]) == 3
    assert body["model_version"] == model.card["model_version"]
    assert body["guess"] is False and body["guess_reason"] is None and body["truncated"] is False
    assert body["read_as"] is None


def test_a_mended_typo_is_returned_beside_the_question_as_sent(plain):
    body = plain.post("/classify", json={"question": "What is the captial of Peru?"}).json()
    schema("Result").validate(body)
    assert (body["question"], body["read_as"], body["fine"]) == (
        "What is the captial of Peru?", "What is the capital of Peru?", "LOC:city")


def test_many_questions_come_back_in_order(plain, model):
    questions = ["Who wrote Hamlet?", "How far is the Moon from Earth?", "Qu'est-ce que c'est ?", "x" * 5000] * 25
    reply = plain.post("/classify", json={"questions": questions})
    assert reply.status_code == 200
    body = reply.json()
    schema("Results").validate(body)
    expected = [inf(q, model) for q in questions[:4]]
    got = body["results"]
    assert len(got) == 100
    assert [r["fine"] for r in got[:4]] == [e["fine"] for e in expected]
    assert [r["fine"] for r in got] == [r["fine"] for r in got[:4]] * 25
    assert got[2]["guess"] is True and "French" in got[2]["guess_reason"]
    assert got[3]["truncated"] is True and len(got[3]["question"]) == 2000


def test_a_thousand_questions_are_allowed_and_one_more_is_not(plain):
    reply = plain.post("/classify", json={"questions": ["Why is the sky blue?"] * 1000})
    assert reply.status_code == 200 and len(reply.json()["results"]) == 1000
    refused(plain.post("/classify", json={"questions": ["Why?"] * 1001}), 422, "too_many_questions")


def test_text_that_utf8_cannot_hold_is_still_answered(plain):
    reply = plain.post("/classify", content=b'{"question": "\\ud800 who is it?"}', headers={"content-type": "application/json"})
    assert reply.status_code == 200
    assert reply.json()["question"] == "\ufffd who is it?"


@pytest.mark.parametrize("body, code", [
    (b"{", "invalid_json"),
    (b"\xff\xfe{}", "invalid_json"),
    (b"[" * 100_000 + b"]" * 100_000, "invalid_json"),
    (b'{"question": 1' + b"0" * 5000 + b"}", "invalid_json"),
])
def test_malformed_bodies_are_400(plain, body, code):
    refused(plain.post("/classify", content=body, headers={"content-type": "application/json"}), 400, code)


@pytest.mark.parametrize("payload, code", [
    ({"question": ""}, "empty_question"),
    ({"question": " \n\t\x00 "}, "empty_question"),
    ({"questions": ["fine?", "  "]}, "empty_question"),
    ({"question": 3}, "invalid_request"),
    ({"question": None}, "invalid_request"),
    ({"question": ["a list"]}, "invalid_request"),
    ({"questions": "not a list"}, "invalid_request"),
    ({"questions": []}, "invalid_request"),
    ({"questions": ["ok?", {"nested": 1}]}, "invalid_request"),
    ({"question": "a?", "questions": ["b?"]}, "invalid_request"),
    ({"questoin": "a typo?"}, "invalid_request"),
    ({}, "invalid_request"),
    (["What?"], "invalid_request"),
    ("What?", "invalid_request"),
])
def test_wrong_shapes_and_empty_questions_are_422(plain, payload, code):
    body = refused(plain.post("/classify", json=payload), 422, code)
    if payload == {"questions": ["fine?", "  "]}:
        assert "questions[1]" in body["message"]


def test_bodies_over_the_limit_are_413_with_or_without_a_length(plain):
    big = json.dumps({"question": "x" * api.MAX_BODY_BYTES}).encode()
    refused(plain.post("/classify", content=big, headers={"content-type": "application/json"}), 413, "body_too_large")

    def chunks():  # no Content-Length: the body is counted as it arrives
        for _ in range(40):
            yield b" " * 50_000

    refused(plain.post("/classify", content=chunks(), headers={"content-type": "application/json"}), 413, "body_too_large")


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "application/json; charset=latin-1"])
def test_other_media_types_are_415(plain, content_type):
    headers = {"content-type": content_type} if content_type else {}
    refused(plain.post("/classify", content=b'{"question": "Who?"}', headers=headers), 415, "unsupported_media_type")


def test_unknown_paths_and_methods_answer_json(plain):
    refused(plain.get("/nothing-here"), 404, "not_found")
    reply = plain.get("/classify")
    refused(reply, 405, "method_not_allowed")
    assert reply.headers["allow"] == "POST"
    refused(plain.delete("/health"), 405, "method_not_allowed")


def test_health_labels_and_the_openapi_document(plain, model):
    health = plain.get("/health").json()
    schema("Health").validate(health)
    assert health == {"status": "ok", "model_loaded": True, "model_version": model.card["model_version"]}
    labels = plain.get("/labels").json()
    schema("Labels").validate(labels)
    assert [c["code"] for c in labels["classes"]] == list(model.class2names)
    assert sum(len(c["subclasses"]) for c in labels["classes"]) == 50
    assert all(c["definition"] and all(s["definition"] for s in c["subclasses"]) for c in labels["classes"])
    document = plain.get("/openapi.json").json()
    assert document["openapi"].startswith("3.1") and set(document["paths"]) == {
        "/classify", "/health", "/labels", "/openapi.json"}
    Draft202012Validator.check_schema(document["components"]["schemas"]["Result"])


def test_a_missing_model_is_503_in_json(tmp_path, monkeypatch):
    monkeypatch.setenv("MODEL_DIR", str(tmp_path))
    broken = client()
    reply = broken.get("/health")
    assert reply.status_code == 503 and reply.json()["model_loaded"] is False
    assert "Model file missing" in reply.json()["message"]
    refused(broken.post("/classify", json={"question": "Who?"}), 503, "model_unavailable")
    refused(broken.get("/labels"), 503, "model_unavailable")


def test_an_unexpected_failure_is_a_plain_500(monkeypatch):
    def crash(*args, **kwargs):
        raise RuntimeError("internal detail that must not leak")

    monkeypatch.setattr(api, "inf_batch", crash)
    body = refused(client().post("/classify", json={"question": "Who?"}), 500, "internal_error")
    assert "internal detail" not in body["message"]


# -- token, rate limit, CORS ----------------------------------------------------------------------

def test_the_token_is_required_when_set():
    guarded = client(token=TOKEN)
    reply = guarded.post("/classify", json={"question": "Who?"})
    refused(reply, 401, "unauthorized")
    assert reply.headers["www-authenticate"].startswith("Bearer")
    for wrong in ("Bearer nope", f"Basic {TOKEN}", TOKEN, f"Bearer {TOKEN}x"):
        refused(guarded.post("/classify", json={"question": "Who?"}, headers={"authorization": wrong}), 401, "unauthorized")
    ok = guarded.post("/classify", json={"question": "Who?"}, headers={"authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200
    assert guarded.get("/health").status_code == 200  # monitors need no token


def test_a_weak_token_closes_classify():
    closed = client(token="secret")
    body = refused(closed.post("/classify", json={"question": "Who?"}, headers={"authorization": "Bearer secret"}),
                   503, "closed")
    assert "too weak" in body["message"]


def test_the_rate_limit_counts_questions_per_address():
    limited = client(rate_per_minute=5)
    for _ in range(3):
        assert limited.post("/classify", json={"question": "Who?"}).status_code == 200
    reply = limited.post("/classify", json={"questions": ["Who?"] * 3})
    refused(reply, 429, "rate_limited")
    assert 1 <= int(reply.headers["retry-after"]) <= 60
    assert limited.post("/classify", json={"question": "Who?"}).status_code == 200  # the refusal cost 1
    refused(limited.get("/health"), 429, "rate_limited")
    # Heroku's router adds the visitor's address last; what the client wrote before it is ignored.
    other = {"x-forwarded-for": "203.0.113.9, 198.51.100.7"}
    assert limited.post("/classify", json={"question": "Who?"}, headers=other).status_code == 200
    spoofed = {"x-forwarded-for": "198.51.100.7, testclient"}
    refused(limited.post("/classify", json={"question": "Who?"}, headers=spoofed), 429, "rate_limited")


def test_the_bucket_refills_at_its_rate():
    now = [0.0]
    limit = api.RateLimit(60, clock=lambda: now[0])
    assert limit.take("a", 60) == 0
    assert limit.take("a") == pytest.approx(1.0)
    now[0] += 10
    assert limit.take("a", 10) == 0 and limit.take("a") > 0
    assert limit.take("b", 1000) == 0  # bigger than the bucket: it takes a full one
    assert limit.take("b") == pytest.approx(1.0)
    assert api.RateLimit(0).take("a", 10**6) == 0


def test_the_rate_limit_forgets_addresses_without_growing():
    now = [0.0]
    limit = api.RateLimit(60, clock=lambda: now[0])
    for i in range(limit.MAX_ADDRESSES * 3):
        now[0] += 0.001
        limit.take(f"10.0.{i // 256}.{i % 256}")
    assert len(limit.buckets) <= limit.MAX_ADDRESSES


def test_cors_is_off_by_default_and_configurable():
    preflight = {"origin": "https://elsewhere.example", "access-control-request-method": "POST",
                 "access-control-request-headers": "content-type"}
    closed = client()
    assert "access-control-allow-origin" not in closed.post(
        "/classify", json={"question": "Who?"}, headers={"origin": "https://elsewhere.example"}).headers
    assert closed.options("/classify", headers=preflight).status_code == 405
    opened = client(cors_origins=("https://elsewhere.example",))
    reply = opened.options("/classify", headers=preflight)
    assert reply.status_code == 200 and reply.headers["access-control-allow-origin"] == "https://elsewhere.example"
    assert opened.options("/classify", headers={**preflight, "origin": "https://evil.example"}).status_code == 400


def test_settings_come_from_the_environment():
    settings = api.Settings.from_env({"API_TOKEN": TOKEN, "API_RATE_LIMIT": "120",
                                      "API_CORS_ORIGINS": "https://a.example, https://b.example"})
    assert settings == api.Settings(TOKEN, 120, ("https://a.example", "https://b.example"))
    assert api.Settings.from_env({"API_RATE_LIMIT": "lots"}).rate_per_minute == api.DEFAULT_RATE
    assert api.Settings.from_env({}) == api.Settings(None, api.DEFAULT_RATE, ())


# -- the worker that batches every request's questions ---------------------------------------------

def test_a_single_question_is_not_kept_behind_a_big_request(model):
    async def race():
        batcher, finished = api.Batcher(), []

        async def ask(name, texts):
            await batcher.answer(texts)
            finished.append(name)

        big = asyncio.create_task(ask("big", ["What is the tallest mountain in the world?"] * 1000))
        await asyncio.sleep(0.05)
        await ask("single", ["Who wrote Hamlet?"])
        await big
        return finished

    assert asyncio.run(race()) == ["single", "big"]


def test_concurrent_requests_share_model_calls(monkeypatch, model):
    calls = []
    real = api.inf_batch

    def counted(texts, *args, **kwargs):
        calls.append(len(texts))
        return real(texts, *args, **kwargs)

    monkeypatch.setattr(api, "inf_batch", counted)

    async def many():
        batcher = api.Batcher()
        return await asyncio.gather(*(batcher.answer([f"Who wrote book number {i}?"]) for i in range(40)))

    results = asyncio.run(many())
    assert [r[0]["question"] for r in results] == [f"Who wrote book number {i}?" for i in range(40)]
    assert sum(calls) == 40 and len(calls) < 40, calls


def test_a_stuck_model_times_out_and_a_full_queue_is_refused(model):
    release = threading.Event()

    def stuck():
        release.wait(10)
        return model

    async def scenario():
        batcher = api.Batcher(loader=stuck, max_waiting=5)
        first = asyncio.create_task(batcher.answer(["Who?"], timeout=0.3))
        await asyncio.sleep(0.05)
        with pytest.raises(api.Refusal) as full:
            await batcher.answer(["a?"] * 6)
        with pytest.raises(api.Refusal) as late:
            await first
        release.set()
        return full.value, late.value, await batcher.answer(["Who wrote Hamlet?"])

    full, late, after = asyncio.run(scenario())
    assert (full.status, full.code, late.status, late.code) == (503, "busy", 503, "busy")
    assert "retry-after" in full.headers and "retry-after" in late.headers
    assert after[0]["fine"] == "HUM:ind"  # the worker carries on


def test_a_broken_model_fails_its_requests_not_the_worker(model):
    broken = [True]

    def loader():
        if broken[0]:
            raise ArtifactError("Model file missing: x.pt")
        return model

    async def scenario():
        batcher = api.Batcher(loader=loader)
        with pytest.raises(api.Refusal) as problem:
            await batcher.answer(["Who?"])
        broken[0] = False
        return problem.value, await batcher.answer(["Who wrote Hamlet?"])

    problem, after = asyncio.run(scenario())
    assert (problem.status, problem.code) == (503, "model_unavailable") and after[0]["fine"] == "HUM:ind"


def test_the_pages_and_the_api_use_one_model_object(model):
    from qclass.pages import load_or_explain

    assert api.Batcher().loader() is model is load_or_explain()


# -- on the server the Procfile starts --------------------------------------------------------------

@pytest.fixture(scope="module")
def api_server(dyno_app, artifacts_dir):
    from conftest import start_dyno

    server = start_dyno(dyno_app, artifacts_dir / "api-server.log", API_TOKEN=TOKEN, API_RATE_LIMIT="40")
    yield server
    server.stop()


def call(server, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request(method, path, body, headers or {})
        reply = connection.getresponse()
        return reply.status, dict(reply.getheaders()), reply.read()
    finally:
        connection.close()


def test_the_served_api_answers_and_refuses_in_json(api_server):
    auth = {"authorization": f"Bearer {TOKEN}", "content-type": "application/json", "x-forwarded-for": "192.0.2.1"}
    status, headers, body = call(api_server, "POST", "/api/classify", b'{"question": "who painted the mona lisa"}', auth)
    assert status == 200 and json.loads(body)["fine"] == "HUM:ind"
    assert headers["x-content-type-options"] == "nosniff"  # serve.py's safeguards cover the API too
    cases = [
        ("POST", "/api/classify", b'{"question": "Who?"}', {"content-type": "application/json"}, 401),
        ("POST", "/api/classify", b"{oops", auth, 400),
        ("POST", "/api/classify", b'{"question": "  "}', auth, 422),
        ("POST", "/api/classify", b'{"question": "Who?"}', {**auth, "content-type": "text/plain"}, 415),
        ("POST", "/api/classify", b" " * (api.MAX_BODY_BYTES + 1), auth, 413),
        ("GET", "/api/nowhere", None, auth, 404),
        ("PUT", "/api/classify", b"{}", auth, 405),
    ]
    for method, path, payload, headers, expected in cases:
        status, reply_headers, body = call(api_server, method, path, payload, headers)
        assert status == expected, (path, headers, body)
        assert reply_headers["content-type"] == "application/json"
        schema("Error").validate(json.loads(body))
    status, _, body = call(api_server, "GET", "/api/health")
    assert status == 200 and json.loads(body)["model_loaded"] is True


def test_the_served_rate_limit_is_per_forwarded_address(api_server):
    auth = {"authorization": f"Bearer {TOKEN}", "content-type": "application/json", "x-forwarded-for": "192.0.2.50"}
    forty = json.dumps({"questions": ["Who?"] * 40}).encode()
    assert call(api_server, "POST", "/api/classify", forty, auth)[0] == 200
    status, headers, body = call(api_server, "POST", "/api/classify", b'{"question": "Who?"}', auth)
    assert status == 429 and int(headers["retry-after"]) >= 1 and json.loads(body)["error"] == "rate_limited"
    other = {**auth, "x-forwarded-for": "192.0.2.51"}
    assert call(api_server, "POST", "/api/classify", b'{"question": "Who?"}', other)[0] == 200


def test_the_pages_and_the_api_load_the_model_once(api_server):
    from loadtest import connect, run_page
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    async def visit():
        async with connect(api_server.url) as websocket:
            _, elements = await run_page(websocket)
            box = next(e.text_input.id for e in elements if e.WhichOneof("type") == "text_input")
            _, elements = await run_page(websocket, "", [WidgetState(id=box, string_value="Who wrote Hamlet?")])
            return [e.metric.body for e in elements if e.WhichOneof("type") == "metric"]

    auth = {"authorization": f"Bearer {TOKEN}", "content-type": "application/json", "x-forwarded-for": "192.0.2.77"}
    assert call(api_server, "POST", "/api/classify", b'{"question": "Who wrote Hamlet?"}', auth)[0] == 200
    assert asyncio.run(visit()) == ["HUMAN", "individual"]
    assert call(api_server, "POST", "/api/classify", b'{"question": "Where is Lima?"}', auth)[0] == 200
    loads = [line for line in api_server.log.read_text().splitlines() if " loaded from " in line]
    assert len(loads) == 1, loads


def test_kept_alive_connections_answer_without_nagle_delays(api_server):
    """Before serve.py set TCP_NODELAY, every answer after a connection's first waited ~40 ms for
    the client's delayed ACK (median 43 ms for /api/health on this kind of machine)."""
    connection = http.client.HTTPConnection("127.0.0.1", api_server.port, timeout=30)
    times = []
    try:
        for _ in range(15):
            start = time.perf_counter()
            connection.request("GET", "/api/health")
            connection.getresponse().read()
            times.append(time.perf_counter() - start)
    finally:
        connection.close()
    assert statistics.median(times[1:]) < 0.02, times
