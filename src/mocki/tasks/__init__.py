"""Celery: the app, queue and task names, and the async runtime tasks use."""
