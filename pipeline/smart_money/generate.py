"""Synthetic data for the Smart Money Tracker, deterministic for a seed.

    python3 -m smart_money.generate --out build/data --seed 2018 --trades 20000 --anomalies 25

Writes the original's two files, exactly its columns in order, and the record of what was
injected:
- intraday_subset_sort_quote.csv: one trading day of option trades, sorted by quote_datetime, a
  few dozen symbols, strikes around each underlying, several expiries, heavy-tailed sizes;
- eod_summary_withoutzeros.csv: per (symbol, put/call, delta bin, days-to-expiry bin), the
  median, mean and standard deviation of the day's ordinary trade sizes (groups with fewer than
  two trades or no spread left out, hence "without zeros");
- injected_anomalies.csv: the unusual trades added on top, each sized 6 to 12 standard
  deviations above its group's mean, with its sequence number and z-score.
"""

import argparse
import csv
import math
import os
import statistics
import sys
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from random import Random
from typing import Dict, List, Sequence, Tuple

from . import rule
from .columns import ANOMALIES_FILE, ANOMALY_COLUMNS, EOD_COLUMNS, EOD_FILE, INTRADAY_COLUMNS, INTRADAY_FILE

# Weeks from the first Friday after the trading day: weeklies, monthlies, quarterlies, LEAPS.
EXPIRY_WEEKS = (0, 1, 3, 7, 12, 25, 51)
EXPIRY_WEIGHTS = (30, 20, 15, 12, 10, 8, 5)
SESSION_MS = 6 * 3600 * 1000 + 30 * 60 * 1000
ANOMALY_Z = (6.0, 12.0)

Group = Tuple[str, str, str, str]


@dataclass
class Dataset:
    trades: List[dict]
    summary: List[dict]
    anomalies: List[dict]
    symbols: List[str] = field(default_factory=list)


def _normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _symbols(rng: Random, count: int) -> List[str]:
    names = set()
    while len(names) < count:
        names.add("".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(rng.choice((3, 4)))))
    return sorted(names)


def _expiries(day: date) -> List[date]:
    first_friday = day + timedelta(days=(4 - day.weekday()) % 7 or 7)
    return [first_friday + timedelta(weeks=weeks) for weeks in EXPIRY_WEEKS]


def _trade(rng: Random, day: date, symbol: str, spot: float, base_iv: float, expiration: date) -> dict:
    """One ordinary trade: a strike near the money, a delta and price from Black-Scholes (r = 0)."""
    option_type = "C" if rng.random() < 0.55 else "P"
    step = 1.0 if spot < 100 else 5.0
    strike = max(step, round(spot * (1 + rng.gauss(0.0, 0.08)) / step) * step)
    years = max((expiration - day).days, 1) / 365.0
    iv = min(max(base_iv * (1 + rng.gauss(0.0, 0.1)), 0.05), 2.0)
    d1 = (math.log(spot / strike) + 0.5 * iv * iv * years) / (iv * math.sqrt(years))
    d2 = d1 - iv * math.sqrt(years)
    if option_type == "C":
        delta = _normal_cdf(d1)
        price = spot * _normal_cdf(d1) - strike * _normal_cdf(d2)
    else:
        delta = _normal_cdf(d1) - 1.0
        price = strike * _normal_cdf(-d2) - spot * _normal_cdf(-d1)
    price = max(round(price, 2), 0.01)
    spread = max(round(price * 0.02, 2), 0.01)
    millis = rng.randrange(SESSION_MS)
    quoted = datetime(day.year, day.month, day.day, 9, 30) + timedelta(milliseconds=millis)
    return {
        "underlying_symbol": symbol,
        "quote_datetime": quoted.strftime("%Y-%m-%d %H:%M:%S.") + f"{quoted.microsecond // 1000:03d}",
        "sequence_number": 0,
        "root": symbol,
        "expiration": expiration.isoformat(),
        "strike": f"{strike:.2f}",
        "option_type": option_type,
        "exchange_id": rng.randint(1, 22),
        # Heavy-tailed: most trades are a few contracts, a few are hundreds.
        "trade_size": int(round(rng.lognormvariate(2.0, 0.9))) + 1,
        "trade_price": f"{price:.2f}",
        "trade_condition_id": rng.choice((18, 18, 18, 95, 120, 126)),
        "canceled_trade_condition_id": 0,
        "best_bid": f"{max(price - spread, 0.0):.2f}",
        "best_ask": f"{price + spread:.2f}",
        "trade_iv": f"{iv:.4f}",
        "trade_delta": f"{delta:.4f}",
        "underlying_bid": f"{spot - 0.01:.2f}",
        "underlying_ask": f"{spot + 0.01:.2f}",
        "number_of_exchanges": rng.randint(1, 16),
    }


def group_of(trade: dict) -> Group:
    """The summary's key for a trade: symbol, put/call, delta bin, days-to-expiry bin."""
    days = rule.days_to_expiry(trade["quote_datetime"], trade["expiration"])
    return (trade["underlying_symbol"], rule.put_call(trade["option_type"]), rule.delta_bin(float(trade["trade_delta"])), rule.day_bin(days))


