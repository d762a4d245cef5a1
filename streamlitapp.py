"""Classify: type an English question, see what kind of answer it asks for."""

import pandas as pd
import streamlit as st

from qclass.pages import load_or_explain
from streamlitinf import inf

EXAMPLES = [
    "What is the capital of Peru?",
    "Who wrote the Canterbury Tales?",
    "How many bones are in the human body?",
    "What does NASA stand for?",
    "Why is the sky blue?",
    "When did the Berlin Wall fall?",
]

st.set_page_config(page_title="Question Classification", page_icon="❓")
st.title("❓ Question Classification")
st.write(
    "Type an English question and the model says what kind of answer it asks for: "
    "a class (e.g. LOCATION) and a subclass (e.g. city), from the TREC question taxonomy."
)
balloons = st.sidebar.toggle("Celebrate each answer with balloons", value=False)
model = load_or_explain()

st.caption("Try an example:")
example_columns = st.columns(3)
for i, example in enumerate(EXAMPLES):
    if example_columns[i % 3].button(example, key=f"example-{i}", width="stretch"):
        st.session_state.question = example

with st.form("classify"):
    question = st.text_input("Your question", key="question", placeholder="e.g. Who invented the telephone?")
    submitted = st.form_submit_button("Classify", type="primary")


def top3_chart(probs: dict, names: dict):
    top = sorted(probs.items(), key=lambda kv: kv[1], reverse=True)[:3]
    frame = pd.DataFrame({"answer": [f"{names[code]} ({code})" for code, _ in top],
                          "probability": [p for _, p in top]})
    st.bar_chart(frame, x="answer", y="probability", horizontal=True, sort="-probability", height=160)


if submitted or any(st.session_state.get(f"example-{i}") for i in range(len(EXAMPLES))):
    try:
        with st.spinner("Classifying…"):
            result = inf(question, model)
    except ValueError as problem:
        st.warning(str(problem))
    else:
        coarse_column, fine_column = st.columns(2)
        with coarse_column:
            st.metric("Class", result["class"], help=f"code {result['coarse']}")
            st.caption(f"{result['coarse']} · {result['coarse_confidence']:.0%} confident")
            top3_chart(result["coarse_probs"], model.class2names)
        with fine_column:
            st.metric("Subclass", result["subclass"], help=f"code {result['fine']}")
            st.caption(f"{result['fine']} · {result['fine_confidence']:.0%} confident")
            top3_chart(result["fine_probs"], model.subclass2names)
        if not result["known_words"]:
            st.info("None of the words in this question are in the model's vocabulary, "
                    "so this answer is a guess. Try an English question.")
        if result["truncated"]:
            st.info("This question is very long: the model read only its beginning.")
        if balloons:
            st.balloons()
