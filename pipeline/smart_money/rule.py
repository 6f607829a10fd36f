"""The rule that makes a trade unusual, as plain functions: the generator, the streaming job and
the check all use these, so what the job flags is what the tests pin.

A trade belongs to a group: its symbol, put or call, delta bin and days-to-expiry bin. The
end-of-day summary holds each group's mean and standard deviation of trade size; a trade is
unusual when its size lies more than a threshold of standard deviations above the mean.
"""

from datetime import date, datetime
from typing import Optional

# Upper bounds (exclusive) of the |delta| bins, and the label of each bin.
DELTA_EDGES = (0.1, 0.25, 0.4, 0.6, 0.75, 0.9)
DELTA_LABELS = ("0.00-0.10", "0.10-0.25", "0.25-0.40", "0.40-0.60", "0.60-0.75", "0.75-0.90", "0.90-1.00")
# Upper bounds (inclusive) of the days-to-expiry bins, and the label of each bin.
DAY_EDGES = (7, 30, 90, 180)
DAY_LABELS = ("0-7", "8-30", "31-90", "91-180", "181+")

DEFAULT_Z_THRESHOLD = 3.0


def delta_bin(delta: float) -> str:
    """The bin of a trade's delta; puts (negative delta) share the bins of calls by |delta|."""
    magnitude = abs(float(delta))
    for edge, label in zip(DELTA_EDGES, DELTA_LABELS):
        if magnitude < edge:
            return label
    return DELTA_LABELS[-1]


def days_to_expiry(quote_datetime: str, expiration: str) -> int:
    """Whole days from the trade's date to the option's expiration (0 on expiration day)."""
    quoted = datetime.strptime(quote_datetime[:10], "%Y-%m-%d").date()
    expires = date.fromisoformat(expiration[:10])
    return (expires - quoted).days


def day_bin(days: int) -> str:
    for edge, label in zip(DAY_EDGES, DAY_LABELS):
        if days <= edge:
            return label
    return DAY_LABELS[-1]


def put_call(option_type: str) -> str:
    """The summary's PutCall value for the trade file's option_type (C or P)."""
    kind = option_type.strip().upper()
    if kind not in ("C", "P"):
        raise ValueError(f"option_type {option_type!r} is not C or P")
    return kind


def z_score(size: float, mean: float, sd: float) -> Optional[float]:
    """How many standard deviations a size lies above its group's mean; None without a spread."""
    if sd is None or sd <= 0:
        return None
    return (float(size) - float(mean)) / float(sd)


def is_unusual(size: float, mean: float, sd: float, threshold: float = DEFAULT_Z_THRESHOLD) -> bool:
    score = z_score(size, mean, sd)
    return score is not None and score > threshold
