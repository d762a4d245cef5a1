"""Model card: how good the model is, on what data, and where it is weak."""

import altair as alt
import pandas as pd
import streamlit as st

from qclass.pages import load_or_explain

# Published results on the same 500 TREC_10 questions, for comparison.
REFERENCES = [
    ("Li & Roth 2002, SNoW learner", 0.910, 0.842),
    ("Feature-rich SVM", 0.950, 0.908),
]

st.set_page_config(page_title="Model card · Question Classification", page_icon="❓")
st.title("Model card")
model = load_or_explain()
card = model.card
if not card:
    st.warning("model_card.json is missing: retrain with `python train.py` to write it.")
    st.stop()

test, info, data = card["test"], card["model"], card["data"]
st.subheader(f"Accuracy on the TREC_10 test set ({data['test_questions']} questions)")
typed = card.get("test_as_visitors_type", {})
rows = [("This model", test["coarse_accuracy"], test["fine_accuracy"])] + [
    (f"This model, {label}", typed[name]["coarse_accuracy"], typed[name]["fine_accuracy"])
    for name, label in (("lower_case_no_question_mark", "questions in lower case without \"?\""),
                        ("character_typos", "one typo per 25 letters")) if name in typed] + REFERENCES
accuracy = pd.DataFrame([(name, 100 * c, 100 * f) for name, c, f in rows], columns=["model", "class (6)", "subclass (50)"])
st.dataframe(accuracy, hide_index=True,
             column_config={c: st.column_config.NumberColumn(format="%.1f%%") for c in ("class (6)", "subclass (50)")})
st.caption(f"Chosen on a validation split ({card['validation']['coarse_accuracy']:.1%} class, "
           f"{card['validation']['fine_accuracy']:.1%} subclass); the test set was used once, for this report.")
if "character_typos" in typed and model.speller.counts:
    st.caption("The typo row is the model reading each typo as typed. The app mends typos, and reads a question "
               "as mended where that changes the answer (\"captial\" is read as \"capital\"); its answers do "
               "better on the same questions; the project's docs/model.md has the figures.")

st.subheader("Where it errs: class confusion on the test set")
classes = list(test["coarse_per_class"])
cells = [{"true class": classes[i], "predicted class": classes[j], "questions": n}
         for i, row in enumerate(test["coarse_confusion"]) for j, n in enumerate(row)]
heatmap = alt.Chart(pd.DataFrame(cells)).encode(x="predicted class:N", y="true class:N")
st.altair_chart(heatmap.mark_rect().encode(color=alt.Color("questions:Q", scale=alt.Scale(scheme="blues")))
                + heatmap.mark_text().encode(text="questions:Q"), width="stretch")

st.subheader("Per-class scores on the test set")
st.caption("Precision: of the questions the model put in the class, how many belong there. Recall: of the "
           "questions that belong there, how many the model found. F1 combines the two.")
for head, names in (("coarse_per_class", model.class2names), ("fine_per_class", model.subclass2names)):
    frame = pd.DataFrame([{"class": f"{code} ({names[code]})", "test questions": scores["support"],
                           **({k: 100 * scores[k] for k in ("precision", "recall", "f1")} if scores["support"] else
                              {"precision": None, "recall": None, "f1": None})}
                          for code, scores in test[head].items()])
    st.dataframe(frame, hide_index=True, column_config={
        "precision": st.column_config.NumberColumn(format="%.1f%%"),
        "recall": st.column_config.NumberColumn(format="%.1f%%"),
        "f1": st.column_config.ProgressColumn("F1", min_value=0.0, max_value=100.0, format="%.1f%%")})
empty = [code for code, scores in test["fine_per_class"].items() if not scores["support"]]
if empty:
    st.caption(f"{len(empty)} subclasses have no test questions, so their scores are left blank: "
               + ", ".join(empty) + ".")

st.subheader("The model")
config = info["config"]
st.markdown(
    f"- **Architecture**: transformer encoder, {config['layers']} layers, {config['dim_model']} wide, "
    f"{config['heads']} heads, two classification heads (6 classes, 50 subclasses)\n"
    f"- **Size**: {info['parameters']:,} parameters, {info['file_bytes'] / 1e6:.1f} MB file ({info['stored_as']})\n"
    f"- **Version**: `{card['model_version']}`, trained {card['created']} in {card['training_seconds'] // 60} min\n"
    f"- **Training data**: {data['train_questions']:,} questions of `{data['train_file']}` "
    f"(validation: {data['validation_split']})\n"
    f"- **Vocabulary**: {card['vocabulary']['size']:,} WordPiece tokens "
    + ("of all-MiniLM-L6-v2's own, the ones it uses most on "
       if card["hyperparameters"].get("vocab_source") == "minilm" else "built from ")
    + f"{card['vocabulary']['corpus']}\n"
    + (f"- **Knowledge from outside the training set**: a larger pretrained language model, "
       f"{card['teacher']['model']}, was trained on the same questions and then taught ours: it answered "
       f"{card['teacher']['augmented_questions']:,} reworded variants of them, and ours learned to give the same "
       f"answers. Ours also starts from that model's lower layers.\n"
       if card.get("teacher") else "")
)
st.subheader("Known limits")
st.markdown(
    "- English questions only. Text that does not look like one (another language, typed gibberish, a statement, "
    "no words at all) gets a note in place of the answer. On a small labelled set (`tests/guess_set.tsv`) the "
    "note caught 52 of 56 such texts and 1 of 79 English questions typed as visitors type them "
    "(\"platypus habitat\"); it marks none of the 500 test questions (also in lower case without \"?\") "
    "and 0 of 5,452 training questions. Short texts in a language close to another can pass unflagged (Polish "
    "\"Ile lat ma Ziemia?\" did), and so can one word of keyboard mash (\"qwerty\", \"zxcvbnm\") or a greeting of three "
    "words (\"Good morning everyone.\").\n"
    "- Trained on short factual questions (TREC); commands, chit-chat and multi-sentence text are out of scope.\n"
    "- Rare subclasses (fewer than 20 training questions, e.g. `NUM:ord`, `ENTY:religion`) are the least reliable.\n"
    "- Only the first 64 tokens of a question are read."
)
