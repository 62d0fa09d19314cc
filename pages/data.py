"""Data: import crawl files, pull a job from the live API, and the jobs in the database."""

import os
import tempfile
from pathlib import Path

import streamlit as st

from crawldash.errors import CrawldashError
from crawldash.fetch import TOKEN_ENV, fetch_job
from crawldash.importers import FORMATS, import_files
from crawldash.ingest import ImportResult
from ui import data, render, state
from ui.page import routed

routed()


def configured_token() -> str | None:
    """The API token from Streamlit secrets, else the environment (None when neither has one)."""
    try:
        secret = st.secrets.get(TOKEN_ENV)
    except Exception:  # no secrets file at all: Streamlit raises rather than returning nothing
        secret = None
    return secret or os.environ.get(TOKEN_ENV)


def done(verb: str, results: list[ImportResult]) -> None:
    """Say what was stored, show its job, and start again with an empty form (after a rerun)."""
    data.forget()
    flash = []
    for result in results:
        flash.append(
            (
                "success",
                f"{verb} job **{result.job_id}** ({result.domain}): {result.tasks:,} tasks, format {result.format}.",
            )
        )
        flash += [("caption", f"Note: {note}") for note in result.notes]
    st.session_state["flash"] = flash
    st.session_state["upload_round"] = st.session_state.get("upload_round", 0) + 1
    state.request_job(results[0].job_id)
    st.rerun()


st.title("Data")
store = data.store()
for kind, message in st.session_state.pop("flash", []):
    {"success": lambda m: st.success(m, icon="✅"), "caption": st.caption}[kind](message)

st.subheader("Import crawl files")
st.caption(
    "Formats we read, detected from the content: "
    + "; ".join(f"**{k}**: {v}" for k, v in FORMATS.items())
    + ". Files uploaded together are one import: all of them or none (give a Screaming Frog Internal: All "
    "export and its All Inlinks export together). A job id that exists is replaced."
)
uploads = st.file_uploader(
    "Crawl exports", accept_multiple_files=True, key=f"w_uploads_{st.session_state.get('upload_round', 0)}"
)
if uploads and st.button("Import", type="primary", key="w_import"):
    bar = st.progress(0.0, text="Starting…")
    with tempfile.TemporaryDirectory(prefix="crawldash-upload-") as folder:
        paths = []
        for upload in uploads:
            path = Path(folder) / Path(upload.name).name
            path.write_bytes(upload.getbuffer())
            paths.append(path)
        try:
            results = import_files(store, paths, progress=lambda f, m: bar.progress(min(f, 1.0), text=m))
        except CrawldashError as exc:
            bar.empty()
            st.error(f"Nothing was imported. {exc}", icon="🚫")
        else:
            done("Imported", results)

st.subheader("Pull a job from the live API")
st.caption(
    "Reads every page of `GET {base}/v1/jobs/{job}/tasks`, retrying 429 and 5xx answers. Nothing is stored "
    "unless every page arrives; a job with the same id is replaced. The token is used for this pull only: "
    "it is never shown, logged or stored."
)
with st.form("w_fetch", clear_on_submit=True):
    base = st.text_input("API base URL", placeholder="https://api.example.com")
    remote_job = st.text_input("Job ID")
    token = st.text_input(
        "Token", type="password", help=f"Leave empty to use {TOKEN_ENV} from Streamlit secrets or the environment."
    )
    pull = st.form_submit_button("Pull the job", type="primary")
if pull:
    bar = st.progress(0.0, text=f"Connecting to {base}…")
    try:
        result = fetch_job(
            store,
            base,
            remote_job,
            token or configured_token(),
            progress=lambda f, m: bar.progress(min(f, 1.0), text=m),
        )
    except CrawldashError as exc:
        bar.empty()
        st.error(f"Nothing was stored. {exc}", icon="🚫")
    else:
        done("Pulled", [result])
    finally:
        del token

st.subheader("Jobs in the database")
jobs = data.jobs()
if not jobs:
    render.empty_state("No job yet: import a crawl export above.")
for job in jobs:
    with st.container(border=True):
        left, right = st.columns([5, 1])
        left.markdown(f"**{job.domain}** · job `{job.job_id}` · {job.task_count:,} tasks · {job.status}")
        left.caption(
            f"Crawled {render.utc(job.created_at)} · imported {render.utc(job.imported_at, seconds=True)} "
            f"from {job.source} ({job.source_format})"
        )
        if right.button("Delete", key=f"w_delete_{job.job_id}", icon=":material/delete:"):
            st.session_state["confirm_delete"] = job.job_id
        if st.session_state.get("confirm_delete") == job.job_id:
            st.warning(f"Delete job {job.job_id} and its {job.task_count:,} tasks? This cannot be undone.")
            yes, no = st.columns(2)
            if yes.button("Yes, delete", type="primary", key=f"w_yes_{job.job_id}"):
                store.delete_job(job.job_id)
                data.forget()
                st.session_state.pop("confirm_delete", None)
                if state.current().job_id == job.job_id:
                    remaining = [j.job_id for j in data.jobs()]
                    state.request_job(remaining[0] if remaining else None)
                st.session_state["flash"] = [("success", f"Deleted job {job.job_id}.")]
                st.rerun()
            if no.button("Cancel", key=f"w_no_{job.job_id}"):
                st.session_state.pop("confirm_delete", None)
                st.rerun()
