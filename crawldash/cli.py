"""`python -m crawldash`: thin commands over the library.

Each command opens the database, calls one library function and prints JSON. Bad arguments exit 2
and bad data exits 1, each with one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from crawldash import export as export_mod
from crawldash import fetch as fetch_mod
from crawldash import schema
from crawldash.errors import BadToken, CrawldashError, InvalidParameter
from crawldash.importers import FORMAT_CHOICES, import_files
from crawldash.query import Filters, Sort, list_tasks
from crawldash.sample import SAMPLE_FORMATS, write_sample
from crawldash.stats import job_stats
from crawldash.store import Store, default_db_path
from crawldash.timefmt import iso

PROG = "crawldash"


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line and exits 2."""

    def error(self, message: str):  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        raise SystemExit(2)


def _emit(value: object) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, default=str) + "\n")


def _note(text: str) -> None:
    sys.stderr.write(f"{PROG}: note: {text}\n")


def _store(args, *, create: bool = False) -> Store:
    """The database; only the commands that write one may create it (a typo in --db is an error)."""
    path = Path(args.db) if args.db else default_db_path()
    if not create and not path.exists():
        raise InvalidParameter("--db", str(path), "an existing database (import a crawl into it first)")
    return Store.open(path)


def task_json(task: dict) -> dict:
    """A listed task with the seed's field names, ISO 8601 timestamps and null for absent values, plus
    `http_code`: the HTTP code shown, which is the error text's when the task has no status code."""
    out = {
        name: iso(task[name]) if schema.COLUMNS[name].kind == schema.TIMESTAMP else task[name]
        for name in schema.TASK_FIELDS
    }
    out["http_code"] = task["http_code"]
    return out


def _writable(name: str, value: str) -> Path:
    """An output file whose folder exists (checked before any work is done)."""
    target = Path(value)
    if target.is_dir():
        raise InvalidParameter(name, value, "a file name, not a folder")
    if not target.parent.is_dir():
        raise InvalidParameter(name, value, f"a file in a folder that exists ({target.parent} does not)")
    return target


def _progress(args):
    """A progress callback writing one rewritten line on stderr when --progress is given."""

    def progress(fraction: float, message: str) -> None:
        if args.progress:
            sys.stderr.write(f"\r{PROG}: {fraction:6.1%} {message[:80]:<80}")

    return progress


# --- commands ------------------------------------------------------------------------------------------


def cmd_import(args) -> int:
    results = import_files(
        _store(args, create=True), args.files, fmt=args.format, job_id=args.job_id, progress=_progress(args)
    )
    if args.progress:
        sys.stderr.write("\n")
    for result in results:
        _emit(result.as_dict())
        for note in result.notes:
            _note(f"{result.job_id}: {note}")
    return 0


def cmd_fetch(args) -> int:
    token = os.environ.get(fetch_mod.TOKEN_ENV, "")
    if not token.strip():
        raise BadToken(f"set {fetch_mod.TOKEN_ENV} to the API token (it is read from the environment only)")
    fetch_mod.api_base(args.base)  # bad arguments fail before the database is opened
    fetch_mod.check_job_id(args.job)
    fetch_mod.check_token(token)
    result = fetch_mod.fetch_job(_store(args, create=True), args.base, args.job, token, progress=_progress(args))
    if args.progress:
        sys.stderr.write("\n")
    _emit(result.as_dict())
    for note in result.notes:
        _note(f"{result.job_id}: {note}")
    return 0


def cmd_jobs(args) -> int:
    _emit([job.as_dict() for job in _store(args).jobs()])
    return 0


def _filters(args) -> Filters:
    return Filters.from_params(
        {"status": args.status, "cache": args.cache, "path": args.path, "status_code": args.status_code}
    )


def cmd_tasks(args) -> int:
    page = list_tasks(_store(args), args.job_id, _filters(args), Sort.parse(args.sort), args.limit, args.offset)
    for note in page.notes:
        _note(note)
    _emit({"tasks": [task_json(t) for t in page.tasks], "pagination": page.pagination()})
    return 0


def cmd_stats(args) -> int:
    _emit(job_stats(_store(args), args.job_id, _filters(args)))
    return 0


def cmd_export(args) -> int:
    fmt = args.format
    if fmt is None and args.output not in (None, "-"):
        suffix = Path(args.output).suffix.lower().lstrip(".")
        if suffix not in schema.EXPORT_FORMATS:
            raise InvalidParameter("-o", args.output, "a .csv, .json or .xlsx file, or give --format")
        fmt = suffix
    fmt = fmt or "csv"
    export_mod.check_type(args.type)
    export_mod.check_format(fmt)
    if fmt == "xlsx" and args.output in (None, "-") and sys.stdout.isatty():
        raise InvalidParameter("-o", args.output or "-", "a file for an XLSX export (it is binary, not for a terminal)")
    if args.output not in (None, "-"):
        _writable("-o", args.output)
    store, filters = _store(args), _filters(args)
    if args.output in (None, "-"):
        info = export_mod.write_export(store, args.job_id, sys.stdout.buffer, args.type, fmt, filters)
        sys.stdout.buffer.flush()
        if info.truncated:
            _note(info.note())
        return 0
    target = Path(args.output)
    partial = target.with_name(target.name + ".part")
    try:
        with open(partial, "wb") as out:
            info = export_mod.write_export(store, args.job_id, out, args.type, fmt, filters)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    _note(f"wrote {target}: {info.note()}")
    return 0


