// A report file of `cqlake report NAME --format html`: the report's rows are inlined in the file
// (the `report` JSON block); this draws them with the dashboard's charts, then the table and
// the query. Nothing is fetched: the file opens from disk with no network.
'use strict';

const DATE_COLUMNS = ['period', 'day', 'month'];

// The charts a report's rows make, chosen by their columns: a trend (per media kind when it
// has one) for dated good/poor counts or failure rates, good/poor bars with the poor rate for
// rates by a label, else bars of the first number by the text columns; none without numbers.
function reportCharts(columns, rows) {
  const has = (c) => columns.includes(c);
  const date = DATE_COLUMNS.find(has);
  const texts = columns.filter((c) => c !== date && rows.some((r) => typeof r[c] === 'string'));
  const numbers = columns.filter((c) => rows.some((r) => typeof r[c] === 'number'));
  if (date && has('good') && has('poor')) {
    const dated = rows.map((r) => ({ ...r, period: r[date] }));
    if (!has('media_kind')) return [{ title: '', chart: 'quality', rows: dated }];
    return [...new Set(rows.map((r) => r.media_kind))].map((kind) => (
      { title: KIND_NAMES[kind] || kind, chart: 'quality', rows: dated.filter((r) => r.media_kind === kind) }));
  }
  if (date && has('setup_failure_rate')) return [{ title: '', chart: 'reliability', rows: rows.map((r) => ({ ...r, period: r[date] })) }];
  if (!numbers.length) return [];
  const labelled = rows.slice(0, 30).map((r) => ({ ...r, label: (date ? [date, ...texts] : texts).map((c) => r[c] ?? '–').join(' · ') || String(r[columns[0]]) }));
  if (has('poor_rate') && has('poor') && (has('good') || has('streams'))) {
    return [{ title: '', chart: 'rates', rows: labelled, panel: { label: 'label' } }];
  }
  const value = numbers[0];
  return [{ title: value, chart: 'bars', rows: labelled, panel: { label: 'label', value } }];
}

function main() {
  const report = JSON.parse(document.getElementById('report').textContent);
  const box = document.getElementById('main');
  const section = el('section', { class: 'panel wide', 'data-report': report.name });
  box.append(section);
  section.append(el('h2', {}, `${report.name}: ${report.description}`));
  section.append(el('p', { class: 'desc' }, report.scope));
  const rows = report.rows;
  if (!rows.length) section.append(el('div', { class: 'empty' }, `No rows for ${report.scope}.`));
  for (const c of rows.length ? reportCharts(report.columns, rows) : []) {
    const p = { chart: c.chart, ...(c.panel || {}) };
    const h = headline(p, c.rows);
    if (c.title) section.append(el('h3', {}, c.title));
    if (h) section.append(h);
    const spec = CHARTS[c.chart](c.rows, p, report.columns);
    const div = el('div', { class: 'chart' });
    if (spec.horizontal) div.style.height = `${Math.max(240, 60 + spec.categories.length * 24)}px`;
    section.append(div);
    echarts.init(div, null, { renderer: 'canvas' }).setOption(combo(spec));
    if (spec.note) section.append(el('p', { class: 'note' }, spec.note));
  }
  if (rows.length) {
    section.append(table(rows, report.columns, shown));
    section.append(el('div', { class: 'tools' }, el('button', { type: 'button', onclick: () => {
      el('a', { href: URL.createObjectURL(new Blob([csv(rows, report.columns)], { type: 'text/csv' })), download: `${report.name}.csv` }).click();
    } }, 'CSV')));
  }
  section.append(el('details', {}, el('summary', {}, 'SQL'), el('pre', { class: 'sql' }, report.sql)));
  document.getElementById('main').setAttribute('aria-busy', 'false');
}

main();
