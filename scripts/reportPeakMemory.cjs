// Preloaded into the benchmarked app process: reports its peak resident memory as it exits.
process.on("exit", () => {
  process.stderr.write(`PEAK_RSS_KB=${process.resourceUsage().maxRSS}\n`);
});
