"""A model of the streaming job for the tests: a stand-in for pyspark that records what job.py
asks Spark to build, and runs that plan over Python rows, one micro-batch per run.

Columns are expressions evaluated per row; a Python UDF calls the function job.py gave it, as
Spark would, so a function that raises fails the batch here as it fails the query there. A
query's checkpoint (the topic offset it has read up to, and its deduplication state) outlives
a run of the job, as the real checkpoint in S3 does.
"""

import contextlib
import importlib
import io
import json
import sys
import types
from unittest import mock

from smart_money.columns import INTRADAY_COLUMNS


class Expr:
    def __init__(self, evaluate, name=None):
        self.evaluate = evaluate
        self.name = name

    def alias(self, name):
        return Expr(self.evaluate, name)

    def cast(self, kind):
        convert = {"string": lambda value: None if value is None else str(value), "long": int, "int": int, "double": float}[kind]
        return Expr(lambda row: None if self.evaluate(row) is None else convert(self.evaluate(row)), self.name)

    def isNull(self):
        return Expr(lambda row: self.evaluate(row) is None)

    def isNotNull(self):
        return Expr(lambda row: self.evaluate(row) is not None)


def col(name):
    def evaluate(row):
        value = row
        for part in name.split("."):
            value = None if value is None else value.get(part)
        return value

    return Expr(evaluate, name.split(".")[-1])


def _expr(column):
    if isinstance(column, Expr):
        return column
    return _star(column) if column.endswith(".*") else col(column)


def from_json(column, schema):
    def evaluate(row):
        text = column.evaluate(row)
        if text is None:
            return None
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        # Spark reads a record it cannot parse as a struct of nulls (permissive mode).
        if not isinstance(value, dict):
            return {name: None for name in schema}
        return {name: None if value.get(name) is None else str(value[name]) for name in schema}

    return Expr(evaluate)


def udf(function, _type=None, useArrow=None):
    def call(*columns):
        expressions = [_expr(column) for column in columns]
        return Expr(lambda row: function(*(expression.evaluate(row) for expression in expressions)))

    return call


class Frame:
    """A DataFrame: its source and the steps applied to it."""

    def __init__(self, session, source, steps=()):
        self.session, self.source, self.steps = session, source, tuple(steps)

    def _then(self, *step):
        return Frame(self.session, self.source, self.steps + (step,))

    def select(self, *columns):
        return self._then("select", [_expr(column) for column in columns])

    def withColumn(self, name, column):
        return self._then("withColumn", name, column)

    def where(self, condition):
        return self._then("where", condition)

    def withWatermark(self, _column, _delay):
        return self

    def dropDuplicatesWithinWatermark(self, columns):
        return self._then("dedup", list(columns))

    def drop(self, name):
        return self._then("drop", name)

    def join(self, other, on, how):
        assert how == "inner", how
        return self._then("join", other, list(on))

    def cache(self):
        return self

    @property
    def writeStream(self):
        return Writer(self)

    def rows(self, batch, state):
        """This frame's rows for a batch of source rows; `state` is the query's dedup state."""
        rows = [dict(row) for row in (batch if self.source == "stream" else self.session.files[self.source[1]])]
        if self.source != "stream":
            rows = [{name: (None if row.get(name) in (None, "") else kind(row[name])) for name, kind in self.source[2]} for row in rows]
        for step in self.steps:
            kind = step[0]
            if kind == "select":
                selected = []
                for row in rows:
                    out = {}
                    for expression in step[1]:
                        if expression.name == "*":
                            out.update(expression.evaluate(row) or {})
                        else:
                            out[expression.name] = expression.evaluate(row)
                    selected.append(out)
                rows = selected
            elif kind == "withColumn":
                rows = [{**row, step[1]: step[2].evaluate(row)} for row in rows]
            elif kind == "where":
                rows = [row for row in rows if step[1].evaluate(row)]
            elif kind == "drop":
                rows = [{key: value for key, value in row.items() if key != step[1]} for row in rows]
            elif kind == "dedup":
                kept = []
                for row in rows:
                    key = tuple(row[name] for name in step[1])
                    if key not in state:
                        state.add(key)
                        kept.append(row)
                rows = kept
            elif kind == "join":
                other = step[1].rows([], set())
                rows = [{**row, **match} for row in rows for match in other if all(row[name] == match[name] for name in step[2])]
        return rows


