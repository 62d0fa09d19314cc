"""CSV text as spreadsheets and crawlers write it: each variant of a real file (BOM removed, UTF-16,
Windows-1252, semicolons with decimal commas, CRLF or LF, tabs, Excel's sep= line) gives exactly
the tasks of the original, for Screaming Frog exports and for our own columns."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from imported import tasks_by_id

from crawldash.errors import BadData
from crawldash.importers import Detected, detect, import_files
from crawldash.importers.csvtext import detect_encoding, open_csv, sniff_header
from crawldash.sample import write_sample
from crawldash.store import Store

SUBDOMAINS = "screaming-frog_internal_all_subdomains.csv"
LAYOUT_2023 = "screaming-frog_internal_all_2023-layout.csv"
HOMEBUILDER = "screaming-frog_internal_all_homebuilder.csv"
NO_TIMES = "screaming-frog_internal_all_no-response-times.csv"
INLINKS = "screaming-frog_all_inlinks_no-response-times.csv"
_DECIMAL = re.compile(r"^-?\d+\.\d+$")


def text_of(path: Path) -> str:
    return path.read_bytes().decode("utf-8-sig")


def rows_of(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text_of(path))))


def rewrite(rows: list[list[str]], delimiter: str = ",", quoting: int = csv.QUOTE_ALL, ending: str = "\n") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, quoting=quoting, lineterminator=ending).writerows(rows)
    return out.getvalue()


def comma_decimals(rows: list[list[str]]) -> list[list[str]]:
    """Every decimal number written with a comma, as a German or French spreadsheet does ("0,425")."""
    return [[cell.replace(".", ",") if _DECIMAL.match(cell) else cell for cell in row] for row in rows]


def other_endings(text: str) -> str:
    """CRLF for a file written with LF, LF for one written with CRLF (no quoted newlines in these files)."""
    lf = text.replace("\r\n", "\n")
    return lf if "\r\n" in text else lf.replace("\n", "\r\n")


#: name -> (bytes of the original file) -> bytes of the variant.
VARIANTS: dict[str, Callable[[Path], bytes]] = {
    "utf-8 without BOM": lambda p: text_of(p).encode("utf-8"),
    "utf-16 with BOM": lambda p: text_of(p).encode("utf-16"),
    "utf-16-be without BOM": lambda p: text_of(p).encode("utf-16-be"),
    "utf-16-le tab-delimited (Excel Unicode text)": lambda p: (
        codecs.BOM_UTF16_LE + rewrite(rows_of(p), "\t", csv.QUOTE_MINIMAL, "\r\n").encode("utf-16-le")
    ),
    "semicolons, decimal commas, all quoted": lambda p: rewrite(comma_decimals(rows_of(p)), ";").encode("utf-8-sig"),
    "semicolons, decimal commas, CRLF, quoted when needed": lambda p: rewrite(
        comma_decimals(rows_of(p)), ";", csv.QUOTE_MINIMAL, "\r\n"
    ).encode("utf-8"),
    "Excel sep= line, semicolons, decimal commas": lambda p: (
        b"sep=;\r\n" + rewrite(comma_decimals(rows_of(p)), ";", csv.QUOTE_MINIMAL, "\r\n").encode("utf-8")
    ),
    "the other line endings (CRLF <-> LF)": lambda p: other_endings(text_of(p)).encode("utf-8-sig"),
}


def import_as(store: Store, path: Path, job_id: str) -> dict:
    result = import_files(store, [path], job_id=job_id.replace(" ", "-"))[0]
    notes = tuple(note.replace(path.name, "FILE") for note in result.notes)
    return {
        "tasks": result.tasks,
        "format": result.format,
        "notes": notes,
        "rows": tasks_by_id(store, job_id.replace(" ", "-")),
    }


@pytest.fixture(scope="module")
def originals(realdata) -> tuple[Store, dict[str, dict]]:
    """The real Screaming Frog files imported as they are, once for the module."""
    store = Store(":memory:")
    done = {name: import_as(store, realdata / name, f"original-{name}") for name in (SUBDOMAINS, LAYOUT_2023)}
    yield store, done
    store.close()


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("name", [SUBDOMAINS, LAYOUT_2023])
def test_screaming_frog_text_variant_gives_the_same_tasks(realdata, tmp_path, originals, name, variant):
    store, done = originals
    path = tmp_path / name
    path.write_bytes(VARIANTS[variant](realdata / name))
    assert path.read_bytes() != (realdata / name).read_bytes()
    assert detect(path) == Detected("screaming-frog", "pages")
    assert import_as(store, path, f"{variant} {name}") == done[name]


def test_windows_1252_screaming_frog_export_gives_the_same_tasks(realdata, tmp_path, originals):
    store, done = originals
    text = text_of(realdata / LAYOUT_2023)
    assert {"’", "–"} <= set(text)  # characters that differ between Windows-1252 and UTF-8
    path = tmp_path / "cp1252.csv"
    path.write_bytes(text.encode("cp1252"))
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    assert detect_encoding(path.read_bytes()[:65536]) == "cp1252"
    assert import_as(store, path, "cp1252") == done[LAYOUT_2023]


def test_response_times_with_decimal_commas_are_the_same_milliseconds(realdata, tmp_path, store):
    path = tmp_path / "semicolons.csv"
    path.write_bytes(VARIANTS["semicolons, decimal commas, all quoted"](realdata / HOMEBUILDER))
    assert '"0,037"' in path.read_text(encoding="utf-8-sig")  # the first page's 0.037 s
    variant = import_as(store, path, "semicolons")
    original = import_as(store, realdata / HOMEBUILDER, "original")
    assert variant == original
    assert sum(1 for t in variant["rows"].values() if t["response_time"] is None) == 582


def test_inlinks_pair_in_utf16_with_semicolons_gives_the_same_job(realdata, tmp_path, store):
    internal, links = tmp_path / "internal.csv", tmp_path / "inlinks.csv"
    internal.write_bytes(VARIANTS["utf-16 with BOM"](realdata / NO_TIMES))
    links.write_bytes(VARIANTS["semicolons, decimal commas, CRLF, quoted when needed"](realdata / INLINKS))
    assert sum("\n" in cell for row in rows_of(realdata / INLINKS) for cell in row) == 1  # a quoted newline
    import_files(store, [realdata / NO_TIMES, realdata / INLINKS], job_id="original")
    import_files(store, [internal, links], job_id="variant")
    original = tasks_by_id(store, "original")
    assert tasks_by_id(store, "variant") == original
    assert sum(1 for t in original.values() if t["source_url"]) == 343


# --- our own columns ----------------------------------------------------------------------------------


def own_columns(path: Path) -> Path:
    """Our columns as CSV (the sample generator's), with quoted newlines and non-ASCII text in errors."""
    write_sample(path, tasks=1500, fmt="csv", seed=7)
    rows = rows_of(path)
    error = rows[0].index("error")
    for n, row in enumerate(rows[1:], 1):
        if n % 50 == 0:
            row[error] = f"Zeitüberschreitung – “{n}”\nretry € später"
    path.write_text(rewrite(rows, ",", csv.QUOTE_MINIMAL), encoding="utf-8")
    return path


def millis_with_commas(rows: list[list[str]]) -> list[list[str]]:
    """Milliseconds written as decimals with a comma ("425,4"): they round to the same whole number."""
    header = rows[0]
    timed = [header.index("response_time"), header.index("second_response_time")]
    return [header] + [[f"{c},4" if i in timed and c.isdigit() else c for i, c in enumerate(r)] for r in rows[1:]]


OWN_VARIANTS: dict[str, Callable[[Path], bytes]] = {
    "utf-8 with BOM": lambda p: text_of(p).encode("utf-8-sig"),
    "utf-16 with BOM": lambda p: text_of(p).encode("utf-16"),
    "utf-16-le without BOM": lambda p: text_of(p).encode("utf-16-le"),
    "windows-1252": lambda p: text_of(p).encode("cp1252"),
    "semicolons, decimal commas, CRLF": lambda p: rewrite(
        millis_with_commas(rows_of(p)), ";", csv.QUOTE_MINIMAL, "\r\n"
    ).encode("cp1252"),
    "tabs, UTF-16": lambda p: rewrite(rows_of(p), "\t", csv.QUOTE_MINIMAL, "\r\n").encode("utf-16"),
}


@pytest.fixture(scope="module")
def own(tmp_path_factory) -> tuple[Store, Path, dict]:
    path = own_columns(tmp_path_factory.mktemp("own") / "tasks.csv")
    store = Store(":memory:")
    original = import_as(store, path, "own original")
    yield store, path, original
    store.close()


def test_own_columns_original_holds_quoted_newlines(own):
    _store, _path, original = own
    texts = [t["error"] for t in original["rows"].values() if t["error"] and "später" in t["error"]]
    assert original["tasks"] == 1500 and len(texts) == 30
    assert "Zeitüberschreitung – “50”\nretry € später" in texts


@pytest.mark.parametrize("variant", list(OWN_VARIANTS))
def test_own_columns_text_variant_gives_the_same_tasks(own, tmp_path, variant):
    store, path, original = own
    target = tmp_path / "variant.csv"
    target.write_bytes(OWN_VARIANTS[variant](path))
    assert detect(target) == Detected("columns", "csv")
    assert import_as(store, target, f"own {variant}") == {**original}


def test_windows_1252_bytes_after_the_first_64_kib_are_read_as_windows_1252(own, tmp_path):
    store, path, original = own
    rows = rows_of(path)
    error = rows[0].index("error")
    for row in rows[1:]:
        if "später" in row[error]:
            row[error] = ""
    rows[-1][error] = "Café – 5 €"
    data = rewrite(rows, ",", csv.QUOTE_MINIMAL).encode("cp1252")
    assert min(i for i, byte in enumerate(data) if byte > 127) > 65536
    target = tmp_path / "late.csv"
    target.write_bytes(data)
    assert detect_encoding(data[:65536]) == "utf-8"  # the start alone looks like UTF-8
    assert open_csv(target).encoding == "cp1252"
    result = import_files(store, [target], job_id="late")[0]
    assert [t["error"] for t in tasks_by_id(store, "late").values() if t["error"] and "Café" in t["error"]] == [
        "Café – 5 €"
    ]
    assert result.notes == original["notes"]  # nothing replaced


def test_a_stray_byte_in_a_utf8_file_is_replaced_and_noted(own, tmp_path):
    store, path, original = own
    data = path.read_bytes()
    at = data.index(b"https://", len(data) * 3 // 4)
    target = tmp_path / "stray.csv"
    target.write_bytes(data[:at] + b"\xff" + data[at:])
    result = import_files(store, [target], job_id="stray")[0]
    stored = tasks_by_id(store, "stray")
    changed = [(k, v) for t in stored.values() for k, v in t.items() if isinstance(v, str) and "\ufffd" in v]
    assert len(changed) == 1 and changed[0][1].startswith("\ufffdhttps://")
    assert result.notes == ("stray.csv: bytes that are not UTF-8 were replaced by \ufffd", *original["notes"])


def test_short_rows_and_quoted_newlines_in_one_file(tmp_path, store):
    # DuckDB's parallel reader refuses this mix; the real All Inlinks export has it.
    path = tmp_path / "mixed.csv"
    path.write_text(
        'url,status,error,response_time\nhttps://example.com/a,failed,"line one\nline two",120\n'
        "https://example.com/b,completed\n",
        encoding="utf-8",
    )
    import_files(store, [path], job_id="mixed")
    rows = tasks_by_id(store, "mixed", ("id", "url", "status", "error", "response_time"))
    assert rows == {
        "row-0000001": {
            "id": "row-0000001",
            "url": "https://example.com/a",
            "status": "failed",
            "error": "line one\nline two",
            "response_time": 120,
        },
        "row-0000002": {
            "id": "row-0000002",
            "url": "https://example.com/b",
            "status": "completed",
            "error": None,
            "response_time": None,
        },
    }


# --- the pieces -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cut", [5000, 20_000, 60_001])
def test_a_cut_off_export_is_refused_naming_its_last_row(realdata, tmp_path, store, cut):
    """A download that stopped early ends without a line break, inside a row: nothing is imported."""
    data = (realdata / HOMEBUILDER).read_bytes()[:cut]
    path = tmp_path / "cut.csv"
    path.write_bytes(data)
    complete = len(rows_of(path)) - 1  # the rows csv reads, the cut one included
    with pytest.raises(BadData, match=rf"^cut.csv: row {complete} (has \d+ of 74 fields|ends inside a quoted cell)"):
        import_files(store, [path])
    assert store.jobs() == []


def test_a_file_without_a_final_line_break_but_whole_rows_imports(tmp_path, store):
    path = tmp_path / "hand-made.csv"
    path.write_bytes(b"url,status,response_time\nhttps://example.com/,completed,120\nhttps://example.com/b,failed,")
    import_files(store, [path], job_id="hand")
    assert store.job("hand").task_count == 2


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xef\xbb\xbfurl,status\n", "utf-8-sig"),
        ("url,status\n".encode("utf-16"), "utf-16"),
        ("url;status\n".encode("utf-16-le"), "utf-16-le"),
        ("url;status\n".encode("utf-16-be"), "utf-16-be"),
        ("url,error\nhttps://example.com/,Zeitüberschreitung\n".encode("cp1252"), "cp1252"),
        ("url,error\nhttps://example.com/,Zeitüberschreitung\n".encode(), "utf-8"),
        (b"url,error\nhttps://example.com/,caf" + "é".encode()[:1], "utf-8"),  # a character cut by the head
    ],
)
def test_detect_encoding(data, expected):
    assert detect_encoding(data) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"Address","Status Code"\n', (",", ["Address", "Status Code"])),
        ('"Address";"Response Time"\r\n"https://example.com/";"0,425"\r\n', (";", ["Address", "Response Time"])),
        ("url\tstatus\tresponse_time\n", ("\t", ["url", "status", "response_time"])),
        ('"a;b",c,d\n', (",", ["a;b", "c", "d"])),  # a delimiter inside quotes does not count
        ("sep=;\nurl;status\n", (";", ["url", "status"])),
        ("\ufeffurl,status\n", (",", ["url", "status"])),
        ("", (",", [])),
    ],
)
def test_sniff_header(text, expected):
    assert sniff_header(text) == expected


