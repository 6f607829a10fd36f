"""Streams the intraday file from S3 into the topic as JSON records at a set rate.

    spark-submit --master spark://<master>:7077 --py-files smart_money.zip producer.py --config smart_money_config.json [--from-start]

Records go in file order, keyed by sequence number, one batch of `producer_rate` records a second,
with a progress line every ten batches. After each batch the file's trading day and the last
sequence number sent are kept in producer.state beside the config: run it again and it resumes
after that; a file of another day starts from its first trade; --from-start sends everything
again. A batch cut off mid-way is sent again whole (at least once); the job drops the repeats by
quote time and sequence number.
"""

import argparse
import json
import os
import sys
import time

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from smart_money.columns import INTRADAY_COLUMNS


def state_path(config_path):
    """Where the producer keeps the last sequence number it sent: beside its config."""
    return os.path.join(os.path.dirname(os.path.abspath(config_path)), "producer.state")


def read_state(path, day):
    """The last sequence number sent of the file of `day`; 0 for another day's file or none."""
    try:
        with open(path, encoding="utf-8") as handle:
            words = handle.read().split()
    except FileNotFoundError:
        return 0
    if len(words) == 2 and words[0] == day:
        return int(words[1])
    return 0


def write_state(path, day, sequence_number):
    # Replaced whole, never half written.
    temporary = f"{path}.tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(f"{day} {sequence_number}\n")
    os.replace(temporary, path)


def main(argv):
    parser = argparse.ArgumentParser(prog="producer.py")
    parser.add_argument("--config", required=True)
    parser.add_argument("--from-start", action="store_true", help="send the whole file again")
    args = parser.parse_args(argv)
    with open(args.config, encoding="utf-8") as handle:
        config = json.load(handle)
    state = state_path(args.config)
    rate = int(config["producer_rate"])

    spark = SparkSession.builder.appName("smart-money-producer").getOrCreate()
    source = config["input_uri"] + config["intraday_file"]
    trades = spark.read.option("header", True).csv(source)
    if tuple(trades.columns) != INTRADAY_COLUMNS:
        print(f"producer: {source} has columns {trades.columns}, not the intraday file's {list(INTRADAY_COLUMNS)}", file=sys.stderr)
        return 2
    # The file is one trading day; another day's sequence numbers start from 1 again.
    day = trades.select(F.min(F.substring("quote_datetime", 1, 10)).alias("day")).first().day
    after = 0 if args.from_start else read_state(state, day)
    selected = trades.withColumn("seq", F.col("sequence_number").cast("long")).where(F.col("seq") > after)
    if int(config["record_count"]) > 0:
        selected = selected.where(F.col("seq") <= int(config["record_count"]))
    total = selected.count()
    print(f"producer: {total} trades of {day} to send to {config['topic']} after sequence number {after}, {rate} a second", flush=True)
    records = selected.orderBy("seq").select(F.col("sequence_number").alias("key"), F.to_json(F.struct(*INTRADAY_COLUMNS)).alias("value"), "seq")

    def send(batch):
        frame = spark.createDataFrame([(key, value) for key, value, _seq in batch], "key string, value string")
        (
            frame.write.format("kafka")
            .option("kafka.bootstrap.servers", config["kafka_bootstrap_servers"])
            # Mutual TLS as principal spark (the Spark nodes hold its key), unless a plaintext lab.
            .options(**config.get("kafka_options", {}))
            .option("kafka.acks", "all")
            .option("topic", config["topic"])
            .save()
        )
        write_state(state, day, batch[-1][2])

    started = None
    sent = batches = 0
    batch = []
    for row in records.toLocalIterator():
        batch.append((row.key, row.value, row.seq))
        if len(batch) < rate:
            continue
        began = time.monotonic()
        started = started or began
        send(batch)
        sent += len(batch)
        batches += 1
        batch = []
        # At most one batch a second; a slow batch is not made up for with a burst.
        time.sleep(max(0.0, began + 1.0 - time.monotonic()))
        if batches % 10 == 0:
            elapsed = time.monotonic() - started
            print(f"producer: sent {sent}/{total} ({100 * sent // max(total, 1)}%), {sent / elapsed:.0f} trades/s, last sequence number {row.seq}", flush=True)
    started = started or time.monotonic()
    if batch:
        send(batch)
        sent += len(batch)
    print(f"producer: done, {sent} trades sent in {time.monotonic() - started:.0f} s; state {state}", flush=True)
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
