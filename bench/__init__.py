"""Performance benchmarks, each a runnable module printing a markdown table (`python -m bench.ingest`, ...)."""
