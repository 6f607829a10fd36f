import contextlib
import csv
import io
import os
import statistics
import tempfile
import unittest
from datetime import date

from smart_money import generate, rule
from smart_money.columns import ANOMALIES_FILE, ANOMALY_COLUMNS, EOD_COLUMNS, EOD_FILE, INTRADAY_COLUMNS, INTRADAY_FILE

DAY = date(2026, 11, 20)


def read(path):
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        return header, [dict(zip(header, row)) for row in reader]


class Generated(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp()
        cls.paths = generate.write(generate.generate(seed=7, trades=3000, symbols=24, anomalies=12, day=DAY), cls.dir)
        cls.header, cls.trades = read(cls.paths[INTRADAY_FILE])
        cls.eod_header, cls.eod = read(cls.paths[EOD_FILE])
        cls.anomalies_header, cls.anomalies = read(cls.paths[ANOMALIES_FILE])

    def test_has_exactly_the_original_columns_in_order(self):
        self.assertEqual(tuple(self.header), INTRADAY_COLUMNS)
        self.assertEqual(len(self.header), 19)
        self.assertEqual(tuple(self.eod_header), EOD_COLUMNS)
        self.assertEqual(tuple(self.anomalies_header), ANOMALY_COLUMNS)

    def test_sorts_trades_by_quote_datetime_with_sequence_numbers_in_that_order(self):
        self.assertEqual(len(self.trades), 3012)
        self.assertEqual([trade["quote_datetime"] for trade in self.trades], sorted(trade["quote_datetime"] for trade in self.trades))
        self.assertEqual([int(trade["sequence_number"]) for trade in self.trades], list(range(1, 3013)))

    def test_is_the_same_for_the_same_seed_and_different_for_another(self):
        again = tempfile.mkdtemp()
        generate.write(generate.generate(seed=7, trades=3000, symbols=24, anomalies=12, day=DAY), again)
        other = tempfile.mkdtemp()
        generate.write(generate.generate(seed=8, trades=3000, symbols=24, anomalies=12, day=DAY), other)
        for name in (INTRADAY_FILE, EOD_FILE, ANOMALIES_FILE):
            with open(os.path.join(self.dir, name), "rb") as first, open(os.path.join(again, name), "rb") as second:
                self.assertEqual(first.read(), second.read(), name)
        with open(os.path.join(self.dir, INTRADAY_FILE), "rb") as first, open(os.path.join(other, INTRADAY_FILE), "rb") as second:
            self.assertNotEqual(first.read(), second.read())

    def test_looks_like_a_trading_day(self):
        symbols = {trade["underlying_symbol"] for trade in self.trades}
        self.assertEqual(len(symbols), 24)
        self.assertTrue(all(trade["root"] == trade["underlying_symbol"] for trade in self.trades))
        self.assertGreaterEqual(len({trade["expiration"] for trade in self.trades}), 5)
        self.assertEqual({trade["option_type"] for trade in self.trades}, {"C", "P"})
        for trade in self.trades:
            spot = (float(trade["underlying_bid"]) + float(trade["underlying_ask"])) / 2
            self.assertLess(abs(float(trade["strike"]) / spot - 1), 0.6, trade)
            self.assertTrue("2026-11-20 09:30" <= trade["quote_datetime"] < "2026-11-20 16:00:00", trade)
            # Calls have a delta from 0 to 1, puts from -1 to 0 (far out of the money rounds to 0).
            delta = float(trade["trade_delta"])
            self.assertTrue(0 <= delta <= 1 if trade["option_type"] == "C" else -1 <= delta <= 0, trade)
            self.assertLessEqual(float(trade["best_bid"]), float(trade["trade_price"]))
            self.assertLessEqual(float(trade["trade_price"]), float(trade["best_ask"]))

    def test_sizes_are_heavy_tailed(self):
        injected = {anomaly["sequence_number"] for anomaly in self.anomalies}
        sizes = sorted(int(trade["trade_size"]) for trade in self.trades if trade["sequence_number"] not in injected)
        median = statistics.median(sizes)
        self.assertLessEqual(median, 12)
        self.assertGreater(sizes[-1], 8 * median)

    def test_summary_is_the_day_of_ordinary_trades_per_group_without_zeros(self):
        injected = {anomaly["sequence_number"] for anomaly in self.anomalies}
        sizes = {}
        for trade in self.trades:
            if trade["sequence_number"] not in injected:
                sizes.setdefault(generate.group_of(trade), []).append(int(trade["trade_size"]))
        for row in self.eod:
            values = sizes[(row["Symbol"], row["PutCall"], row["OptionsBins"], row["DayDiffBins"])]
            self.assertGreaterEqual(len(values), 2)
            self.assertAlmostEqual(float(row["mean_vol"]), statistics.mean(values), places=3)
            self.assertAlmostEqual(float(row["sd_vol"]), statistics.stdev(values), places=3)
            self.assertAlmostEqual(float(row["median_vol"]), statistics.median(values), places=3)
            self.assertGreater(float(row["sd_vol"]), 0)
            self.assertIn(row["OptionsBins"], rule.DELTA_LABELS)
            self.assertIn(row["DayDiffBins"], rule.DAY_LABELS)
        kept = {(row["Symbol"], row["PutCall"], row["OptionsBins"], row["DayDiffBins"]) for row in self.eod}
        left_out = [key for key, values in sizes.items() if key not in kept]
        self.assertTrue(all(len(sizes[key]) < 2 or statistics.stdev(sizes[key]) == 0 for key in left_out))

    def test_records_the_injected_trades_which_the_rule_flags(self):
        self.assertEqual(len(self.anomalies), 12)
        summary = {(row["Symbol"], row["PutCall"], row["OptionsBins"], row["DayDiffBins"]): row for row in self.eod}
        by_number = {trade["sequence_number"]: trade for trade in self.trades}
        for anomaly in self.anomalies:
            trade = by_number[anomaly["sequence_number"]]
            self.assertEqual((trade["underlying_symbol"], trade["option_type"], trade["expiration"], trade["trade_size"]),
                             (anomaly["underlying_symbol"], anomaly["option_type"], anomaly["expiration"], anomaly["trade_size"]))
            row = summary[generate.group_of(trade)]
            score = rule.z_score(int(trade["trade_size"]), float(row["mean_vol"]), float(row["sd_vol"]))
            self.assertAlmostEqual(score, float(anomaly["z_score"]), places=2)
            self.assertGreaterEqual(score, 6.0)
            self.assertTrue(rule.is_unusual(int(trade["trade_size"]), float(row["mean_vol"]), float(row["sd_vol"])))

    def test_refuses_sizes_it_cannot_make(self):
        with self.assertRaisesRegex(ValueError, "--trades 10 must be at least 100"):
            generate.generate(seed=1, trades=10, symbols=3, anomalies=1, day=DAY)
        with self.assertRaisesRegex(ValueError, "--anomalies 100000 exceeds the"):
            generate.generate(seed=1, trades=200, symbols=3, anomalies=100000, day=DAY)

    def test_command_line_writes_the_files_and_says_so(self):
        out = tempfile.mkdtemp()
        printed, errors = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(errors):
            self.assertEqual(generate.main(["--out", out, "--seed", "3", "--trades", "500", "--symbols", "5", "--anomalies", "3"]), 0)
            self.assertEqual(generate.main(["--out", out, "--trades", "5"]), 2)
        self.assertEqual(sorted(os.listdir(out)), sorted([INTRADAY_FILE, EOD_FILE, ANOMALIES_FILE]))
        self.assertIn("503 trades of 5 symbols, 3 of them injected unusual trades", printed.getvalue())
        self.assertEqual(errors.getvalue(), "generate: --trades 5 must be at least 100\n")
