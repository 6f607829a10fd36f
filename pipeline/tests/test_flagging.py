"""The Spark wiring of the rule, checked without Spark: pyspark is replaced by a stand-in whose
udf() hands back the Python function, so the functions the job's columns call can be run."""

import glob
import os
import py_compile
import sys
import types
import unittest
from unittest import mock

from smart_money import rule

HERE = os.path.dirname(os.path.abspath(__file__))


def fake_pyspark():
    functions = types.SimpleNamespace(udf=lambda function, _type=None, useArrow=None: function)
    sql = types.ModuleType("pyspark.sql")
    sql.DataFrame = sql.SparkSession = object
    sql.functions = functions
    sql_types = types.ModuleType("pyspark.sql.types")
    for name in ("BooleanType", "DoubleType", "StringType"):
        setattr(sql_types, name, lambda: name)
    sql_types.StructField = lambda name, kind: (name, kind)
    sql_types.StructType = lambda fields: list(fields)
    errors = types.ModuleType("pyspark.errors")
    errors.AnalysisException = Exception
    return {"pyspark": types.ModuleType("pyspark"), "pyspark.errors": errors, "pyspark.sql": sql, "pyspark.sql.functions": functions, "pyspark.sql.types": sql_types}


class Flagging(unittest.TestCase):
    def setUp(self):
        patch = mock.patch.dict(sys.modules, fake_pyspark())
        patch.start()
        self.addCleanup(patch.stop)
        sys.modules.pop("smart_money.flagging", None)
        from smart_money import flagging

        self.flagging = flagging

    def test_the_job_bins_trades_with_the_rule(self):
        self.assertEqual(self.flagging._delta_bin("-0.5123"), rule.delta_bin(-0.5123))
        self.assertEqual(self.flagging._day_bin("2026-11-20 10:00:00.000", "2027-02-19"), "91-180")
        self.assertEqual(self.flagging._put_call("P"), "P")
        self.assertAlmostEqual(self.flagging._z_score(40.0, 10.0, 5.0), 6.0)

    def test_reads_every_column_of_the_trade_file_as_text(self):
        from smart_money.columns import INTRADAY_COLUMNS

        self.assertEqual(self.flagging.TRADE_SCHEMA, [(name, "StringType") for name in INTRADAY_COLUMNS])


class Sources(unittest.TestCase):
    def test_every_program_compiles(self):
        for path in glob.glob(os.path.join(HERE, "..", "smart_money", "*.py")):
            py_compile.compile(path, doraise=True)


class Programs(unittest.TestCase):
    def setUp(self):
        patch = mock.patch.dict(sys.modules, fake_pyspark())
        patch.start()
        self.addCleanup(patch.stop)
        for name in ("smart_money.flagging", "smart_money.job", "smart_money.producer", "smart_money.check"):
            sys.modules.pop(name, None)

    def test_import_nothing_beyond_pyspark_and_the_package(self):
        import importlib

        for name in ("smart_money.job", "smart_money.producer", "smart_money.check"):
            self.assertTrue(callable(importlib.import_module(name).main), name)

    def test_the_producer_resumes_after_the_last_sequence_number_it_kept_of_the_same_day(self):
        import tempfile

        from smart_money import producer

        state = os.path.join(tempfile.mkdtemp(), "producer.state")
        self.assertEqual(producer.read_state(state, "2026-11-20"), 0)
        producer.write_state(state, "2026-11-20", 5000)
        self.assertEqual(producer.read_state(state, "2026-11-20"), 5000)
        producer.write_state(state, "2026-11-20", 5500)
        self.assertEqual(producer.read_state(state, "2026-11-20"), 5500)
        # Another day's file numbers its trades from 1 again: it starts from its first.
        self.assertEqual(producer.read_state(state, "2026-11-23"), 0)
        self.assertEqual(sorted(os.listdir(os.path.dirname(state))), ["producer.state"])
