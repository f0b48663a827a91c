// Unit tests of the progress chart's geometry: x spacing, per-series scales, clamping, gaps and labels.
import { describe, expect, it } from "vitest";

import { chartGeometry, labelledIndexes, type ChartBox } from "./ProgressChart";

// A 100 x 50 plot area starting at (10, 5).
const BOX: ChartBox = { width: 120, height: 60, left: 10, right: 10, top: 5, bottom: 5 };

describe("chartGeometry", () => {
  it("spreads interviews evenly from the left to the right edge", () => {
    const { xs } = chartGeometry([], 5, BOX);
    expect(xs).toEqual([10, 35, 60, 85, 110]);
  });

  it("puts a single interview in the middle", () => {
    const { xs, lines } = chartGeometry([{ key: "overall", label: "Overall", max: 100, values: [50] }], 1, BOX);
    expect(xs).toEqual([60]);
    expect(lines[0]?.dots).toEqual([{ index: 0, at: [60, 30], value: 50 }]);
    expect(lines[0]?.segments).toEqual([[[60, 30]]]);
  });

  it("scales each series by its own maximum, so 5 of 5 and 100 of 100 meet at the top", () => {
    const { lines } = chartGeometry(
      [
        { key: "overall", label: "Overall", max: 100, values: [100, 40] },
        { key: "depth", label: "Depth", max: 5, values: [5, 2] },
      ],
      2,
      BOX,
    );
    expect(lines[0]?.segments).toEqual([
      [
        [10, 5],
        [110, 35],
      ],
    ]);
    expect(lines[1]?.segments).toEqual(lines[0]?.segments);
  });

  it("clamps values outside the scale to its edges", () => {
    const { lines } = chartGeometry([{ key: "x", label: "x", max: 5, values: [9, -1] }], 2, BOX);
    expect(lines[0]?.dots.map((d) => d.at[1])).toEqual([5, 55]);
  });

  it("breaks the line where an interview has no value", () => {
    const { lines } = chartGeometry(
      [{ key: "correctness", label: "Correctness", max: 5, values: [1, 2, null, 4, null] }],
      5,
      BOX,
    );
    const line = lines[0];
    expect(line?.segments.map((s) => s.map(([x]) => x))).toEqual([[10, 35], [85]]);
    expect(line?.dots.map((d) => d.index)).toEqual([0, 1, 3]);
  });

  it("draws evenly spaced grid lines from the top to zero", () => {
    const { gridYs } = chartGeometry([], 3, BOX);
    expect(gridYs).toEqual([5, 15, 25, 35, 45, 55]);
  });
});

describe("labelledIndexes", () => {
  it("labels every interview when there are few", () => {
    expect(labelledIndexes(4)).toEqual([0, 1, 2, 3]);
  });

  it("labels about six, always the first and the last", () => {
    const shown = labelledIndexes(20);
    expect(shown[0]).toBe(0);
    expect(shown[shown.length - 1]).toBe(19);
    expect(shown.length).toBeLessThanOrEqual(6);
    expect([...shown].sort((a, b) => a - b)).toEqual(shown);
  });
});
