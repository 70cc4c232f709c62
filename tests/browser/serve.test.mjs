// The dashboard in a real browser: Debian's chromium, headless, driven by playwright-core.
// `cqlake serve` runs on a lake the test converts from the bundled samples and generated calls,
// with the samples' building file; every view must load with no console error and no request
// leaving the machine, draw its charts, show the API's numbers, drill down on a click, and leave
// a screenshot under target/screenshots/. A report written with --format html opens from disk.
//
// Run by .ci/test.sh: CQLAKE_BIN=<the cqlake binary> node --test tests/browser/
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = process.env.CQLAKE_BIN || path.join(root, 'target/debug/cqlake');
const shots = process.env.CQLAKE_SCREENSHOTS || path.join(root, 'target/screenshots');
const chromiumPath = process.env.CQLAKE_CHROMIUM || '/usr/bin/chromium';

let dir, lake, server, base, browser;

function startServer(lake, extra = [], env = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(bin, ['serve', '--lake', lake, '--port', '0', ...extra], {
      env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/http:\/\/[^\s]+\//);
      if (m) resolve({ p, url: m[0].replace(/\/$/, '') });
    });
    p.stderr.on('data', (d) => { err += d; });
    p.on('exit', (code) => reject(new Error(`cqlake serve exited ${code}: ${err}`)));
  });
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'cqlake-browser-'));
  lake = path.join(dir, 'lake');
  // Half a year of generated calls (trends with several months), and the bundled samples.
  const gen = path.join(dir, 'gen.ndjson');
  execFileSync(bin, ['gen', '--calls', '600', '--start', '2026-06-01', '--days', '150', '--output', gen], { stdio: 'ignore' });
  execFileSync(bin, ['convert', gen, ...['generated', 'graph-docs', 'logs', 'call-flows'].map((s) => path.join(root, 'sample-data', s)),
    '--lake', lake, '--quiet'], { stdio: 'inherit' });
  ({ p: server, url: base } = await startServer(lake, ['--buildings', path.join(root, 'sql/tests/sample-buildings.csv')]));
  browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
  mkdirSync(shots, { recursive: true });
});

after(async () => {
  await browser?.close();
  server?.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// Opens `url` in a fresh page that records console errors and every request's host.
async function open(url) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const problems = [];
  const hosts = new Set();
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => hosts.add(new URL(r.url()).host));
  await page.goto(base + url);
  await page.waitForSelector('main[aria-busy="false"]');
  return { page, problems, hosts };
}

// The rows of each panel's table, as data-value attributes, and the API's rows for the panel's
// query (the page's filters and the panel's own parameters, kept in data-query).
async function panelsMatchTheApi(page) {
  const panels = await page.$$eval('section.panel', (ps) => ps.map((p) => ({
    view: p.dataset.view, query: p.dataset.query,
    cells: [...p.querySelectorAll('tbody tr')].map((tr) => Object.fromEntries(
      [...tr.querySelectorAll('td')].map((td) => [td.dataset.col, td.dataset.value]))),
    canvases: p.querySelectorAll('canvas').length,
    error: p.querySelector('.error')?.textContent,
  })));
  for (const p of panels) {
    assert.equal(p.error, undefined, `${p.view}?${p.query}`);
    const api = await (await fetch(`${base}/api/views/${p.view}?${p.query}`)).json();
    const what = `${p.view}?${p.query}`;
    assert.equal(p.cells.length, api.rows.length, `${what}: rows`);
    api.rows.forEach((row, i) => {
      for (const [k, v] of Object.entries(row)) {
        assert.equal(p.cells[i][k], v === null ? '' : String(v), `${what} row ${i} ${k}`);
      }
    });
    if (api.rows.length && !['call-streams', 'user-search'].includes(p.view)) assert.ok(p.canvases > 0, `${what}: no chart drawn`);
  }
  return panels;
}

// Clicks the bar of category `i` of the chart in `selector` (a horizontal chart: its row).
async function clickBar(page, selector, i) {
  const at = await page.evaluate(([sel, i]) => {
    const div = document.querySelector(sel);
    const chart = echarts.getInstanceByDom(div);
    const opt = chart.getOption();
    const horizontal = opt.yAxis[0].type === 'category';
    const category = (horizontal ? opt.yAxis : opt.xAxis)[0].data[i];
    // Halfway along the first series' bar.
    const value = opt.series.reduce((a, s) => a + (s.type === 'bar' ? Number(s.data[i]) || 0 : 0), 0) / 2;
    const [x, y] = chart.convertToPixel({ seriesIndex: 0 }, horizontal ? [value, i] : [i, value]);
    const box = div.getBoundingClientRect();
    return { category, x: box.left + x, y: box.top + y };
  }, [selector, i]);
  await page.mouse.click(at.x, at.y);
  return at.category;
}

