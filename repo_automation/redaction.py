"""A string that never shows itself: masked in repr/str, revealed only on purpose."""

from __future__ import annotations

import logging


class Secret:
    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class MaskingFilter(logging.Filter):
    """Replaces every registered secret value in log records with ***."""

    def __init__(self, secrets: list[str] | None = None) -> None:
        super().__init__()
        self._secrets: list[str] = [s for s in (secrets or []) if len(s) >= 4]

    def add(self, value: str) -> None:
        if len(value) >= 4 and value not in self._secrets:
            self._secrets.append(value)

    def redact(self, text: str) -> str:
        for s in self._secrets:
            text = text.replace(s, "***")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if self._secrets:
            record.msg = self.redact(record.getMessage())
            record.args = None
        return True
