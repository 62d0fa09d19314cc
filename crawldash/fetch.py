"""Pull one job from the live API: every List Tasks page, then one import (SPEC "Import formats" 5).

`GET {base}/v1/jobs/{job_id}/tasks?limit=200&offset=N` with `Authorization: Bearer <token>`, following
`data.pagination.has_next`. 429 and 5xx answers, dropped connections and timeouts are retried with
exponential back-off (Retry-After honoured, in seconds or as an HTTP date). The pages go to a
temporary file as they arrive and are imported in one transaction only when the last one is in, so
a pull that fails part way leaves the database exactly as it was. The token is sent to the API and
nowhere else: no message, exception, log record, file or stored field holds it.

>>> fetch_job(store, "https://api.example.com", "job-1", token)  # doctest: +SKIP
ImportResult(job_id='job-1', domain='example.com', tasks=450, format='adapt', notes=())
"""

from __future__ import annotations

import email.utils
import http
import http.client
import ipaddress
import json
import logging
import math
import os
import re
import socket
import ssl
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from crawldash import __version__
from crawldash.errors import (
    ApiUnavailable,
    BadData,
    BadToken,
    CrawldashError,
    FetchError,
    InvalidParameter,
    NotTheApi,
    RemoteJobNotFound,
    TokenRefused,
)
from crawldash.importers import import_files
from crawldash.ingest import ImportResult, Progress
from crawldash.schema import check_job_id
from crawldash.store import Store

TOKEN_ENV = "CRAWLDASH_TOKEN"  # where the command line (and the app, outside Streamlit secrets) finds the token
LIMIT = 200  # tasks per page: the API's maximum
DEFAULT_TIMEOUT = 30.0  # seconds to wait for a connection or for the next bytes of an answer
DEFAULT_RETRIES = 4  # retries per page after the first attempt
BACKOFF_FIRST, BACKOFF_MAX = 1.0, 30.0  # seconds: 1, 2, 4, 8, … when the server gives no Retry-After
MAX_RETRY_AFTER = 300.0  # a longer Retry-After fails at once instead of waiting
MAX_ANSWER = 64 << 20  # bytes: a page of 200 tasks is about 100 kB
DOWNLOAD_SHARE = 0.9  # of the progress bar; importing the file takes the rest
USER_AGENT = f"crawldash/{__version__}"
EXPECTED = '{"status": "success", "data": {"tasks": [...], "pagination": {"limit", "offset", "total", "has_next"}}}'

log = logging.getLogger(__name__)


# --- what the caller gives ---------------------------------------------------------------------------


def api_base(base: str) -> str:
    """The API's base URL, checked: http or https, a host, no user, query or fragment; no trailing `/v1`.

    >>> api_base("https://api.example.com/v1/")
    'https://api.example.com'
    """
    text = (base or "").strip()
    parts = urllib.parse.urlsplit(text)
    # Shown in messages without what could be secret: a user and password, a query string.
    shown = re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://)?[^/@]*@", r"\1", re.split(r"[?#]", text, maxsplit=1)[0])[:100]
    expected = "the API's address, such as https://api.example.com"
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InvalidParameter("base URL", shown, expected + " (http or https)")
    if any(c.isspace() or not c.isprintable() for c in text):
        raise InvalidParameter("base URL", shown, expected + ", without spaces or control characters")
    if parts.username is not None or parts.password is not None:
        raise InvalidParameter("base URL", shown, expected + ", without a user name or password in it")
    if parts.query or parts.fragment or "?" in text or "#" in text:
        raise InvalidParameter("base URL", shown, expected + ", without a query string or fragment")
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise InvalidParameter("base URL", shown, expected + " with a valid port") from None
    path = parts.path.rstrip("/")
    path = path[: -len("/v1")] if path.endswith("/v1") else path
    return urllib.parse.urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, "", ""))


