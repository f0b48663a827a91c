"""An OpenAI-compatible speech server on the packaged models, for testing the provider switch.

It answers /v1/audio/transcriptions (multipart WAV in, JSON text out) and /v1/audio/speech
(JSON in, 24 kHz PCM out, as OpenAI's "pcm" format) the way those endpoints do, with the real
engines running inline: it serves one test at a time, so blocking its own loop is fine.
"""

from __future__ import annotations

import numpy as np
from fastapi import FastAPI, File, Form, Response, UploadFile
from pydantic import BaseModel

from mocki.settings import Settings
from mocki.voice.audio import read_wav, resample
from mocki.voice.models import piper_voice_files, whisper_dir
from mocki.voice.stt import WhisperEngine
from mocki.voice.tts import OPENAI_PCM_RATE, PiperEngine

_settings = Settings()
_whisper = WhisperEngine(whisper_dir("tiny.en", _settings.data_dir), threads=1, beam_size=1, language="en")
_piper = PiperEngine(*piper_voice_files(), length_scale=1.0)
app = FastAPI()
seen: dict[str, str] = {}


class SpeechRequest(BaseModel):
    model: str
    voice: str
    input: str
    response_format: str = "mp3"


@app.post("/v1/audio/transcriptions")
async def transcriptions(
    file: UploadFile = File(...), model: str = Form(...), language: str = Form("")
) -> dict[str, str]:
    audio = read_wav(await file.read())
    return {"text": _whisper.transcribe(audio).text}


@app.post("/v1/audio/speech")
async def speech(request: SpeechRequest) -> Response:
    if request.response_format != "pcm":
        return Response(status_code=400, content=b'{"error": {"message": "only pcm here"}}')
    audio = _piper.synthesize(request.input)
    pcm = resample(audio.samples(), audio.sample_rate, OPENAI_PCM_RATE).astype(np.int16).tobytes()
    return Response(content=pcm, media_type="audio/pcm")
