"""A week of the pipeline in the tests' model of the job (tests/sparkmodel.py): job.py's own plan,
run over generated days through one checkpoint, with bad records and repeats in the topic; and
the check's conclusions when the producer was cut short or trades are still in flight."""

import json
import os
import tempfile
import unittest
from datetime import date

from smart_money import comparison, generate, records
from smart_money.checkpoint_log import kafka_end_offsets, last_committed_batch
from smart_money.columns import EOD_FILE, INTRADAY_COLUMNS

from .sparkmodel import World

INPUT = "s3a://bucket/smart-money/input/"
RESULTS = "s3a://bucket/spark-output/smart-money/"
CONFIG = {
    "kafka_bootstrap_servers": "10.0.16.5:9092",
    "topic": "th-topic",
    "partitions": 3,
    "streaming_interval_seconds": 10,
    "z_threshold": 3.0,
    "input_uri": INPUT,
    "eod_file": EOD_FILE,
    "flagged_uri": RESULTS + "flagged/",
    "checkpoint_uri": RESULTS + "checkpoints/flagged/",
    "rejects_uri": RESULTS + "rejects/",
    "rejects_checkpoint_uri": RESULTS + "checkpoints/rejects/",
    "checkpoint_file_manager": "",
}
MALFORMED = [
    "not json at all",
    json.dumps({"underlying_symbol": "ABC"}),
    None,
]


def a_day(seed, day):
    return generate.generate(seed=seed, trades=1500, symbols=8, anomalies=6, day=day)


def sent(trade):
    # What the producer sends: to_json of the file's columns, every value text.
    return json.dumps({name: str(trade[name]) for name in INTRADAY_COLUMNS})


def identities_of(dataset, numbers):
    by_number = {int(trade["sequence_number"]): trade for trade in dataset.trades}
    return {records.identity(by_number[int(number)]) for number in numbers}


class AWeekOfTheJob(unittest.TestCase):
    def setUp(self):
        self.world = World()
        self.config = os.path.join(tempfile.mkdtemp(), "smart_money_config.json")
        with open(self.config, "w", encoding="utf-8") as handle:
            json.dump(CONFIG, handle)

    def run_day(self, dataset, extra=()):
        self.world.files[INPUT + EOD_FILE] = dataset.summary
        self.world.topic.extend(sent(trade) for trade in dataset.trades)
        self.world.topic.extend(extra)
        return self.world.run_job(self.config)

    def flagged(self):
        return [records.identity(row) for row in self.world.files.get(CONFIG["flagged_uri"], [])]

    def test_a_malformed_record_goes_to_the_rejects_with_its_reason_and_the_stream_goes_on(self):
        day = a_day(11, date(2026, 11, 20))
        half = len(day.trades) // 2
        self.world.files[INPUT + EOD_FILE] = day.summary
        self.world.topic.extend(sent(trade) for trade in day.trades[:half])
        broken = dict(day.trades[half], trade_delta="n/a")
        self.world.topic.extend(MALFORMED + [json.dumps({name: str(value) for name, value in broken.items()})])
        self.world.topic.extend(sent(trade) for trade in day.trades[half:])
        self.world.run_job(self.config)
        rejects = self.world.files[CONFIG["rejects_uri"]]
        # Spark reads text that is not JSON as a record of nulls, and a null value as null.
        self.assertEqual([row["reject_reason"] for row in rejects], [
            "not a trade record (no quote_datetime, no sequence_number)",
            "not a trade record (no quote_datetime, no sequence_number)",
            "not a JSON object",
            "trade_delta 'n/a' is not a number",
        ])
        self.assertEqual(rejects[0]["value"], "not json at all")
        # The trades after the bad records were processed: every injected one is flagged.
        self.assertTrue(identities_of(day, [a["sequence_number"] for a in day.anomalies]) <= set(self.flagged()))

    def test_a_second_day_through_the_same_checkpoint_flags_that_days_injected_trades(self):
        first = a_day(21, date(2026, 11, 20))
        second = a_day(22, date(2026, 11, 23))
        self.run_day(first)
        after_first = len(self.flagged())
        # The producer repeats a cut-off batch: the same trades again.
        self.run_day(second, extra=[sent(trade) for trade in first.trades[-50:]])
        found = self.flagged()
        self.assertTrue(identities_of(first, [a["sequence_number"] for a in first.anomalies]) <= set(found))
        self.assertTrue(identities_of(second, [a["sequence_number"] for a in second.anomalies]) <= set(found))
        self.assertEqual(len(found), len(set(found)), "a trade was written twice")
        self.assertEqual(set(found), comparison.rule_flags(first.trades, first.summary, 3.0) | comparison.rule_flags(second.trades, second.summary, 3.0))
        self.assertGreater(len(found), after_first)

    def test_the_job_names_the_checkpoint_manager_only_when_the_config_does(self):
        self.run_day(a_day(31, date(2026, 11, 20)))
        self.assertNotIn("spark.sql.streaming.checkpointFileManagerClass", self.world.sessions[-1].conf)
        with open(self.config, "w", encoding="utf-8") as handle:
            json.dump({**CONFIG, "checkpoint_file_manager": "org.apache.spark.internal.io.cloud.AbortableStreamBasedCheckpointFileManager"}, handle)
        self.world.run_job(self.config)
        self.assertEqual(self.world.sessions[-1].conf["spark.sql.streaming.checkpointFileManagerClass"], "org.apache.spark.internal.io.cloud.AbortableStreamBasedCheckpointFileManager")