def check_token(token: str | None) -> str:
    """The token as it will be sent; `BadToken` (which never shows it) when it is empty or unusable."""
    text = (token or "").strip()
    if not text:
        raise BadToken("no API token given")
    if not all("!" <= c <= "~" for c in text):
        raise BadToken("the API token holds spaces, control or non-ASCII characters; it cannot be sent")
    return text


def sent_in_clear(base: str) -> bool:
    """Does a request to this base URL cross a network unencrypted (http to a host other than this one)?

    >>> sent_in_clear("http://api.example.com"), sent_in_clear("http://127.0.0.1:8080")
    (True, False)
    """
    parts = urllib.parse.urlsplit(base)
    if parts.scheme != "http" or parts.hostname == "localhost":
        return False
    try:
        return not ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return True


def tasks_url(base: str, job_id: str, offset: int | None = None) -> str:
    """The List Tasks address of a job (with `limit` and `offset` when an offset is given)."""
    url = f"{base}/v1/jobs/{urllib.parse.quote(job_id, safe='')}/tasks"
    return url if offset is None else f"{url}?limit={LIMIT}&offset={offset}"


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a Retry-After header asks for (a number or an HTTP date); None when absent or unreadable.

    >>> retry_after_seconds("7")
    7.0
    >>> retry_after_seconds("Wed, 21 Oct 2026 07:28:05 GMT", datetime(2026, 10, 21, 7, 28, tzinfo=UTC))
    5.0
    """
    text = (value or "").strip()
    if not text:
        return None
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


# --- one request ----------------------------------------------------------------------------------------


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """urllib would send the Authorization header on to wherever a redirect points: refuse instead."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class _Network(Exception):
    """A request that got no usable answer, with whether trying again can help."""

    def __init__(self, text: str, retry: bool, on_first: bool = True):
        super().__init__(text)
        self.retry = retry  # worth another attempt once the server has answered before
        self.on_first = on_first  # ... and on the very first request too


def _network(exc: BaseException, host: str, timeout: float) -> _Network:
    if isinstance(exc, TimeoutError | socket.timeout):
        return _Network(f"no answer within {timeout:g} s", retry=True, on_first=False)
    if isinstance(exc, ConnectionRefusedError):
        return _Network(
            f"cannot connect to {host}: connection refused (is the API running there, and is the base URL right?)",
            retry=True,
            on_first=False,
        )
    if isinstance(exc, socket.gaierror):
        return _Network(f"cannot find the host {host} ({exc.strerror or exc})", retry=False)
    if isinstance(exc, ssl.SSLError):
        return _Network(f"TLS error talking to {host} ({getattr(exc, 'reason', None) or exc})", retry=False)
    if isinstance(exc, ConnectionError | http.client.HTTPException):
        return _Network("the connection was dropped before the answer was complete", retry=True)
    return _Network(f"network error talking to {host} ({type(exc).__name__}: {exc})", retry=True, on_first=False)


def _read(stream) -> bytes:
    """The whole body, bounded; a body shorter than its Content-Length is a dropped connection."""
    if stream is None:
        return b""
    chunks, size = [], 0
    while part := stream.read(1 << 16):
        size += len(part)
        if size > MAX_ANSWER:
            raise NotTheApi(f"the answer is larger than {MAX_ANSWER >> 20} MB; a page of tasks is far smaller")
        chunks.append(part)
    if getattr(stream, "length", None):  # http.client counts down what Content-Length promised
        raise http.client.IncompleteRead(b"".join(chunks), stream.length)
    return b"".join(chunks)


# --- the pull ------------------------------------------------------------------------------------------


