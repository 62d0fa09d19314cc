"""CSV files as they come from spreadsheets and crawlers, made readable by DuckDB's reader.

UTF-8 with or without a BOM is read in place, once the whole file is known to be UTF-8. UTF-16
(with a BOM, or without one but full of NUL bytes) and Windows-1252 (any byte that is not UTF-8)
are transcoded, streaming, to a temporary UTF-8 copy. The delimiter is the one of `,` `;` or tab
that the header line uses (or the one an Excel `sep=;` first line names); semicolon files are taken
to write decimals with a comma ("0,425"), as spreadsheets in those locales do. Line endings may be
LF or CRLF, and quoted cells may hold newlines.

>>> sniff_header('"Address";"Response Time"\\r\\n"https://example.com/";"0,425"\\r\\n')
(';', ['Address', 'Response Time'])
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from crawldash.errors import BadData

_HEAD = 1 << 16
_BLOCK = 1 << 20
_DELIMITERS = (",", ";", "\t")
#: Excel's first-line hint naming the delimiter: `sep=;`
_SEP_LINE = re.compile(r"\Asep=(.)[ \t]*\r?(\n|\Z)", re.IGNORECASE)


@dataclass
class CsvText:
    """A CSV file ready for `read_csv`: where to read it, and what its header says."""

    path: Path  # a UTF-8 file: the original, or a transcoded temporary copy
    encoding: str  # what the original was written in
    delimiter: str
    header: list[str]
    decimal_comma: bool
    temporary: bool = False
    skip: int = 0  # lines before the header (an Excel `sep=` line)
    notes: list[str] = field(default_factory=list)

    def close(self) -> None:
        if self.temporary:
            self.path.unlink(missing_ok=True)

    def read_csv_sql(self) -> str:
        """The DuckDB table function reading every cell as text (header row excluded), in file order.

        `parallel = false`: DuckDB's parallel scanner refuses short rows padded with NULLs in a file
        whose quoted cells hold newlines; one scanner also keeps `row_number() OVER ()` in file order.
        """
        quoted = str(self.path).replace("'", "''")
        delim = self.delimiter.replace("'", "''")
        return (
            f"read_csv('{quoted}', header = true, skip = {self.skip}, delim = '{delim}', quote = '\"', "
            "escape = '\"', all_varchar = true, null_padding = true, strict_mode = false, parallel = false, "
            "max_line_size = 16777216, auto_detect = false, columns = {"
            + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(max(len(self.header), 1)))
            + "})"
        )


def detect_encoding(head: bytes) -> str:
    """The text encoding of a file from its first bytes.

    >>> detect_encoding("Adresse;Zeit\\n".encode("utf-16"))
    'utf-16'
    >>> detect_encoding("url,error\\nhttps://example.com/,Caf\\u00e9 ferm\\u00e9\\n".encode("cp1252"))
    'cp1252'
    >>> detect_encoding(b"url,status\\n")
    'utf-8'
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    sample = head[:4096]
    if sample and sample.count(b"\x00") > len(sample) // 4:
        # UTF-16 without a BOM: ASCII text has its NULs on the odd (LE) or even (BE) bytes.
        return "utf-16-le" if sample[1::2].count(b"\x00") > sample[0::2].count(b"\x00") else "utf-16-be"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of the head
            return "cp1252"
    return "utf-8"


def head_text(path: Path, size: int = _HEAD) -> tuple[str, str]:
    """(encoding, the first `size` bytes decoded) of a file."""
    with open(path, "rb") as f:
        head = f.read(size)
    encoding = detect_encoding(head)
    return encoding, head.decode(encoding, errors="ignore").lstrip("\ufeff")


def sniff_header(text: str) -> tuple[str, list[str]]:
    """(delimiter, header cells) from the start of a CSV text (an Excel `sep=` line names the delimiter)."""
    text = text.lstrip("\ufeff")
    hint = _SEP_LINE.match(text)
    if hint:
        delimiter, text = hint.group(1), text[hint.end() :]
    else:
        first = text.split("\n", 1)[0]
        counts = {d: _count_outside_quotes(first, d) for d in _DELIMITERS}
        delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    try:
        header = next(csv.reader(io.StringIO(text), delimiter=delimiter))
    except (StopIteration, csv.Error):
        header = []
    return delimiter, [h.strip().lstrip("\ufeff").strip() for h in header]


