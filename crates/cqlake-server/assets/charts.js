// cqlake's charts and tables: shared by the dashboard (app.js) and the HTML report files
// (report.js), on top of Apache ECharts.
'use strict';

const COLORS = { good: '#486581', poor: '#c2410c', unclassified: '#bcccdc', line: '#1f2933', muted: '#9aa5b1' };
const KIND_NAMES = { audio: 'audio', video: 'video', vbss: 'screen sharing (VBSS)', appsharing: 'app sharing' };
// The reasons a stream is poor, stacked in this order, in the accent colour's family.
const REASONS = [
  ['jitter', 'jitter', '#7c2d12'], ['packet_loss', 'packet loss', '#c2410c'], ['round_trip', 'round trip', '#ea580c'],
  ['degradation', 'degradation', '#f59e0b'], ['concealed_samples', 'concealment', '#fcd34d'],
  ['frame_loss', 'video frame loss', '#627d98'], ['frame_rate', 'video frame rate', '#9fb3c8'],
  ['post_fec_packet_loss', 'video packet loss after FEC', '#334e68'],
];
// Ratings from best to worst, with their colours (poor and bad in the accent colour's family).
const RATINGS = [['excellent', '#334e68'], ['good', '#627d98'], ['fair', '#bcccdc'], ['poor', '#f0a47a'], ['bad', '#c2410c']];
// Targets of the QoE review guide, drawn as dashed lines.
const TARGETS = {
  quality: [{ value: 0.02, name: 'target inside 2 %' }, { value: 0.03, name: 'target overall 3 %' }],
  setup: [{ value: 0.005, name: 'setup target inside 0.5 %' }, { value: 0.01, name: 'setup target overall 1 %' }],
  drop: [{ value: 0.02, name: 'drop target inside 2 %' }, { value: 0.03, name: 'drop target overall 3 %' }],
};

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v; else if (k.startsWith('data-')) e.setAttribute(k, v); else e[k] = v;
  }
  for (const c of children) e.append(c);
  return e;
}

const pct = (v) => (v === null || v === undefined ? '–' : (v * 100).toFixed(1) + ' %');
const count = (v) => (v === null || v === undefined ? '–' : Number(v).toLocaleString('en-US', { maximumFractionDigits: 2 }));
const isRate = (col) => col.endsWith('_rate');
const sum = (rows, k) => rows.reduce((a, r) => a + (r[k] || 0), 0);

