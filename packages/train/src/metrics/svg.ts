/**
 * Loss curves as a standalone SVG document (no dependencies), and the metrics.jsonl reader
 * that feeds them.
 *
 *   const { train, val } = readMetricsJsonl(await readFile('out/metrics.jsonl', 'utf8'));
 *   const svg = renderLossCurve([{ name: 'train', points: train }, { name: 'val', points: val }], { title: 'loss' });
 *   await writeFile('out/loss.svg', svg);   // axes with 1/2/5 × 10^k ticks, one line per series, legend
 *
 * Points with NaN/±Infinity (and y ≤ 0 on a log axis) are skipped; series longer than 2,000
 * points are downsampled keeping the first, the last, and the min and max of every bucket.
 */
import { TrainError } from '../errors.js';

/** One sample of a curve: { x: 10, y: 2.3 } (x is usually the step). */
export interface Point {
  x: number;
  y: number;
}

/** A named curve: { name: 'val', points: [{ x: 0, y: 4.2 }, { x: 100, y: 2.9 }] }. */
export interface Series {
  name: string;
  points: readonly Point[];
}

/** Options of renderLossCurve: { title: 'loss', logY: true } (every field optional). */
export interface LossCurveOptions {
  title?: string;
  /** Pixels (default 800). */
  width?: number;
  /** Pixels (default 450). */
  height?: number;
  /** Default 'step'. */
  xLabel?: string;
  /** Default 'loss'. */
  yLabel?: string;
  /** Logarithmic y axis (non-positive y values are skipped). */
  logY?: boolean;
}

/** Most points drawn per series: longer series are downsampled to this many. */
export const MAX_POINTS = 2_000;

/** Where the plot area sits inside the picture. */
const MARGIN = { top: 40, right: 20, bottom: 50, left: 70 };
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const TICK_TARGET = 5;

/** One axis: its data range after rounding out, where the ticks go, and data → pixel. */
interface Axis {
  ticks: number[];
  labels: string[];
  toPixel(v: number): number;
}

/**
 * A standalone SVG document plotting each series as a polyline.
 *
 *   renderLossCurve([{ name: 'train', points: [{ x: 0, y: 1 }, { x: 5, y: 3 }, { x: 10, y: 2 }] }])
 *   // → '<?xml ...?><svg ...> ... <polyline ... points="70,400 425,40 780,220"/> ...</svg>'
 *   // (x axis 0..10 → pixels 70..780, y axis 1..3 → pixels 400..40 in the default 800×450)
 */
export function renderLossCurve(series: readonly Series[], opts: LossCurveOptions = {}): string {
  const width = checkSize('width', opts.width ?? 800, 2 * (MARGIN.left + MARGIN.right));
  const height = checkSize('height', opts.height ?? 450, 2 * (MARGIN.top + MARGIN.bottom));
  const logY = opts.logY ?? false;
  const clean = series.map((s) => ({ name: s.name, points: s.points.filter((p) => usable(p, logY)) }));
  const all = clean.flatMap((s) => s.points);
  const box = { x0: MARGIN.left, x1: width - MARGIN.right, y0: MARGIN.top, y1: height - MARGIN.bottom };
  const xs = all.map((p) => p.x);
  const ys = all.map((p) => p.y);
  const xAxis = linearAxis(xs, box.x0, box.x1);
  const yAxis = logY && ys.length > 0 ? logAxis(ys, box.y1, box.y0) : linearAxis(ys, box.y1, box.y0);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    ...(opts.title ? [text(width / 2, 24, opts.title, 'middle', ' font-size="16"')] : []),
    ...axesSvg(box, xAxis, yAxis, opts.xLabel ?? 'step', opts.yLabel ?? 'loss'),
    ...(all.length === 0 ? [text((box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2, 'no data', 'middle', ' fill="#888"')] : []),
    ...clean.flatMap((s, i) => seriesSvg(s.points, colour(i), xAxis, yAxis)),
    ...legendSvg(clean.map((s) => s.name), box),
    '</svg>',
    '',
  ].join('\n');
}

