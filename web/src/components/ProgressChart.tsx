// A line chart in plain SVG: the overall score (0-100, left axis) and each rubric dimension (0-5,
// right axis) per interview, oldest to newest. Both scales share the grid (5 = 100). The geometry
// is a pure function so it can be tested without a DOM.

export type Point = readonly [number, number];

export interface ChartSeries {
  key: string;
  label: string;
  /** The top of this series' scale (100 for the overall score, 5 for a dimension). */
  max: number;
  /** One per interview, oldest first; null where the interview has no such score. */
  values: (number | null)[];
}

export interface ChartBox {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

export interface ChartLine {
  key: string;
  /** Runs of consecutive known values; a missing value breaks the line. */
  segments: Point[][];
  /** Every known value, `index` being the interview's position. */
  dots: { index: number; at: Point; value: number }[];
}

export interface ChartGeometry {
  /** The x of each interview: evenly spread, a single one in the middle. */
  xs: number[];
  lines: ChartLine[];
  /** Horizontal guide lines from the top (the maximum) down to the bottom (zero). */
  gridYs: number[];
}

/** Values are clamped to [0, max]; interview i of n sits at left + i·width/(n-1). */
export function chartGeometry(series: ChartSeries[], count: number, box: ChartBox, grid = 5): ChartGeometry {
  const plotW = box.width - box.left - box.right;
  const plotH = box.height - box.top - box.bottom;
  const xs = Array.from({ length: count }, (_, i) =>
    round(count === 1 ? box.left + plotW / 2 : box.left + (plotW * i) / (count - 1)),
  );
  const yOf = (value: number, max: number) =>
    round(box.top + plotH * (1 - Math.min(1, Math.max(0, max > 0 ? value / max : 0))));
  const lines = series.map((s) => {
    const segments: Point[][] = [];
    const dots: ChartLine["dots"] = [];
    let run: Point[] = [];
    for (let i = 0; i < count; i++) {
      const value = s.values[i];
      const x = xs[i];
      if (value == null || x === undefined) {
        if (run.length) segments.push(run);
        run = [];
        continue;
      }
      const at: Point = [x, yOf(value, s.max)];
      run.push(at);
      dots.push({ index: i, at, value });
    }
    if (run.length) segments.push(run);
    return { key: s.key, segments, dots };
  });
  const gridYs = Array.from({ length: grid + 1 }, (_, k) => round(box.top + (plotH * k) / grid));
  return { xs, lines, gridYs };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/** Which interviews get a date under the axis: about `most` of them, always the first and last. */
export function labelledIndexes(count: number, most = 6): number[] {
  if (count <= most) return Array.from({ length: count }, (_, i) => i);
  const step = Math.ceil((count - 1) / (most - 1));
  const out: number[] = [];
  for (let i = 0; i < count - 1; i += step) out.push(i);
  if (count - 1 - (out[out.length - 1] ?? 0) < step / 2) out.pop();
  out.push(count - 1);
  return out;
}

export const SERIES_COLOURS: Record<string, string> = {
  overall: "#1d2330",
  relevance: "#3b5bdb",
  structure: "#e67700",
  depth: "#2b8a3e",
  communication: "#ae3ec9",
  correctness: "#c92a2a",
};

const BOX: ChartBox = { width: 640, height: 280, left: 40, right: 36, top: 16, bottom: 34 };

export function ProgressChart({ series, dates, title }: { series: ChartSeries[]; dates: string[]; title: string }) {
  if (dates.length === 0) return null;
  const geo = chartGeometry(series, dates.length, BOX);
  const shown = new Set(labelledIndexes(dates.length));
  const bottom = BOX.height - BOX.bottom;
  return (
    <svg className="progress-chart" viewBox={`0 0 ${BOX.width} ${BOX.height}`} role="img" aria-labelledby="progress-title">
      <title id="progress-title">{title}</title>
      {geo.gridYs.map((y, k) => (
        <g key={k}>
          <line className="chart-grid" x1={BOX.left} x2={BOX.width - BOX.right} y1={y} y2={y} />
          <text className="chart-tick" x={BOX.left - 6} y={y} textAnchor="end" dominantBaseline="middle">
            {100 - k * 20}
          </text>
          <text className="chart-tick" x={BOX.width - BOX.right + 6} y={y} dominantBaseline="middle">
            {5 - k}
          </text>
        </g>
      ))}
      {geo.xs.map((x, i) =>
        shown.has(i) ? (
          <text key={i} className="chart-tick" x={x} y={bottom + 18} textAnchor="middle">
            {dates[i]}
          </text>
        ) : null,
      )}
      {/* The overall score last, so its line lies on top of the dimensions'. */}
      {[...geo.lines].sort((a, b) => Number(a.key === "overall") - Number(b.key === "overall")).map((line) => {
        const colour = SERIES_COLOURS[line.key] ?? "#667085";
        const label = series.find((s) => s.key === line.key)?.label ?? line.key;
        return (
          <g key={line.key} className="chart-series" data-series={line.key}>
            {line.segments.map((seg, k) =>
              seg.length > 1 ? (
                <polyline
                  key={k}
                  className={`chart-line${line.key === "overall" ? " chart-line-overall" : ""}`}
                  points={seg.map(([x, y]) => `${x},${y}`).join(" ")}
                  stroke={colour}
                />
              ) : null,
            )}
            {line.dots.map(({ index, at: [x, y], value }) => (
              <circle key={index} className="chart-dot" cx={x} cy={y} r={line.key === "overall" ? 4 : 3} fill={colour}>
                <title>
                  {label} {line.key === "overall" ? value.toFixed(0) : value.toFixed(1)} · {dates[index]}
                </title>
              </circle>
            ))}
          </g>
        );
      })}
    </svg>
  );
}
