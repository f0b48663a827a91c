"""The api's log set-up (core/logging.py): MOCKI's own lines are printed, other libraries'
chatter below WARNING is not, and an existing configuration is left alone."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import logging, sys
{before}
from mocki.core.logging import setup_logging
setup_logging("api")
logging.getLogger("mocki.voice.session").info("voice call closing")
logging.getLogger("httpx").info("HTTP Request: POST")
logging.getLogger("httpx").warning("retrying")
"""


def run(before: str = "") -> str:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(before=before)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stderr


def test_our_info_lines_and_others_warnings_reach_stderr() -> None:
    err = run()
    assert "api INFO mocki.voice.session: voice call closing" in err
    assert "api WARNING httpx: retrying" in err
    assert "HTTP Request" not in err


def test_a_logging_config_already_in_place_is_kept() -> None:
    err = run('logging.basicConfig(stream=sys.stderr, level=logging.DEBUG, format="mine %(message)s")')
    assert "mine voice call closing" in err and "mine HTTP Request: POST" in err
    assert " api " not in err
