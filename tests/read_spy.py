"""A row that notes which of its columns were read, for the tests that a function of a
row reads only the columns its cache key holds (``QUERY_COLUMNS``, ``ROW_POINT_COLUMNS``)."""

from __future__ import annotations

from typing import ClassVar


class ReadSpy(dict[str, str]):
    """A row (a ``dict``) that adds each column read to :attr:`read`, shared by all spies."""

    read: ClassVar[set[str]] = set()

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        ReadSpy.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> str:
        ReadSpy.read.add(key)
        return super().__getitem__(key)
