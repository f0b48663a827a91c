"""Abuse and replay protection: rate limits (ratelimit.py), signed requests (signing.py) and the
Bloom-filter replay guard on Redis (bloom.py, replay.py). See docs/security.md."""