/**
 * About `count` intervals of a 1/2/5 × 10^k step, every tick inside [min, max].
 *
 *   niceTicks(0, 4.17)    // → [0, 1, 2, 3, 4]
 *   niceTicks(1.7, 2.3)   // → [1.8, 2, 2.2]
 */
export function niceTicks(min: number, max: number, count = TICK_TARGET): number[] {
  if (!(max > min)) return Number.isFinite(min) && min === max ? [min] : [];
  return ticksEvery(min, max, niceStep((max - min) / count));
}

/**
 * The smallest 1, 2 or 5 × 10^k that is ≥ raw: niceStep(0.12) → 0.2, niceStep(0.834) → 1, niceStep(30) → 50.
 */
export function niceStep(raw: number): number {
  const power = Math.floor(Math.log10(raw));
  const unit = Number(`1e${power}`); // exact for negative powers too (10 ** -1 is not 0.1 everywhere)
  const f = raw / unit;
  const m = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  return m * unit;
}

/**
 * At most `max` points: the first, the last, and the lowest and highest y of each of
 * (max - 2) / 2 equal buckets between them, in their original order.
 *
 *   downsample(hundredThousandPoints, 2000).length   // → 2000 (at most)
 *   downsample([{ x: 0, y: 1 }], 2000)               // → [{ x: 0, y: 1 }] (short series unchanged)
 */
export function downsample(points: readonly Point[], max = MAX_POINTS): Point[] {
  if (!Number.isInteger(max) || max < 2) throw new TrainError('INVALID_ARGUMENT', `downsample: max must be an integer >= 2, got ${max}`);
  if (points.length <= max) return points.slice();
  const first = points[0] as Point;
  const last = points[points.length - 1] as Point;
  const inner = points.length - 2;
  const buckets = Math.floor((max - 2) / 2);
  const out: Point[] = [first];
  for (let b = 0; b < buckets; b++) {
    const start = 1 + Math.floor((b * inner) / buckets);
    const end = 1 + Math.floor(((b + 1) * inner) / buckets);
    out.push(...extremes(points, start, end));
  }
  out.push(last);
  return out;
}

/**
 * The train and val series of a metrics.jsonl text, and how many lines were skipped.
 * A line is skipped when it is not a JSON object with a finite numeric `step`, or when its
 * `loss` / `val_loss` is present but neither a number nor null. Blank lines are ignored.
 *
 *   readMetricsJsonl('{"step":10,"loss":2.3,"val_loss":null}\n{"step":20,"loss":2.1,"val_loss":2.4}\noops\n')
 *   // → { train: [{ x: 10, y: 2.3 }, { x: 20, y: 2.1 }], val: [{ x: 20, y: 2.4 }], skipped: 1 }
 */
export function readMetricsJsonl(text: string): { train: Point[]; val: Point[]; skipped: number } {
  const train: Point[] = [];
  const val: Point[] = [];
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const row = parseRow(line);
    if (row === null) {
      skipped++;
      continue;
    }
    if (row.loss !== null) train.push({ x: row.step, y: row.loss });
    if (row.valLoss !== null) val.push({ x: row.step, y: row.valLoss });
  }
  return { train, val, skipped };
}

/** Text safe inside XML content and attribute values: escapeXml('a<b & "c"') → 'a&lt;b &amp; &quot;c&quot;'. */
export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', '"': 'quot', "'": 'apos' }[c]};`);
}