def test_a_csv_that_is_no_known_format_lists_the_formats_and_what_is_missing(tmp_path, store):
    path = tmp_path / "visits.csv"
    path.write_text("Address;Visits\nhttps://example.com/;3\n", encoding="utf-16")
    with pytest.raises(BadData) as info:
        import_files(store, [path])
    message = str(info.value)
    assert "(columns: Address, Visits)" in message
    assert "Formats we read: adapt: " in message and "; har: HAR 1.2" in message
    assert message.endswith(
        "For our own columns it lacks url (or path) and status; for a Screaming Frog export it lacks Status Code."
    )


_CELL = st.text(
    alphabet=st.sampled_from(list("abcXYZ019 ,;\t\"'\n–’€éüß/")),
    min_size=1,
    max_size=30,
).filter(lambda s: s == s.strip())


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    texts=st.lists(_CELL, min_size=1, max_size=6),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "cp1252"]),
    delimiter=st.sampled_from([",", ";", "\t"]),
    ending=st.sampled_from(["\n", "\r\n"]),
)
def test_any_cell_text_survives_any_encoding_delimiter_and_line_ending(
    tmp_path_factory, texts, encoding, delimiter, ending
):
    rows = [["url", "status", "error", "response_time"]]
    rows += [[f"https://example.com/{n}", "failed", text, "42"] for n, text in enumerate(texts)]
    path = tmp_path_factory.mktemp("cells") / "cells.csv"
    path.write_bytes(rewrite(rows, delimiter, csv.QUOTE_MINIMAL, ending).encode(encoding))
    store = Store(":memory:")
    try:
        import_files(store, [path], job_id="cells")
        stored = tasks_by_id(store, "cells", ("id", "error", "response_time"))
        assert [stored[f"row-{n:07d}"]["error"] for n in range(1, len(texts) + 1)] == texts
        assert {t["response_time"] for t in stored.values()} == {42}
    finally:
        store.close()
