"""Benchmarks run through `mocki bench NAME`; each prints a table and a ratio against its baseline."""
