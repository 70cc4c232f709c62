// The dashboard in a real browser: Debian's chromium, headless, driven by playwright-core.
// `cqlake serve` runs on a lake the test converts from the bundled samples; every view must load
// with no console error and no request leaving the machine, draw its charts, show the API's
// numbers, drill down on a click, and leave a screenshot under target/screenshots/.
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

let dir, server, base, browser;

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
  const lake = path.join(dir, 'lake');
  // Half a year of generated calls (trends with several months), and the bundled samples.
  const gen = path.join(dir, 'gen.ndjson');
  execFileSync(bin, ['gen', '--calls', '600', '--start', '2026-06-01', '--days', '150', '--output', gen], { stdio: 'ignore' });
  execFileSync(bin, ['convert', gen, ...['generated', 'graph-docs', 'logs', 'call-flows'].map((s) => path.join(root, 'sample-data', s)),
    '--lake', lake, '--quiet'], { stdio: 'inherit' });
  ({ p: server, url: base } = await startServer(lake));
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

// The rows of each panel's table, as data-value attributes, and the API's rows for the panel.
async function panelsMatchTheApi(page) {
  const panels = await page.$$eval('section.panel', (ps) => ps.map((p) => ({
    view: p.dataset.view, kind: p.dataset.kind,
    cells: [...p.querySelectorAll('tbody tr')].map((tr) => Object.fromEntries(
      [...tr.querySelectorAll('td')].map((td) => [td.dataset.col, td.dataset.value]))),
    canvases: p.querySelectorAll('canvas').length,
  })));
  const search = new URL(page.url()).searchParams;
  for (const p of panels) {
    const q = new URLSearchParams(search);
    if (p.kind) q.set('kind', q.get('kind') || p.kind);
    const api = await (await fetch(`${base}/api/views/${p.view}?${q}`)).json();
    assert.equal(p.cells.length, api.rows.length, `${p.view} ${p.kind}: rows`);
    api.rows.forEach((row, i) => {
      for (const [k, v] of Object.entries(row)) {
        assert.equal(p.cells[i][k], v === null ? '' : String(v), `${p.view} ${p.kind} row ${i} ${k}`);
      }
    });
    if (api.rows.length) assert.ok(p.canvases > 0, `${p.view} ${p.kind}: no chart drawn`);
  }
  return panels;
}

for (const [name, url] of [['home', '/'], ['quality', '/quality'], ['reliability', '/reliability'],
  ['networks', '/networks'], ['feedback', '/feedback']]) {
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
