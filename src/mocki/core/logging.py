"""Process-wide logging setup: one line per record, level from the environment."""

from __future__ import annotations

import logging
import os


def setup_logging(process: str) -> None:
    level = os.environ.get("MOCKI_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(
        level=level,
        format=f"%(asctime)s {process} %(levelname)s %(name)s: %(message)s",
    )
