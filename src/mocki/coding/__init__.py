"""Coding rounds over HTTP: the built-in problems and running a candidate's code in the sandbox."""
