"""One import in a fresh process, so that its peak RSS is that import's own.

    python -m bench.import_worker FILE DB_PATH

prints one JSON line: {"tasks", "seconds", "peak_rss_bytes", "format"}. `seconds` is the
`crawldash.importers.import_files` call alone (not the interpreter's start); the peak RSS is the
whole process's, Python and its libraries included: VmHWM of /proc/self/status, the high-water mark
of this process's own memory. (Not `ru_maxrss`: Linux carries the parent's high-water mark over a
fork and exec, so a child of a 2 GB runner would report 2 GB.)
"""

from __future__ import annotations

import json
import resource
import sys
import time


def peak_rss() -> int:
    """This process's peak resident set size in bytes."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux; see above


def main(argv: list[str]) -> int:
    path, db = argv
    from crawldash.importers import import_files
    from crawldash.store import Store

    store = Store(db)
    started = time.perf_counter()
    results = import_files(store, [path])
    took = time.perf_counter() - started
    store.close()
    peak = peak_rss()
    print(
        json.dumps(
            {
                "tasks": sum(r.tasks for r in results),
                "seconds": took,
                "peak_rss_bytes": peak,
                "format": "+".join(sorted({r.format for r in results})),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
