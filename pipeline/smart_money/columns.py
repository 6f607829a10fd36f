"""The two CSV files' columns, in the original's order, and the names the pipeline uses."""

INTRADAY_FILE = "intraday_subset_sort_quote.csv"
EOD_FILE = "eod_summary_withoutzeros.csv"
# The injected unusual trades, recorded so a run can be checked against them.
ANOMALIES_FILE = "injected_anomalies.csv"
TOPIC = "th-topic"

INTRADAY_COLUMNS = (
    "underlying_symbol",
    "quote_datetime",
    "sequence_number",
    "root",
    "expiration",
    "strike",
    "option_type",
    "exchange_id",
    "trade_size",
    "trade_price",
    "trade_condition_id",
    "canceled_trade_condition_id",
    "best_bid",
    "best_ask",
    "trade_iv",
    "trade_delta",
    "underlying_bid",
    "underlying_ask",
    "number_of_exchanges",
)

EOD_COLUMNS = ("Symbol", "PutCall", "OptionsBins", "DayDiffBins", "median_vol", "mean_vol", "sd_vol")

ANOMALY_COLUMNS = ("sequence_number", "underlying_symbol", "option_type", "expiration", "trade_size", "z_score")
