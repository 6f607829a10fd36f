"""What makes a record from the topic a trade the job can use, and which trade it is.

The job, the check and the tests' model of the job all use these, so a record the job rejects
is one the tests reject, and a repeat the job drops is one the tests drop.
"""

import math
import re
from datetime import date
from typing import Any, Mapping, Optional

from . import rule

# A trade's identity across days: the generator (like the original's files) numbers each day's
# trades from 1, so the sequence number alone names a different trade every day. A repeat sent
# by the producer carries both unchanged.
TRADE_IDENTITY = ("quote_datetime", "sequence_number")

_QUOTE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?$")


def _field(trade: Any, name: str) -> Optional[str]:
    # A Spark Row and a dict both answer [name]; a Row without the field raises ValueError.
    try:
        value = trade[name]
    except (KeyError, ValueError, IndexError, TypeError):
        return None
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def reject_reason(trade: Optional[Mapping[str, Any]]) -> Optional[str]:
    """Why a parsed record cannot be flagged, or None when it can.

    from_json turns a record that is not a JSON object of the trade's fields into nulls; every
    field the rule reads must be present and well-formed, or the binning would fail the batch.
    """
    if trade is None:
        return "not a JSON object"
    quoted = _field(trade, "quote_datetime")
    number = _field(trade, "sequence_number")
    if quoted is None and number is None:
        return "not a trade record (no quote_datetime, no sequence_number)"
    for name in ("underlying_symbol", "quote_datetime", "sequence_number", "expiration", "option_type", "trade_size", "trade_delta"):
        if _field(trade, name) is None:
            return f"{name} is missing"
    if not _QUOTE_TIME.match(quoted):
        return f"quote_datetime {quoted!r} is not YYYY-MM-DD HH:MM:SS[.fff]"
    if not number.isdigit() or int(number) < 1:
        return f"sequence_number {number!r} is not a whole number of at least 1"
    expiration = _field(trade, "expiration")
    try:
        date.fromisoformat(expiration[:10])
        rule.days_to_expiry(quoted, expiration)
    except ValueError:
        return f"expiration {expiration!r} is not YYYY-MM-DD"
    if rule.days_to_expiry(quoted, expiration) < 0:
        return f"expiration {expiration} is before the trade's day"
    option_type = _field(trade, "option_type")
    if option_type.upper() not in ("C", "P"):
        return f"option_type {option_type!r} is not C or P"
    size = _field(trade, "trade_size")
    if not size.isdigit() or int(size) < 1:
        return f"trade_size {size!r} is not a whole number of at least 1"
    delta = _field(trade, "trade_delta")
    try:
        magnitude = abs(float(delta))
    except ValueError:
        return f"trade_delta {delta!r} is not a number"
    if math.isnan(magnitude) or magnitude > 1:
        return f"trade_delta {delta!r} is not between -1 and 1"
    return None


def identity(trade: Mapping[str, Any]) -> tuple:
    """The trade's identity as the job deduplicates it: (quote_datetime, sequence_number)."""
    return (str(trade["quote_datetime"]).strip(), int(str(trade["sequence_number"]).strip()))
