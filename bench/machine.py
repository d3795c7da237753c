"""Describe the machine a benchmark ran on (printed with every benchmark's figures)."""

from __future__ import annotations

import os
import platform


def machine_line() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            kb = int(fh.readline().split()[1])
            mem = f", {kb / 2**20:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"machine: {platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} cores{mem}, "
        f"Python {platform.python_version()}"
    )
