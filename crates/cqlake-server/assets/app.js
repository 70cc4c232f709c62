// cqlake's dashboard: one page, the view and its filters in the URL, data from /api/views.
'use strict';

// Every filter the URL can carry, in the order the scope line names them.
const FILTERS = ['from', 'to', 'kind', 'grain', 'rules', 'building', 'subnet', 'network', 'client', 'user', 'call'];
// A breakdown's dimension that is also a filter: a click on its bar narrows to it.
const DIMENSION_FILTERS = { connection_type: 'network', platform: 'client', subnet: 'subnet' };

// The drill of poor streams: building → subnet → user → call → its streams.
function drillLevel(f, info) {
  if (f.call) return { view: 'call-streams', chart: 'table' };
  if (f.user) return { view: 'poor-calls', chart: 'reasons', label: 'call_id', next: 'call' };
  if (f.subnet) return { view: 'poor-users', chart: 'reasons', label: 'user_id', name: 'display_name', next: 'user' };
  if (f.building || !info.buildings) return { view: 'poor-subnets', chart: 'reasons', label: 'subnet', next: 'subnet' };
  return { view: 'poor-buildings', chart: 'reasons', label: 'building', next: 'building' };
}

const breakdown = (by, extra) => ({ view: 'breakdown', chart: 'rates', params: { kind: 'audio', by, ...(extra || {}) } });

// The pages: each a list of panels (a view of the API, how to chart it, and fixed parameters).
const PAGES = {
  '/': { title: 'Overview', panels: () => [
    { view: 'quality', chart: 'quality', params: { kind: 'audio' } },
    { view: 'reliability', chart: 'reliability' },
    { view: 'networks', chart: 'rates', params: { kind: 'audio' }, label: 'connection_type', filter: 'network' },
    { view: 'feedback', chart: 'feedback' },
  ] },
  '/quality': { title: 'Quality', panels: () => ['audio', 'video', 'vbss', 'appsharing'].map((kind) => (
    { view: 'quality', chart: 'quality', params: { kind } })) },
  '/reliability': { title: 'Reliability', panels: () => [{ view: 'reliability', chart: 'reliability' }] },
  '/poor': { title: 'Poor streams', panels: (f, info) => {
    const level = drillLevel(f, info);
    return [{ ...level, params: { kind: 'audio' }, wide: true }];
  } },
  '/networks': { title: 'Networks', panels: () => [
    { view: 'scenarios', chart: 'rates', params: { kind: 'audio' }, label: 'scenario', targets: true },
    { view: 'networks', chart: 'rates', params: { kind: 'audio' }, label: 'connection_type', filter: 'network' },
    breakdown('wifi_band'), breakdown('wifi_radio_type'), breakdown('wifi_driver'),
    { view: 'networks', chart: 'rates', params: { kind: 'video' }, label: 'connection_type', filter: 'network' },
  ] },
  '/clients': { title: 'Clients', panels: () => [breakdown('platform'), breakdown('product_family'), breakdown('client_version')] },
  '/devices': { title: 'Devices', panels: () => [breakdown('capture_device'), breakdown('capture_driver'), breakdown('render_device')] },
  '/feedback': { title: 'Feedback', panels: () => [
    { view: 'feedback', chart: 'feedback' },
    { view: 'feedback-tokens', chart: 'bars', label: 'token', value: 'reports' },
    { view: 'feedback-measured', chart: 'rates', label: 'rating' },
  ] },
  '/usage': { title: 'Usage', panels: () => [
    { view: 'usage', chart: 'usage', wide: true },
    { view: 'usage-hours', chart: 'bars', label: 'hour', value: 'calls', vertical: true },
  ] },
  '/pstn': { title: 'PSTN', panels: () => [
    { view: 'pstn', chart: 'pstn', wide: true },
    { view: 'trunks', chart: 'trunks' },
    { view: 'sip-codes', chart: 'bars', label: 'sip_code', value: 'calls' },
  ] },
  '/user': { title: 'User', panels: (f) => (f.user ? [
    { view: 'user-calls', chart: 'reasons', label: 'call_id', next: 'meeting', wide: true },
    breakdown('connection_type'), breakdown('subnet'), breakdown('capture_device'), breakdown('client_version'),
  ] : [{ view: 'user-search', chart: 'table', wide: true, search: true }]) },
  '/meeting': { title: 'Meeting', panels: (f) => (f.call ? [
    { view: 'meeting', chart: 'reasons', label: 'participant', wide: true },
    { view: 'call-streams', chart: 'table', wide: true },
  ] : [{ view: 'poor-calls', chart: 'reasons', label: 'call_id', next: 'meeting', params: { kind: 'audio' }, wide: true }]) },
};

