"""The HTTP code a failed task's error text names, when it names exactly one.

Real failed tasks often carry no status_code, only an error such as "Not Found" or "Too Many
Requests". We show the code such a text implies, and keep the raw error beside it.

>>> code_from_error("Not Found")
404
>>> code_from_error("HTTP 503 Service Unavailable")
503
>>> code_from_error("context deadline exceeded (Client.Timeout exceeded while awaiting headers)") is None
True
"""

from __future__ import annotations

import re

#: Reason phrases (RFC 9110 and common extensions), lower case.
REASONS = {
    "bad request": 400,
    "unauthorized": 401,
    "unauthorised": 401,
    "payment required": 402,
    "forbidden": 403,
    "not found": 404,
    "method not allowed": 405,
    "not acceptable": 406,
    "proxy authentication required": 407,
    "request timeout": 408,
    "conflict": 409,
    "gone": 410,
    "length required": 411,
    "precondition failed": 412,
    "content too large": 413,
    "payload too large": 413,
    "uri too long": 414,
    "unsupported media type": 415,
    "range not satisfiable": 416,
    "expectation failed": 417,
    "misdirected request": 421,
    "unprocessable content": 422,
    "unprocessable entity": 422,
    "locked": 423,
    "failed dependency": 424,
    "too early": 425,
    "upgrade required": 426,
    "precondition required": 428,
    "too many requests": 429,
    "request header fields too large": 431,
    "unavailable for legal reasons": 451,
    "internal server error": 500,
    "not implemented": 501,
    "bad gateway": 502,
    "service unavailable": 503,
    "gateway timeout": 504,
    "http version not supported": 505,
    "insufficient storage": 507,
    "loop detected": 508,
    "network authentication required": 511,
}
# A number counts as a code at the start of the text or after "HTTP", "status (code)", "code" or
# "response": "404 Not Found", "HTTP/1.1 502", "unexpected status code 500". Not "after 300 seconds".
_CODE = re.compile(
    r"(?:^\s*|\b(?:https?(?:/\d(?:\.\d)?)?|status(?:\s+code)?|code|response)[\s:=#]*)([1-5]\d\d)(?![\w.])",
    re.IGNORECASE,
)
# Longest phrases first so "proxy authentication required" wins over shorter ones inside it.
_REASON = re.compile(
    r"\b(" + "|".join(re.escape(p) for p in sorted(REASONS, key=len, reverse=True)) + r")\b", re.IGNORECASE
)


def code_from_error(text: str | None) -> int | None:
    """The one HTTP code the text names (a 3-digit code or a reason phrase), else None."""
    if not text:
        return None
    codes = {int(m) for m in _CODE.findall(text)}
    codes |= {REASONS[m.lower()] for m in _REASON.findall(text)}
    return codes.pop() if len(codes) == 1 else None
