"""The load script's browserless visitor against the real server: it must see the answers the
model gives, and count a wrong answer as an error (else its latencies would mean nothing)."""

import asyncio

from loadtest import SocketVisitor, connect
from streamlitinf import inf


async def ask_over_websocket(server_url: str, questions: list[tuple[str, str, str]]) -> list:
    async with connect(server_url) as websocket:
        visitor = SocketVisitor(websocket)
        await visitor.open_page()
        results = []
        for question in questions:
            try:
                results.append(await visitor.ask(*question))
            except AssertionError as problem:
                results.append(problem)
        return results


def test_websocket_visitor_reads_the_models_answers(server_url, model):
    questions = ["Where is the Eiffel Tower?", "Who wrote Hamlet?", "How many bones are in the human body?"]
    expected = [(q, r["class"], r["subclass"]) for q, r in ((q, inf(q, model)) for q in questions)]
    seconds = asyncio.run(ask_over_websocket(server_url, expected))
    assert all(isinstance(s, float) and 0 < s < 30 for s in seconds), seconds


def test_websocket_visitor_counts_a_wrong_answer_as_an_error(server_url, model):
    right = inf("Who wrote Hamlet?", model)
    wrong_subclass = next(name for name in model.subclass2names.values() if name != right["subclass"])
    results = asyncio.run(ask_over_websocket(server_url, [
        ("Who wrote Hamlet?", right["class"], wrong_subclass), ("Who wrote Hamlet?", right["class"], right["subclass"])]))
    assert isinstance(results[0], AssertionError)
    assert isinstance(results[1], float)


def test_every_name_the_measuring_scripts_call_is_defined():
    """`python loadtest.py` once called slug_size() after a review had removed it: a name error that
    only the full run (not --skip-slug, --api or the tests) reached."""
    import ast
    import builtins

    import benchmark
    import loadtest

    for module in (loadtest, benchmark):
        tree = ast.parse(open(module.__file__).read())
        called = {node.func.id for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
        local = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
        local |= {a.arg for node in ast.walk(tree) if isinstance(node, ast.arguments)
                  for a in node.args + node.kwonlyargs + [node.vararg, node.kwarg] if a is not None}
        local |= {node.name for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
        local |= {(alias.asname or alias.name).split(".")[0] for node in ast.walk(tree)
                  if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}
        missing = {name for name in called - local if not hasattr(module, name) and not hasattr(builtins, name)}
        assert not missing, f"{module.__name__} calls undefined {sorted(missing)}"
