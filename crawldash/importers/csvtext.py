"""CSV files as they come from spreadsheets and crawlers, made readable by DuckDB's reader.

UTF-8 with or without a BOM is read in place. UTF-16 (with a BOM, or without one but full of NUL
bytes) and Windows-1252 are transcoded, streaming, to a temporary UTF-8 copy. The delimiter is the
one of `,` `;` or tab that the header line uses; semicolon files are taken to write decimals with
a comma ("0,425"), as spreadsheets in those locales do.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

_HEAD = 1 << 16


@dataclass
class CsvText:
    """A CSV file ready for `read_csv`: where to read it, and what its header says."""

    path: Path  # a UTF-8 file: the original, or a transcoded temporary copy
    encoding: str  # what the original was written in
    delimiter: str
    header: list[str]
    decimal_comma: bool
    temporary: bool = False

    def close(self) -> None:
        if self.temporary:
            self.path.unlink(missing_ok=True)

    def read_csv_sql(self) -> str:
        """The DuckDB table function reading every cell as text (header row excluded)."""
        quoted = str(self.path).replace("'", "''")
        delim = self.delimiter.replace("'", "''")
        return (
            f"read_csv('{quoted}', header = true, delim = '{delim}', quote = '\"', escape = '\"', "
            "all_varchar = true, null_padding = true, strict_mode = false, max_line_size = 16777216, "
            "auto_detect = false, columns = {" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(self.header))) + "})"
        )


def detect_encoding(head: bytes) -> str:
    """The text encoding of a file from its first bytes."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    sample = head[:4096]
    if sample and sample.count(b"\x00") > len(sample) // 4:
        # UTF-16 without a BOM: ASCII text has its NULs on the odd (LE) or even (BE) bytes.
        return "utf-16-le" if sample[1::2].count(b"\x00") > sample[0::2].count(b"\x00") else "utf-16-be"
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 4:  # not just a character cut at the end of the sample
            return "cp1252"
    return "utf-8"


def head_text(path: Path, size: int = _HEAD) -> tuple[str, str]:
    """(encoding, the first `size` bytes decoded) of a file."""
    with open(path, "rb") as f:
        head = f.read(size)
    encoding = detect_encoding(head)
    return encoding, head.decode(encoding, errors="ignore")


def sniff_header(text: str) -> tuple[str, list[str]]:
    """(delimiter, header cells) from the start of a CSV text."""
    first = text.split("\n", 1)[0]
    counts = {d: _count_outside_quotes(first, d) for d in (",", ";", "\t")}
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
    """Prepare a CSV file for DuckDB: transcode it if it is not UTF-8, read its header."""
    encoding, text = head_text(path)
    delimiter, header = sniff_header(text)
    target, temporary = path, False
    if encoding not in ("utf-8", "utf-8-sig"):
        target, temporary = _transcode(path, encoding), True
    return CsvText(target, encoding, delimiter, header, decimal_comma=delimiter == ";", temporary=temporary)


def _transcode(path: Path, encoding: str) -> Path:
    """Write a UTF-8 copy of a file, a block at a time."""
    fd, name = tempfile.mkstemp(prefix="crawldash-", suffix=".csv")
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    with open(path, "rb") as src, os.fdopen(fd, "w", encoding="utf-8", newline="") as dst:
        while block := src.read(1 << 20):
            dst.write(decoder.decode(block).lstrip("\ufeff") if src.tell() <= (1 << 20) else decoder.decode(block))
        dst.write(decoder.decode(b"", final=True))
    return Path(name)
