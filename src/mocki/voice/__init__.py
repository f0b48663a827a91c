"""Voice: speech to text, text to speech and their measures, each behind a small Protocol."""
