// The browser side of a voice interview: the microphone, its level, and one WebRTC connection
// to the api (non-trickle ICE: the offer goes once gathering is complete; docs in README "Voice
// room"). Failures are VoiceError with a kind, so the room can fall back to typing with a clear
// message.
import { useEffect, useRef, useState } from "react";

import { ApiError } from "./client";
import { DEFAULT_VAD, meterFill, rmsOfBytes, smoothLevel, toDb, vadStep, type VadState } from "./level";
import { live, type Seat } from "./live";

export type VoiceErrorKind = "mic_denied" | "no_mic" | "unsupported" | "rtc_failed" | "refused";

export class VoiceError extends Error {
  constructor(
    readonly kind: VoiceErrorKind,
    message: string,
  ) {
    super(message);
    this.name = "VoiceError";
  }
}

/** Ask for the microphone; a refusal or a missing device is a VoiceError with a message for people. */
export async function openMicrophone(): Promise<MediaStream> {
  if (!navigator.mediaDevices?.getUserMedia) {
    throw new VoiceError("unsupported", "This browser cannot use a microphone here (it needs HTTPS or localhost).");
  }
  try {
    return await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      video: false,
    });
  } catch (err) {
    const name = err instanceof DOMException ? err.name : "";
    if (name === "NotAllowedError" || name === "SecurityError") {
      throw new VoiceError("mic_denied", "Microphone access was refused, so the interview continues in text.");
    }
    if (name === "NotFoundError" || name === "OverconstrainedError") {
      throw new VoiceError("no_mic", "No microphone was found, so the interview continues in text.");
    }
    throw new VoiceError("no_mic", `The microphone could not be opened (${name || String(err)}); continuing in text.`);
  }
}

const GATHER_TIMEOUT_MS = 5_000;

/** Resolve when ICE gathering is complete (or after a timeout: post what was gathered). */
function gatheringComplete(pc: RTCPeerConnection): Promise<void> {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener("icegatheringstatechange", check);
      resolve();
    };
    const check = () => {
      if (pc.iceGatheringState === "complete") done();
    };
    const timer = setTimeout(done, GATHER_TIMEOUT_MS);
    pc.addEventListener("icegatheringstatechange", check);
  });
}

export interface VoiceCall {
  pc: RTCPeerConnection;
  pcId: string;
  seat: Seat;
  hangup: () => Promise<void>;
}

export interface CallHandlers {
  onRemoteStream: (stream: MediaStream) => void;
  /** The connection failed or closed after it was up. */
  onDropped: (message: string) => void;
}

/** Connect the microphone to the interview's voice pipeline. */
export async function startCall(interviewId: string, mic: MediaStream, handlers: CallHandlers): Promise<VoiceCall> {
  if (typeof RTCPeerConnection === "undefined") {
    throw new VoiceError("unsupported", "This browser has no WebRTC, so the interview continues in text.");
  }
  let config: { ice_servers: RTCIceServer[] };
  try {
    config = await live.rtcConfig();
  } catch (err) {
    throw asVoiceError(err);
  }
  const pc = new RTCPeerConnection({ iceServers: config.ice_servers });
  let hungUp = false;
  try {
    const [track] = mic.getAudioTracks();
    if (!track) throw new VoiceError("no_mic", "The microphone gave no audio track; continuing in text.");
    // One sendrecv audio line: the mic goes up, the interviewer's voice comes back on it.
    pc.addTransceiver(track, { direction: "sendrecv", streams: [mic] });
    pc.addEventListener("track", (e) => handlers.onRemoteStream(e.streams[0] ?? new MediaStream([e.track])));
    pc.addEventListener("connectionstatechange", () => {
      if (!hungUp && (pc.connectionState === "failed" || pc.connectionState === "closed")) {
        handlers.onDropped("The voice connection was lost.");
      }
    });
    await pc.setLocalDescription(await pc.createOffer());
    await gatheringComplete(pc);
    const offer = pc.localDescription;
    if (!offer) throw new VoiceError("rtc_failed", "The browser could not prepare the voice connection.");
    const answer = await live.rtcOffer(interviewId, offer.sdp);
    await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
    return {
      pc,
      pcId: answer.pc_id,
      seat: answer.seat,
      hangup: async () => {
        hungUp = true;
        pc.close();
        // The server tears down on ICE close too; the DELETE makes it immediate.
        await live.rtcHangup(answer.pc_id).catch(() => undefined);
      },
    };
  } catch (err) {
    hungUp = true;
    pc.close();
    throw asVoiceError(err);
  }
}

function asVoiceError(err: unknown): VoiceError {
  if (err instanceof VoiceError) return err;
  if (err instanceof ApiError) {
    const kind: VoiceErrorKind = err.status === 0 || err.status >= 500 ? "rtc_failed" : "refused";
    return new VoiceError(kind, `Voice is not available: ${err.message}`);
  }
  const detail = err instanceof Error ? err.message : String(err);
  return new VoiceError("rtc_failed", `The voice connection failed (${detail}); continuing in text.`);
}

/** Bytes received and the audio level of the incoming track: what "the interviewer is heard" means. */
export async function inboundAudio(pc: RTCPeerConnection): Promise<{ bytes: number; level: number }> {
  let bytes = 0;
  let level = 0;
  (await pc.getStats()).forEach((report: { type?: string; kind?: string; bytesReceived?: number; audioLevel?: number }) => {
    if (report.type === "inbound-rtp" && report.kind === "audio") {
      bytes += report.bytesReceived ?? 0;
      level = Math.max(level, report.audioLevel ?? 0);
    }
  });
  return { bytes, level };
}

export interface MicLevel {
  /** 0..1, for the meter. */
  fill: number;
  /** Local voice activity (the fallback for "who is speaking"). */
  speaking: boolean;
}

const FRAME_MS = 50;

/** The microphone's level and local voice activity, measured with a WebAudio AnalyserNode. */
export function useMicLevel(stream: MediaStream | null, muted: boolean): MicLevel {
  const [level, setLevel] = useState<MicLevel>({ fill: 0, speaking: false });
  const mutedRef = useRef(muted);
  mutedRef.current = muted;

  useEffect(() => {
    if (!stream) return;
    const context = new AudioContext();
    const analyser = context.createAnalyser();
    analyser.fftSize = 1024;
    const source = context.createMediaStreamSource(stream);
    source.connect(analyser);
    const samples = new Uint8Array(analyser.fftSize);
    let fill = 0;
    let vad: VadState = { speaking: false, run: 0 };
    // A timer, not requestAnimationFrame: the meter keeps measuring in a background tab.
    const timer = setInterval(() => {
      analyser.getByteTimeDomainData(samples);
      const rms = mutedRef.current ? 0 : rmsOfBytes(samples);
      fill = smoothLevel(fill, meterFill(rms));
      vad = vadStep(vad, toDb(rms), DEFAULT_VAD);
      setLevel((prev) =>
        Math.abs(prev.fill - fill) < 0.01 && prev.speaking === vad.speaking ? prev : { fill, speaking: vad.speaking },
      );
    }, FRAME_MS);
    void context.resume().catch(() => undefined);
    return () => {
      clearInterval(timer);
      source.disconnect();
      void context.close().catch(() => undefined);
      setLevel({ fill: 0, speaking: false });
    };
  }, [stream]);

  return level;
}
