"""Paging parameters shared by the list endpoints: ``limit`` (1 to
``MDM_API_MAX_PAGE_SIZE``) and ``offset``."""

from __future__ import annotations

from django.conf import settings

MAX_OFFSET_DIGITS = 12


class PageError(ValueError):
    """A paging parameter out of bounds; ``code`` is the error code to answer with."""

    def __init__(self, detail: str, code: str) -> None:
        super().__init__(detail)
        self.detail, self.code = detail, code


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit()


def limit_of(text: str | None, *, default: int, noun: str = "items") -> int:
    cap = settings.MDM_API_MAX_PAGE_SIZE
    if text is None:
        return min(default, cap)
    text = text.strip()
    if not _is_number(text) or int(text) < 1:
        raise PageError(f"limit must be a whole number from 1 to {cap}", "bad_limit")
    if len(text) > MAX_OFFSET_DIGITS or int(text) > cap:
        raise PageError(
            f"limit {text} is over the largest page of {cap} {noun} (MDM_API_MAX_PAGE_SIZE); "
            "page on with offset",
            "bad_limit",
        )
    return int(text)


def offset_of(text: str | None) -> int:
    if text is None:
        return 0
    text = text.strip()
    if not _is_number(text) or len(text) > MAX_OFFSET_DIGITS:
        raise PageError(f"offset must be a whole number below 10^{MAX_OFFSET_DIGITS}", "bad_offset")
    return int(text)
