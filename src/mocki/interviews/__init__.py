"""Interviews domain."""
