"""Numbers as people read them, for the faces that print or draw them (the CLI, the notebook)."""

from __future__ import annotations


def human_size(n: float) -> str:
    """Bytes for people (decimal units, as download clients show them)."""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"