def _count_outside_quotes(line: str, char: str) -> int:
    count, quoted = 0, False
    for c in line:
        if c == '"':
            quoted = not quoted
        elif c == char and not quoted:
            count += 1
    return count


def open_csv(path: Path) -> CsvText:
    """Prepare a CSV file for DuckDB: transcode it if it is not UTF-8 throughout, read its header."""
    encoding, text = head_text(path)
    delimiter, header = sniff_header(text)
    skip = 1 if _SEP_LINE.match(text) else 0
    notes: list[str] = []
    errors = "strict"
    if encoding in ("utf-8", "utf-8-sig"):
        encoding, errors = _confirm_utf8(path, encoding)
        if errors == "replace" and encoding != "cp1252":
            notes.append("bytes that are not UTF-8 were replaced by \ufffd")
    target, temporary = path, False
    if encoding not in ("utf-8", "utf-8-sig") or errors == "replace":
        target, temporary = _transcode(path, encoding, errors), True
    cut = _cut_off_row(target, delimiter, len(header), skip)
    if cut:
        if temporary:
            target.unlink(missing_ok=True)
        row, fields = cut
        has = "ends inside a quoted cell" if fields is None else f"has {fields} of {len(header)} fields"
        raise BadData(
            path.name,
            f"row {row} {has} and the file ends without a line break: it looks cut off (export or download it again)",
        )
    return CsvText(
        target,
        encoding,
        delimiter,
        header,
        decimal_comma=delimiter == ";",
        temporary=temporary,
        skip=skip,
        notes=notes,
    )


def _cut_off_row(path: Path, delimiter: str, fields: int, skip: int) -> tuple[int, int | None] | None:
    """(row, fields) of a last row cut short (fields None: inside a quoted cell): the file stops
    without a line break inside a row with fewer fields than the header, as a download or a copy
    that stopped early leaves it. Files that end with a line break (every exporter writes one) are
    not read here."""
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        if f.tell() == 0:
            return None
        f.seek(-1, os.SEEK_END)
        if f.read(1) in (b"\n", b"\r"):
            return None
    rows, last = 0, None
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as f:
        for _ in range(skip):
            f.readline()
        try:
            for row in csv.reader(f, delimiter=delimiter, strict=True):
                rows, last = rows + 1, row
        except csv.Error:  # the file ends inside a quoted cell of the row after the last one read
            return rows, None
    if last is None or rows < 2 or len(last) >= fields:
        return None
    return rows - 1, len(last)


def _confirm_utf8(path: Path, encoding: str) -> tuple[str, str]:
    """(encoding, errors) for a file whose start is UTF-8: Windows-1252 when a later byte is not
    UTF-8 and nothing before it was UTF-8 beyond ASCII, else UTF-8 with the bad bytes replaced."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    beyond_ascii = False
    with open(path, "rb") as f:
        while block := f.read(_BLOCK):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                beyond_ascii = beyond_ascii or not block[: max(exc.start, 0)].isascii()
                return (encoding, "replace") if beyond_ascii else ("cp1252", "replace")
            beyond_ascii = beyond_ascii or not block.isascii()
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return encoding, "replace"  # a character cut at the very end
    return encoding, "strict"


def _transcode(path: Path, encoding: str, errors: str = "replace") -> Path:
    """Write a UTF-8 copy of a file (without a BOM), a block at a time."""
    fd, name = tempfile.mkstemp(prefix="crawldash-", suffix=".csv")
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace" if errors == "replace" else "strict")
    first = True
    with open(path, "rb") as src, os.fdopen(fd, "w", encoding="utf-8", newline="") as dst:
        while block := src.read(_BLOCK):
            chunk = decoder.decode(block)
            if first and chunk:
                chunk, first = chunk.lstrip("\ufeff"), False
            dst.write(chunk)
        dst.write(decoder.decode(b"", final=True))
    return Path(name)
