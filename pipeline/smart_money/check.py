"""Checks what the job wrote against the rule and the injected anomalies.

    spark-submit --master spark://<master>:7077 --py-files smart_money.zip check.py --config smart_money_config.json [--complete]

Prints how many trades were flagged, whether every injected unusual trade the producer has sent
(by its producer.state) is among them, and whether any trade was written twice. With --complete
(once the producer sent everything and the job's last batch landed) the flagged trades must be
exactly those the rule flags over the whole file. Exits 1 when a check fails.
"""

import argparse
import json
import sys

from pyspark.errors import AnalysisException
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from smart_money.flagging import FLAGGED_SCHEMA, TRADE_SCHEMA, end_of_day, flag
from smart_money.producer import read_state, state_path


def main(argv):
    parser = argparse.ArgumentParser(prog="check.py")
    parser.add_argument("--config", required=True)
    parser.add_argument("--complete", action="store_true", help="the whole file was sent: expect exactly what the rule flags")
    args = parser.parse_args(argv)
    with open(args.config, encoding="utf-8") as handle:
        config = json.load(handle)
    spark = SparkSession.builder.appName("smart-money-check").getOrCreate()
    # Reading through the sink's own log (_spark_metadata) sees only batches the job committed.
    try:
        flagged = spark.read.schema(FLAGGED_SCHEMA).parquet(config["flagged_uri"])
    except AnalysisException as error:
        print(f"check FAILED: nothing readable at {config['flagged_uri']} yet ({str(error).splitlines()[0]}); is the job running (status)?")
        spark.stop()
        return 1
    numbers = [row.sequence_number for row in flagged.select("sequence_number").collect()]
    found = set(numbers)
    injected = {int(row.sequence_number) for row in spark.read.option("header", True).csv(config["input_uri"] + config["anomalies_file"]).collect()}
    trades = spark.read.option("header", True).schema(TRADE_SCHEMA).csv(config["input_uri"] + config["intraday_file"])
    last = int(config["record_count"]) if int(config["record_count"]) > 0 else None
    if not args.complete:
        # Only what the producer has sent so far can have been flagged.
        produced = read_state(state_path(args.config))
        last = produced if last is None else min(last, produced)
    if last is not None:
        trades = trades.where(F.col("sequence_number").cast("long") <= last)
    sent = {int(row.sequence_number) for row in trades.select("sequence_number").collect()}
    expected = {row.sequence_number for row in flag(trades, end_of_day(spark, config["input_uri"] + config["eod_file"]), float(config["z_threshold"])).select("sequence_number").collect()}

    problems = []
    duplicates = len(numbers) - len(found)
    if duplicates:
        problems.append(f"{duplicates} trades were written more than once")
    missed = sorted((injected & sent) - found)
    if missed:
        problems.append(f"injected unusual trades not flagged: {missed[:20]}")
    unexpected = sorted(found - expected)
    if unexpected:
        problems.append(f"flagged trades the rule does not flag: {unexpected[:20]}")
    if args.complete and expected - found:
        problems.append(f"trades the rule flags but the job has not written (yet?): {sorted(expected - found)[:20]}")
    print(f"check: {len(found)} trades flagged of {len(sent)} sent; the rule flags {len(expected)} (z > {config['z_threshold']})")
    print(f"check: injected unusual trades flagged: {len(injected & sent & found)} of {len(injected & sent)} sent; the other {len(found - injected)} flagged are the data's own outliers")
    for problem in problems:
        print(f"check FAILED: {problem}")
    spark.stop()
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
