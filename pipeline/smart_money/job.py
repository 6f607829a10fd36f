"""The Smart Money Tracker's streaming job: reads trades from the topic, joins each with its
group's end-of-day statistics, and writes the unusual ones to S3 as Parquet (and to the console).

    spark-submit --master spark://<master>:7077 --py-files smart_money.zip job.py --config smart_money_config.json

The Parquet sink and its checkpoint are in the bucket's Spark output prefix: a restarted job
resumes after the last batch it finished, so output is neither lost nor written twice. Trades the
producer sends again carry the same quote time and sequence number and are dropped here; another
day's trades, numbered from 1 again, are not. A record that is not a usable trade goes, with the
reason, to the rejects prefix beside the results, and the stream goes on. The console sink keeps
its own checkpoint beside it, so its state too survives executors moving.
"""

import argparse
import json
import sys

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from smart_money.flagging import TRADE_SCHEMA, end_of_day, flag, reject_reason
from smart_money.records import TRADE_IDENTITY


def main(argv):
    parser = argparse.ArgumentParser(prog="job.py")
    parser.add_argument("--config", required=True)
    args = parser.parse_args(argv)
    with open(args.config, encoding="utf-8") as handle:
        config = json.load(handle)
    # State and shuffles in as many partitions as the topic has, not Spark's 200: every
    # micro-batch writes each state partition to S3. (Fixed by the checkpoint after a first start.)
    builder = SparkSession.builder.appName("smart-money-tracker").config("spark.sql.shuffle.partitions", str(int(config["partitions"])))
    # The checkpoint manager Spark's cloud-integration guide names for S3 writes each checkpoint
    # file once, through an abortable stream; the default one writes a temporary file and renames
    # it (a copy and a delete on S3A) for every batch and every state partition. The config names
    # it only where the nodes have its jar (spark-hadoop-cloud, pinned in config/sparkJars.ts).
    if config.get("checkpoint_file_manager"):
        builder = builder.config("spark.sql.streaming.checkpointFileManagerClass", config["checkpoint_file_manager"])
    spark = builder.getOrCreate()
    eod = end_of_day(spark, config["input_uri"] + config["eod_file"]).cache()
    records = (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", config["kafka_bootstrap_servers"])
        .options(**config.get("kafka_options", {}))
        .option("subscribe", config["topic"])
        .option("startingOffsets", "earliest")
        .load()
        .select(F.col("value").cast("string").alias("value"), "partition", "offset", "timestamp")
        .withColumn("trade", F.from_json(F.col("value"), TRADE_SCHEMA))
        # A record from_json cannot read, or a trade missing a field the rule needs, would fail
        # the batch, and the restarted query would read the same offsets again: it goes aside.
        .withColumn("reject_reason", reject_reason("trade"))
    )
    rejects = records.where(F.col("reject_reason").isNotNull()).select("value", "reject_reason", "partition", "offset", "timestamp")
    trades = (
        records.where(F.col("reject_reason").isNull())
        .select("trade.*")
        .withColumn("quote_ts", F.to_timestamp("quote_datetime"))
        # A trading day of quote time covers any trade the producer repeats, and a day's trades
        # come in quote-time order. A later day's trades are newer, never late.
        .withWatermark("quote_ts", "24 hours")
        .dropDuplicatesWithinWatermark(list(TRADE_IDENTITY))
        .drop("quote_ts")
    )
    flagged = flag(trades, eod, float(config["z_threshold"]))
    trigger = f"{int(config['streaming_interval_seconds'])} seconds"

    def to_parquet(frame, path, checkpoint, name):
        return (
            frame.writeStream.format("parquet")
            .option("path", path)
            .option("checkpointLocation", checkpoint)
            .outputMode("append")
            .trigger(processingTime=trigger)
            .queryName(name)
            .start()
        )

    to_s3 = to_parquet(flagged, config["flagged_uri"], config["checkpoint_uri"], "flagged-to-s3")
    to_rejects = to_parquet(rejects, config["rejects_uri"], config["rejects_checkpoint_uri"], "rejects-to-s3")
    to_console = (
        flagged.writeStream.format("console")
        .option("checkpointLocation", config["checkpoint_uri"].rstrip("/").rsplit("/", 1)[0] + "/console/")
        .option("truncate", False)
        .option("numRows", 50)
        .outputMode("append")
        .trigger(processingTime=trigger)
        .queryName("flagged-to-console")
        .start()
    )
    manager = config.get("checkpoint_file_manager") or "Spark's default (rename-based)"
    print(
        f"streaming queries started: {to_s3.name} -> {config['flagged_uri']}, {to_rejects.name} -> {config['rejects_uri']}, {to_console.name}; "
        f"z > {config['z_threshold']}; checkpoint manager {manager}",
        flush=True,
    )
    spark.streams.awaitAnyTermination()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
