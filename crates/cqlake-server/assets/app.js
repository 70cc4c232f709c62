// cqlake's dashboard: one page, the view and its filters in the URL, data from /api/views.
'use strict';

const COLORS = { good: '#486581', poor: '#c2410c', unclassified: '#bcccdc', line: '#1f2933', muted: '#9aa5b1' };
const KIND_NAMES = { audio: 'audio', video: 'video', vbss: 'screen sharing (VBSS)', appsharing: 'app sharing' };
const FILTERS = ['from', 'to', 'kind', 'grain', 'rules', 'call'];

// The pages: each a list of panels (a view of the API, how to chart it, and fixed parameters).
const PAGES = {
  '/': { title: 'Overview', panels: [
    { view: 'quality', chart: 'quality', params: { kind: 'audio' } },
    { view: 'reliability', chart: 'reliability' },
    { view: 'networks', chart: 'networks', params: { kind: 'audio' } },
    { view: 'feedback', chart: 'feedback' },
  ] },
  '/quality': { title: 'Quality', panels: [
    { view: 'quality', chart: 'quality', params: { kind: 'audio' } },
    { view: 'quality', chart: 'quality', params: { kind: 'video' } },
    { view: 'quality', chart: 'quality', params: { kind: 'vbss' } },
    { view: 'quality', chart: 'quality', params: { kind: 'appsharing' } },
  ] },
  '/reliability': { title: 'Reliability', panels: [
    { view: 'reliability', chart: 'reliability' },
  ] },
  '/networks': { title: 'Networks', panels: [
    { view: 'networks', chart: 'networks', params: { kind: 'audio' } },
    { view: 'networks', chart: 'networks', params: { kind: 'video' } },
  ] },
  '/feedback': { title: 'Feedback', panels: [
    { view: 'feedback', chart: 'feedback' },
  ] },
};

// Ratings from best to worst, with their colours (poor and bad in the accent colour's family).
const RATINGS = [['excellent', '#334e68'], ['good', '#627d98'], ['fair', '#bcccdc'], ['poor', '#f0a47a'], ['bad', '#c2410c']];
const EMPTY = { quality: 'streams', reliability: 'sessions', networks: 'classified streams', feedback: 'ratings' };

// Targets of the QoE review guide, drawn as dashed lines.
const TARGETS = {
  quality: [{ value: 0.02, name: 'target inside 2 %' }, { value: 0.03, name: 'target overall 3 %' }],
  setup: [{ value: 0.005, name: 'setup target inside 0.5 %' }, { value: 0.01, name: 'setup target overall 1 %' }],
  drop: [{ value: 0.02, name: 'drop target inside 2 %' }, { value: 0.03, name: 'drop target overall 3 %' }],
};

const charts = [];

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v; else if (k.startsWith('data-')) e.setAttribute(k, v); else e[k] = v;
  }
  for (const c of children) e.append(c);
  return e;
}

const pct = (v) => (v === null || v === undefined ? '–' : (v * 100).toFixed(1) + ' %');
const count = (v) => (v === null || v === undefined ? '–' : Number(v).toLocaleString('en-US'));
const isRate = (col) => col.endsWith('_rate');

function currentFilters() {
  const q = new URLSearchParams(location.search);
  const f = {};
  for (const k of FILTERS) if (q.get(k)) f[k] = q.get(k);
  return f;
}

function go(filters, path) {
  const q = new URLSearchParams();
  for (const k of FILTERS) if (filters[k]) q.set(k, filters[k]);
  const url = (path || location.pathname) + (q.toString() ? '?' + q : '');
  history.pushState(null, '', url);
  render();
}

function describe(filters) {
  const parts = [];
  if (filters.from && filters.to) parts.push(`calls started ${filters.from} to ${filters.to}`);
  else if (filters.from) parts.push(`calls started ${filters.from} or later`);
  else if (filters.to) parts.push(`calls started up to ${filters.to}`);
  else parts.push('all calls');
  if (filters.kind) parts.push(`${KIND_NAMES[filters.kind] || filters.kind} streams`);
  if (filters.call) parts.push(`call ${filters.call}`);
  parts.push(`by ${filters.grain || 'month'}`);
  if (filters.rules) parts.push(`rules ${filters.rules}`);
  return parts.join(', ');
}

