#!/usr/bin/env node
// Draws a captured trace (scripts/capture-demo-trace.mjs) as a waterfall, the way a trace view
// shows it: one row per span, indented under its parent, a bar from start to end on a common
// time axis (an instant span as a diamond). Writes SVG; librsvg makes the PNG (Debian's
// librsvg2-bin; ImageMagick's own SVG renderer misplaces <tspan>s):
//
//   node scripts/render-trace.mjs docs/images/broker-hop-trace.json /tmp/trace.svg
//   rsvg-convert -z 1.15 -b white -o docs/images/broker-hop-trace.png /tmp/trace.svg
import { readFileSync, writeFileSync } from 'node:fs';

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: render-trace.mjs TRACE.json OUT.svg');
  process.exit(64);
}
const { captured, spans } = JSON.parse(readFileSync(input, 'utf8'));
const ns = (v) => BigInt(v);
const t0 = spans.reduce((m, s) => (ns(s.startTimeUnixNano) < m ? ns(s.startTimeUnixNano) : m), ns(spans[0].startTimeUnixNano));
const t1 = spans.reduce((m, s) => (ns(s.endTimeUnixNano) > m ? ns(s.endTimeUnixNano) : m), t0);
const ms = (v) => Number(ns(v) - t0) / 1e6;
const totalMs = Math.max(1, Number(t1 - t0) / 1e6);

// Depth-first from the root (the span whose parent is not in the trace), children by start time.
const byId = new Map(spans.map((s) => [s.spanId, s]));
const children = new Map();
for (const s of spans) {
  const p = byId.has(s.parentSpanId) ? s.parentSpanId : '';
  children.set(p, [...(children.get(p) ?? []), s]);
}
const rows = [];
const walk = (parent, depth) => {
  for (const s of (children.get(parent) ?? []).sort((a, b) => Number(ns(a.startTimeUnixNano) - ns(b.startTimeUnixNano)))) {
    rows.push({ s, depth });
    walk(s.spanId, depth + 1);
  }
};
walk('', 0);

const KIND = { 1: 'internal', 2: 'server', 3: 'client', 4: 'producer', 5: 'consumer' };
const COLORS = { vernemq: '#e8590c', 'mqtt-demo-app': '#1c7ed6' };
const esc = (t) => String(t).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (v) => (v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3));

const W = 1400;
const labelW = 560;
const barX = labelW + 20;
const barW = W - barX - 170;
const rowH = 46;
const top = 96;
const H = top + rows.length * rowH + 70;
const x = (v) => barX + (v / totalMs) * barW;

const out = [];
out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Arial, sans-serif">`);
out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
out.push(`<text x="20" y="32" font-size="20" font-weight="bold">Trace ${esc(spans[0].traceId)}: publisher → broker receipt → deliveries → processing</text>`);
out.push(`<text x="20" y="58" font-size="13" fill="#555">${esc(`${spans.length} spans from OTLP captured ${captured.slice(0, 16).replace('T', ' ')} UTC: the demo app (blue) and two sidecars, one per broker node (orange); times relative to the trace start`)}</text>`);
// Time axis.
const step = [0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500].find((s) => totalMs / s <= 8) ?? 1000;
for (let v = 0; v <= totalMs + 1e-9; v += step) {
  out.push(`<line x1="${x(v)}" y1="${top - 14}" x2="${x(v)}" y2="${H - 50}" stroke="#e9ecef"/>`);
  out.push(`<text x="${x(v)}" y="${top - 20}" font-size="12" fill="#666" text-anchor="middle">${fmt(v)} ms</text>`);
}
rows.forEach(({ s, depth }, i) => {
  const y = top + i * rowH;
  const service = s.resource['service.name'];
  const node = s.resource['service.instance.id'];
  const color = COLORS[service] ?? '#495057';
  if (i % 2 === 1) out.push(`<rect x="0" y="${y - 4}" width="${W}" height="${rowH}" fill="#f8f9fa"/>`);
  const lx = 20 + depth * 22;
  if (depth > 0) out.push(`<path d="M${lx - 14} ${y + 2} v12 h9" fill="none" stroke="#adb5bd"/>`);
  out.push(`<text x="${lx}" y="${y + 15}" font-size="14"><tspan font-weight="bold" fill="${color}">${esc(service)}${node ? ` (${esc(node)})` : ''}</tspan> ${esc(s.name)}</text>`);
  const who = s.attributes['messaging.client.id'];
  const details = [KIND[s.kind] ?? '', who ? `client ${who}` : '', s.attributes['vmq_sidecar.receipt_time_known'] === false ? 'receipt time unknown here' : '', s.events.length > 0 ? s.events.map((e) => e.name).join(', ') : '']
    .filter((d) => d !== '')
    .join(' · ');
  out.push(`<text x="${lx}" y="${y + 33}" font-size="12" fill="#666">${esc(details)}</text>`);
  const a = ms(s.startTimeUnixNano);
  const b = ms(s.endTimeUnixNano);
  const dur = b - a;
  if (dur <= 0) {
    const cx = x(a);
    out.push(`<path d="M${cx} ${y + 4} l9 9 l-9 9 l-9 -9 z" fill="${color}"/>`);
  } else {
    out.push(`<rect x="${x(a)}" y="${y + 4}" width="${Math.max(2, x(b) - x(a))}" height="18" rx="3" fill="${color}"/>`);
  }
  for (const e of s.events) {
    const ex = x(ms(e.timeUnixNano));
    out.push(`<line x1="${ex}" y1="${y + 1}" x2="${ex}" y2="${y + 25}" stroke="#212529" stroke-width="2"/>`);
  }
  out.push(`<text x="${x(Math.max(a, b)) + 14}" y="${y + 18}" font-size="13">${dur <= 0 ? 'instant' : `${fmt(dur)} ms`}</text>`);
});
out.push(`<text x="20" y="${H - 20}" font-size="12" fill="#666">Bars: span start to end; diamond: an instant span; black tick: the on_delivery_complete event. Drawn by scripts/render-trace.mjs.</text>`);
out.push('</svg>');
writeFileSync(output, out.join('\n') + '\n');
console.log(`wrote ${output}: ${rows.length} rows over ${fmt(totalMs)} ms`);
