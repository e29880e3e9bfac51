"""Sections of results.md that have their own runners: each sits between two HTML-comment markers."""

from __future__ import annotations

from pathlib import Path


def write_section(path: Path, section: str, begin: str, end: str) -> None:
    """Replace the part of ``path`` from ``begin`` to ``end`` by ``section`` (which holds both
    markers), or append ``section`` when the file has no such part yet."""
    old = path.read_text() if path.exists() else ""
    if begin in old and end in old:
        new = old[: old.index(begin)] + section.rstrip("\n") + old[old.index(end) + len(end):]
    else:
        new = old.rstrip("\n") + "\n\n" + section
    path.write_text(new)
