"""Reads a streaming query's checkpoint: which batch it last finished, and up to which Kafka
offsets that batch read. The check bounds what it expects by these, so it compares only trades
the job has really processed.

A checkpoint holds offsets/<batch> (written when a batch starts: a version line, a line of
metadata, then one line per source, the Kafka source's as {"topic": {"partition": offset}}) and
commits/<batch> (written when the batch's output is committed).
"""

import json
from typing import Iterable, Optional


def last_committed_batch(file_names: Iterable[str]) -> Optional[int]:
    """The highest batch number among the commit log's file names (temporary files are not batches)."""
    batches = [int(name.rsplit("/", 1)[-1]) for name in file_names if name.rsplit("/", 1)[-1].isdigit()]
    return max(batches) if batches else None


def kafka_end_offsets(offsets_file_lines: Iterable[str], topic: str) -> Optional[str]:
    """The Kafka source's end offsets in a batch's offsets file, as JSON a batch read's endingOffsets takes."""
    lines = list(offsets_file_lines)
    # The version line and the metadata line come first; the sources follow.
    for line in lines[2:]:
        try:
            offsets = json.loads(line)
        except ValueError:
            continue
        if isinstance(offsets, dict) and isinstance(offsets.get(topic), dict):
            return json.dumps({topic: offsets[topic]}, sort_keys=True)
    return None
