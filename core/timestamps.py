"""The API's one timestamp format, in Python (utc_iso) and in SQL (utc_iso_sql), held equal by a test."""

from datetime import UTC, datetime


def utc_iso(moment: datetime) -> str:
    """ISO 8601 in UTC with microseconds and a Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def utc_iso_sql(column: str) -> str:
    """SQL for utc_iso of `column` (NULL stays NULL)."""
    return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