function parseRow(line: string): { step: number; loss: number | null; valLoss: number | null } | null {
  let obj: unknown;
  try {
    obj = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return null;
  const { step, loss, val_loss: valLoss } = obj as Record<string, unknown>;
  if (typeof step !== 'number' || !Number.isFinite(step)) return null;
  const l = optionalNumber(loss);
  const v = optionalNumber(valLoss);
  if (l === undefined || v === undefined) return null;
  return { step, loss: l, valLoss: v };
}

/** A number stays; null or absent → null; anything else → undefined (malformed). */
function optionalNumber(v: unknown): number | null | undefined {
  if (v === undefined || v === null) return null;
  return typeof v === 'number' ? v : undefined;
}

function usable(p: Point, logY: boolean): boolean {
  return Number.isFinite(p.x) && Number.isFinite(p.y) && (!logY || p.y > 0);
}

function checkSize(name: string, value: number, min: number): number {
  if (!Number.isFinite(value) || value < min) {
    throw new TrainError('INVALID_ARGUMENT', `renderLossCurve: ${name} must be a number >= ${min} pixels, got ${value}`);
  }
  return value;
}

/** The lowest and the highest y in points[start, end), in index order (one point if the same). */
function extremes(points: readonly Point[], start: number, end: number): Point[] {
  let lo = start;
  let hi = start;
  for (let i = start + 1; i < end; i++) {
    if ((points[i] as Point).y < (points[lo] as Point).y) lo = i;
    if ((points[i] as Point).y > (points[hi] as Point).y) hi = i;
  }
  if (lo === hi) return [points[lo] as Point];
  return [points[Math.min(lo, hi)] as Point, points[Math.max(lo, hi)] as Point];
}

/** Multiples of step inside [min, max], rounded to the step's decimals (no 0.30000000000000004). */
function ticksEvery(min: number, max: number, step: number): number[] {
  const digits = decimals(step);
  const ticks: number[] = [];
  for (let i = Math.ceil(min / step - 1e-9); i <= Math.floor(max / step + 1e-9); i++) {
    ticks.push(Number((i * step).toFixed(digits)));
  }
  return ticks;
}

function decimals(step: number): number {
  return Math.min(100, Math.max(0, -Math.floor(Math.log10(step) + 1e-9)));
}

/** A linear axis over the values, rounded out to whole ticks; [0, 1] when there are none. */
function linearAxis(values: number[], p0: number, p1: number): Axis {
  let [lo, hi] = values.length > 0 ? range(values) : [0, 1];
  if (lo === hi) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    [lo, hi] = [lo - pad, hi + pad];
  }
  const step = niceStep((hi - lo) / TICK_TARGET);
  lo = Math.floor(lo / step + 1e-9) * step;
  hi = Math.ceil(hi / step - 1e-9) * step;
  const ticks = ticksEvery(lo, hi, step);
  return {
    ticks,
    labels: ticks.map((t) => formatTick(t, step)),
    toPixel: (v) => p0 + ((v - lo) / (hi - lo)) * (p1 - p0),
  };
}

/** A log axis from the 1/2/5 × 10^k at or below the smallest value to the one at or above the largest. */
function logAxis(values: number[], p0: number, p1: number): Axis {
  const [min, max] = range(values);
  const mantissas = max / min > 1e3 ? [1] : [1, 2, 5];
  const marks: number[] = [];
  for (let e = Math.floor(Math.log10(min)) - 1; e <= Math.ceil(Math.log10(max)) + 1; e++) {
    for (const m of mantissas) marks.push(m * Number(`1e${e}`));
  }
  let a = marks.filter((t) => t <= min * (1 + 1e-12)).length - 1;
  let b = marks.findIndex((t) => t >= max * (1 - 1e-12));
  if (a === b) [a, b] = [a - 1, b + 1];
  const [lo, hi] = [Math.log10(marks[a] as number), Math.log10(marks[b] as number)];
  const stride = Math.ceil((b - a + 1) / 10); // at most ~10 ticks over many decades
  const ticks = marks.slice(a, b + 1).filter((_, i) => i % stride === 0);
  return {
    ticks,
    labels: ticks.map((t) => formatNumber(t)),
    toPixel: (v) => p0 + ((Math.log10(v) - lo) / (hi - lo)) * (p1 - p0),
  };
}

