"""One module per downstream benchmark; each defines ``BENCHMARK`` (``spec.Benchmark``) and is
registered by one line in ``bench/registry.py``."""