const EMPTY = { quality: 'streams', reliability: 'sessions', rates: 'classified streams', feedback: 'ratings',
  reasons: 'classified streams', table: 'rows', bars: 'rows', usage: 'calls', pstn: 'PSTN calls', trunks: 'direct-routing calls' };

const charts = [];
let info = { buildings: false, rules: 'cqd-classic' };

function currentFilters() {
  const q = new URLSearchParams(location.search);
  const f = {};
  for (const k of FILTERS) if (q.get(k)) f[k] = q.get(k);
  return f;
}

function href(filters, path) {
  const q = new URLSearchParams();
  for (const k of FILTERS) if (filters[k]) q.set(k, filters[k]);
  return (path || location.pathname) + (q.toString() ? '?' + q : '');
}

function go(filters, path) {
  history.pushState(null, '', href(filters, path));
  render();
}

// The filters in words: the scope line of every page ("subnet 10.1.2.0").
function describe(filters) {
  const parts = [];
  if (filters.from && filters.to) parts.push(`calls started ${filters.from} to ${filters.to}`);
  else if (filters.from) parts.push(`calls started ${filters.from} or later`);
  else if (filters.to) parts.push(`calls started up to ${filters.to}`);
  else parts.push('all calls');
  if (filters.kind) parts.push(`${KIND_NAMES[filters.kind] || filters.kind} streams`);
  for (const k of ['building', 'subnet', 'network', 'client', 'user', 'call']) if (filters[k]) parts.push(`${k} ${filters[k]}`);
  parts.push(`by ${filters.grain || 'month'}`);
  if (filters.rules) parts.push(`rules ${filters.rules}`);
  return parts.join(', ');
}

// A cell's content: numbers with units, ids of users and calls as links to their pages.
function cellContent(col, v, filters) {
  if (typeof v !== 'string') return shown(col, v);
  if (col === 'call_id') return el('a', { href: href({ ...filters, call: v, user: undefined }, '/meeting') }, v);
  if (col === 'user_id' && !v.startsWith('(')) return el('a', { href: href({ ...filters, user: v, call: undefined }, '/user') }, v);
  return v;
}

