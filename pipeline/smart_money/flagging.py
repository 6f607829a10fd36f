"""The rule applied to Spark DataFrames: the streaming job and the check share it, and it calls
the plain functions of rule.py, so both flag exactly what the rule's tests pin."""

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import BooleanType, DoubleType, StringType, StructField, StructType

from . import records, rule
from .columns import INTRADAY_COLUMNS

TRADE_SCHEMA = StructType([StructField(name, StringType()) for name in INTRADAY_COLUMNS])
GROUP = ("underlying_symbol", "put_call", "delta_bin", "day_bin")
# What flag() returns, and the job writes: reading it with this schema works before any file exists.
FLAGGED_SCHEMA = (
    "sequence_number long, quote_datetime string, underlying_symbol string, option_type string, expiration string, strike string, "
    "trade_size int, delta_bin string, day_bin string, mean_vol double, sd_vol double, z_score double"
)

# Plain Python UDFs (not Arrow, which later releases make the default and which needs pandas).
_delta_bin = F.udf(lambda delta: rule.delta_bin(float(delta)), StringType(), useArrow=False)
_day_bin = F.udf(lambda quoted, expires: rule.day_bin(rule.days_to_expiry(quoted, expires)), StringType(), useArrow=False)
_put_call = F.udf(rule.put_call, StringType(), useArrow=False)
_z_score = F.udf(rule.z_score, DoubleType(), useArrow=False)
# Why a parsed record is not a usable trade (None when it is): the job sends those aside.
reject_reason = F.udf(records.reject_reason, StringType(), useArrow=False)


def end_of_day(spark: SparkSession, path: str) -> DataFrame:
    """The end-of-day summary, keyed as the trades' groups are."""
    return (
        spark.read.option("header", True)
        .schema("Symbol string, PutCall string, OptionsBins string, DayDiffBins string, median_vol double, mean_vol double, sd_vol double")
        .csv(path)
        .select(
            F.col("Symbol").alias("underlying_symbol"),
            F.col("PutCall").alias("put_call"),
            F.col("OptionsBins").alias("delta_bin"),
            F.col("DayDiffBins").alias("day_bin"),
            "median_vol",
            "mean_vol",
            "sd_vol",
        )
    )


def flag(trades: DataFrame, eod: DataFrame, threshold: float) -> DataFrame:
    """Trades (columns as in the intraday file, as text) whose size is unusual for their group."""
    unusual = F.udf(lambda size, mean, sd: rule.is_unusual(size, mean, sd, threshold), BooleanType(), useArrow=False)
    grouped = (
        trades.withColumn("put_call", _put_call("option_type"))
        .withColumn("delta_bin", _delta_bin("trade_delta"))
        .withColumn("day_bin", _day_bin("quote_datetime", "expiration"))
        .withColumn("size", F.col("trade_size").cast("double"))
    )
    # Trades of a group the summary leaves out (no spread that day) are never flagged.
    joined = grouped.join(F.broadcast(eod), on=list(GROUP), how="inner")
    return joined.where(unusual("size", "mean_vol", "sd_vol")).select(
        F.col("sequence_number").cast("long").alias("sequence_number"),
        "quote_datetime",
        "underlying_symbol",
        "option_type",
        "expiration",
        "strike",
        F.col("trade_size").cast("int").alias("trade_size"),
        "delta_bin",
        "day_bin",
        "mean_vol",
        "sd_vol",
        _z_score("size", "mean_vol", "sd_vol").alias("z_score"),
    )
