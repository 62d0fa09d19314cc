"""Named errors: each carries one line a user can act on. The CLI maps them to exit codes."""

from __future__ import annotations


class CrawldashError(Exception):
    """Base class: the message is one clear line, never a stack trace."""

    exit_code = 1


class InvalidParameter(CrawldashError):
    """A value from a URL, a form or the command line that is not allowed (exit 2)."""

    exit_code = 2

    def __init__(self, name: str, value: object, expected: str):
        self.name, self.value, self.expected = name, value, expected
        super().__init__(f"{name} {value!r} is not valid: expected {expected}")


class UnknownJob(CrawldashError):
    """A job id that is not in the database (exit 2: the argument is wrong)."""

    exit_code = 2

    def __init__(self, job_id: str):
        self.job_id = job_id
        super().__init__(f"no job {job_id!r} in the database (see `python -m crawldash jobs`)")


class BadData(CrawldashError):
    """An input file we cannot import, with where and what was expected (exit 1)."""

    def __init__(self, source: str, detail: str):
        self.source, self.detail = source, detail
        super().__init__(f"{source}: {detail}")


class DatabaseError(CrawldashError):
    """The database file cannot be opened or used (in use by another process, other version)."""


class BadToken(CrawldashError):
    """The API token is missing or cannot be sent; the message never shows it (exit 2)."""

    exit_code = 2


class FetchError(CrawldashError):
    """The live API could not be read (exit 1). The message never holds the token."""


class TokenRefused(FetchError):
    """The API answered 401 or 403: the token is wrong, expired or has no access to the job."""


class RemoteJobNotFound(FetchError):
    """The API answered 404 in its own error shape: it has no job of that id."""


class NotTheApi(FetchError):
    """The server answered, but not as the API does (HTML, JSON of another shape, a redirect)."""


class ApiUnavailable(FetchError):
    """No usable answer: connection refused, timeouts, dropped connections, 429/5xx after every retry."""