// A click on a period drills into it: a month becomes its days, a day narrows the range to it.
function drillPeriod(period, filters) {
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

// What a click on the bar of `row` does in panel `p`, or null when nothing.
function clickAction(p, rows, filters) {
  if (['quality', 'reliability', 'feedback', 'usage'].includes(p.chart)) return (i) => drillPeriod(rows[i].period, filters);
  if (p.chart === 'reasons' && p.next) {
    return (i) => {
      const v = rows[i][p.label];
      if (p.next === 'meeting') return go({ ...filters, call: v }, '/meeting');
      if (v === '(no user)') return undefined;
      return go({ ...filters, [p.next]: v });
    };
  }
  const filter = p.filter || (p.view === 'breakdown' && DIMENSION_FILTERS[p.params.by]);
  if (filter) {
    const label = p.label || p.params.by;
    return (i) => {
      const v = rows[i][label];
      if (v === '(unknown)' || v === 'unknown') return undefined;
      return go({ ...filters, [filter]: v }, '/poor');
    };
  }
  return null;
}

async function panel(p, filters, main) {
  const params = { ...(p.params || {}), ...filters };
  const q = new URLSearchParams(params);
  const box = el('section', { class: 'panel' + (p.wide ? ' wide' : ''), 'data-view': p.view, 'data-kind': params.kind || '', 'data-query': q.toString() });
  main.append(box);
  const title = el('h2', {}, '…');
  box.append(title);
  if (p.search) box.append(searchForm(filters));
  let answer;
  try {
    const r = await fetch(`/api/views/${p.view}?${q}`);
    answer = await r.json();
    if (!r.ok) throw new Error(answer.error || r.statusText);
  } catch (e) {
    box.append(el('p', { class: 'error' }, `Could not load ${p.view}: ${e.message}`));
    return;
  }
  title.textContent = answer.title + (params.kind && !filters.kind && answer.unused.indexOf('kind') < 0 ? ` — ${KIND_NAMES[params.kind] || params.kind}` : '');
  box.append(el('p', { class: 'desc' }, answer.filters));
  const ignored = answer.unused.filter((k) => !['grain', 'by', 'rules'].includes(k) && !(p.params && k in p.params));
  if (ignored.length) box.append(el('p', { class: 'unused' }, `Not narrowed by ${ignored.join(', ')}: this view has no such dimension.`));
  const rows = answer.rows;
  if (!rows.length) {
    box.append(el('div', { class: 'empty' }, `No ${EMPTY[p.chart]} for ${describe(params)}.`));
  } else {
    const h = headline(p, rows);
    if (h) box.append(h);
    if (CHARTS[p.chart]) {
      const spec = CHARTS[p.chart](rows, p, answer.columns);
      const div = el('div', { class: 'chart' });
      if (spec.horizontal) div.style.height = `${Math.max(240, 60 + spec.categories.length * 24)}px`;
      box.append(div);
      const chart = echarts.init(div, null, { renderer: 'canvas' });
      chart.setOption(combo(spec));
      const action = clickAction(p, rows, filters);
      if (action) {
        chart.getZr().on('click', (e) => {
          const at = [e.offsetX, e.offsetY];
          if (!chart.containPixel('grid', at)) return;
          const [x, y] = chart.convertFromPixel({ seriesIndex: 0 }, at);
          const i = spec.horizontal ? y : x;
          // After ECharts' own handling of the click: the action re-renders, disposing this chart.
          if (i >= 0 && i < spec.categories.length) setTimeout(() => action(i + (spec.skipped || 0)));
        });
        div.classList.add('clickable');
      }
      charts.push(chart);
      if (spec.note) box.append(el('p', { class: 'note' }, spec.note));
    }
  }
  const tableBox = el('div', { hidden: !!CHARTS[p.chart] && rows.length > 0 && !p.wide });
  const sqlBox = el('pre', { class: 'sql', hidden: true }, answer.sql);
  const tools = el('div', { class: 'tools' });
  if (rows.length) {
    tableBox.append(table(rows, answer.columns, (c, v) => cellContent(c, v, filters)));
    tools.append(el('button', { type: 'button', onclick: () => { tableBox.hidden = !tableBox.hidden; } }, 'Table'));
    tools.append(el('button', { type: 'button', onclick: () => {
      const a = el('a', { href: URL.createObjectURL(new Blob([csv(rows, answer.columns)], { type: 'text/csv' })), download: `${p.view}${params.kind ? '-' + params.kind : ''}.csv` });
      a.click();
    } }, 'CSV'));
  }
  tools.append(el('button', { type: 'button', onclick: () => { sqlBox.hidden = !sqlBox.hidden; } }, 'Show SQL'));
  box.append(tools, tableBox, sqlBox);
}

// The user search of the user page: a text box whose value goes to the view as `find`.
function searchForm(filters) {
  const input = el('input', { type: 'search', name: 'find', placeholder: 'name, UPN or user id', value: new URLSearchParams(location.search).get('find') || '' });
  const form = el('form', { class: 'search' }, el('label', {}, 'Find a user ', input), el('button', { type: 'submit' }, 'Search'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    history.pushState(null, '', href(filters) + (href(filters).includes('?') ? '&' : '?') + new URLSearchParams({ find: input.value }));
    render();
  });
  return form;
}

// The drill path of the poor streams page, each step a link back to it.
function breadcrumb(filters) {
  const steps = [['all', {}]];
  const keep = { ...filters };
  for (const k of ['building', 'subnet', 'user', 'call']) delete keep[k];
  let acc = { ...keep };
  for (const k of ['building', 'subnet', 'user', 'call']) {
    if (!filters[k]) continue;
    acc = { ...acc, [k]: filters[k] };
    steps.push([`${k} ${filters[k]}`, { ...acc }]);
  }
  const nav = el('nav', { class: 'crumbs', 'aria-label': 'drill path' });
  steps.forEach(([text, f], i) => {
    if (i) nav.append(' › ');
    nav.append(i === steps.length - 1 ? el('span', {}, text) : el('a', { href: href({ ...keep, ...f }) }, text));
  });
  return nav;
}

async function render() {
  for (const c of charts.splice(0)) c.dispose();
  const path = PAGES[location.pathname] ? location.pathname : '/';
  const page = PAGES[path];
  const filters = currentFilters();
  document.title = `cqlake · ${page.title}`;
  const nav = document.getElementById('nav');
  nav.replaceChildren(...Object.entries(PAGES).map(([to, p]) => {
    const keep = { ...filters };
    if (to !== '/user') delete keep.user;
    if (to !== '/meeting' && to !== '/poor') delete keep.call;
    return el('a', { href: href(keep, to), class: to === path ? 'active' : '' }, p.title);
  }));
  const form = document.getElementById('filters');
  for (const k of ['from', 'to', 'kind', 'grain', 'rules', 'building', 'network', 'client']) {
    form.elements[k].value = filters[k] || (k === 'grain' ? 'month' : '');
  }
  document.getElementById('scope').textContent = 'Showing ' + describe(filters) + '.';
  const main = document.getElementById('main');
  main.replaceChildren();
  main.setAttribute('aria-busy', 'true');
  if (path === '/poor' && ['building', 'subnet', 'user', 'call'].some((k) => filters[k])) main.append(breadcrumb(filters));
  const find = new URLSearchParams(location.search).get('find');
  const panels = page.panels(filters, info).map((p) => (p.search && find ? { ...p, params: { ...(p.params || {}), find } } : p));
  await Promise.all(panels.map((p) => panel(p, filters, main)));
  main.setAttribute('aria-busy', 'false');
}

document.getElementById('filters').addEventListener('submit', (e) => {
  e.preventDefault();
  const f = currentFilters();
  const form = e.target;
  for (const k of ['from', 'to', 'kind', 'grain', 'rules', 'building', 'network', 'client']) {
    if (form.elements[k].value.trim()) f[k] = form.elements[k].value.trim(); else delete f[k];
  }
  if (f.grain === 'month') delete f.grain;
  go(f);
});
document.body.addEventListener('click', (e) => {
  const a = e.target.closest('a');
  if (!a || !a.getAttribute('href') || !a.getAttribute('href').startsWith('/') || a.hasAttribute('download') || a.closest('footer')) return;
  e.preventDefault();
  history.pushState(null, '', a.getAttribute('href'));
  render();
});
window.addEventListener('popstate', render);
window.addEventListener('resize', () => charts.forEach((c) => c.resize()));

// What the server knows (a building file or not) decides where the drill of poor streams starts.
fetch('/api/info').then((r) => r.json()).then((i) => {
  info = i;
  if (!i.buildings) document.querySelector('#filters input[name="building"]').placeholder = 'needs --buildings';
}).catch(() => {}).finally(render);
