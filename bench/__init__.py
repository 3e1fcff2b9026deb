"""Benchmarks that print figures (quality, throughput, recovery) — never timed tests."""
import os
from pathlib import Path

# the public datasets sit next to the repository (../shared/datasets) unless INSIGHT_DATASETS says otherwise
DATASETS = Path(os.environ.get("INSIGHT_DATASETS", Path(__file__).resolve().parents[2] / "shared" / "datasets"))
