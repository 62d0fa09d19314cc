"""Streamlit glue: the only code outside pages/ that imports streamlit."""
