"""What check.py concludes from what it read: the flagged trades against the rule and the injected
trades, bounded by what the job has really processed. Plain Python, so its tests need no Spark.
"""

from dataclasses import dataclass
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

from . import records, rule
from .generate import group_of

Identity = Tuple[str, int]


@dataclass
class Verdict:
    lines: List[str]
    problems: List[str]


def rule_flags(trades: Iterable[Mapping[str, str]], summary: Iterable[Mapping[str, str]], threshold: float) -> Set[Identity]:
    """The trades the rule flags, as the job's flag() does: joined with their group's summary row."""
    groups = {(row["Symbol"], row["PutCall"], row["OptionsBins"], row["DayDiffBins"]): row for row in summary}
    flagged = set()
    for trade in trades:
        if records.reject_reason(trade) is not None:
            continue
        row = groups.get(group_of(trade))
        if row is not None and rule.is_unusual(float(trade["trade_size"]), float(row["mean_vol"]), float(row["sd_vol"]), threshold):
            flagged.add(records.identity(trade))
    return flagged


def compare(
    trades: Sequence[Mapping[str, str]],
    summary: Iterable[Mapping[str, str]],
    injected_numbers: Iterable[int],
    flagged: Iterable[Identity],
    processed: Optional[Set[Identity]],
    threshold: float,
    record_count: int,
    complete: bool,
) -> Verdict:
    """trades: the whole intraday file; flagged: the identities the job wrote, every day's;
    processed: the identities the job's last finished batch had read (None when unknown)."""
    file_ids: Dict[int, Identity] = {int(trade["sequence_number"]): records.identity(trade) for trade in trades if records.reject_reason(trade) is None}
    days = {quoted[:10] for quoted, _number in file_ids.values()}
    # Earlier days' trades are in the results too; this file is one day.
    found_list = [identity for identity in flagged if identity[0][:10] in days]
    found = set(found_list)
    by_rule = rule_flags(trades, summary, threshold)
    in_scope = {identity for number, identity in file_ids.items() if record_count <= 0 or number <= record_count}
    injected = {file_ids[number] for number in injected_numbers if number in file_ids}
    if complete:
        considered = in_scope
        basis = "the whole file (--complete)"
    elif processed is None:
        considered = set()
        basis = "nothing yet: the job has finished no batch"
    else:
        # Trades sent after the job's last finished batch, or not yet sent, cannot have been flagged.
        considered = in_scope & processed
        basis = "the trades the job's last finished batch had read"
    expected = by_rule & considered

    problems = []
    duplicates = len(found_list) - len(found)
    if duplicates:
        problems.append(f"{duplicates} trades were written more than once")
    missed = sorted(number for _quoted, number in (injected & considered) - found)
    if missed:
        problems.append(f"injected unusual trades not flagged: {missed[:20]}")
    # Judged against the whole file: a flagged trade is wrong only if the rule would never flag it.
    unexpected = sorted(number for _quoted, number in found - by_rule)
    if unexpected:
        problems.append(f"flagged trades the rule does not flag: {unexpected[:20]}")
    if complete and expected - found:
        problems.append(f"trades the rule flags but the job has not written (yet?): {sorted(number for _q, number in expected - found)[:20]}")
    lines = [
        f"check: compared {len(considered)} trades, {basis}",
        f"check: {len(found & considered)} of them flagged; the rule flags {len(expected)} (z > {threshold})",
        f"check: injected unusual trades flagged: {len(injected & considered & found)} of {len(injected & considered)} compared; the other {len(found - injected)} flagged are the data's own outliers",
    ]
    return Verdict(lines=lines, problems=problems)
