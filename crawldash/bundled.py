"""The bundled sample job: loaded once into an empty database, so a new user sees a working dashboard."""

from __future__ import annotations

from crawldash.importers import import_files
from crawldash.ingest import ImportResult
from crawldash.store import PROJECT_DIR, Store

SAMPLE_FILE = PROJECT_DIR / "data" / "sample-job.json"
_LOADED = "bundled_sample_loaded"


def ensure_sample(store: Store) -> ImportResult | None:
    """Import the bundled sample into a database that has never held a job; None when it was not needed.

    A database whose jobs a user deleted stays empty: the sample comes only once.
    """
    jobs, _ = store.totals()
    if jobs or store.meta(_LOADED) or not SAMPLE_FILE.is_file():
        return None
    [result] = import_files(store, [SAMPLE_FILE])
    store.set_meta(_LOADED, result.job_id)
    return result
