"""crawldash: the router. Page config, navigation, the shared sidebar filters, then the page."""

import streamlit as st

from crawldash.errors import CrawldashError
from ui import data, state

st.set_page_config(page_title="crawldash", page_icon="🕸️", layout="wide")

navigation = st.navigation(
    {
        "Explore": [
            st.Page("pages/tasks.py", title="Tasks", icon=":material/table_rows:", default=True),
            st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:"),
            st.Page("pages/performance.py", title="Performance", icon=":material/speed:"),
            st.Page("pages/cache.py", title="Cache", icon=":material/cached:"),
        ],
        "Share": [
            st.Page("pages/reports.py", title="Reports", icon=":material/download:"),
            st.Page("pages/data.py", title="Data", icon=":material/database:"),
        ],
    }
)

try:
    jobs = data.jobs()
except CrawldashError as exc:  # the database cannot be opened: say why instead of a traceback
    st.error(f"crawldash cannot start: {exc}", icon="🚫")
    st.stop()
state.read_url(jobs)
view = state.sidebar(jobs)
state.write_url(view)
navigation.run()