function csv(rows, cols) {
  if (!rows.length) return '';
  const cell = (v) => {
    if (v === null || v === undefined) return '';
    const s = String(v);
    return /[",\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  };
  return [cols.join(','), ...rows.map((r) => cols.map((c) => cell(r[c])).join(','))].join('\n') + '\n';
}

function table(rows, cols) {
  const head = el('tr', {}, ...cols.map((c) => el('th', { class: typeof rows[0][c] === 'number' ? 'num' : '' }, c)));
  const body = rows.map((r) => el('tr', {}, ...cols.map((c) => {
    const v = r[c];
    const shown = typeof v === 'number' ? (isRate(c) ? pct(v) : count(v)) : (v ?? '–');
    return el('td', { class: typeof v === 'number' ? 'num' : '', 'data-col': c, 'data-value': v === null || v === undefined ? '' : String(v) }, shown);
  })));
  return el('div', { class: 'tablewrap' }, el('table', {}, el('thead', {}, head), el('tbody', {}, ...body)));
}

// Targets as dashed lines; the inside target labelled at the start, the overall one at the
// end, so that two close lines keep readable labels.
function markLines(targets) {
  return {
    silent: true, symbol: 'none',
    lineStyle: { type: 'dashed', color: COLORS.muted },
    label: { formatter: (p) => p.name, color: COLORS.muted, fontSize: 10 },
    data: targets.map((t, i) => ({ yAxis: t.value, name: t.name,
      label: { position: i === 0 ? 'insideStartBottom' : 'insideEndTop' } })),
  };
}

function qualityOption(rows) {
  const x = rows.map((r) => r.period);
  const bar = (name, key, color) => ({ name, type: 'bar', stack: 'streams', data: rows.map((r) => r[key]), itemStyle: { color }, yAxisIndex: 0 });
  return {
    animation: false,
    tooltip: { trigger: 'axis', valueFormatter: undefined,
      formatter: (items) => items[0].axisValue + '<br>' + items.map((i) => `${i.marker} ${i.seriesName}: ${i.seriesName === 'poor stream rate' ? pct(i.value) : count(i.value)}`).join('<br>') },
    legend: { top: 0 },
    grid: { left: 60, right: 60, top: 36, bottom: 30 },
    xAxis: { type: 'category', data: x },
    yAxis: [
      { type: 'value', name: 'streams', axisLabel: { formatter: (v) => count(v) } },
      { type: 'value', name: 'poor rate', axisLabel: { formatter: (v) => (v * 100).toFixed(0) + ' %' }, splitLine: { show: false } },
    ],
    series: [
      bar('good', 'good', COLORS.good),
      bar('poor', 'poor', COLORS.poor),
      bar('unclassified', 'unclassified', COLORS.unclassified),
      { name: 'poor stream rate', type: 'line', yAxisIndex: 1, data: rows.map((r) => r.poor_rate), itemStyle: { color: COLORS.line }, markLine: markLines(TARGETS.quality) },
    ],
  };
}

function reliabilityOption(rows) {
  const x = rows.map((r) => r.period);
  return {
    animation: false,
    tooltip: { trigger: 'axis',
      formatter: (items) => items[0].axisValue + '<br>' + items.map((i) => `${i.marker} ${i.seriesName}: ${i.seriesName === 'sessions' ? count(i.value) : pct(i.value)}`).join('<br>') },
    legend: { top: 0 },
    grid: { left: 60, right: 60, top: 36, bottom: 30 },
    xAxis: { type: 'category', data: x },
    yAxis: [
      { type: 'value', name: 'failure rate', axisLabel: { formatter: (v) => (v * 100).toFixed(1) + ' %' } },
      { type: 'value', name: 'sessions', axisLabel: { formatter: (v) => count(v) }, splitLine: { show: false } },
    ],
    series: [
      { name: 'sessions', type: 'bar', yAxisIndex: 1, data: rows.map((r) => r.sessions), itemStyle: { color: COLORS.unclassified } },
      { name: 'setup failure rate', type: 'line', data: rows.map((r) => r.setup_failure_rate), itemStyle: { color: COLORS.poor }, markLine: markLines(TARGETS.setup) },
      { name: 'drop failure rate', type: 'line', data: rows.map((r) => r.drop_failure_rate), itemStyle: { color: COLORS.line }, lineStyle: { type: 'solid' }, markLine: markLines(TARGETS.drop) },
    ],
  };
}

function networksOption(rows) {
  const x = rows.map((r) => r.connection_type);
  const bar = (name, key, color) => ({ name, type: 'bar', stack: 'streams', data: rows.map((r) => r[key]), itemStyle: { color } });
  return {
    animation: false,
    tooltip: { trigger: 'axis',
      formatter: (items) => items[0].axisValue + '<br>' + items.map((i) => `${i.marker} ${i.seriesName}: ${i.seriesName === 'poor stream rate' ? pct(i.value) : count(i.value)}`).join('<br>') },
    legend: { top: 0 },
    grid: { left: 60, right: 60, top: 36, bottom: 30 },
    xAxis: { type: 'category', data: x },
    yAxis: [
      { type: 'value', name: 'streams', axisLabel: { formatter: (v) => count(v) } },
      { type: 'value', name: 'poor rate', axisLabel: { formatter: (v) => (v * 100).toFixed(0) + ' %' }, splitLine: { show: false } },
    ],
    series: [
      bar('good', 'good', COLORS.good),
      bar('poor', 'poor', COLORS.poor),
      { name: 'poor stream rate', type: 'line', yAxisIndex: 1, data: rows.map((r) => r.poor_rate), itemStyle: { color: COLORS.line }, markLine: markLines(TARGETS.quality) },
    ],
  };
}

// Ratings per period as stacked bars, and the share rated poor or bad as a line.
function feedbackOption(rows) {
  const periods = [...new Set(rows.map((r) => r.period))];
  const at = {};
  for (const r of rows) at[`${r.period}|${r.rating}`] = r.ratings;
  const total = periods.map((p) => RATINGS.reduce((a, [k]) => a + (at[`${p}|${k}`] || 0), 0));
  const low = periods.map((p, i) => (total[i] ? ((at[`${p}|poor`] || 0) + (at[`${p}|bad`] || 0)) / total[i] : null));
  return {
    animation: false,
    tooltip: { trigger: 'axis',
      formatter: (items) => items[0].axisValue + '<br>' + items.map((i) => `${i.marker} ${i.seriesName}: ${i.seriesName === 'rated poor or bad' ? pct(i.value) : count(i.value)}`).join('<br>') },
    legend: { top: 0 },
    grid: { left: 60, right: 60, top: 36, bottom: 30 },
    xAxis: { type: 'category', data: periods },
    yAxis: [
      { type: 'value', name: 'ratings', axisLabel: { formatter: (v) => count(v) } },
      { type: 'value', name: 'poor or bad', axisLabel: { formatter: (v) => (v * 100).toFixed(0) + ' %' }, splitLine: { show: false } },
    ],
    series: [
      ...RATINGS.map(([k, color]) => ({ name: k, type: 'bar', stack: 'ratings', data: periods.map((p) => at[`${p}|${k}`] || 0), itemStyle: { color } })),
      { name: 'rated poor or bad', type: 'line', yAxisIndex: 1, data: low, itemStyle: { color: COLORS.line } },
    ],
  };
}

const OPTIONS = { quality: qualityOption, reliability: reliabilityOption, networks: networksOption, feedback: feedbackOption };

// The headline of a panel: the whole period's rate, written as a percentage.
function headline(panel, rows) {
  const sum = (k) => rows.reduce((a, r) => a + (r[k] || 0), 0);
  if (panel.chart === 'quality') {
    const poor = sum('poor'); const classified = poor + sum('good');
    const rate = classified ? poor / classified : null;
    const target = 0.03;
    return el('p', { class: 'headline' }, 'Poor stream rate ', el('strong', { class: rate !== null && rate > target ? 'over' : '' }, pct(rate)),
      ` of ${count(classified)} classified streams (target 3 %)`);
  }
  if (panel.chart === 'networks') {
    const worst = rows.filter((r) => r.good + r.poor > 0).reduce((a, r) => (a && a.poor_rate >= r.poor_rate ? a : r), null);
    return el('p', { class: 'headline' }, 'Worst connection type ', el('strong', { class: worst && worst.poor_rate > 0.03 ? 'over' : '' }, worst ? worst.connection_type : '–'),
      ` at ${pct(worst ? worst.poor_rate : null)} poor of ${count(worst ? worst.good + worst.poor : 0)} streams`);
  }
  if (panel.chart === 'feedback') {
    const all = sum('ratings');
    const low = rows.filter((r) => r.rating === 'poor' || r.rating === 'bad').reduce((a, r) => a + r.ratings, 0);
    return el('p', { class: 'headline' }, 'Rated poor or bad ', el('strong', {}, pct(all ? low / all : null)), ` of ${count(all)} ratings`);
  }
  const n = sum('sessions'); const setup = sum('setup_failures'); const drops = sum('drops');
  return el('p', { class: 'headline' }, 'Setup failures ', el('strong', {}, pct(n ? setup / n : null)),
    ', drops ', el('strong', {}, pct(n - setup ? drops / (n - setup) : null)), ` of ${count(n)} sessions`);
}

// A click on a period drills into it: a month becomes its days, a day narrows the range to it.
function drill(period, filters) {
  const next = { ...filters };
  if ((filters.grain || 'month') === 'month') {
    const [y, m] = period.split('-').map(Number);
    const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
    next.from = period;
    next.to = `${period.slice(0, 8)}${String(last).padStart(2, '0')}`;
    next.grain = 'day';
  } else {
    next.from = period; next.to = period;
  }
  go(next);
}

async function panel(spec, filters, main) {
  const params = { ...(spec.params || {}), ...filters };
  const q = new URLSearchParams(params);
  const box = el('section', { class: 'panel', 'data-view': spec.view, 'data-kind': params.kind || '' });
  main.append(box);
  const title = el('h2', {}, '…');
  box.append(title);
  let answer;
  try {
    const r = await fetch(`/api/views/${spec.view}?${q}`);
    answer = await r.json();
    if (!r.ok) throw new Error(answer.error || r.statusText);
  } catch (e) {
    box.append(el('p', { class: 'error' }, `Could not load ${spec.view}: ${e.message}`));
    return;
  }
  title.textContent = answer.title + (params.kind ? ` — ${KIND_NAMES[params.kind] || params.kind}` : '');
  box.append(el('p', { class: 'desc' }, answer.filters));
  const rows = answer.rows;
  if (!rows.length) {
    box.append(el('div', { class: 'empty' }, `No ${EMPTY[spec.chart]} for ${describe(params)}.`));
  } else {
    box.append(headline(spec, rows));
    const div = el('div', { class: 'chart' });
    box.append(div);
    const chart = echarts.init(div, null, { renderer: 'canvas' });
    chart.setOption(OPTIONS[spec.chart](rows));
    // Trends drill by period; the networks chart has no drill yet.
    if (spec.chart !== 'networks') chart.on('click', (p) => drill(p.name, filters));
    charts.push(chart);
  }
  const tableBox = el('div', {});
  const sqlBox = el('pre', { class: 'sql', hidden: true }, answer.sql);
  const tools = el('div', { class: 'tools' });
  if (rows.length) {
    tableBox.append(table(rows, answer.columns));
    tools.append(el('button', { type: 'button', onclick: () => { tableBox.hidden = !tableBox.hidden; } }, 'Table'));
    tools.append(el('button', { type: 'button', onclick: () => {
      const a = el('a', { href: URL.createObjectURL(new Blob([csv(rows, answer.columns)], { type: 'text/csv' })), download: `${spec.view}${params.kind ? '-' + params.kind : ''}.csv` });
      a.click();
    } }, 'CSV'));
  }
  tools.append(el('button', { type: 'button', onclick: () => { sqlBox.hidden = !sqlBox.hidden; } }, 'Show SQL'));
  box.append(tools, tableBox, sqlBox);
}

async function render() {
  for (const c of charts.splice(0)) c.dispose();
  const page = PAGES[location.pathname] || PAGES['/'];
  const filters = currentFilters();
  document.title = `cqlake · ${page.title}`;
  const nav = document.getElementById('nav');
  nav.replaceChildren(...Object.entries(PAGES).map(([path, p]) => {
    const q = location.search;
    return el('a', { href: path + q, class: path === (PAGES[location.pathname] ? location.pathname : '/') ? 'active' : '' }, p.title);
  }));
  const form = document.getElementById('filters');
  for (const k of ['from', 'to', 'kind', 'grain', 'rules']) form.elements[k].value = filters[k] || (k === 'grain' ? 'month' : '');
  document.getElementById('scope').textContent = 'Showing ' + describe(filters) + '.';
  const main = document.getElementById('main');
  main.replaceChildren();
  main.setAttribute('aria-busy', 'true');
  await Promise.all(page.panels.map((p) => panel(p, filters, main)));
  main.setAttribute('aria-busy', 'false');
}

document.getElementById('filters').addEventListener('submit', (e) => {
  e.preventDefault();
  const f = currentFilters();
  const form = e.target;
  for (const k of ['from', 'to', 'kind', 'grain', 'rules']) {
    if (form.elements[k].value) f[k] = form.elements[k].value; else delete f[k];
  }
  if (f.grain === 'month') delete f.grain;
  go(f);
});
document.getElementById('nav').addEventListener('click', (e) => {
  const a = e.target.closest('a');
  if (!a) return;
  e.preventDefault();
  history.pushState(null, '', a.getAttribute('href'));
  render();
});
window.addEventListener('popstate', render);
window.addEventListener('resize', () => charts.forEach((c) => c.resize()));
render();
