// mroute dashboard: bitrate history (what the WebSocket pushed since the
// page opened, the last WINDOW_S seconds) and its two drawings: an SVG
// sparkline for the flow list and a canvas chart with its scale for the
// flow page.  No library.

export const WINDOW_S = 300;

export class History {
  constructor() {
    this.series = new Map();     // key -> [[t_ms, value], ...]
  }

  add(key, t, value) {
    let s = this.series.get(key);
    if (!s) {
      s = [];
      this.series.set(key, s);
    }
    s.push([t, value]);
    const cut = t - WINDOW_S * 1000;
    while (s.length && s[0][0] < cut)
      s.shift();
  }

  get(key) {
    return this.series.get(key) || [];
  }

  dropFlow(flowId) {
    for (const k of [...this.series.keys()])
      if (k.startsWith(flowId + '/'))
        this.series.delete(k);
  }
}

const SVG_NS = 'http://www.w3.org/2000/svg';

// The time the x axis spans, in seconds: what there is, from one minute
// (a page just opened does not squeeze its first seconds into a corner)
// to WINDOW_S
function spanOf(points, now) {
  if (!points.length)
    return 60;
  return Math.min(WINDOW_S, Math.max(60, (now - points[0][0]) / 1000));
}

function spanLabel(span) {
  return span >= 120 ? `-${Math.round(span / 60)} min` : `-${Math.round(span)} s`;
}

// An SVG sparkline of @points over the last WINDOW_S seconds (at most)
export function sparkline(points, width = 140, height = 28) {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('width', width);
  svg.setAttribute('height', height);
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  const base = document.createElementNS(SVG_NS, 'line');
  base.setAttribute('x1', 0);
  base.setAttribute('x2', width);
  base.setAttribute('y1', height - 0.5);
  base.setAttribute('y2', height - 0.5);
  base.setAttribute('class', 'spark-base');
  svg.append(base);
  if (!points.length)
    return svg;
  const now = Date.now();
  const span = spanOf(points, now);
  const max = Math.max(1, ...points.map((p) => p[1]));
  const xy = points.map(([t, v]) => {
    const x = width - ((now - t) / (span * 1000)) * width;
    const y = height - 2 - (v / max) * (height - 4);
    return `${x.toFixed(1)},${y.toFixed(1)}`;
  });
  const area = document.createElementNS(SVG_NS, 'polygon');
  area.setAttribute('points', `${xy[0].split(',')[0]},${height} ${xy.join(' ')} ${xy[xy.length - 1].split(',')[0]},${height}`);
  area.setAttribute('class', 'spark-area');
  const line = document.createElementNS(SVG_NS, 'polyline');
  line.setAttribute('points', xy.join(' '));
  line.setAttribute('class', 'spark-line');
  svg.append(area, line);
  return svg;
}

function niceMax(v) {
  if (v <= 0)
    return 100;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10])
    if (m * p >= v)
      return m * p;
  return 10 * p;
}

export function formatKbps(kbps) {
  if (kbps >= 1000)
    return (kbps / 1000).toFixed(kbps >= 10000 ? 0 : 1) + ' Mb/s';
  return Math.round(kbps) + ' kb/s';
}

// Draws @points (kb/s) on @canvas: the last WINDOW_S seconds (at most), a scale
// rounded up to 1, 2, 2.5 or 5 times a power of ten
export function drawChart(canvas, points) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 300;
  const h = canvas.clientHeight || 90;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  const style = getComputedStyle(canvas);
  const fg = style.getPropertyValue('--chart-line').trim() || '#3b82f6';
  const grid = style.getPropertyValue('--chart-grid').trim() || '#e5e7eb';
  const text = style.getPropertyValue('--chart-text').trim() || '#6b7280';
  const left = 62, top = 6, bottom = 16;
  const pw = w - left - 4, ph = h - top - bottom;
  const max = niceMax(Math.max(0, ...points.map((p) => p[1])) * 1.1);
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = text;
  ctx.strokeStyle = grid;
  ctx.lineWidth = 1;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (let i = 0; i <= 2; i++) {
    const y = top + ph - (ph * i) / 2;
    ctx.beginPath();
    ctx.moveTo(left, Math.round(y) + 0.5);
    ctx.lineTo(left + pw, Math.round(y) + 0.5);
    ctx.stroke();
    ctx.fillText(formatKbps((max * i) / 2), left - 6, y);
  }
  ctx.textAlign = 'left';
  ctx.textBaseline = 'alphabetic';
  const now = Date.now();
  const span = spanOf(points, now);
  ctx.fillText(spanLabel(span), left, h - 3);
  ctx.textAlign = 'right';
  ctx.fillText('now', left + pw, h - 3);
  if (!points.length)
    return;
  ctx.beginPath();
  points.forEach(([t, v], i) => {
    const x = left + pw - ((now - t) / (span * 1000)) * pw;
    const y = top + ph - (v / max) * ph;
    if (i === 0)
      ctx.moveTo(x, y);
    else
      ctx.lineTo(x, y);
  });
  ctx.strokeStyle = fg;
  ctx.lineWidth = 1.6;
  ctx.stroke();
}