function csv(rows, cols) {
  if (!rows.length) return '';
  const cell = (v) => {
    if (v === null || v === undefined) return '';
    const s = String(v);
    return /[",\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  };
  return [cols.join(','), ...rows.map((r) => cols.map((c) => cell(r[c])).join(','))].join('\n') + '\n';
}

// A cell's value in words: rates as percentages, numbers with separators.
function shown(col, v) {
  if (typeof v === 'number') return isRate(col) ? pct(v) : count(v);
  return v === null || v === undefined ? '–' : String(v);
}

// The rows as a table; `content(col, value)` makes a cell's content.
function table(rows, cols, content) {
  const head = el('tr', {}, ...cols.map((c) => el('th', { class: typeof rows[0][c] === 'number' ? 'num' : '' }, c)));
  const body = rows.map((r) => el('tr', { class: r.classification === 'poor' ? 'poor' : '' }, ...cols.map((c) => {
    const v = r[c];
    return el('td', { class: typeof v === 'number' ? 'num' : '', 'data-col': c, 'data-value': v === null || v === undefined ? '' : String(v) },
      content(c, v));
  })));
  return el('div', { class: 'tablewrap' }, el('table', {}, el('thead', {}, head), el('tbody', {}, ...body)));
}

// Targets as dashed lines; the first labelled at the start, the second at the end, so that two
// close lines keep readable labels.
function markLines(targets, horizontal) {
  return {
    silent: true, symbol: 'none',
    lineStyle: { type: 'dashed', color: COLORS.muted },
    label: { formatter: (p) => p.name, color: COLORS.muted, fontSize: 10 },
    data: targets.map((t, i) => ({ [horizontal ? 'xAxis' : 'yAxis']: t.value, name: t.name,
      label: { position: i === 0 ? 'insideStartBottom' : 'insideEndTop' } })),
  };
}

// Bars (stacked or not) over categories, and lines on a second axis: every chart of the page.
// spec: { categories, bars: [{ name, data, color, stack }], lines: [{ name, data, color, targets }],
//         barName, lineName, barRate (bars are rates), lineRate (lines are rates), horizontal,
//         skipped (leading rows not charted), note (said under the chart) }
function combo(spec) {
  const rates = new Set([...(spec.barRate ? spec.bars : []), ...(spec.lineRate !== false ? spec.lines || [] : [])].map((s) => s.name));
  const axisLabel = (rate) => ({ formatter: (v) => (rate ? `${Number((v * 100).toFixed(1))} %` : count(v)) });
  // Counts step by whole numbers.
  const valueAxis = (name, rate, extra) => ({ type: 'value', name, axisLabel: axisLabel(rate), minInterval: rate ? 0 : 1, ...extra });
  const valueAxes = [valueAxis(spec.barName, spec.barRate)];
  if ((spec.lines || []).length) valueAxes.push(valueAxis(spec.lineName, spec.lineRate !== false, { splitLine: { show: false } }));
  // Many or long names under vertical bars: every one shown, slanted and cut to a width.
  const slanted = !spec.horizontal && spec.categories.length > 1
    && spec.categories.some((c) => String(c).length > (spec.categories.length > 10 ? 4 : spec.categories.length > 3 ? 10 : 14));
  const category = { type: 'category', data: spec.categories, inverse: !!spec.horizontal,
    axisLabel: spec.horizontal ? { width: 170, overflow: 'truncate' }
      : slanted ? { interval: spec.categories.length > 40 ? 'auto' : 0, rotate: 30, width: 120, overflow: 'truncate', hideOverlap: true }
        : { hideOverlap: true } };
  const h = spec.horizontal;
  const series = [
    ...spec.bars.map((b) => ({ name: b.name, type: 'bar', stack: b.stack, data: b.data, itemStyle: { color: b.color },
      [h ? 'xAxisIndex' : 'yAxisIndex']: 0, barMaxWidth: 36, markLine: b.targets ? markLines(b.targets, h) : undefined })),
    ...(spec.lines || []).map((l) => ({ name: l.name, type: 'line', data: l.data, itemStyle: { color: l.color },
      [h ? 'xAxisIndex' : 'yAxisIndex']: 1, markLine: l.targets ? markLines(l.targets, h) : undefined })),
  ];
  return {
    animation: false,
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' },
      formatter: (items) => items[0].axisValue + '<br>' + items.map((i) => `${i.marker} ${i.seriesName}: ${rates.has(i.seriesName) ? pct(i.value) : count(i.value)}`).join('<br>') },
    legend: { top: 0, type: 'scroll' },
    grid: { left: h ? 190 : 60, right: 60, top: 40, bottom: slanted ? 90 : 30 },
    xAxis: h ? valueAxes : category,
    yAxis: h ? category : valueAxes,
    series,
  };
}

// A first row of no known place or thing ("(unknown)") that dwarfs the rest (more than five
// times the next by `size`) is left to the table: the chart keeps the others readable and says so.
function undwarfed(rows, label, size, what) {
  const rest = rows.slice(1);
  if (!rest.length || !String(rows[0][label]).startsWith('(') || size(rows[0]) <= 5 * Math.max(...rest.map(size))) {
    return { rows, skipped: 0 };
  }
  return { rows: rest, skipped: 1, note: `${rows[0][label]}: ${count(size(rows[0]))} ${what}, in the table but not the chart, where it would dwarf the rest.` };
}

const goodPoor = (rows) => [
  { name: 'good', data: rows.map((r) => r.good), color: COLORS.good, stack: 'streams' },
  { name: 'poor', data: rows.map((r) => r.poor), color: COLORS.poor, stack: 'streams' },
];
const poorRateLine = (rows, targets) => ({ name: 'poor stream rate', data: rows.map((r) => r.poor_rate), color: COLORS.line, targets: targets ? TARGETS.quality : undefined });

// How each chart kind turns rows into a combo spec; `p` is the panel.
const CHARTS = {
  quality: (rows) => ({
    categories: rows.map((r) => r.period), barName: 'streams', lineName: 'poor rate',
    bars: [...goodPoor(rows), { name: 'unclassified', data: rows.map((r) => r.unclassified), color: COLORS.unclassified, stack: 'streams' }],
    lines: [poorRateLine(rows, true)],
  }),
  reliability: (rows) => ({
    categories: rows.map((r) => r.period), barName: 'failure rate', lineName: 'sessions', lineRate: false, barRate: true,
    bars: [
      { name: 'setup failure rate', data: rows.map((r) => r.setup_failure_rate), color: COLORS.poor, targets: TARGETS.setup },
      { name: 'drop failure rate', data: rows.map((r) => r.drop_failure_rate), color: COLORS.line, targets: TARGETS.drop },
    ],
    lines: [{ name: 'sessions', data: rows.map((r) => r.sessions), color: COLORS.muted }],
  }),
  rates: (all, p, cols) => {
    const label = p.label || cols[0];
    const streamsOf = (r) => (r.good !== undefined ? r.good + r.poor : r.streams);
    const { rows, skipped, note } = undwarfed(all, label, streamsOf, 'streams');
    return { categories: rows.map((r) => r[label]), barName: 'streams', lineName: 'poor rate', horizontal: rows.length > 6, skipped, note,
      bars: rows[0].good !== undefined ? goodPoor(rows)
        : [{ name: 'good', data: rows.map((r) => r.streams - r.poor), color: COLORS.good, stack: 's' }, { name: 'poor', data: rows.map((r) => r.poor), color: COLORS.poor, stack: 's' }],
      lines: [poorRateLine(rows, p.targets || p.view === 'networks')] };
  },
  reasons: (all, p) => {
    const name = (r) => (p.name && r[p.name] ? `${r[p.name]}` : String(r[p.label]));
    const poorOf = (r) => (r.poor !== undefined ? r.poor : REASONS.reduce((a, [k]) => a + (r[`due_to_${k}`] || 0), 0));
    const { rows, skipped, note } = undwarfed(all, p.label, poorOf, 'poor streams');
    const shown = REASONS.filter(([k]) => rows.some((r) => r[`due_to_${k}`] > 0));
    return { categories: rows.map(name), barName: 'poor streams, by reason', horizontal: true,
      bars: (shown.length ? shown : REASONS.slice(0, 1)).map(([k, words, color]) => ({ name: words, data: rows.map((r) => r[`due_to_${k}`]), color, stack: 'reasons' })),
      lines: [], skipped, note };
  },
  feedback: (rows) => {
    const periods = [...new Set(rows.map((r) => r.period))];
    const at = {};
    for (const r of rows) at[`${r.period}|${r.rating}`] = r.ratings;
    const total = periods.map((x) => RATINGS.reduce((a, [k]) => a + (at[`${x}|${k}`] || 0), 0));
    return { categories: periods, barName: 'ratings', lineName: 'poor or bad',
      bars: RATINGS.map(([k, color]) => ({ name: k, data: periods.map((x) => at[`${x}|${k}`] || 0), color, stack: 'ratings' })),
      lines: [{ name: 'rated poor or bad', color: COLORS.line,
        data: periods.map((x, i) => (total[i] ? ((at[`${x}|poor`] || 0) + (at[`${x}|bad`] || 0)) / total[i] : null)) }] };
  },
  bars: (rows, p) => ({ categories: rows.map((r) => String(r[p.label])), barName: p.value, horizontal: !p.vertical,
    bars: [{ name: p.value, data: rows.map((r) => r[p.value]), color: COLORS.good }], lines: [] }),
  usage: (rows) => ({ categories: rows.map((r) => r.period), barName: 'calls', lineName: 'minutes', lineRate: false,
    bars: [['audio_calls', 'with audio', COLORS.good], ['video_calls', 'with video', '#9fb3c8'], ['screen_sharing_calls', 'with screen sharing', COLORS.unclassified]]
      .map(([k, name, color]) => ({ name, data: rows.map((r) => r[k]), color })),
    lines: [{ name: 'minutes', data: rows.map((r) => r.minutes), color: COLORS.line }] }),
  pstn: (rows) => {
    const periods = [...new Set(rows.map((r) => r.period))];
    const currencies = [...new Set(rows.map((r) => r.currency))];
    const at = (x, c, k) => (rows.find((r) => r.period === x && r.currency === c) || {})[k] || 0;
    return { categories: periods, barName: 'minutes', lineName: 'charge', lineRate: false,
      bars: [{ name: 'minutes', data: periods.map((x) => currencies.reduce((a, c) => a + at(x, c, 'minutes'), 0)), color: COLORS.good }],
      lines: currencies.map((c, i) => ({ name: `charge (${c})`, data: periods.map((x) => at(x, c, 'charge')), color: i ? COLORS.muted : COLORS.poor })) };
  },
  trunks: (rows) => ({ categories: rows.map((r) => r.trunk), barName: 'calls', lineName: 'success rate', horizontal: rows.length > 6,
    bars: [{ name: 'successful', data: rows.map((r) => r.successful), color: COLORS.good, stack: 'c' },
      { name: 'failed', data: rows.map((r) => r.calls - r.successful), color: COLORS.poor, stack: 'c' }],
    lines: [{ name: 'success rate', data: rows.map((r) => r.success_rate), color: COLORS.line }] }),
};

// The headline of a panel: the whole period's rate, written as a percentage.
function headline(p, rows) {
  const strong = (text, over) => el('strong', { class: over ? 'over' : '' }, text);
  if (p.chart === 'quality') {
    const poor = sum(rows, 'poor'); const classified = poor + sum(rows, 'good');
    const rate = classified ? poor / classified : null;
    return el('p', { class: 'headline' }, 'Poor stream rate ', strong(pct(rate), rate > 0.03), ` of ${count(classified)} classified streams (target 3 %)`);
  }
  if (p.chart === 'rates' && rows[0].good !== undefined) {
    const label = p.label || Object.keys(rows[0])[0];
    const worst = rows.filter((r) => r.good + r.poor > 0).reduce((a, r) => (a && a.poor_rate >= r.poor_rate ? a : r), null);
    return el('p', { class: 'headline' }, 'Worst ', strong(worst ? String(worst[label]) : '–', worst && worst.poor_rate > 0.03),
      ` at ${pct(worst ? worst.poor_rate : null)} poor of ${count(worst ? worst.good + worst.poor : 0)} streams`);
  }
  if (p.chart === 'feedback') {
    const all = sum(rows, 'ratings');
    const low = rows.filter((r) => r.rating === 'poor' || r.rating === 'bad').reduce((a, r) => a + r.ratings, 0);
    return el('p', { class: 'headline' }, 'Rated poor or bad ', strong(pct(all ? low / all : null)), ` of ${count(all)} ratings`);
  }
  if (p.chart === 'reliability') {
    const n = sum(rows, 'sessions'); const setup = sum(rows, 'setup_failures'); const drops = sum(rows, 'drops');
    return el('p', { class: 'headline' }, 'Setup failures ', strong(pct(n ? setup / n : null)),
      ', drops ', strong(pct(n - setup ? drops / (n - setup) : null)), ` of ${count(n)} sessions`);
  }
  if (p.chart === 'reasons' && rows[0].poor !== undefined) {
    const poor = sum(rows, 'poor'); const all = poor + sum(rows, rows[0].good !== undefined ? 'good' : 'streams') - (rows[0].good !== undefined ? 0 : poor);
    return el('p', { class: 'headline' }, 'Poor ', strong(pct(all ? poor / all : null), all && poor / all > 0.03), ` of ${count(all)} classified streams here`);
  }
  if (p.chart === 'usage') return el('p', { class: 'headline' }, strong(count(sum(rows, 'calls'))), ' calls, ', strong(count(sum(rows, 'minutes'))), ' minutes');
  if (p.chart === 'trunks') {
    const calls = sum(rows, 'calls'); const ok = sum(rows, 'successful');
    return el('p', { class: 'headline' }, 'Success rate ', strong(pct(calls ? ok / calls : null), calls && ok / calls < 0.99), ` of ${count(calls)} calls`);
  }
  return null;
}

