"""Property: inf takes any string; it answers with an agreeing pair and proper probabilities,
or, for text with nothing in it, raises the clear ValueError."""

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import streamlitinf


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=3000) | st.text(alphabet=st.characters(codec="utf-8"), max_size=50))
def test_inf_accepts_any_string(model, text):
    try:
        result = streamlitinf.inf(text, model)
    except ValueError as problem:
        assert not text.replace("\x00", " ").strip()
        assert "empty" in str(problem)
        return
    assert result["fine"].split(":")[0] == result["coarse"]
    assert math.isclose(sum(result["coarse_probs"].values()), 1.0, abs_tol=1e-4)
    assert math.isclose(sum(result["fine_probs"].values()), 1.0, abs_tol=1e-4)
    assert all(0.0 <= p <= 1.0 for p in result["fine_probs"].values())
    assert result["fine_probs"][result["fine"]] == max(
        p for code, p in result["fine_probs"].items() if code.startswith(result["coarse"] + ":"))
