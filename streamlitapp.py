"""The app's entry script: the Classify page, and the navigation to the Batch and Model card pages.

    streamlit run streamlitapp.py
"""

import pyarrow as pa
import streamlit as st

from qclass.feedback import MAX_COMMENT_CHARS, FeedbackError, FeedbackRejected
from qclass.glossary import GLOSSARY
from qclass.inference import MAX_CHARS, clean
from qclass.pages import feedback_store, load_or_explain, log_server_settings, plain
from streamlitinf import inf, top

EXAMPLES = [
    "What is the capital of Peru?",
    "Who wrote the Canterbury Tales?",
    "How many bones are in the human body?",
    "What does NASA stand for?",
    "Why is the sky blue?",
    "When did the Berlin Wall fall?",
]


def top3_chart(probs: dict, names: dict):
    """The three likeliest answers as bars, full labels, percentages on the axis and in the tooltip.

    Built for the server's sake (py-spy under loadtest.py): a Vega-Lite spec written as a dict, as the
    same chart through Altair cost about 10 ms each (validating the spec against Vega-Lite's JSON
    schema), and the rows as an Arrow table, which Streamlit sends as it is (a dict or a DataFrame
    goes through pandas first, about 2 ms)."""
    best = top(probs)
    rows = pa.table({"answer": [f"{names[code]} ({code})" for code, _ in best], "probability": [p for _, p in best]})
    st.vega_lite_chart(rows, {
        "height": 110, "mark": {"type": "bar"},
        "encoding": {
            "x": {"field": "probability", "type": "quantitative", "title": None, "scale": {"domain": [0, 1]},
                  "axis": {"format": "%", "tickCount": 5}},
            "y": {"field": "answer", "type": "nominal", "title": None, "sort": "-x", "axis": {"labelLimit": 0}},
            "tooltip": [{"field": "answer", "type": "nominal"},
                        {"field": "probability", "type": "quantitative", "format": ".1%"}]}},
        width="stretch")


def ask():
    """The box's question is to be answered, as answer number `asked`. The mark stays until its answer
    is stored: Streamlit may stop a run at any st.session_state access when a newer message (a click)
    waits, and the next run must still answer it, under the same number."""
    st.session_state.asked = st.session_state.get("answers", 0) + 1


def classify_page():
    """The page: title, then question, answer, examples."""
    st.title("Question Classification")
    st.write(
        "Type an English question and the model says what kind of answer it asks for: "
        "a class (e.g. LOCATION) and a subclass (e.g. city), from the TREC question taxonomy."
    )
    balloons = st.sidebar.toggle("Celebrate each answer with balloons", value=False)
    question_and_answer(load_or_explain(), balloons)


def question_and_answer(model, balloons: bool):
    """The box, the answer, its feedback and the examples. Not an st.fragment: as one, it saved no
    server CPU in loadtest.py, and in the browser a Send correction click right after opening the
    form was lost in 2 of 5 runs (tests/test_browser_seams.py; 0 of 5 without)."""
    shared = st.query_params.get("q")
    if shared and "question" not in st.session_state:  # a result link (?q=...) opened afresh
        st.session_state.question = shared[:MAX_CHARS]
        ask()
    # Enter, leaving the box with a changed question, or the button: each asks, so the answer on the
    # page is always for the question in the box once the browser has sent it.
    question = st.text_input("Your question", key="question", on_change=ask, max_chars=MAX_CHARS,
                             placeholder="e.g. Who invented the telephone?")
    if st.button("Classify", type="primary", key="classify"):
        ask()
    asked = st.session_state.get("asked")
    if asked:
        try:
            result = inf(question, model)
        except ValueError as problem:
            st.session_state.pop("answer", None)
            st.query_params.pop("q", None)
            st.warning(str(problem))
        else:
            # Each answer gets its own number: every feedback widget is keyed by it, so a verdict,
            # a picked class or a comment can only ever belong to the answer it was given for.
            st.session_state.answer = {"number": asked, "result": result}
            st.session_state.answers = asked
            st.query_params["q"] = result["question"]  # the URL is a link to this answer
        del st.session_state.asked  # only now: see ask()

    answer = st.session_state.get("answer")
    if answer:
        result = answer["result"]
        st.caption("Answer for:")
        st.text(result["question"])
        if result["read_as"]:
            st.caption("Read as (typos mended):")
            st.text(result["read_as"])
        if normalise_or_empty(question) != result["question"]:
            st.info("You changed the question: press Classify to answer the new one. "
                    "The answer above is for the question shown there.")
        if result["guess"]:
            # The note stands where a confident answer would; the guess itself only on request.
            st.warning(f"This does not look like an English question: {result['guess']}. The model reads "
                       "English questions only, so its answer would be a guess.", icon=":material/translate:")
            with st.expander("Show the model's guess anyway"):
                show_answer(result, model)
        else:
            show_answer(result, model)
        if normalise_or_empty(question) == result["question"]:
            feedback_section(answer["number"], result, model)
        if balloons and asked:
            st.balloons()

    # Below the answer, so that on a phone the answer is in view after asking.
    with st.expander("Try an example", expanded="answer" not in st.session_state):
        example_columns = st.columns(2)
        for i, example in enumerate(EXAMPLES):
            example_columns[i % 2].button(example, key=f"example-{i}", width="stretch",
                                          on_click=use_example, args=(example,))


