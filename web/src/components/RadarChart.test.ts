// Unit tests of the radar chart's geometry: axis directions, scaling, clamping and guide rings.
import { describe, expect, it } from "vitest";

import { radarGeometry } from "./RadarChart";

describe("radarGeometry", () => {
  it("puts the first axis straight up and goes clockwise", () => {
    const { points } = radarGeometry([5, 5, 5, 5], 5, 100, [150, 150]);
    expect(points).toEqual([
      [150, 50],
      [250, 150],
      [150, 250],
      [50, 150],
    ]);
  });

  it("scales each value by max and clamps outside [0, max]", () => {
    const { points } = radarGeometry([2.5, 0, 9, -1], 5, 100, [0, 0]);
    expect(points[0]).toEqual([0, -50]);
    expect(points[1]).toEqual([0, 0]);
    expect(points[2]).toEqual([0, 100]);
    expect(points[3]).toEqual([0, 0]);
  });

  it("draws evenly spaced rings through every axis", () => {
    const { rings, axisEnds } = radarGeometry([1, 2, 3, 4, 5], 5, 100, [0, 0], 4);
    expect(rings).toHaveLength(4);
    expect(rings[1]?.[0]).toEqual([0, -50]);
    expect(rings[3]).toEqual(axisEnds);
    for (const [x, y] of axisEnds) expect(Math.hypot(x, y)).toBeCloseTo(100, 1);
  });
});
