// A radar (spider) chart in plain SVG: one axis per score, the polygon of the values on top of
// concentric guide rings. The geometry is a pure function so it can be tested without a DOM.

export interface RadarAxis {
  label: string;
  value: number;
}

export type Point = readonly [number, number];

export interface RadarGeometry {
  /** Where each value lands, clockwise from the top. */
  points: Point[];
  /** Each guide ring's corners (at 1/rings, 2/rings, ... of the maximum). */
  rings: Point[][];
  /** The outer end of each axis. */
  axisEnds: Point[];
}

/** Axis i points at -90° + i·360°/n (the first straight up); a value is clamped to [0, max]. */
export function radarGeometry(values: number[], max: number, radius: number, center: Point, rings = 5): RadarGeometry {
  const [cx, cy] = center;
  const at = (i: number, fraction: number): Point => {
    const angle = -Math.PI / 2 + (2 * Math.PI * i) / values.length;
    const r = radius * Math.min(1, Math.max(0, fraction));
    return [round(cx + r * Math.cos(angle)), round(cy + r * Math.sin(angle))];
  };
  return {
    points: values.map((v, i) => at(i, max > 0 ? v / max : 0)),
    rings: Array.from({ length: rings }, (_, k) => values.map((_, i) => at(i, (k + 1) / rings))),
    axisEnds: values.map((_, i) => at(i, 1)),
  };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

function polygon(points: Point[]): string {
  return points.map(([x, y]) => `${x},${y}`).join(" ");
}

const SIZE = 280;
const RADIUS = 90;
const LABEL_ROOM = 70;

export function RadarChart({ axes, max = 5, title }: { axes: RadarAxis[]; max?: number; title: string }) {
  if (axes.length < 3) return null; // fewer than three axes is a line, not an area
  const center: Point = [SIZE / 2, SIZE / 2];
  const geo = radarGeometry(
    axes.map((a) => a.value),
    max,
    RADIUS,
    center,
  );
  const labels = radarGeometry(
    axes.map(() => max),
    max,
    RADIUS + 22,
    center,
  ).points;
  return (
    // Wider than the chart itself: labels left and right of it are anchored outwards.
    <svg
      className="radar"
      viewBox={`${-LABEL_ROOM} 0 ${SIZE + 2 * LABEL_ROOM} ${SIZE}`}
      role="img"
      aria-labelledby="radar-title"
    >
      <title id="radar-title">
        {title}: {axes.map((a) => `${a.label} ${a.value.toFixed(1)} of ${max}`).join(", ")}
      </title>
      {geo.rings.map((ring, k) => (
        <polygon key={k} className="radar-ring" points={polygon(ring)} />
      ))}
      {geo.axisEnds.map(([x, y], i) => (
        <line key={i} className="radar-axis" x1={center[0]} y1={center[1]} x2={x} y2={y} />
      ))}
      <polygon className="radar-area" points={polygon(geo.points)} />
      {geo.points.map(([x, y], i) => (
        <circle key={i} className="radar-dot" cx={x} cy={y} r={3} />
      ))}
      {labels.map(([x, y], i) => {
        const axis = axes[i];
        if (!axis) return null;
        const anchor = Math.abs(x - center[0]) < 1 ? "middle" : x > center[0] ? "start" : "end";
        return (
          <text key={axis.label} className="radar-label" x={x} y={y} textAnchor={anchor} dominantBaseline="middle">
            {axis.label} {axis.value.toFixed(1)}
          </text>
        );
      })}
    </svg>
  );
}
