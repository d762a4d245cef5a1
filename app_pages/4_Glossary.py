"""Glossary: what each of the 6 classes and 50 subclasses means, with an example question."""

import pandas as pd
import streamlit as st

from qclass import glossary

st.set_page_config(page_title="Glossary · Question Classification", page_icon="❓")
st.title("What the classes mean")
st.write("The model answers with one of 6 classes and one of the 50 subclasses inside it, from the TREC "
         "question taxonomy (Li & Roth 2002). Each asks for a different kind of answer:")
st.dataframe(pd.DataFrame(glossary.rows()), hide_index=True, width="stretch", height=35 * 57 + 3,
             column_config={"code": st.column_config.TextColumn(width="small"),
                            "means": st.column_config.TextColumn(width="large")})
