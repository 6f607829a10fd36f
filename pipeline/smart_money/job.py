"""The Smart Money Tracker's streaming job: reads trades from the topic, joins each with its
group's end-of-day statistics, and writes the unusual ones to S3 as Parquet (and to the console).

    spark-submit --master spark://<master>:7077 --py-files smart_money.zip job.py --config smart_money_config.json

The Parquet sink and its checkpoint are in the bucket's Spark output prefix: a restarted job
resumes after the last batch it finished, so output is neither lost nor written twice. Trades the
producer sends again after a restart carry the same sequence number and are dropped here. The
console sink keeps its own checkpoint beside it, so its state too survives executors moving.
"""

import argparse
import json
import sys

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from smart_money.flagging import TRADE_SCHEMA, end_of_day, flag


def main(argv):
    parser = argparse.ArgumentParser(prog="job.py")
    parser.add_argument("--config", required=True)
    args = parser.parse_args(argv)
    with open(args.config, encoding="utf-8") as handle:
        config = json.load(handle)
    # State and shuffles in as many partitions as the topic has, not Spark's 200: every
    # micro-batch writes each state partition to S3. (Fixed by the checkpoint after a first start.)
    spark = SparkSession.builder.appName("smart-money-tracker").config("spark.sql.shuffle.partitions", str(int(config["partitions"]))).getOrCreate()
    eod = end_of_day(spark, config["input_uri"] + config["eod_file"]).cache()
    trades = (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", config["kafka_bootstrap_servers"])
        .option("subscribe", config["topic"])
        .option("startingOffsets", "earliest")
        .load()
        .select(F.from_json(F.col("value").cast("string"), TRADE_SCHEMA).alias("trade"))
        .select("trade.*")
        .withColumn("quote_ts", F.to_timestamp("quote_datetime"))
        # The file is one trading day in quote-time order: a day of quote time covers any trade
        # the producer repeats, and no valid trade is ever older than the watermark.
        .withWatermark("quote_ts", "24 hours")
        .dropDuplicatesWithinWatermark(["sequence_number"])
        .drop("quote_ts")
    )
    flagged = flag(trades, eod, float(config["z_threshold"]))
    trigger = f"{int(config['streaming_interval_seconds'])} seconds"
    to_s3 = (
        flagged.writeStream.format("parquet")
        .option("path", config["flagged_uri"])
        .option("checkpointLocation", config["checkpoint_uri"])
        .outputMode("append")
        .trigger(processingTime=trigger)
        .queryName("flagged-to-s3")
        .start()
    )
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
    print(f"streaming queries started: {to_s3.name} -> {config['flagged_uri']}, {to_console.name}; z > {config['z_threshold']}", flush=True)
    spark.streams.awaitAnyTermination()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
