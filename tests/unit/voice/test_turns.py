"""Grouping numbered speech segments into answers (voice/bridge.py TurnAssembler)."""

from __future__ import annotations

from mocki.voice.bridge import HOLD_MAX_S, TurnAssembler, holding, join_segments
from mocki.voice.services import SegmentResult

LATER = 1e9  # a time past every grace period


def test_a_turn_waits_for_the_transcript_of_its_last_segment() -> None:
    turns = TurnAssembler()
    turns.speech_started(100.0)
    turns.speech_stopped(102.0)  # a pause mid-answer: segment 1
    turns.speech_started(102.5)
    turns.speech_stopped(104.0)  # segment 2
    turns.transcribed(SegmentResult(1, 3.0, 0.5), "I led a small team,")
    turns.segment_done(1)
    # End of turn fires before segment 2 is transcribed: nothing is ready yet.
    turns.turn_ended()
    assert turns.ready(LATER) == []
    turns.transcribed(SegmentResult(2, 2.5, 0.4), "and we cut the batch time.")
    turns.segment_done(2)
    [turn] = turns.ready(LATER)
    assert turn.text == "I led a small team, and we cut the batch time."
    meta = turn.meta()
    assert meta["speech_s"] == 3.5  # 2.0 + 1.5: the pause is not speech
    assert meta["voice"]["stt_s"] == 0.9 and meta["voice"]["audio_s"] == 5.5
    assert meta["voice"]["speech_started_at"].startswith("1970-01-01T00:01:40")


def test_segments_after_the_end_of_turn_belong_to_the_next_turn() -> None:
    turns = TurnAssembler()
    turns.speech_started(0.0)
    turns.speech_stopped(1.0)
    turns.turn_ended()
    turns.transcribed(SegmentResult(1, 1.0, 0.1), "first")
    turns.segment_done(1)
    [first] = turns.ready(LATER)
    assert first.text == "first"
    turns.speech_started(2.0)
    turns.speech_stopped(3.0)
    turns.transcribed(SegmentResult(2, 1.0, 0.1), "second")
    turns.segment_done(2)
    assert turns.ready(LATER) == []  # its turn has not ended yet
    turns.turn_ended()
    [second] = turns.ready(LATER)
    assert second.text == "second"


def test_speech_resumed_within_the_grace_continues_the_answer() -> None:
    turns = TurnAssembler(grace_s=0.8)
    turns.speech_started(0.0)
    turns.speech_stopped(2.0)
    turns.turn_ended()  # a comma that sounded like the end
    turns.transcribed(SegmentResult(1, 2.0, 0.1), "I asked each of them to write down the trade offs,")
    turns.segment_done(1)
    assert turns.release_at() == 2.8
    assert turns.ready(2.5) == []  # still within the grace
    turns.speech_started(2.6)  # ...and they go on
    turns.speech_stopped(4.0)
    turns.transcribed(SegmentResult(2, 1.4, 0.1), "and we chose the simpler option.")
    turns.segment_done(2)
    turns.turn_ended()
    assert turns.ready(4.5) == []
    [turn] = turns.ready(4.8)
    assert turn.text.endswith("trade offs, and we chose the simpler option.")


def test_an_end_of_turn_decided_while_the_user_speaks_again_is_ignored() -> None:
    turns = TurnAssembler()
    turns.speech_started(0.0)
    turns.speech_stopped(1.0)
    turns.speech_started(1.3)  # they go on before the verdict on the pause comes back
    turns.turn_ended()
    turns.speech_stopped(2.0)
    for index, text in ((1, "we disagreed,"), (2, "so we chose the simpler option.")):
        turns.transcribed(SegmentResult(index, 1.0, 0.1), text)
        turns.segment_done(index)
    assert turns.ready(LATER) == []
    turns.turn_ended()
    [turn] = turns.ready(LATER)
    assert turn.text == "we disagreed, so we chose the simpler option."


def test_an_end_of_turn_without_new_speech_makes_no_turn() -> None:
    turns = TurnAssembler()
    turns.turn_ended()
    assert turns.ready(LATER) == []
    turns.speech_started(0.0)
    turns.speech_stopped(1.0)
    turns.segment_done(1)
    turns.turn_ended()
    [silent] = turns.ready(LATER)
    assert silent.text == ""  # Whisper heard no words: the bridge drops it
    turns.turn_ended()
    assert turns.ready(LATER) == []


def test_a_closed_turn_is_pending_during_its_grace_and_reopened_by_more_speech() -> None:
    turns = TurnAssembler(grace_s=0.4)
    turns.speech_started(0.0)
    turns.speech_stopped(2.0, now=2.2)
    turns.turn_ended(now=2.4)
    assert turns.pending() is None  # not transcribed yet: nothing to work on
    turns.transcribed(SegmentResult(1, 2.0, 0.3), "we chose the simpler option.")
    turns.segment_done(1, now=2.5)
    pending = turns.pending()
    assert pending is not None and pending.text == "we chose the simpler option."
    assert turns.ready(2.3) == []  # ...still within the grace
    assert turns.speech_started(2.35)  # they go on: the turn is reopened, nothing is pending
    assert turns.pending() is None
    turns.speech_stopped(3.0, now=3.2)
    turns.turn_ended(now=3.3)
    turns.transcribed(SegmentResult(2, 0.6, 0.2), "In the end it worked.")
    turns.segment_done(2, now=3.5)
    [turn] = turns.ready(LATER)
    assert turn.text == "we chose the simpler option. In the end it worked."
    assert not turns.speech_started(9.0)  # a new answer reopens nothing


def test_a_released_turn_carries_its_stages() -> None:
    turns = TurnAssembler(grace_s=0.4)
    turns.speech_started(10.0)
    turns.speech_stopped(12.0, now=12.2)
    turns.turn_ended(now=12.35)
    turns.transcribed(SegmentResult(1, 2.0, 0.5), "done.")
    turns.segment_done(1, now=12.7)
    [turn] = turns.ready(12.7)
    assert turn.stages == {
        "speech_end": 12.0,
        "vad_stop": 12.2,
        "turn_end": 12.35,
        "stt_start": 12.2,  # 0.5 s of transcription before its transcript came in
        "stt_done": 12.7,
        "released": 12.7,
    }


def test_a_full_stop_whisper_put_at_a_pause_mid_sentence_becomes_a_comma() -> None:
    assert join_segments(["I led the team.", "and we cut the batch.", "", "Since then I test."]) == (
        "I led the team, and we cut the batch. Since then I test."
    )
    assert join_segments(["Well...", "maybe."]) == "Well... maybe."
    assert join_segments([]) == ""


def test_a_closed_turn_waits_until_the_vad_has_heard_its_grace() -> None:
    needed = 0.27  # grace 0.4 - VAD stop 0.2 + two VAD windows
    # Before the grace ends on the clock, the grace itself decides (TurnAssembler.ready).
    assert not holding(9.9, 10.0, 0.0, needed, hearing=False)
    # On a loaded machine the audio reaches the VAD late: the clock ran out first.
    assert holding(10.05, 10.0, 0.1, needed, hearing=False)
    assert not holding(10.05, 10.0, 0.3, needed, hearing=False)
    # Sound the VAD has not confirmed (or not yet reported) as speech: wait for its decision.
    assert holding(10.05, 10.0, 0.3, needed, hearing=True)
    # Never longer than HOLD_MAX_S past the grace (a caller whose audio stopped coming).
    assert not holding(10.0 + HOLD_MAX_S, 10.0, 0.1, needed, hearing=True)
