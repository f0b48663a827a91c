"""The application tracker: mail sources, parsing, analysis, and the timeline built from them."""
