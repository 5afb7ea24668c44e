"""One date parser for the whole product: canonical UTC stamps with four-digit years, or a reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seealso.indexer import dates

OFFSETS = st.builds(
    timezone,
    st.timedeltas(min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59)),
)
MOMENTS = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59))


@pytest.mark.parametrize(
    ("value", "stamp"),
    [
        ("2021-05-24T09:30:00+02:00", "2021-05-24T07:30:00Z"),
        ("2021-05-24", "2021-05-24T00:00:00Z"),
        ("2021-05-24T09:30:00.999Z", "2021-05-24T09:30:00Z"),
        ("2021-05-24t09:30:00z", "2021-05-24T09:30:00Z"),
        ("0999-06-01", "0999-06-01T00:00:00Z"),
        ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"),
        ("9999-12-31T23:59:59", "9999-12-31T23:59:59Z"),
        (" 20210524 ", "2021-05-24T00:00:00Z"),
    ],
)
def test_dates_are_stored_as_utc_stamps_with_four_digit_years(value: str, stamp: str) -> None:
    assert dates.normalize(value) == stamp


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("0001-01-01T00:00:00+01:00", "out of range"),
        ("9999-12-31T23:00:00-05:00", "out of range"),
        ("last week", "not an ISO 8601"),
        ("", "not an ISO 8601"),
        ("2021-02-30", "not an ISO 8601"),
        ("10000-01-01", "not an ISO 8601"),
    ],
)
def test_what_cannot_be_stored_is_refused_with_a_reason(value: str, reason: str) -> None:
    with pytest.raises(dates.InvalidDate, match=reason):
        dates.normalize(value)


def test_the_end_of_a_date_or_a_moment() -> None:
    assert dates.end_of("2021-05-24") == "2021-05-25T00:00:00Z"
    assert dates.end_of("2021-05-24T23:59:59Z") == "2021-05-25T00:00:00Z"
    assert dates.end_of("9999-12-31") is None  # nothing comes after it
    assert dates.end_of("9999-12-31T23:59:59Z") is None
    assert dates.end_of("0001-01-01") == "0001-01-02T00:00:00Z"


@given(MOMENTS, OFFSETS)
def test_any_moment_is_stored_or_refused_never_a_crash(moment: datetime, offset: timezone) -> None:
    value = moment.replace(tzinfo=offset).isoformat()
    try:
        in_utc = moment.replace(tzinfo=offset).astimezone(UTC)
    except OverflowError:
        with pytest.raises(dates.InvalidDate, match="out of range"):
            dates.normalize(value)
        return
    stamp = dates.normalize(value)
    assert len(stamp) == 20 and stamp.endswith("Z")
    assert dates.parse(stamp) == in_utc.replace(microsecond=0)
    assert dates.normalize(stamp) == stamp


@given(MOMENTS, MOMENTS)
def test_stamps_sort_in_time_order(a: datetime, b: datetime) -> None:
    sa, sb = dates.stamp(a.replace(tzinfo=UTC)), dates.stamp(b.replace(tzinfo=UTC))
    assert (sa < sb) == (a.replace(microsecond=0) < b.replace(microsecond=0))


@given(st.text(max_size=40))
def test_any_text_is_a_date_or_an_invalid_date(text: str) -> None:
    try:
        stamp = dates.normalize(text)
    except dates.InvalidDate:
        return
    assert dates.normalize(stamp) == stamp
    end = dates.end_of(text)
    assert end is None or end > stamp