for (const [name, url] of [['home', '/'], ['quality', '/quality'], ['reliability', '/reliability'],
  ['poor', '/poor'], ['networks', '/networks'], ['clients', '/clients'], ['devices', '/devices'],
  ['feedback', '/feedback'], ['usage', '/usage'], ['pstn', '/pstn'], ['user-search', '/user?find=a'],
  ['filtered', '/networks?network=wifi&client=windows&from=2026-07-01']]) {
  test(`the ${name} view loads, draws its charts and shows the API's numbers`, async () => {
    const { page, problems, hosts } = await open(url);
    const panels = await panelsMatchTheApi(page);
    assert.ok(panels.length > 0);
    assert.deepEqual(problems, []);
    assert.deepEqual([...hosts], [new URL(base).host], 'a request left the machine');
    await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
    await page.close();
  });
}

test('the home page shows quality, reliability, networks and feedback, rates as percentages', async () => {
  const { page } = await open('/');
  const views = await page.$$eval('section.panel', (ps) => ps.map((p) => p.dataset.view));
  assert.deepEqual(views.sort(), ['feedback', 'networks', 'quality', 'reliability']);
  const headline = await page.textContent('section.panel[data-view="quality"] .headline');
  assert.match(headline, /Poor stream rate \d+\.\d %/);
  assert.match(await page.textContent('section.panel[data-view="feedback"] .headline'), /Rated poor or bad \d+\.\d %/);
  await page.close();
});

test('a click on a month drills into its days, in the URL', async () => {
  const { page, problems } = await open('/');
  const target = await page.evaluate(() => {
    const div = document.querySelector('section.panel[data-view="quality"] .chart');
    const chart = echarts.getInstanceByDom(div);
    const opt = chart.getOption();
    // The month with the most good streams: its bar is tall enough to hit.
    const goods = opt.series[0].data;
    const i = goods.indexOf(Math.max(...goods));
    const period = opt.xAxis[0].data[i];
    const good = goods[i];
    const [x, y] = chart.convertToPixel({ xAxisIndex: 0, yAxisIndex: 0 }, [period, good / 2]);
    const box = div.getBoundingClientRect();
    return { period, x: box.left + x, y: box.top + y };
  });
  await page.mouse.click(target.x, target.y);
  await page.waitForFunction((p) => location.search.includes(`from=${p}`), target.period);
  await page.waitForSelector('main[aria-busy="false"]');
  const search = new URL(page.url()).searchParams;
  assert.equal(search.get('grain'), 'day');
  assert.equal(search.get('from'), target.period);
  const scope = await page.textContent('#scope');
  assert.match(scope, new RegExp(`calls started ${target.period} to ${target.period.slice(0, 8)}\\d\\d, by day`));
  await panelsMatchTheApi(page);
  assert.deepEqual(problems, []);
  await page.screenshot({ path: path.join(shots, 'home-drilled-to-days.png'), fullPage: true });
  await page.close();
});

test('an empty range says why', async () => {
  const { page, problems } = await open('/?from=1999-01-01&to=1999-01-31');
  const empty = await page.textContent('section.panel[data-view="quality"] .empty');
  assert.match(empty, /No streams for calls started 1999-01-01 to 1999-01-31/);
  assert.deepEqual(problems, []);
  await page.screenshot({ path: path.join(shots, 'empty.png'), fullPage: true });
  await page.close();
});