class _Pull:
    """One job's pages from one API, with the retry policy; holds the token and never shows it."""

    def __init__(self, base: str, job_id: str, token: str, *, progress: Progress, sleep, timeout, max_retries):
        self.base, self.job_id, self.progress = base, job_id, progress
        self._token = token
        self.sleep, self.timeout, self.max_retries = sleep, float(timeout), int(max_retries)
        self.host = urllib.parse.urlsplit(base).netloc
        self.answered = False  # has the server answered any request yet?
        self.fraction = 0.0
        self._opener = urllib.request.build_opener(
            _NoRedirects, urllib.request.HTTPHandler(debuglevel=0), urllib.request.HTTPSHandler(debuglevel=0)
        )

    def __repr__(self) -> str:
        return f"_Pull({self.base!r}, {self.job_id!r})"

    def scrub(self, text: str) -> str:
        """One line, with the token blanked out wherever a server echoed it back.

        A real token is long and blanked wherever it appears; a short one only where it stands
        alone, so that a token "x" does not turn "text/html" into "te[token]t/html".
        """
        if len(self._token) >= 8:
            clean = str(text).replace(self._token, "[token]")
        else:
            clean = re.sub(rf"(?<![A-Za-z0-9]){re.escape(self._token)}(?![A-Za-z0-9])", "[token]", str(text))
        return " ".join(clean.split())

    def fail(self, kind: type[CrawldashError], text: str) -> CrawldashError:
        return kind(self.scrub(text))

    def send(self, url: str) -> tuple[int, http.client.HTTPMessage, bytes]:
        """One GET: (status, headers, body) for any HTTP answer; `_Network` when there is none."""
        log.debug("GET %s", url)
        request = urllib.request.Request(
            url,
            headers={"Authorization": f"Bearer {self._token}", "Accept": "application/json", "User-Agent": USER_AGENT},
        )
        try:
            try:
                answer = self._opener.open(request, timeout=self.timeout)
                stream = answer
            except urllib.error.HTTPError as exc:
                answer, stream = exc, exc.fp  # the http.client response under the error, or None
            with answer:
                return answer.getcode(), answer.headers, _read(stream)
        except urllib.error.URLError as exc:
            reason = exc.reason if isinstance(exc.reason, BaseException) else exc
            raise _network(reason, self.host, self.timeout) from None
        except (OSError, http.client.HTTPException, ValueError) as exc:
            raise _network(exc, self.host, self.timeout) from None

    def get(self, offset: int, page: int) -> dict:
        """The `data` of one List Tasks page, after retries; a `FetchError` naming what went wrong."""
        url = tasks_url(self.base, self.job_id, offset)
        attempt = 0
        while True:
            attempt += 1
            try:
                status, headers, body = self.send(url)
            except _Network as exc:
                if not exc.retry or (not self.answered and not exc.on_first) or attempt > self.max_retries:
                    tries = f" ({attempt} attempts)" if attempt > 1 else ""
                    raise self.fail(ApiUnavailable, f"{url}: {exc}{tries}") from None
                why, wait = str(exc), self.backoff(attempt)
            else:
                self.answered = True
                if status == 200:
                    return self.page_data(url, headers, body, offset)
                if status != 429 and not 500 <= status <= 599:
                    raise self.refusal(url, status, headers, body)
                why = _status_text(status)
                if attempt > self.max_retries:
                    raise self.fail(ApiUnavailable, f"{url} still answered {why} after {attempt} attempts; try later")
                asked = retry_after_seconds(headers.get("Retry-After"))
                if asked is not None and asked > MAX_RETRY_AFTER:
                    raise self.fail(ApiUnavailable, f"{url} answered {why} and asks to wait {asked:.0f} s; try later")
                wait = asked if asked is not None else self.backoff(attempt)
            message = f"page {page}: {why}; retrying in {wait:g} s (attempt {attempt + 1} of {self.max_retries + 1})"
            log.info("%s", self.scrub(f"{url}: {message}"))
            self.progress(self.fraction, self.scrub(message))
            self.sleep(wait)

    @staticmethod
    def backoff(attempt: int) -> float:
        return min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** (attempt - 1))

    def refusal(self, url: str, status: int, headers, body: bytes) -> CrawldashError:
        """The error for an HTTP answer that is neither a page nor worth retrying."""
        said = _api_message(body)
        why = _status_text(status) + (f": {said}" if said else "")
        if status in (401, 403):
            return self.fail(
                TokenRefused,
                f"{self.base} refused the request for job {self.job_id!r} ({why}): the token is wrong, "
                "expired or has no access to this job",
            )
        if status == 404 and said is not None:
            return self.fail(RemoteJobNotFound, f"no job {self.job_id!r} at {self.base} ({why})")
        if status == 404:
            return self.fail(
                NotTheApi,
                f"{url} does not exist (404, {_what(headers, body)}): is {self.base} the API's address "
                "(the part before /v1)?",
            )
        if 300 <= status <= 399:
            where = headers.get("Location") or "nowhere"
            return self.fail(
                NotTheApi,
                f"{url} redirects ({status}) to {where}: give the address it redirects to as the base URL "
                "(the token is never sent on to a redirect)",
            )
        return self.fail(FetchError, f"{url} answered {why}")

    def page_data(self, url: str, headers, body: bytes, offset: int) -> dict:
        """Check that a 200 answer is a List Tasks page of this job at this offset; its `data`."""
        try:
            value = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise self.fail(
                NotTheApi,
                f"{url} answered {_what(headers, body)}, not the API's JSON: is {self.base} the API's address?",
            ) from None
        data = value.get("data") if isinstance(value, dict) else None
        if isinstance(value, dict) and value.get("status") == "error":
            raise self.fail(FetchError, f"{url} answered an error: {_api_message(body) or 'no message'}")
        pagination = data.get("pagination") if isinstance(data, dict) else None
        if not isinstance(pagination, dict) or "tasks" not in data or not _count(pagination.get("total")):
            got = f"its keys: {', '.join(sorted(map(str, value)))[:120] or 'none'}" if isinstance(value, dict) else ""
            got = got or f"a JSON {type(value).__name__}"
            raise self.fail(
                NotTheApi, f"{url} answered JSON that is not a List Tasks page ({got}); expected {EXPECTED}"
            )
        tasks = data["tasks"] or []
        if not isinstance(tasks, list) or not all(isinstance(t, dict) for t in tasks):
            raise self.fail(NotTheApi, f"{url}: data.tasks is not a list of task objects")
        if pagination.get("offset", offset) != offset:
            said = pagination.get("offset")
            raise self.fail(NotTheApi, f"{url} answered the page at offset {said!r}: it does not page as the API does")
        for task in tasks:
            other = task.get("job_id")
            if isinstance(other, str) and other and other.lower() != self.job_id.lower():
                raise self.fail(NotTheApi, f"{url} answered tasks of job {other!r}, not of job {self.job_id!r}")
        return data