def _star(name):
    # Every column of the struct; a null struct (from_json of a null value) gives a null in each.
    # The one struct the job expands is the trade.
    expression = col(name[:-2])
    return Expr(lambda row: expression.evaluate(row) or dict.fromkeys(INTRADAY_COLUMNS), "*")


class Writer:
    def __init__(self, frame):
        self.frame, self.options_, self.name = frame, {}, None

    def format(self, kind):
        self.kind = kind
        return self

    def option(self, key, value):
        self.options_[key] = value
        return self

    def outputMode(self, _mode):
        return self

    def trigger(self, processingTime):
        return self

    def queryName(self, name):
        self.name = name
        return self

    def start(self):
        self.frame.session.queries.append(self)
        return self


class Reader:
    def __init__(self, session, streaming):
        self.session, self.streaming, self.schema_ = session, streaming, None

    def format(self, _kind):
        return self

    def option(self, _key, _value):
        return self

    def options(self, **_options):
        return self

    def schema(self, ddl):
        self.schema_ = ddl
        return self

    def load(self):
        return Frame(self.session, "stream")

    def csv(self, path):
        kinds = {"string": str, "double": float, "long": int, "int": int}
        fields = [(part.split()[0], kinds[part.split()[1]]) for part in self.schema_.split(",")]
        return Frame(self.session, ("csv", path, fields))


class Session:
    def __init__(self, world):
        self.files, self.queries, self.conf = world.files, [], {}
        self.streams = types.SimpleNamespace(awaitAnyTermination=lambda: None)

    @property
    def read(self):
        return Reader(self, False)

    @property
    def readStream(self):
        return Reader(self, True)


class Builder:
    def __init__(self, world):
        self.world, self.conf = world, {}

    def appName(self, _name):
        return self

    def config(self, key, value):
        self.conf[key] = value
        return self

    def getOrCreate(self):
        session = Session(self.world)
        session.conf = dict(self.conf)
        self.world.sessions.append(session)
        return session


class World:
    """S3 (files by URI), the topic (record values in order) and the queries' checkpoints."""

    def __init__(self):
        self.files, self.topic, self.checkpoints, self.sessions = {}, [], {}, []

    def modules(self):
        functions = types.ModuleType("pyspark.sql.functions")
        functions.col = _expr
        functions.from_json = from_json
        functions.to_timestamp = lambda name: col(name)
        functions.broadcast = lambda frame: frame
        functions.udf = udf
        sql = types.ModuleType("pyspark.sql")
        sql.DataFrame = Frame
        sql.SparkSession = types.SimpleNamespace(builder=Builder(self))
        sql.functions = functions
        sql_types = types.ModuleType("pyspark.sql.types")
        for name in ("BooleanType", "DoubleType", "StringType"):
            setattr(sql_types, name, lambda: None)
        sql_types.StructField = lambda name, kind: name
        sql_types.StructType = lambda fields: list(fields)
        errors = types.ModuleType("pyspark.errors")
        errors.AnalysisException = Exception
        return {"pyspark": types.ModuleType("pyspark"), "pyspark.errors": errors, "pyspark.sql": sql, "pyspark.sql.functions": functions, "pyspark.sql.types": sql_types}

    def run_job(self, config_path):
        """Starts job.py as spark-submit would, then runs one micro-batch of each of its queries
        over what the topic holds beyond the query's checkpoint."""
        with mock.patch.dict(sys.modules, self.modules()):
            for name in [name for name in sys.modules if name.startswith("smart_money.") and name not in ("smart_money.rule", "smart_money.records", "smart_money.columns", "smart_money.generate")]:
                sys.modules.pop(name)
            job = importlib.import_module("smart_money.job")
            with contextlib.redirect_stdout(io.StringIO()) as printed:
                job.main(["--config", config_path])
        self.printed = printed.getvalue()
        session = self.sessions[-1]
        for query in session.queries:
            location = query.options_["checkpointLocation"]
            checkpoint = self.checkpoints.setdefault(location, {"offset": 0, "state": set()})
            batch = [{"value": value, "partition": 0, "offset": offset, "timestamp": None} for offset, value in enumerate(self.topic) if offset >= checkpoint["offset"]]
            rows = query.frame.rows(batch, checkpoint["state"])
            if query.kind != "console":
                self.files.setdefault(query.options_["path"], []).extend(rows)
            checkpoint["offset"] = len(self.topic)
        return session
