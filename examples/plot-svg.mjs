// A tiny dependency-free SVG line-chart writer for loss curves: side-by-side panels, each with
// axes, ticks, a legend, polylines (optionally log-scale y) and dashed horizontal baselines.
//
//   import { lossPlotSvg } from './plot-svg.mjs';
//   const svg = lossPlotSvg({
//     title: 'Training loss',
//     panels: [{
//       title: 'Adding problem', xLabel: 'step', yLabel: 'MSE', logY: true,
//       series: [{ name: 'LSTM', points: [[1, 0.4], [2, 0.3]] }],
//       baselines: [{ name: 'predict 1.0', y: 0.1667 }],
//     }],
//   });
//   writeFileSync('loss.svg', svg);

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b'];

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (v) => (Math.round(v * 100) / 100).toString();

/** Ticks at 1, 2, 5 × 10^k covering [lo, hi], about `count` of them. */
function linearTicks(lo, hi, count = 5) {
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return ticks;
}

/** Powers of ten in [lo, hi] (both > 0); adds 2× and 5× when there are few decades. */
function logTicks(lo, hi) {
  const ticks = [];
  const a = Math.floor(Math.log10(lo)), b = Math.ceil(Math.log10(hi));
  const mults = b - a <= 2 ? [1, 2, 5] : [1];
  for (let k = a; k <= b; k++) for (const m of mults) {
    const v = m * 10 ** k;
    if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) ticks.push(v);
  }
  return ticks;
}

function fmtTick(v, log) {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (log || a < 1e-3 || a >= 1e5) {
    const k = Math.floor(Math.log10(a) + 1e-9), m = v / 10 ** k;
    return Math.abs(m - 1) < 1e-9 ? `1e${k}` : `${Number(m.toFixed(1))}e${k}`;
  }
  return Number(v.toPrecision(4)).toString();
}

