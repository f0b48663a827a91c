"""The pipeline's TTS text cutting (voice/services.py FirstClauseAggregator) and the shared
Smart-Turn model (voice/session.py)."""

from __future__ import annotations

import numpy as np
import pytest
from pipecat.audio.turn.base_turn_analyzer import EndOfTurnState
from pipecat.audio.turn.smart_turn.base_smart_turn import SmartTurnParams
from pipecat.metrics.metrics import TurnMetricsData
from pipecat.utils.text.base_text_aggregator import TextType

from mocki.voice.services import FirstClauseAggregator
from mocki.voice.session import SharedSmartTurn


async def spoken_pieces(aggregator: FirstClauseAggregator, reply: str) -> list[str]:
    """What TTS is handed, streaming the reply word by word as a model does."""
    pieces = []
    for word in reply.split(" "):
        pieces += [a.text async for a in aggregator.aggregate(word + " ")]
    rest = await aggregator.flush()
    return pieces + ([rest.text] if rest and rest.text else [])


async def test_a_reply_starts_with_its_first_clause_then_goes_by_sentences() -> None:
    aggregator = FirstClauseAggregator(aggregation_type=TextType.SENTENCE)
    reply = "Thank you, that is helpful. Could you walk me through it, step by step?"
    assert await spoken_pieces(aggregator, reply) == [
        "Thank you,",
        "that is helpful.",
        "Could you walk me through it, step by step?",
    ]
    # The next reply starts with a clause again.
    assert (await spoken_pieces(aggregator, "All right, next question."))[0] == "All right,"


async def test_a_one_word_opening_is_not_spoken_alone() -> None:
    aggregator = FirstClauseAggregator(aggregation_type=TextType.SENTENCE)
    assert await spoken_pieces(aggregator, "Well, I see. Next one.") == ["Well, I see.", "Next one."]


def test_calls_share_one_smart_turn_model_and_each_keeps_its_own_audio() -> None:
    first, second = (
        SharedSmartTurn(threads=1, sample_rate=16_000),
        SharedSmartTurn(threads=1, sample_rate=16_000),
    )
    assert first._session is second._session
    first.append_audio(np.full(320, 1000, dtype=np.int16).tobytes(), True)
    assert first.speech_triggered and not second.speech_triggered
    result = second._predict_endpoint(np.zeros(16_000, dtype=np.float32))
    assert 0.0 <= result["probability"] <= 1.0


async def test_smart_turn_keeps_the_turns_audio_until_the_turn_ends() -> None:
    analyzer = SharedSmartTurn(threads=1)
    analyzer.set_sample_rate(16_000)  # as the pipeline does at start
    speech = (np.sin(np.arange(16_000) / 8) * 8000).astype(np.int16).tobytes()
    analyzer.append_audio(speech, True)
    analyzer.append_audio(bytes(6_400), False)  # a pause: the verdict is asked for
    # The model says "finished" (pipecat would drop the audio here)...
    analyzer._process_speech_segment = lambda _buffer: (EndOfTurnState.COMPLETE, None)  # type: ignore[method-assign,assignment]
    state, _ = await analyzer.analyze_end_of_turn()
    assert state is EndOfTurnState.COMPLETE
    # ...but the words so far are still there for the next verdict if the candidate goes on.
    assert analyzer.speech_triggered and len(analyzer._audio_buffer) == 2
    analyzer.clear()  # type: ignore[no-untyped-call]  # the stop strategy, at the end of the turn
    assert not analyzer.speech_triggered and analyzer._audio_buffer == []


async def test_a_turn_the_candidate_goes_on_with_is_judged_whole_again() -> None:
    analyzer = SharedSmartTurn(threads=1)
    analyzer.set_sample_rate(16_000)
    before = (np.sin(np.arange(16_000) / 8) * 8000).astype(np.int16).tobytes()
    after = (np.sin(np.arange(8_000) / 5) * 8000).astype(np.int16).tobytes()
    analyzer.append_audio(before, True)
    analyzer.append_audio(bytes(6_400), False)
    analyzer.clear()  # type: ignore[no-untyped-call]  # the turn ended at the pause...
    analyzer.append_audio(bytes(3_200), False)
    analyzer.append_audio(after, True)  # ...and the candidate went on within the grace
    heard: list[int] = []

    def verdict(buffer: list[tuple[float, np.ndarray]]) -> tuple[EndOfTurnState, None]:
        heard.append(sum(len(chunk) for _, chunk in buffer))
        return EndOfTurnState.INCOMPLETE, None

    analyzer._process_speech_segment = verdict  # type: ignore[method-assign,assignment]
    await analyzer.analyze_end_of_turn()
    analyzer.resume()  # InterviewBridge: the turn is reopened
    await analyzer.analyze_end_of_turn()
    assert heard == [1_600 + 8_000, 16_000 + 3_200 + 1_600 + 8_000]  # samples: after, then all
    # Used up: resuming again without another end of turn changes nothing.
    analyzer.resume()
    await analyzer.analyze_end_of_turn()
    assert heard[-1] == heard[-2]
    fresh = SharedSmartTurn(threads=1)
    fresh.resume()
    assert fresh._audio_buffer == [] and not fresh.speech_triggered


@pytest.mark.parametrize(("probability", "ends_after_s"), [(0.43, 1.0), (0.14, 3.0)])
async def test_an_answer_that_sounds_nearly_finished_waits_less_silence(
    probability: float, ends_after_s: float
) -> None:
    analyzer = SharedSmartTurn(
        threads=1, params=SmartTurnParams(stop_secs=3.0), likely_done_p=0.3, likely_done_silence_s=1.0
    )
    analyzer.set_sample_rate(16_000)
    analyzer.append_audio((np.sin(np.arange(16_000) / 8) * 8000).astype(np.int16).tobytes(), True)
    verdict = TurnMetricsData(
        processor="test", is_complete=False, probability=probability, e2e_processing_time_ms=1.0
    )
    analyzer._process_speech_segment = lambda _buffer: (EndOfTurnState.INCOMPLETE, verdict)  # type: ignore[method-assign,assignment]
    assert (await analyzer.analyze_end_of_turn())[0] is EndOfTurnState.INCOMPLETE
    silence = bytes(640)  # 20 ms frames
    frames = [analyzer.append_audio(silence, False) for _ in range(200)]
    assert frames.index(EndOfTurnState.COMPLETE) + 1 == round(ends_after_s / 0.02)
    # The next turn starts with the whole budget again.
    analyzer.append_audio((np.sin(np.arange(3_200) / 8) * 8000).astype(np.int16).tobytes(), True)
    assert analyzer._stop_ms == 3_000
