"""Benchmarks that print figures (quality, throughput, recovery) — never timed tests."""
