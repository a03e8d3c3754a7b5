"""The ?status= and ?page= of the portal's paged lists (questions, call-backs), and how many
pages a list has: one reading, so every list refuses the same bad values the same way."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

PAGE_MAX = 100000  # far beyond any real list; keeps OFFSET small and the number sane


def status_and_page(
    args: Mapping[str, str], statuses: Sequence[str], default: str, error: type[ValueError]
) -> tuple[str, int]:
    """(status, page) from the query; `error` (the list's own ValueError) says what is wrong."""
    status = (args.get("status") or default).strip()
    if status not in statuses:
        raise error(f"status must be one of {', '.join(statuses)}")
    page_raw = (args.get("page") or "1").strip()
    if not page_raw.isdigit() or not 1 <= int(page_raw) <= PAGE_MAX:
        raise error("page must be a whole number from 1")
    return status, int(page_raw)


def page_count(total: int, page_size: int) -> int:
    """Pages needed for `total` rows; an empty list still has its one (empty) page."""
    return max(1, -(-total // page_size))
