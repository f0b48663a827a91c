// Microphone level maths for the input meter and the local voice-activity fallback. Pure,
// unit-tested; useMicLevel (voice.ts) feeds it an AnalyserNode's time-domain bytes.

/** Root mean square of unsigned 8-bit samples centred on 128 (getByteTimeDomainData), 0..1. */
export function rmsOfBytes(samples: ArrayLike<number>): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) {
    const v = ((samples[i] ?? 128) - 128) / 128;
    sum += v * v;
  }
  return Math.min(1, Math.sqrt(sum / samples.length));
}

export const FLOOR_DB = -60;

/** dBFS of an RMS amplitude, floored (silence is FLOOR_DB, not -Infinity). */
export function toDb(rms: number): number {
  if (rms <= 0) return FLOOR_DB;
  return Math.max(FLOOR_DB, 20 * Math.log10(rms));
}

/** The meter's fill, 0..1: dB mapped linearly from FLOOR_DB..0, which follows loudness as heard. */
export function meterFill(rms: number): number {
  return (toDb(rms) - FLOOR_DB) / -FLOOR_DB;
}

/** Smooth a meter: rise at once, fall slowly, so speech does not flicker. */
export function smoothLevel(previous: number, current: number, fall = 0.85): number {
  return current >= previous ? current : previous * fall + current * (1 - fall);
}

export interface VadOptions {
  /** dBFS above which a frame counts as voice. */
  onDb: number;
  /** dBFS below which a frame counts as silence (lower than onDb: hysteresis). */
  offDb: number;
  /** Voiced frames in a row before speaking starts. */
  attackFrames: number;
  /** Silent frames in a row before speaking stops (pauses between words stay speech). */
  releaseFrames: number;
}

export const DEFAULT_VAD: VadOptions = { onDb: -38, offDb: -45, attackFrames: 3, releaseFrames: 20 };

export interface VadState {
  speaking: boolean;
  run: number;
}

/** One frame of a voice-activity detector with hysteresis: the state after a frame at `db`. */
export function vadStep(state: VadState, db: number, opts: VadOptions = DEFAULT_VAD): VadState {
  if (state.speaking) {
    const run = db < opts.offDb ? state.run + 1 : 0;
    return run >= opts.releaseFrames ? { speaking: false, run: 0 } : { speaking: true, run };
  }
  const run = db > opts.onDb ? state.run + 1 : 0;
  return run >= opts.attackFrames ? { speaking: true, run: 0 } : { speaking: false, run };
}
