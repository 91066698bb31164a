"""Shared test configuration; tests/ is on sys.path so tests can import netgen."""
