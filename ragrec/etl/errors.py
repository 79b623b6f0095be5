"""The one exception the ETL raises for file-level problems."""

from __future__ import annotations

from pathlib import Path


class EtlError(Exception):
    """A source file (or folder) cannot be used at all: names the file and the reason.

    Row-level problems never raise: they become entries of the rejects frame.
    """

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")
