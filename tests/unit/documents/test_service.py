"""Pure helpers of the documents service: bounded reading and file names."""

from __future__ import annotations

import pytest

from mocki.core.errors import TooLarge
from mocki.documents import extract, service
from mocki.documents.service import _safe_filename, read_limited


class FakeUpload:
    """Counts what was read, to prove an oversized upload is never read past the limit."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    async def read(self, size: int = -1) -> bytes:
        assert size > 0, "reading without a bound"
        chunk = self.data[self.pos : self.pos + size]
        self.pos += len(chunk)
        return chunk


async def test_read_limited_stops_one_byte_past_the_limit() -> None:
    source = FakeUpload(b"x" * 10_000_000)
    with pytest.raises(TooLarge):
        await read_limited(source, 1_000_000)
    assert source.pos == 1_000_001


async def test_read_limited_reads_a_file_at_the_limit() -> None:
    assert await read_limited(FakeUpload(b"y" * 1000), 1000) == b"y" * 1000
    assert await read_limited(FakeUpload(b""), 1000) == b""


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("C:\\fakepath\\My CV.pdf", "My CV.pdf"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("cv\x00\n.pdf", "cv.pdf"),
        ("a" * 400 + ".docx", "a" * 295 + ".docx"),
    ],
)
def test_safe_filename(raw: str, expected: str) -> None:
    assert _safe_filename(raw) == expected


def test_service_offers_extract_text_to_other_domains() -> None:
    assert service.extract_text is extract.extract_text
    assert service.ExtractedText is extract.ExtractedText