function panelSvg(p, x0, y0, w, h, colorOf) {
  const m = { left: 64, right: 14, top: 30, bottom: 44 };
  const pw = w - m.left - m.right, ph = h - m.top - m.bottom;
  const logY = p.logY === true;
  const series = p.series ?? [], baselines = p.baselines ?? [];
  const xs = [], ys = [];
  for (const s of series) for (const [x, y] of s.points) {
    if (!Number.isFinite(x) || !Number.isFinite(y) || (logY && y <= 0)) continue;
    xs.push(x); ys.push(y);
  }
  for (const b of baselines) if (!logY || b.y > 0) ys.push(b.y);
  let xMin = Math.min(p.xMin ?? Infinity, ...xs), xMax = Math.max(...xs);
  if (!(xMax > xMin)) { xMin = Number.isFinite(xMin) ? xMin - 1 : 0; xMax = xMin + 2; }
  let yMin = Math.min(...ys), yMax = Math.max(...ys);
  if (!Number.isFinite(yMin)) { yMin = logY ? 0.1 : 0; yMax = 1; }
  if (logY) {
    yMin = 10 ** Math.floor(Math.log10(yMin)); yMax = 10 ** Math.ceil(Math.log10(yMax));
    if (yMax <= yMin) yMax = yMin * 10;
  } else {
    const pad = (yMax - yMin) * 0.05 || 1;
    yMin = p.yFromZero ? Math.min(0, yMin) : yMin - pad; yMax += pad;
  }
  const fy = logY ? Math.log10 : (v) => v;
  const sx = (x) => x0 + m.left + ((x - xMin) / (xMax - xMin)) * pw;
  const sy = (y) => y0 + m.top + ph - ((fy(y) - fy(yMin)) / (fy(yMax) - fy(yMin))) * ph;
  const out = [];
  out.push(`<g class="panel">`);
  out.push(`<text x="${num(x0 + m.left + pw / 2)}" y="${num(y0 + 18)}" text-anchor="middle" font-size="14" font-weight="bold">${esc(p.title ?? '')}</text>`);
  out.push(`<rect x="${num(x0 + m.left)}" y="${num(y0 + m.top)}" width="${num(pw)}" height="${num(ph)}" fill="#fff" stroke="#333"/>`);
  // Grid and tick labels.
  for (const t of logY ? logTicks(yMin, yMax) : linearTicks(yMin, yMax)) {
    const y = sy(t);
    out.push(`<line x1="${num(x0 + m.left)}" x2="${num(x0 + m.left + pw)}" y1="${num(y)}" y2="${num(y)}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${num(x0 + m.left - 6)}" y="${num(y + 4)}" text-anchor="end" font-size="11">${esc(fmtTick(t, logY))}</text>`);
  }
  for (const t of linearTicks(xMin, xMax, 6)) {
    const x = sx(t);
    out.push(`<line x1="${num(x)}" x2="${num(x)}" y1="${num(y0 + m.top)}" y2="${num(y0 + m.top + ph)}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${num(x)}" y="${num(y0 + m.top + ph + 16)}" text-anchor="middle" font-size="11">${esc(fmtTick(t, false))}</text>`);
  }
  out.push(`<rect x="${num(x0 + m.left)}" y="${num(y0 + m.top)}" width="${num(pw)}" height="${num(ph)}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${num(x0 + m.left + pw / 2)}" y="${num(y0 + h - 8)}" text-anchor="middle" font-size="12">${esc(p.xLabel ?? '')}</text>`);
  out.push(`<text transform="translate(${num(x0 + 16)},${num(y0 + m.top + ph / 2)}) rotate(-90)" text-anchor="middle" font-size="12">${esc(p.yLabel ?? '')}${logY ? ' (log scale)' : ''}</text>`);
  // Data, clipped to the plot area.
  const clip = `clip${Math.round(x0)}_${Math.round(y0)}`;
  out.push(`<clipPath id="${clip}"><rect x="${num(x0 + m.left)}" y="${num(y0 + m.top)}" width="${num(pw)}" height="${num(ph)}"/></clipPath>`);
  out.push(`<g clip-path="url(#${clip})">`);
  const legend = [];
  for (const b of baselines) {
    if (logY && !(b.y > 0)) continue;
    const c = b.color ?? '#777';
    out.push(`<line x1="${num(x0 + m.left)}" x2="${num(x0 + m.left + pw)}" y1="${num(sy(b.y))}" y2="${num(sy(b.y))}" stroke="${c}" stroke-width="1.5" stroke-dasharray="6 4"/>`);
    legend.push({ name: b.name, color: c, dashed: true });
  }
  for (const s of series) {
    const c = s.color ?? colorOf(s.name);
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!logY || y > 0));
    if (s.markers) {
      for (const [x, y] of pts) out.push(`<circle cx="${num(sx(x))}" cy="${num(sy(y))}" r="3.2" fill="${c}"/>`);
      if (pts.length > 1) out.push(`<polyline fill="none" stroke="${c}" stroke-width="1.2" stroke-dasharray="2 3" points="${pts.map(([x, y]) => `${num(sx(x))},${num(sy(y))}`).join(' ')}"/>`);
    } else {
      out.push(`<polyline fill="none" stroke="${c}" stroke-width="1.8" stroke-linejoin="round" points="${pts.map(([x, y]) => `${num(sx(x))},${num(sy(y))}`).join(' ')}"/>`);
    }
    legend.push({ name: s.name, color: c, markers: s.markers });
  }
  out.push(`</g>`);
  // Legend inside the plot, in the candidate spot that covers the fewest data points and baselines.
  const lw = Math.max(...legend.map((l) => l.name.length), 4) * 6.6 + 40, lh = legend.length * 17 + 8;
  const L = x0 + m.left + 8, R = x0 + m.left + pw - lw - 8, Tp = y0 + m.top + 8, Bt = y0 + m.top + ph - lh - 8, Mid = y0 + m.top + (ph - lh) / 2;
  const spots = [[R, Tp], [L, Tp], [R, Bt], [L, Bt], [R, Mid], [L, Mid]];
  for (const x of [R, L, (L + R) / 2]) for (let y = Tp; y <= Bt; y += 6) spots.push([x, y]);
  const screenPts = [];
  for (const s of series) {
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!logY || y > 0)).map(([x, y]) => [sx(x), sy(y)]);
    for (let i = 0; i < pts.length; i++) {
      screenPts.push(pts[i]);
      if (i > 0) for (let k = 1; k < 4; k++) screenPts.push([pts[i - 1][0] + ((pts[i][0] - pts[i - 1][0]) * k) / 4, pts[i - 1][1] + ((pts[i][1] - pts[i - 1][1]) * k) / 4]);
    }
  }
  const cost = ([lx, ly]) => {
    let c = 0;
    for (const [px, py] of screenPts) if (px >= lx - 4 && px <= lx + lw + 4 && py >= ly - 4 && py <= ly + lh + 4) c++;
    for (const b of baselines) { const y = sy(b.y); if (y >= ly - 4 && y <= ly + lh + 4) c += 25; }
    return c;
  };
  let [lx, ly] = spots[0], best = Infinity;
  for (const sp of spots) { const c = cost(sp); if (c < best) { best = c; [lx, ly] = sp; } }
  out.push(`<rect x="${num(lx)}" y="${num(ly)}" width="${num(lw)}" height="${num(lh)}" fill="#fff" fill-opacity="0.9" stroke="#bbb"/>`);
  legend.forEach((l, i) => {
    const y = ly + 14 + i * 17;
    if (l.markers) out.push(`<circle cx="${num(lx + 19)}" cy="${num(y - 4)}" r="3.2" fill="${l.color}"/>`);
    else out.push(`<line x1="${num(lx + 8)}" x2="${num(lx + 30)}" y1="${num(y - 4)}" y2="${num(y - 4)}" stroke="${l.color}" stroke-width="${l.dashed ? 1.5 : 2}"${l.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    out.push(`<text x="${num(lx + 36)}" y="${num(y)}" font-size="11">${esc(l.name)}</text>`);
  });
  out.push(`</g>`);
  return out.join('\n');
}

/**
 * An SVG document with the panels side by side.
 * @param {{title?: string, panelWidth?: number, height?: number, panels: object[]}} spec
 *   each panel: {title, xLabel, yLabel, logY?, yFromZero?, xMin?, series: [{name, points: [[x, y]], color?, markers?}],
 *   baselines?: [{name, y, color?}]}
 */
export function lossPlotSvg(spec) {
  const pw = spec.panelWidth ?? 520, ph = spec.height ?? 380, top = spec.title ? 30 : 0;
  const W = pw * spec.panels.length, H = ph + top;
  const colors = new Map();
  const colorOf = (name) => {
    if (!colors.has(name)) colors.set(name, PALETTE[colors.size % PALETTE.length]);
    return colors.get(name);
  };
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#fafafa"/>`,
  ];
  if (spec.title) parts.push(`<text x="${W / 2}" y="21" text-anchor="middle" font-size="16" font-weight="bold">${esc(spec.title)}</text>`);
  spec.panels.forEach((p, i) => parts.push(panelSvg(p, i * pw, top, pw, ph, colorOf)));
  parts.push('</svg>\n');
  return parts.join('\n');
}

/** Averages of consecutive windows of `window` values: [[centre step, mean], ...] (steps 1-based). */
export function smoothCurve(values, window) {
  const pts = [];
  for (let i = 0; i < values.length; i += window) {
    const end = Math.min(values.length, i + window);
    let s = 0;
    for (let j = i; j < end; j++) s += values[j];
    pts.push([(i + end + 1) / 2, s / (end - i)]);
  }
  return pts;
}
