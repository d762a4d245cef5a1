"""The app's entry script: the Classify page, and the navigation to the Batch and Model card pages.

    streamlit run streamlitapp.py
"""

import pandas as pd
import streamlit as st

from qclass.feedback import MAX_COMMENT_CHARS, FeedbackError, FeedbackRejected
from qclass.pages import feedback_store, load_or_explain, log_server_settings
from streamlitinf import inf

EXAMPLES = [
    "What is the capital of Peru?",
    "Who wrote the Canterbury Tales?",
    "How many bones are in the human body?",
    "What does NASA stand for?",
    "Why is the sky blue?",
    "When did the Berlin Wall fall?",
]


def top3_chart(probs: dict, names: dict):
    top = sorted(probs.items(), key=lambda kv: kv[1], reverse=True)[:3]
    frame = pd.DataFrame({"answer": [f"{names[code]} ({code})" for code, _ in top],
                          "probability": [p for _, p in top]})
    st.bar_chart(frame, x="answer", y="probability", horizontal=True, sort="-probability", height=160)


def classify_page():
    """The page: title, question, answer."""
    st.title("Question Classification")
    st.write(
        "Type an English question and the model says what kind of answer it asks for: "
        "a class (e.g. LOCATION) and a subclass (e.g. city), from the TREC question taxonomy."
    )
    balloons = st.sidebar.toggle("Celebrate each answer with balloons", value=False)
    model = load_or_explain()

    st.caption("Try an example:")
    example_columns = st.columns(3)
    asked = False
    for i, example in enumerate(EXAMPLES):
        if example_columns[i % 3].button(example, key=f"example-{i}", width="stretch"):
            st.session_state.question = example  # set before the text input exists in this run
            asked = True

    with st.form("classify"):
        question = st.text_input("Your question", key="question", placeholder="e.g. Who invented the telephone?")
        asked |= st.form_submit_button("Classify", type="primary")

    if asked:
        st.session_state.pop("feedback_saved", None)
        try:
            with st.spinner("Classifying…"):
                st.session_state.result = inf(question, model)
        except ValueError as problem:
            st.session_state.pop("result", None)
            st.warning(str(problem))

    result = st.session_state.get("result")
    if result:
        show_answer(result, model)
        feedback_section(result, model)
        if balloons and asked:
            st.balloons()


def show_answer(result: dict, model):
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


def feedback_section(result: dict, model):
    """Is this right? One click to confirm, or a form to give the right class."""
    saved = st.session_state.get("feedback_saved")
    if saved:
        st.success(saved)
        return
    try:
        store = feedback_store()
    except FeedbackError:
        st.caption("Feedback is unavailable right now; classifying still works.")
        return
    st.write("**Is this right?**")
    version = model.card.get("model_version", "unknown")
    confirm_column, correct_column = st.columns([1, 3])
    if confirm_column.button("Yes, it's right", icon=":material/thumb_up:", key="confirm"):
        save_feedback(store, result, version, correct=True)
    with correct_column.expander("No, correct it"), st.form("correct"):
        codes = list(model.subclass2names)
        right = st.selectbox("The right class", codes, index=codes.index(result["fine"]),
                             format_func=lambda code: f"{model.class2names[code.split(':')[0]]} › "
                                                      f"{model.subclass2names[code]} ({code})")
        comment = st.text_area("Comment (optional)", max_chars=MAX_COMMENT_CHARS)
        if st.form_submit_button("Send correction"):
            save_feedback(store, result, version, correct=False, right_fine=right, comment=comment)


def save_feedback(store, result: dict, version: str, **verdict):
    try:
        store.save(result, version, **verdict)
    except FeedbackRejected as problem:
        st.warning(str(problem))
    except FeedbackError as problem:
        st.error(str(problem))
    else:
        st.session_state.feedback_saved = "Thank you: your feedback was saved."
        st.rerun()

st.set_page_config(page_title="Question Classification", page_icon="❓")
log_server_settings()
st.navigation([
    st.Page(classify_page, title="Classify", icon=":material/help:", default=True),
    st.Page("pages/1_Batch.py", title="Batch", icon=":material/list:", url_path="batch"),
    st.Page("pages/2_Model_card.py", title="Model card", icon=":material/fact_check:", url_path="model-card"),
    st.Page("pages/3_Feedback.py", title="Feedback", icon=":material/rate_review:", url_path="feedback"),
]).run()