function range(values: number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/**
 * A tick label with the step's decimals ('2.0', '2.2'), or in exponent form with the digits the
 * step needs when values are huge or the step tiny (2.5e7, 1.5e-6).
 */
function formatTick(v: number, step: number): string {
  const digits = decimals(step);
  const huge = digits === 0 && Math.abs(v) >= 1e7;
  const tiny = digits > 5;
  if (v === 0 || !(huge || tiny)) return v.toFixed(digits);
  const significant = Math.floor(Math.log10(Math.abs(v))) - Math.floor(Math.log10(step) + 1e-9) + 1;
  return Number(v.toPrecision(Math.min(21, Math.max(1, significant)))).toExponential().replace('e+', 'e');
}

/** Short text for any number: 0.002, 1500, 2e+9 → '2e9'. */
function formatNumber(v: number): string {
  const a = Math.abs(v);
  if (v !== 0 && (a >= 1e7 || a < 1e-4)) return Number(v.toPrecision(3)).toExponential().replace('e+', 'e');
  return String(Number(v.toPrecision(6)));
}

interface Box {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

function axesSvg(box: Box, x: Axis, y: Axis, xLabel: string, yLabel: string): string[] {
  const out: string[] = ['<g stroke="#e6e6e6" stroke-width="1">'];
  for (const t of x.ticks) out.push(line(x.toPixel(t), box.y0, x.toPixel(t), box.y1));
  for (const t of y.ticks) out.push(line(box.x0, y.toPixel(t), box.x1, y.toPixel(t)));
  out.push('</g>', '<g stroke="#333" stroke-width="1">');
  out.push(line(box.x0, box.y1, box.x1, box.y1), line(box.x0, box.y0, box.x0, box.y1), '</g>');
  x.ticks.forEach((t, i) => out.push(text(x.toPixel(t), box.y1 + 16, x.labels[i] ?? '', 'middle')));
  y.ticks.forEach((t, i) => out.push(text(box.x0 - 6, y.toPixel(t) + 4, y.labels[i] ?? '', 'end')));
  out.push(text((box.x0 + box.x1) / 2, box.y1 + 38, xLabel, 'middle'));
  const cy = (box.y0 + box.y1) / 2;
  out.push(text(18, cy, yLabel, 'middle', ` transform="rotate(-90 18 ${num(cy)})"`));
  return out;
}

function seriesSvg(points: Point[], stroke: string, x: Axis, y: Axis): string[] {
  const drawn = downsample(points);
  if (drawn.length === 0) return [];
  const coords = drawn.map((p) => `${num(x.toPixel(p.x))},${num(y.toPixel(p.y))}`);
  if (drawn.length === 1) {
    const [cx, cy] = (coords[0] as string).split(',');
    return [`<circle cx="${cx}" cy="${cy}" r="3" fill="${stroke}"/>`];
  }
  return [`<polyline fill="none" stroke="${stroke}" stroke-width="1.5" stroke-linejoin="round" points="${coords.join(' ')}"/>`];
}

function legendSvg(names: string[], box: Box): string[] {
  if (names.length === 0) return [];
  const w = 36 + 7 * Math.max(...names.map((n) => n.length));
  const left = box.x1 - w - 8;
  const out = [`<rect x="${num(left)}" y="${box.y0 + 8}" width="${num(w)}" height="${names.length * 18 + 8}" fill="white" fill-opacity="0.85" stroke="#ccc"/>`];
  names.forEach((name, i) => {
    const cy = box.y0 + 22 + i * 18;
    out.push(`<line x1="${num(left + 8)}" y1="${cy}" x2="${num(left + 28)}" y2="${cy}" stroke="${colour(i)}" stroke-width="2"/>`);
    out.push(text(left + 34, cy + 4, name, 'start'));
  });
  return out;
}

/** Ten well-separated colours, then hues spread by the golden angle. */
function colour(i: number): string {
  return PALETTE[i] ?? `hsl(${Math.round((i * 137.508) % 360)}, 65%, 45%)`;
}

function line(x1: number, y1: number, x2: number, y2: number): string {
  return `<line x1="${num(x1)}" y1="${num(y1)}" x2="${num(x2)}" y2="${num(y2)}"/>`;
}

function text(x: number, y: number, s: string, anchor: 'start' | 'middle' | 'end', extra = ''): string {
  return `<text x="${num(x)}" y="${num(y)}" text-anchor="${anchor}"${extra}>${escapeXml(s)}</text>`;
}

/** A pixel coordinate with at most 2 decimals: 425 → '425', 219.99999 → '220'. */
function num(v: number): string {
  return String(Math.round(v * 100) / 100);
}