def summarize(trades: Sequence[dict]) -> List[dict]:
    """Median, mean and sample standard deviation of size per group; groups without a spread left out."""
    sizes: Dict[Group, List[int]] = {}
    for trade in trades:
        sizes.setdefault(group_of(trade), []).append(int(trade["trade_size"]))
    rows = []
    for key in sorted(sizes):
        values = sizes[key]
        if len(values) < 2 or statistics.stdev(values) == 0:
            continue
        rows.append(dict(zip(EOD_COLUMNS, (*key, f"{statistics.median(values):.4f}", f"{statistics.mean(values):.4f}", f"{statistics.stdev(values):.4f}"))))
    return rows


def generate(seed: int, trades: int, symbols: int, anomalies: int, day: date) -> Dataset:
    if trades < 100:
        raise ValueError(f"--trades {trades} must be at least 100")
    if not 1 <= symbols <= 500:
        raise ValueError(f"--symbols {symbols} must be between 1 and 500")
    rng = Random(seed)
    names = _symbols(rng, symbols)
    markets = {name: (round(rng.uniform(20, 500), 2), rng.uniform(0.2, 0.6), rng.paretovariate(1.2)) for name in names}
    expiries = _expiries(day)
    ordinary = []
    for _ in range(trades):
        name = rng.choices(names, weights=[markets[each][2] for each in names])[0]
        spot, iv, _weight = markets[name]
        ordinary.append(_trade(rng, day, name, spot, iv, rng.choices(expiries, weights=EXPIRY_WEIGHTS)[0]))
    summary = summarize(ordinary)
    if anomalies > len(summary):
        raise ValueError(f"--anomalies {anomalies} exceeds the {len(summary)} groups the summary holds; generate more trades")
    by_group: Dict[Group, List[dict]] = {}
    for trade in ordinary:
        by_group.setdefault(group_of(trade), []).append(trade)
    injected = []
    for row in rng.sample(summary, anomalies):
        key = (row["Symbol"], row["PutCall"], row["OptionsBins"], row["DayDiffBins"])
        template = rng.choice(by_group[key])
        target_z = rng.uniform(*ANOMALY_Z)
        unusual = dict(template)
        unusual["trade_size"] = math.ceil(float(row["mean_vol"]) + target_z * float(row["sd_vol"]))
        millis = rng.randrange(SESSION_MS)
        quoted = datetime(day.year, day.month, day.day, 9, 30) + timedelta(milliseconds=millis)
        unusual["quote_datetime"] = quoted.strftime("%Y-%m-%d %H:%M:%S.") + f"{quoted.microsecond // 1000:03d}"
        unusual["exchange_id"] = rng.randint(1, 22)
        injected.append((unusual, rule.z_score(unusual["trade_size"], float(row["mean_vol"]), float(row["sd_vol"]))))
    everything = ordinary + [trade for trade, _z in injected]
    # Sorted by quote time as the original file was; the sequence number is the row's place.
    everything.sort(key=lambda trade: (trade["quote_datetime"], trade["underlying_symbol"], trade["expiration"], trade["strike"], trade["option_type"], trade["trade_size"]))
    for number, trade in enumerate(everything, start=1):
        trade["sequence_number"] = number
    records = sorted(
        (
            dict(zip(ANOMALY_COLUMNS, (trade["sequence_number"], trade["underlying_symbol"], trade["option_type"], trade["expiration"], trade["trade_size"], f"{z:.3f}")))
            for trade, z in injected
        ),
        key=lambda record: record["sequence_number"],
    )
    return Dataset(trades=everything, summary=summary, anomalies=records, symbols=names)


def write(dataset: Dataset, out: str) -> Dict[str, str]:
    os.makedirs(out, exist_ok=True)
    paths = {}
    for name, columns, rows in (
        (INTRADAY_FILE, INTRADAY_COLUMNS, dataset.trades),
        (EOD_FILE, EOD_COLUMNS, dataset.summary),
        (ANOMALIES_FILE, ANOMALY_COLUMNS, dataset.anomalies),
    ):
        path = os.path.join(out, name)
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        paths[name] = path
    return paths


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m smart_money.generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="directory for the three CSV files")
    parser.add_argument("--seed", type=int, default=2018, help="the same seed gives the same files (default 2018)")
    parser.add_argument("--trades", type=int, default=20000, help="ordinary trades (default 20000)")
    parser.add_argument("--symbols", type=int, default=30, help="underlying symbols (default 30)")
    parser.add_argument("--anomalies", type=int, default=25, help="unusual trades injected (default 25)")
    parser.add_argument("--date", default="2026-11-20", help="the trading day, YYYY-MM-DD (default 2026-11-20)")
    args = parser.parse_args(argv)
    try:
        dataset = generate(args.seed, args.trades, args.symbols, args.anomalies, date.fromisoformat(args.date))
    except ValueError as error:
        print(f"generate: {error}", file=sys.stderr)
        return 2
    paths = write(dataset, args.out)
    print(f"{paths[INTRADAY_FILE]}: {len(dataset.trades)} trades of {len(dataset.symbols)} symbols, {len(dataset.anomalies)} of them injected unusual trades")
    print(f"{paths[EOD_FILE]}: {len(dataset.summary)} groups")
    print(f"{paths[ANOMALIES_FILE]}: the injected trades' sequence numbers and z-scores")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