class RejectReasons(unittest.TestCase):
    GOOD = {"underlying_symbol": "ABC", "quote_datetime": "2026-11-20 09:30:01.512", "sequence_number": "7", "expiration": "2026-11-27",
            "option_type": "C", "trade_size": "12", "trade_delta": "-0.4"}

    def test_accepts_a_whole_trade(self):
        self.assertIsNone(records.reject_reason(self.GOOD))

    def test_names_the_field_that_is_wrong(self):
        cases = {
            "sequence_number": ("x1", "sequence_number 'x1' is not a whole number of at least 1"),
            "quote_datetime": ("20/11/2026", "quote_datetime '20/11/2026' is not YYYY-MM-DD HH:MM:SS[.fff]"),
            "expiration": ("soon", "expiration 'soon' is not YYYY-MM-DD"),
            "option_type": ("X", "option_type 'X' is not C or P"),
            "trade_size": ("-3", "trade_size '-3' is not a whole number of at least 1"),
            "trade_delta": ("1.7", "trade_delta '1.7' is not between -1 and 1"),
        }
        for field, (value, reason) in cases.items():
            self.assertEqual(records.reject_reason({**self.GOOD, field: value}), reason)
        self.assertEqual(records.reject_reason({**self.GOOD, "trade_size": None}), "trade_size is missing")
        self.assertEqual(records.reject_reason({**self.GOOD, "expiration": "2026-11-19"}), "expiration 2026-11-19 is before the trade's day")


class TheCheck(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.day = a_day(41, date(2026, 11, 20))
        cls.by_rule = comparison.rule_flags(cls.day.trades, cls.day.summary, 3.0)
        cls.injected = [int(anomaly["sequence_number"]) for anomaly in cls.day.anomalies]

    def verdict(self, flagged, processed, complete=False):
        return comparison.compare(self.day.trades, self.day.summary, self.injected, flagged, processed, 3.0, 0, complete)

    def identities_up_to(self, last):
        return {records.identity(trade) for trade in self.day.trades if int(trade["sequence_number"]) <= last}

    def test_trades_still_in_flight_are_not_missing(self):
        # The producer sent everything; the job's last finished batch read up to trade 1000.
        processed = self.identities_up_to(1000)
        verdict = self.verdict(self.by_rule & processed, processed)
        self.assertEqual(verdict.problems, [])
        self.assertIn(f"check: compared {len(processed)} trades, the trades the job's last finished batch had read", verdict.lines)

    def test_an_interrupted_produce_from_start_reports_nothing_false(self):
        # A whole first run flagged everything; produce --from-start was then stopped at 300:
        # the results still hold the later trades, which are right, not unexpected.
        processed = {records.identity(trade) for trade in self.day.trades}
        verdict = self.verdict(self.by_rule, processed)
        self.assertEqual(verdict.problems, [])

    def test_still_fails_on_a_missed_injected_trade_a_wrong_flag_and_a_duplicate(self):
        processed = {records.identity(trade) for trade in self.day.trades}
        missing = records.identity(next(trade for trade in self.day.trades if int(trade["sequence_number"]) == self.injected[0]))
        ordinary = next(identity for identity in processed if identity not in self.by_rule)
        flagged = sorted(self.by_rule - {missing}) + [ordinary, sorted(self.by_rule)[0]]
        problems = self.verdict(flagged, processed).problems
        self.assertEqual(problems, [
            "1 trades were written more than once",
            f"injected unusual trades not flagged: [{self.injected[0]}]",
            f"flagged trades the rule does not flag: [{ordinary[1]}]",
        ])

    def test_before_the_first_batch_compares_nothing_and_complete_compares_everything(self):
        self.assertEqual(self.verdict([], None).problems, [])
        complete = self.verdict(sorted(self.by_rule)[1:], None, complete=True).problems
        self.assertEqual(len(complete), 1 + (sorted(self.by_rule)[0][1] in self.injected))

    def test_another_days_results_are_not_this_days(self):
        other = a_day(42, date(2026, 11, 23))
        verdict = self.verdict(sorted(self.by_rule) + sorted(comparison.rule_flags(other.trades, other.summary, 3.0)), {records.identity(trade) for trade in self.day.trades})
        self.assertEqual(verdict.problems, [])


class CheckpointLog(unittest.TestCase):
    def test_the_last_committed_batch_is_the_highest_numbered_commit(self):
        self.assertEqual(last_committed_batch(["0", "1", "10", "9", ".10.0d3e.tmp"]), 10)
        self.assertIsNone(last_committed_batch([]))

    def test_reads_the_kafka_sources_end_offsets_from_a_batchs_offsets_file(self):
        lines = ["v1", '{"batchWatermarkMs":0,"batchTimestampMs":1763631000000,"conf":{}}', '{"th-topic":{"2":410,"1":398,"0":402}}']
        self.assertEqual(kafka_end_offsets(lines, "th-topic"), '{"th-topic": {"0": 402, "1": 398, "2": 410}}')
        self.assertIsNone(kafka_end_offsets(lines[:2], "th-topic"))
        self.assertIsNone(kafka_end_offsets(lines, "other-topic"))