def _status_text(status: int) -> str:
    try:
        return f"{status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _api_message(body: bytes) -> str | None:
    """The `message` of the API's own error shape {"status", "message", "code"}, if the body is one."""
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(value, dict) and isinstance(value.get("message"), str) and ("code" in value or "status" in value):
        return value["message"][:200]
    return None


def _what(headers, body: bytes) -> str:
    """What a non-API answer is, for a message: its Content-Type and an HTML page's title."""
    kind = headers.get("Content-Type") or "no Content-Type"
    found = re.search(rb"<title[^>]*>(.*?)</title>", body[:65536], re.IGNORECASE | re.DOTALL)
    title = " ".join(found.group(1).decode("utf-8", "replace").split())[:80] if found else ""
    return f"{kind}, a page titled {title!r}" if title else kind


def fetch_job(
    store: Store,
    base_url: str,
    job_id: str,
    token: str,
    *,
    progress: Progress | None = None,
    sleep: Callable[[float], None] = time.sleep,
    timeout: float = DEFAULT_TIMEOUT,
    max_retries: int = DEFAULT_RETRIES,
) -> ImportResult:
    """Read every List Tasks page of a job from the API and store it, replacing a job of the same id.

    Nothing is stored unless every page arrived: on any error the database is as it was.
    """
    base, job_id, token = api_base(base_url), check_job_id(job_id), check_token(token)
    report = progress or (lambda fraction, message: None)
    pull = _Pull(base, job_id, token, progress=report, sleep=sleep, timeout=timeout, max_retries=max_retries)
    source = tasks_url(base, job_id)
    fd, name = tempfile.mkstemp(prefix="crawldash-fetch-", suffix=".json")
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            received, total, stored_id = _download(pull, out, job_id)
        notes = []
        if received != total:
            notes.append(f"the API reported {total:,} tasks but its pages held {received:,} (did the job change?)")
        if sent_in_clear(base):
            notes.append("the token was sent unencrypted (http, not https)")
        result = _store_file(store, path, stored_id, source, notes, report)
    finally:
        path.unlink(missing_ok=True)
    report(1.0, f"stored {result.tasks:,} tasks of job {result.job_id}")
    return result


