import { describe, expect, it } from 'vitest';
import { TrainError } from '../errors.js';
import { type Point, downsample, escapeXml, niceStep, niceTicks, readMetricsJsonl, renderLossCurve } from './svg.js';

/**
 * A minimal XML well-formedness check: one root, tags balanced and properly nested, attribute
 * values quoted, and no raw '<' or bare '&' in text. Returns the problem, or null.
 */
function xmlProblem(xml: string): string | null {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/y;
  const textOk = /^(?:[^<&]|&(?:amp|lt|gt|quot|apos|#\d+);)*$/;
  const stack: string[] = [];
  let roots = 0;
  let i = 0;
  while (i < body.length) {
    const lt = body.indexOf('<', i);
    const chunk = body.slice(i, lt === -1 ? body.length : lt);
    if (!textOk.test(chunk)) return `bad text: ${chunk.slice(0, 40)}`;
    if (stack.length === 0 && chunk.trim() !== '') return 'text outside the root';
    if (lt === -1) break;
    tag.lastIndex = lt;
    const m = tag.exec(body);
    if (!m) return `bad tag at ${lt}: ${body.slice(lt, lt + 40)}`;
    const [, close, name = '', attrs = '', selfClose] = m;
    if (/&(?!(?:amp|lt|gt|quot|apos|#\d+);)/.test(attrs)) return `bare & in attributes of <${name}>`;
    if (stack.length === 0) roots++;
    if (close) {
      if (stack.pop() !== name) return `</${name}> does not close the open tag`;
    } else if (!selfClose) stack.push(name);
    i = tag.lastIndex;
  }
  if (stack.length > 0) return `unclosed <${stack.join('> <')}>`;
  return roots === 1 ? null : `${roots} roots`;
}

const polylines = (svg: string) => [...svg.matchAll(/<polyline [^>]*points="([^"]*)"/g)].map((m) => (m[1] ?? '').split(' '));
const strokes = (svg: string) => [...svg.matchAll(/<polyline [^>]*stroke="([^"]*)"/g)].map((m) => m[1]);
/** Labels of the y axis: the right-aligned texts. */
const yLabels = (svg: string) => [...svg.matchAll(/<text [^>]*text-anchor="end">([^<]*)</g)].map((m) => m[1]);
const line = (points: Array<[number, number]>): Point[] => points.map(([x, y]) => ({ x, y }));

describe('the well-formedness check itself', () => {
  it('accepts good XML and rejects bad XML', () => {
    expect(xmlProblem('<?xml version="1.0"?>\n<a x="1"><b/>t &amp; u</a>')).toBeNull();
    expect(xmlProblem('<a><b></a></b>')).not.toBeNull();
    expect(xmlProblem('<a>x < y</a>')).not.toBeNull();
    expect(xmlProblem('<a>fish & chips</a>')).not.toBeNull();
    expect(xmlProblem('<a t="<"></a>')).not.toBeNull();
    expect(xmlProblem('<a></a><b></b>')).not.toBeNull();
    expect(xmlProblem('<a>')).not.toBeNull();
  });
});

describe('niceTicks', () => {
  it('picks 1/2/5 × 10^k steps inside the range', () => {
    expect(niceTicks(0, 4.17)).toEqual([0, 1, 2, 3, 4]);
    expect(niceTicks(1.7, 2.3)).toEqual([1.8, 2, 2.2]);
    expect(niceTicks(0, 1000)).toEqual([0, 200, 400, 600, 800, 1000]);
    expect(niceTicks(-3, 7)).toEqual([-2, 0, 2, 4, 6]);
    expect(niceTicks(0.001, 0.0042)).toEqual([0.001, 0.002, 0.003, 0.004]);
    expect(niceTicks(0, 5000)).toEqual([0, 1000, 2000, 3000, 4000, 5000]);
    expect(niceTicks(2, 2)).toEqual([2]);
  });

  it('rounds the step up to 1, 2 or 5 × 10^k', () => {
    expect([0.12, 0.834, 1, 1.01, 2.2, 3, 7, 30, 0.0004].map(niceStep)).toEqual([0.2, 1, 1, 2, 5, 5, 10, 50, 0.0005]);
  });
});

describe('renderLossCurve', () => {
  it('maps a 3-point series to the hand-computed pixels', () => {
    // 800×450 with margins left 70, right 20, top 40, bottom 50: plot x 70..780, y 400 (bottom)..40.
    // x 0..10 (step 2) and y 1..3 (step 0.5) are already whole ticks, so:
    // (0,1) → (70,400); (5,3) → (70 + 0.5·710, 40) = (425,40); (10,2) → (780, 400 − 0.5·360) = (780,220).
    const svg = renderLossCurve([{ name: 'train', points: line([[0, 1], [5, 3], [10, 2]]) }]);
    expect(polylines(svg)).toEqual([['70,400', '425,40', '780,220']]);
    expect(yLabels(svg)).toEqual(['1.0', '1.5', '2.0', '2.5', '3.0']);
    expect(xmlProblem(svg)).toBeNull();
  });

  it('rounds the axes out to whole ticks and labels them with the step\'s decimals', () => {
    const svg = renderLossCurve([{ name: 'val', points: line([[0, 1.7], [100, 2.3]]) }]);
    expect(yLabels(svg)).toEqual(['1.6', '1.8', '2.0', '2.2', '2.4']);
    // y 1.7 in a 1.6..2.4 axis: 400 − (0.1 / 0.8)·360 = 355; 2.3 → 400 − (0.7 / 0.8)·360 = 85.
    expect(polylines(svg)).toEqual([['70,355', '780,85']]);
  });

  it('has a title, axis labels, a legend with every name, and distinct colours', () => {
    const series = Array.from({ length: 12 }, (_, i) => ({ name: `run ${i}`, points: line([[0, i], [1, i + 1]]) }));
    const svg = renderLossCurve(series, { title: 'Loss', xLabel: 'iteration', yLabel: 'nats' });
    for (const s of ['>Loss<', '>iteration<', '>nats<', ...series.map((s) => `>${s.name}<`)]) expect(svg).toContain(s);
    expect(new Set(strokes(svg)).size).toBe(12);
    expect(svg).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="800" height="450"/);
    expect(xmlProblem(svg)).toBeNull();
  });

  it('escapes text for XML', () => {
    expect(escapeXml(`a<b & "c" 'd' >`)).toBe('a&lt;b &amp; &quot;c&quot; &apos;d&apos; &gt;');
    const svg = renderLossCurve([{ name: 'x"<y>', points: line([[0, 1], [1, 2]]) }], { title: '<&>' });
    expect(svg).toContain('>&lt;&amp;&gt;<');
    expect(svg).toContain('>x&quot;&lt;y&gt;<');
    expect(svg).not.toContain('<&>');
    expect(xmlProblem(svg)).toBeNull();
  });

  it('draws a single point as a dot', () => {
    const svg = renderLossCurve([{ name: 'train', points: [{ x: 100, y: 2.5 }] }]);
    expect(polylines(svg)).toEqual([]);
    expect(svg).toMatch(/<circle cx="[\d.]+" cy="[\d.]+" r="3"/);
    expect(svg).not.toContain('no data');
    expect(xmlProblem(svg)).toBeNull();
  });

  it('skips NaN and Infinity, and says "no data" when nothing is left', () => {
    const pts = line([[0, 1], [1, NaN], [2, Infinity], [NaN, 3], [3, 2]]);
    expect(polylines(renderLossCurve([{ name: 't', points: pts }]))[0]).toHaveLength(2);
    for (const series of [[], [{ name: 'empty', points: [] }], [{ name: 'bad', points: line([[0, NaN], [1, -Infinity]]) }]]) {
      const svg = renderLossCurve(series);
      expect(svg).toContain('>no data<');
      expect(svg).toContain('<line'); // the axes are still drawn
      expect(svg).not.toContain('NaN');
      expect(xmlProblem(svg)).toBeNull();
    }
  });

  it('handles negative values inside the plot area', () => {
    const svg = renderLossCurve([{ name: 'reward', points: line([[0, -3], [1, 2], [2, -0.5]]) }]);
    expect(yLabels(svg)).toEqual(['-3', '-2', '-1', '0', '1', '2']);
    for (const xy of polylines(svg)[0] ?? []) {
      const [x, y] = xy.split(',').map(Number) as [number, number];
      expect(x >= 70 && x <= 780 && y >= 40 && y <= 400).toBe(true);
    }
  });

  it('puts a log axis on 1/2/5 × 10^k and skips y ≤ 0', () => {
    const svg = renderLossCurve([{ name: 't', points: line([[0, 8], [1, 0], [2, 0.5], [3, -1]]) }], { logY: true });
    expect(yLabels(svg)).toEqual(['0.5', '1', '2', '5', '10']);
    // log10: 0.5..10 spans log10(20) decades; 8 sits log10(16)/log10(20) of the way up from 400 to 40.
    const y8 = 400 - (Math.log10(16) / Math.log10(20)) * 360;
    expect(polylines(svg)).toEqual([[`70,${Math.round(y8 * 100) / 100}`, '780,400']]);
  });

  it('draws at most 2,000 points of a huge series', () => {
    const pts = Array.from({ length: 300_000 }, (_, i) => ({ x: i, y: Math.sin(i / 500) + (i % 7) / 10 }));
    const svg = renderLossCurve([{ name: 'train', points: pts }]);
    const drawn = polylines(svg)[0] ?? [];
    expect(drawn.length).toBeLessThanOrEqual(2_000);
    expect(drawn.length).toBeGreaterThan(1_900);
    expect(drawn[0]).toBe('70,' + drawn[0]?.split(',')[1]);
    expect(drawn.at(-1)?.startsWith('780,')).toBe(true);
  });

  it('rejects a size too small to draw in', () => {
    expect(() => renderLossCurve([], { width: 10 })).toThrow(TrainError);
    expect(() => renderLossCurve([], { height: NaN })).toThrow(TrainError);
  });
});

describe('downsample', () => {
  it('keeps the first, the last, the min and the max, in order', () => {
    const pts = Array.from({ length: 100_000 }, (_, i) => ({ x: i, y: 2 + Math.sin(i) }));
    pts[31_337] = { x: 31_337, y: -50 };
    pts[77_777] = { x: 77_777, y: 99 };
    const out = downsample(pts, 2_000);
    expect(out.length).toBeLessThanOrEqual(2_000);
    expect(out[0]).toBe(pts[0]);
    expect(out.at(-1)).toBe(pts.at(-1));
    expect(out).toContain(pts[31_337]);
    expect(out).toContain(pts[77_777]);
    expect(out.every((p, i) => i === 0 || p.x > (out[i - 1] as Point).x)).toBe(true);
    expect(Math.min(...out.map((p) => p.y))).toBe(-50);
    expect(Math.max(...out.map((p) => p.y))).toBe(99);
  });

  it('keeps every bucket\'s extremes, and leaves short series alone', () => {
    // 10 points into max 6: first, last, and 2 buckets of 4 inner points each.
    const pts = line([[0, 5], [1, 3], [2, 9], [3, 1], [4, 4], [5, 6], [6, 0], [7, 8], [8, 2], [9, 5]]);
    expect(downsample(pts, 6).map((p) => p.x)).toEqual([0, 2, 3, 6, 7, 9]);
    expect(downsample(pts, 10)).toEqual(pts);
    expect(downsample(pts, 10)).not.toBe(pts);
    expect(() => downsample(pts, 1)).toThrow(TrainError);
  });
});

describe('readMetricsJsonl', () => {
  it('reads train and val series and counts malformed lines', () => {
    const text = [
      '{"step": 0, "loss": 4.2, "val_loss": 4.3, "lr": 0.001}',
      '{"step": 10, "loss": 2.3, "val_loss": null}',
      '',
      '{"step": 20, "loss": 2.1}',
      'not json',
      '{"step": 30, "loss": NaN}', // Python's json.dumps writes NaN, which is not JSON
      '[1, 2]',
      '{"loss": 2.0}', // no step
      '{"step": "40", "loss": 2.0}', // step is a string
      '{"step": 50, "loss": "2.0"}', // loss is a string
      '{"step": 60, "loss": null, "val_loss": 1.9}\r',
      '{"step": 70, "lr": 0.0005}', // a line with neither loss is fine, it just adds no point
      '{"step": 80, "loss": 1.7',
    ].join('\n');
    expect(readMetricsJsonl(text)).toEqual({
      train: line([[0, 4.2], [10, 2.3], [20, 2.1]]),
      val: line([[0, 4.3], [60, 1.9]]),
      skipped: 7,
    });
  });

  it('reads nothing from an empty text', () => {
    expect(readMetricsJsonl('')).toEqual({ train: [], val: [], skipped: 0 });
    expect(readMetricsJsonl('\n\n')).toEqual({ train: [], val: [], skipped: 0 });
  });
});
