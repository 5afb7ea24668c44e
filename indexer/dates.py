"""Dates: one parser for every date seealso reads, one form for every date it stores.

Input files, the API's article bodies and query strings, and editors' forms all come through
`parse`. A stored date is a UTC stamp `YYYY-MM-DDTHH:MM:SSZ` with a four-digit year, so stamps
compare as strings in time order; anything Python's datetime cannot hold in UTC (before year 1,
after year 9999) is refused with the reason.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta


class InvalidDate(ValueError):
    """A value that is not an ISO 8601 date or date-time seealso can store; says why."""


def parse(value: str) -> datetime:
    """An ISO 8601 date or date-time as an aware UTC datetime (a time without an offset is UTC)."""
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text)
    except ValueError:
        raise InvalidDate(f"not an ISO 8601 date or date-time: {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise InvalidDate(f"out of range: {value!r} falls outside the years 1 to 9999 in UTC") from None


def stamp(moment: datetime) -> str:
    """`moment` (aware, or naive UTC) as a stored stamp, `YYYY-MM-DDTHH:MM:SSZ`."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}Z"
    )


def normalize(value: str) -> str:
    """`value` parsed and written as a stored stamp (seconds are kept, fractions dropped)."""
    return stamp(parse(value))


def is_date(value: str) -> bool:
    """Whether `value` is a date alone (no time of day)."""
    try:
        date.fromisoformat(value.strip())
    except ValueError:
        return False
    return True


def end_of(value: str) -> str | None:
    """The first stamp after what `value` names: the next midnight after a date, the next second
    after a date-time. None when that is past the last representable moment (nothing is later)."""
    moment = parse(value).replace(microsecond=0)
    try:
        return stamp(moment + (timedelta(days=1) if is_date(value) else timedelta(seconds=1)))
    except OverflowError:
        return None


def now() -> str:
    """The current time as a stored stamp."""
    return stamp(datetime.now(UTC))


def seconds(value: str | None) -> float:
    """Seconds since the epoch of a stored stamp (0 for None)."""
    return parse(value).timestamp() if value else 0.0
