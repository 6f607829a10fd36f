"""Checks what the job wrote against the rule and the injected anomalies.

    spark-submit --master spark://<master>:7077 --py-files smart_money.zip check.py --config smart_money_config.json [--complete]

Prints how many trades were flagged, whether every injected unusual trade the job has processed
is among them, whether any trade was written twice, and whether anything was flagged that the
rule does not flag. What the job has processed is read from its checkpoint (the Kafka offsets of
the last batch it finished) and from the topic itself, so neither a producer run cut short nor
trades still in flight count as missing. With --complete (the producer sent everything and the
job's last batch landed) the flagged trades must be exactly those the rule flags over the whole
file. Exits 1 when a check fails.
"""

import argparse
import json
import sys

from pyspark.errors import AnalysisException
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from smart_money import records
from smart_money.checkpoint_log import kafka_end_offsets, last_committed_batch
from smart_money.comparison import compare
from smart_money.flagging import FLAGGED_SCHEMA, TRADE_SCHEMA, reject_reason


def processed_trades(spark, config):
    """The identities of the valid trades the job's last finished batch had read, or None before its first."""
    checkpoint = config["checkpoint_uri"]
    try:
        names = [row.name for row in spark.read.text(checkpoint + "commits/").select(F.col("_metadata.file_name").alias("name")).distinct().collect()]
    except AnalysisException:
        return None
    batch = last_committed_batch(names)
    if batch is None:
        return None
    end = kafka_end_offsets([row.value for row in spark.read.text(f"{checkpoint}offsets/{batch}").collect()], config["topic"])
    if end is None:
        print(f"check: {checkpoint}offsets/{batch} names no offsets of {config['topic']}; comparing nothing until --complete", flush=True)
        return None
    read = (
        spark.read.format("kafka")
        .option("kafka.bootstrap.servers", config["kafka_bootstrap_servers"])
        .options(**config.get("kafka_options", {}))
        .option("subscribe", config["topic"])
        .option("startingOffsets", "earliest")
        .option("endingOffsets", end)
        .load()
        .select(F.from_json(F.col("value").cast("string"), TRADE_SCHEMA).alias("trade"))
        .where(reject_reason("trade").isNull())
        .select("trade.quote_datetime", "trade.sequence_number")
    )
    return {records.identity(row.asDict()) for row in read.collect()}


def main(argv):
    parser = argparse.ArgumentParser(prog="check.py")
    parser.add_argument("--config", required=True)
    parser.add_argument("--complete", action="store_true", help="the whole file was sent: expect exactly what the rule flags")
    args = parser.parse_args(argv)
    with open(args.config, encoding="utf-8") as handle:
        config = json.load(handle)
    spark = SparkSession.builder.appName("smart-money-check").getOrCreate()
    # Read before the results: the results then hold at least every batch counted as processed.
    processed = None if args.complete else processed_trades(spark, config)
    # Reading through the sink's own log (_spark_metadata) sees only batches the job committed.
    try:
        flagged = [records.identity(row.asDict()) for row in spark.read.schema(FLAGGED_SCHEMA).parquet(config["flagged_uri"]).select("quote_datetime", "sequence_number").collect()]
    except AnalysisException as error:
        print(f"check FAILED: nothing readable at {config['flagged_uri']} yet ({str(error).splitlines()[0]}); is the job running (status)?")
        spark.stop()
        return 1
    # A reader keeps the schema it was given: one reader per file.
    trades = [row.asDict() for row in spark.read.option("header", True).schema(TRADE_SCHEMA).csv(config["input_uri"] + config["intraday_file"]).collect()]
    summary = [row.asDict() for row in spark.read.option("header", True).csv(config["input_uri"] + config["eod_file"]).collect()]
    injected = [int(row.sequence_number) for row in spark.read.option("header", True).csv(config["input_uri"] + config["anomalies_file"]).collect()]
    verdict = compare(trades, summary, injected, flagged, processed, float(config["z_threshold"]), int(config["record_count"]), args.complete)
    for line in verdict.lines:
        print(line)
    for problem in verdict.problems:
        print(f"check FAILED: {problem}")
    spark.stop()
    return 1 if verdict.problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
