"""Benchmarks of the deployed app (python bench/run.py); never run by the tests."""