def use_example(example: str):
    st.session_state.question = example
    ask()


def normalise_or_empty(text) -> str:
    try:
        return clean(text)
    except ValueError:
        return ""


# Streamlit cuts a metric's value to one line ("description of a pers…"); a subclass name wraps instead.
WRAP_METRIC_VALUES = "<style>[data-testid='stMetricValue'] :is(div, p) { white-space: normal; }</style>"


def show_answer(result: dict, model):
    st.html(WRAP_METRIC_VALUES)
    coarse_column, fine_column = st.columns(2)
    with coarse_column:
        st.metric("Class", result["class"], help=f"code {result['coarse']}")
        st.caption(f"{result['coarse']} · {result['coarse_confidence']:.0%} confident")
        top3_chart(result["coarse_probs"], model.class2names)
    with fine_column:
        st.metric("Subclass", result["subclass"], help=f"code {result['fine']}")
        st.caption(f"{result['fine']} · {result['fine_confidence']:.0%} confident")
        top3_chart(result["fine_probs"], model.subclass2names)
    st.caption(f"**{result['class']}**: {GLOSSARY[result['coarse']][0]} **{result['subclass']}**: "
               f"{GLOSSARY[result['fine']][0]}")
    st.page_link("app_pages/4_Glossary.py", label="What every class and subclass means", icon=":material/menu_book:")
    if result["truncated"]:
        st.info("This question is very long: the model read only its beginning.")


def feedback_section(number: int, result: dict, model):
    """Is this right? One click to confirm, or a form to give the right class. Every widget is
    keyed by the answer's number, so each answer starts with a clean form."""
    if st.session_state.get("feedback_saved") == number:
        st.success("Thank you: your feedback was saved.")
        return
    st.write("**Is this right?**")
    version = model.version
    confirm_column, correct_column = st.columns([1, 3])
    if confirm_column.button("Yes, it's right", icon=":material/thumb_up:", key=f"confirm-{number}"):
        save_feedback(number, result, version, correct=True)
    with correct_column.expander("No, correct it", key=f"correct-open-{number}"), st.form(f"correct-{number}"):
        codes = [code for code in model.subclass2names if code != result["fine"]]
        right = st.selectbox("The right class", codes, index=None, key=f"right-{number}",
                             placeholder="Choose the right class",
                             format_func=lambda code: f"{model.class2names[code.split(':')[0]]} › "
                                                      f"{model.subclass2names[code]} ({code})")
        comment = st.text_area("Comment (optional)", max_chars=MAX_COMMENT_CHARS, key=f"comment-{number}")
        if st.form_submit_button("Send correction"):
            if right is None:
                st.warning("Choose the right class from the list first.")
            else:
                save_feedback(number, result, version, correct=False, right_fine=right, comment=comment)


def save_feedback(number: int, result: dict, version: str, **verdict):
    """The database is reached only here, on a verdict: showing an answer never waits on it."""
    try:
        feedback_store().save(result, version, **verdict)
    except FeedbackRejected as problem:
        st.warning(plain(str(problem)))
    except FeedbackError as problem:
        st.error(plain(str(problem)))
    else:
        st.session_state.feedback_saved = number
        st.rerun()


st.set_page_config(page_title="Question Classification", page_icon="❓")
log_server_settings()
# The other pages live in app_pages/, not pages/: with a pages/ folder, Streamlit runs a fresh
# server's first session as an old-style multipage app, and a bookmarked /batch shows "Page not found".
st.navigation([
    st.Page(classify_page, title="Classify", icon=":material/help:", default=True),
    st.Page("app_pages/1_Batch.py", title="Batch", icon=":material/list:", url_path="batch"),
    st.Page("app_pages/2_Model_card.py", title="Model card", icon=":material/fact_check:", url_path="model-card"),
    st.Page("app_pages/4_Glossary.py", title="Glossary", icon=":material/menu_book:", url_path="glossary"),
    # For the data team only: reachable at /feedback (the README says so), not listed for visitors.
    st.Page("app_pages/3_Feedback.py", title="Feedback", icon=":material/rate_review:", url_path="feedback",
            visibility="hidden"),
]).run()