test('poor streams drill from building to subnet to user to call, each step in the URL', async () => {
  const { page, problems } = await open('/poor');
  const steps = [['building', 'poor-buildings'], ['subnet', 'poor-subnets'], ['user', 'poor-users'], ['call', 'poor-calls']];
  for (const [i, [param, view]] of steps.entries()) {
    await page.waitForSelector(`section.panel[data-view="${view}"] .chart`);
    await panelsMatchTheApi(page);
    await page.screenshot({ path: path.join(shots, `poor-${i + 1}-${view}.png`), fullPage: true });
    // The row with the most poor streams that leads somewhere: the first named one.
    const rows = await page.$$eval(`section.panel[data-view="${view}"] tbody tr`, (trs) => trs.map((tr) => tr.querySelector('td').dataset.value));
    const index = rows.findIndex((v) => !v.startsWith('('));
    assert.ok(index >= 0, `${view}: nothing to drill into (${rows})`);
    // A dwarfing "(unknown)" first row is in the table only, the chart says so.
    const note = await page.$(`section.panel[data-view="${view}"] p.note`);
    if (view === 'poor-buildings') assert.match(await note.textContent(), /^\(unknown\): [\d,]+ poor streams, in the table but not the chart/);
    const clicked = await clickBar(page, `section.panel[data-view="${view}"] .chart`, index - (note ? 1 : 0));
    await page.waitForFunction((p) => new URL(location.href).searchParams.has(p), param);
    await page.waitForSelector('main[aria-busy="false"]');
    const value = new URL(page.url()).searchParams.get(param);
    assert.equal(value, rows[index], `${view}: the URL names the clicked ${param}`);
    assert.ok(clicked.includes(value) || param === 'user', `${clicked} vs ${value}`);
    assert.match(await page.textContent('#scope'), new RegExp(`${param} ${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.match(await page.textContent('nav.crumbs'), new RegExp(`${param} `));
  }
  await page.waitForSelector('section.panel[data-view="call-streams"] tbody tr');
  await panelsMatchTheApi(page);
  await page.screenshot({ path: path.join(shots, 'poor-5-call-streams.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await page.close();
});

test('a user page and a meeting page show the API numbers', async () => {
  const users = await (await fetch(`${base}/api/views/poor-users?kind=audio`)).json();
  const user = users.rows.find((r) => !r.user_id.startsWith('(')).user_id;
  const { page, problems } = await open(`/user?user=${encodeURIComponent(user)}`);
  await panelsMatchTheApi(page);
  assert.match(await page.textContent('#scope'), new RegExp(`user ${user}`));
  await page.screenshot({ path: path.join(shots, 'user.png'), fullPage: true });
  // A call of the user: its link opens the meeting page.
  await page.click('section.panel[data-view="user-calls"] td[data-col="call_id"] a');
  await page.waitForFunction(() => location.pathname === '/meeting');
  await page.waitForSelector('main[aria-busy="false"]');
  assert.ok(new URL(page.url()).searchParams.get('call'));
  await panelsMatchTheApi(page);
  const views = await page.$$eval('section.panel', (ps) => ps.map((p) => p.dataset.view));
  assert.deepEqual(views, ['meeting', 'call-streams']);
  await page.screenshot({ path: path.join(shots, 'meeting.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await page.close();
});

test('a bar of a breakdown narrows the poor streams to it', async () => {
  const { page, problems } = await open('/networks');
  const clicked = await clickBar(page, 'section.panel[data-view="networks"] .chart', 0);
  await page.waitForFunction(() => location.pathname === '/poor');
  await page.waitForSelector('main[aria-busy="false"]');
  assert.equal(new URL(page.url()).searchParams.get('network'), clicked);
  assert.match(await page.textContent('#scope'), new RegExp(`network ${clicked}`));
  await panelsMatchTheApi(page);
  assert.deepEqual(problems, []);
  await page.close();
});

test('a view not narrowed by a filter says so', async () => {
  const { page } = await open('/reliability?building=Contoso%20HQ');
  assert.match(await page.textContent('section.panel[data-view="reliability"] .unused'), /Not narrowed by building/);
  await page.close();
});

test('an HTML report opens from disk with its charts and its rows, and asks for nothing', async () => {
  const file = path.join(dir, 'daily.html');
  execFileSync(bin, ['report', 'daily', '--lake', lake, '--format', 'html', '--output', file], { stdio: 'ignore' });
  const json = JSON.parse(execFileSync(bin, ['report', 'daily', '--lake', lake, '--format', 'json'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString());
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const problems = [];
  const requests = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => requests.push(r.url()));
  await page.goto('file://' + file);
  await page.waitForSelector('main[aria-busy="false"]');
  assert.deepEqual(requests, ['file://' + file], 'the page asked for something else');
  assert.ok(await page.$$eval('canvas', (c) => c.length) >= 2, 'a chart per media kind');
  const cells = await page.$$eval('tbody tr', (trs) => trs.map((tr) => Object.fromEntries(
    [...tr.querySelectorAll('td')].map((td) => [td.dataset.col, td.dataset.value]))));
  assert.equal(cells.length, json.length);
  json.forEach((row, i) => {
    for (const [k, v] of Object.entries(row)) assert.equal(cells[i][k], v === null ? '' : String(v), `row ${i} ${k}`);
  });
  assert.deepEqual(problems, []);
  await page.screenshot({ path: path.join(shots, 'report-daily.png'), fullPage: true });
  await page.close();
});
