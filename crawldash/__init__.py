"""crawldash: explore website-crawl results in DuckDB. No Streamlit in this package."""

__version__ = "0.1.0"
