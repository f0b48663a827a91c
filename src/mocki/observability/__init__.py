"""Prometheus metrics of the api process: requests, LLM calls and cost, interviews in progress."""
