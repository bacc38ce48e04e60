"""How the page writes things people read (no server needed)."""

from __future__ import annotations

import pytest

from nerasense.service.web import when

# (stored text, shown) — the stored stamps are ISO 8601 UTC as the API returns them
WHEN = [
    ("2026-12-07T10:35:20.555334Z", "2026-12-07 10:35 UTC"),
    ("2026-12-07 10:35:20", "2026-12-07 10:35 UTC"),
    ("2026-12-07", "2026-12-07"),
    (None, ""),
]


@pytest.mark.parametrize(("stamp", "shown"), WHEN)
def test_time_stamps_are_shown_to_the_minute_in_utc(stamp: str | None, shown: str) -> None:
    assert when(stamp) == shown
