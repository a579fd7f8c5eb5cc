"""Shared helpers of the benchmark scripts: the machine line and writing a section of BENCHMARKS.md."""

from __future__ import annotations

import datetime
import os
import platform
import re
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"


def machine_line() -> str:
    """Machine, CPU count, Python and library versions, and the date, for the record."""
    import duckdb
    import sklearn

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"Measured {datetime.date.today().isoformat()} on {cpu}, {os.cpu_count()} cores{memory}; "
        f"Python {platform.python_version()}, duckdb {duckdb.__version__}, "
        f"scikit-learn {sklearn.__version__}."
    )


def write_section(title: str, body: str) -> None:
    """Replace (or append) the ``## title`` section of BENCHMARKS.md with ``body``."""
    text = BENCHMARKS.read_text() if BENCHMARKS.exists() else "# Benchmarks\n"
    section = f"## {title}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text)
    else:
        text = text.rstrip() + "\n\n" + section
    BENCHMARKS.write_text(text.rstrip() + "\n")