def _download(pull: _Pull, out, job_id: str) -> tuple[int, int, str]:
    """Write every page's tasks to `out` as one export-shaped JSON object: (tasks, total, job id)."""
    offset, page, stored_id = 0, 0, job_id
    out.write(b'{"status":"success","data":{"tasks":[')
    while True:
        page += 1
        data = pull.get(offset, page)
        tasks, pagination = data["tasks"] or [], data["pagination"]
        total = pagination["total"]
        if offset == 0 and tasks and isinstance(tasks[0].get("job_id"), str) and tasks[0]["job_id"]:
            stored_id = tasks[0]["job_id"]  # the API's spelling of the id (its case)
        for task in tasks:
            out.write((b"," if offset else b"") + json.dumps(task, separators=(",", ":"), ensure_ascii=False).encode())
            offset += 1
        has_next = pagination.get("has_next")
        if not isinstance(has_next, bool):
            has_next = offset < total
        limit = pagination.get("limit") if _count(pagination.get("limit")) and pagination.get("limit") else LIMIT
        pages = max(1, math.ceil(total / limit))
        pull.fraction = DOWNLOAD_SHARE * (min(offset / total, 1.0) if total else 1.0)
        pull.progress(pull.fraction, f"page {page} of {max(pages, page)}: {offset:,} of {total:,} tasks")
        if not has_next:
            break
        if not tasks or offset >= total:
            raise pull.fail(
                NotTheApi, f"{tasks_url(pull.base, job_id, offset)}: has_next is true but no more tasks follow"
            )
    out.write(b"]}}")
    if offset == 0:
        raise BadData(tasks_url(pull.base, job_id), "the job has no tasks (yet); nothing was imported")
    return offset, total, stored_id


def _store_file(store: Store, path: Path, job_id: str, source: str, notes: list[str], report: Progress) -> ImportResult:
    """Import the downloaded file (one transaction), then record the API address as the job's source.

    `import_files` names the source after the file; a second, tiny transaction replaces that name
    (and adds the pull's notes) only while the job is still the one just imported.
    """
    prefix = f"{path.name}: "

    def step(fraction: float, message: str) -> None:
        report(DOWNLOAD_SHARE + (1.0 - DOWNLOAD_SHARE) * fraction, "importing: " + message.removeprefix(prefix))

    try:
        [result] = import_files(store, [path], fmt="adapt", job_id=job_id, progress=step)
    except BadData as exc:
        raise BadData(source, exc.detail) from None
    all_notes = [*result.notes, *notes]
    with store.transaction() as cur:
        cur.execute(
            "UPDATE jobs SET source = ?, notes = ? WHERE job_id = ? AND source = ?",
            [source, json.dumps(all_notes), result.job_id, path.name],
        )
    return ImportResult(result.job_id, result.domain, result.tasks, result.format, tuple(all_notes))
