// Unit tests of the level meter maths and the local voice-activity detector.
import { describe, expect, it } from "vitest";

import { DEFAULT_VAD, FLOOR_DB, meterFill, rmsOfBytes, smoothLevel, toDb, vadStep, type VadState } from "./level";

describe("level maths", () => {
  it("measures silence as zero and a full-scale square wave as one", () => {
    expect(rmsOfBytes(new Uint8Array(256).fill(128))).toBe(0);
    const square = Uint8Array.from({ length: 256 }, (_, i) => (i % 2 ? 0 : 255));
    expect(rmsOfBytes(square)).toBeGreaterThan(0.99);
    expect(rmsOfBytes([])).toBe(0);
  });

  it("measures a sine at about 1/sqrt(2) of its peak", () => {
    const sine = Uint8Array.from({ length: 1024 }, (_, i) => Math.round(128 + 64 * Math.sin((2 * Math.PI * i) / 64)));
    expect(rmsOfBytes(sine)).toBeCloseTo(0.5 / Math.SQRT2, 2);
  });

  it("maps levels to dBFS with a floor, and to a 0..1 meter", () => {
    expect(toDb(1)).toBe(0);
    expect(toDb(0.1)).toBeCloseTo(-20, 6);
    expect(toDb(0)).toBe(FLOOR_DB);
    expect(toDb(1e-9)).toBe(FLOOR_DB);
    expect(meterFill(1)).toBe(1);
    expect(meterFill(0)).toBe(0);
    expect(meterFill(0.1)).toBeCloseTo(2 / 3, 6);
  });

  it("rises at once and falls slowly", () => {
    expect(smoothLevel(0.2, 0.8)).toBe(0.8);
    const fallen = smoothLevel(0.8, 0);
    expect(fallen).toBeLessThan(0.8);
    expect(fallen).toBeGreaterThan(0.5);
  });
});

describe("vadStep", () => {
  const run = (dbs: number[], start: VadState = { speaking: false, run: 0 }) =>
    dbs.reduce<VadState[]>((acc, db) => [...acc, vadStep(acc[acc.length - 1] ?? start, db)], []);

  it("starts speaking after the attack frames of voice", () => {
    const states = run(Array(DEFAULT_VAD.attackFrames).fill(-20));
    expect(states.map((s) => s.speaking)).toEqual([...Array(DEFAULT_VAD.attackFrames - 1).fill(false), true]);
  });

  it("ignores a single click", () => {
    expect(run([-10, -60, -10, -60]).some((s) => s.speaking)).toBe(false);
  });

  it("keeps speaking through short pauses and stops after the release frames", () => {
    const speaking = { speaking: true, run: 0 };
    const pause = run([...Array(DEFAULT_VAD.releaseFrames - 1).fill(-60), -20], speaking);
    expect(pause.every((s) => s.speaking)).toBe(true);
    const silence = run(Array(DEFAULT_VAD.releaseFrames).fill(-60), speaking);
    expect(silence[silence.length - 1]?.speaking).toBe(false);
  });

  it("treats levels between the thresholds as neither start nor stop", () => {
    const between = (DEFAULT_VAD.onDb + DEFAULT_VAD.offDb) / 2;
    expect(run(Array(10).fill(between)).some((s) => s.speaking)).toBe(false);
    expect(run(Array(50).fill(between), { speaking: true, run: 0 }).every((s) => s.speaking)).toBe(true);
  });
});