#: The sample format a file name's extension asks for.
_SAMPLE_SUFFIXES = {".json": "adapt", ".parquet": "parquet", ".csv": "csv"}


def cmd_sample(args) -> int:
    tasks = _positive("--tasks", args.tasks)
    jobs = _positive("--jobs", args.jobs)
    _writable("-o", args.output)
    implied = _SAMPLE_SUFFIXES.get(Path(args.output).suffix.lower())
    fmt = args.format or implied or "adapt"
    if implied and fmt != implied:
        raise InvalidParameter("-o", args.output, f"a file name that fits --format {fmt} (this one says {implied})")
    for job in write_sample(args.output, tasks=tasks, jobs=jobs, seed=args.seed, fmt=fmt):
        _emit({"job_id": job.job_id, "domain": job.domain, "tasks": job.table.num_rows, "file": str(args.output)})
    return 0


def _positive(name: str, value: int) -> int:
    if value < 1:
        raise InvalidParameter(name, value, "a number of at least 1")
    return value


# --- parser ---------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Explore website-crawl results: import, list, export, stats.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    db = _Parser(add_help=False)
    db.add_argument("--db", metavar="PATH", help="database file (default: $CRAWLDASH_DB or data/crawldash.duckdb)")

    def filters(p: argparse.ArgumentParser) -> None:
        p.add_argument("--status", help="one of " + ", ".join(schema.STATUSES))
        p.add_argument("--cache", help="hit (HIT or DYNAMIC) or miss (MISS or EXPIRED)")
        p.add_argument("--path", metavar="KW", help="path contains KW (case-insensitive, literal)")
        p.add_argument("--status-code", metavar="N", help="HTTP code (derived from the error text when missing)")

    p = commands.add_parser("import", parents=[db], help="import crawl files (one transaction)")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--format", default="auto", choices=FORMAT_CHOICES)
    p.add_argument("--job-id", metavar="ID", help="store the imported job under this id")
    p.add_argument("--progress", action="store_true", help="show progress on stderr")
    p.set_defaults(func=cmd_import)

    p = commands.add_parser(
        "fetch", parents=[db], help=f"pull a job from the live API (token from ${fetch_mod.TOKEN_ENV}; one transaction)"
    )
    p.add_argument("--base", required=True, metavar="URL", help="the API's address, such as https://api.example.com")
    p.add_argument("--job", required=True, metavar="JOB_ID", help="the job to pull; replaces a stored job of that id")
    p.add_argument("--progress", action="store_true", help="show progress on stderr")
    p.set_defaults(func=cmd_fetch)

    p = commands.add_parser("jobs", parents=[db], help="list the jobs in the database")
    p.set_defaults(func=cmd_jobs)

    p = commands.add_parser("tasks", parents=[db], help="List Tasks of one job")
    p.add_argument("job_id", metavar="JOB_ID")
    filters(p)
    p.add_argument(
        "--sort",
        metavar="FIELD|-FIELD",
        help="one of " + ", ".join(schema.SORT_FIELDS) + f" (default {schema.DEFAULT_SORT})",
    )
    p.add_argument("--limit", metavar="N", help=f"1..{schema.MAX_LIMIT} (default {schema.DEFAULT_LIMIT})")
    p.add_argument("--offset", metavar="N", help="tasks to skip (default 0)")
    p.set_defaults(func=cmd_tasks)

    p = commands.add_parser("export", parents=[db], help="export a job's tasks")
    p.add_argument("job_id", metavar="JOB_ID")
    p.add_argument("--type", default="job", help="job, broken-links or slow-pages")
    p.add_argument("--format", help="csv, json or xlsx (default: from -o's extension, else csv)")
    p.add_argument("-o", "--output", metavar="FILE", help="write here (default: standard output)")
    filters(p)
    p.set_defaults(func=cmd_export)

    p = commands.add_parser("stats", parents=[db], help="a job's KPIs as JSON")
    p.add_argument("job_id", metavar="JOB_ID")
    filters(p)
    p.set_defaults(func=cmd_stats)

    p = commands.add_parser("sample", help="write generated crawl jobs to a file")
    p.add_argument("-o", "--output", required=True, metavar="FILE")
    p.add_argument("--tasks", type=int, default=5000)
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--format", choices=SAMPLE_FORMATS, help="default: from -o's extension (.parquet, .csv), else adapt (JSON)"
    )
    p.set_defaults(func=cmd_sample)
    return parser


#: Options whose values may start with "-" ("--sort -response_time").
_DASH_VALUES = ("--sort", "--path")


def _join_dash_values(argv: Sequence[str]) -> list[str]:
    out, items = [], list(argv)
    i = 0
    while i < len(items):
        if items[i] in _DASH_VALUES and i + 1 < len(items) and items[i + 1].startswith("-") and items[i + 1] != "-":
            out.append(f"{items[i]}={items[i + 1]}")
            i += 2
            continue
        out.append(items[i])
        i += 1
    return out


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(_join_dash_values(sys.argv[1:] if argv is None else argv))
    try:
        return args.func(args)
    except CrawldashError as exc:
        sys.stderr.write(f"{PROG}: error: {exc}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted\n")
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug: still one line, the traceback only on request
        if os.environ.get("CRAWLDASH_DEBUG"):
            traceback.print_exc()
        sys.stderr.write(
            f"{PROG}: internal error: {type(exc).__name__}: {exc} (set CRAWLDASH_DEBUG=1 for the traceback)\n"
        )
        return 1
