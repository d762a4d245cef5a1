"""Helpers shared by training, inference and the app (no Streamlit here)."""
