"""Benchmarks of issue 5: ours (crawldash) against pandas, SQLite and the original's PostgreSQL SQL."""
