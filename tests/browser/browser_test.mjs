#!/usr/bin/env node
// The browser target end to end, in a real headless Chromium (Debian's) driven by playwright-core:
// `c2w --to-browser` on the busybox fixture (and a recipe with PACK ... TARGET browser, and the
// Debian fixture: a command through the URL and its shell), served
// by `c2w serve`, then the page: the shell prompt in the terminal, typed commands, cat without
// double echo, Ctrl-C, URL options (args, env), exit statuses, the missing-header message on a
// server without cross-origin isolation, idle CPU and load -> prompt time.
// Environment: C2W_BINARY (c2w), C2W_FIXTURES (the fixture dir with c2w-cache and busybox),
// C2W_SOURCE_DIR, C2W_SCREENSHOT (where the terminal's picture goes), C2W_CHROMIUM (default
// /usr/bin/chromium). Exit status 0 only when every check passed.
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

const env = (k, d) => process.env[k] || d;
const c2w = env('C2W_BINARY');
const fixtures = env('C2W_FIXTURES', path.join(os.homedir(), '.cache/c2w-fixtures'));
const sourceDir = env('C2W_SOURCE_DIR', path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..'));
const screenshot = env('C2W_SCREENSHOT', path.join(os.tmpdir(), 'c2w-browser-terminal.png'));
const chromiumPath = env('C2W_CHROMIUM', '/usr/bin/chromium');

const failures = [];
function check(ok, what, detail) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail !== undefined ? ` (${detail})` : ''}`);
  if (!ok) failures.push(what);
  return ok;
}
function fatal(message) {
  console.error(`browser_test: ${message}`);
  process.exit(1);
}

if (!c2w || !fs.existsSync(c2w)) fatal('set C2W_BINARY to the c2w binary');
if (!fs.existsSync(chromiumPath)) fatal(`no chromium at ${chromiumPath}: run scripts/setup`);
let chromium;
try {
  chromium = createRequire(path.join(sourceDir, 'web/package.json'))('playwright-core').chromium;
} catch (e) {
  fatal(`playwright-core is not installed under web/node_modules: run scripts/setup (${e.message})`);
}
const kernelCache = path.join(fixtures, 'c2w-cache');
const layout = path.join(fixtures, 'busybox/layout');
if (!fs.existsSync(kernelCache) || !fs.existsSync(layout))
  fatal(`fixtures missing under ${fixtures} (the images and kernel.build ctest fixtures make them)`);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'c2w-browser-'));
const cleanups = [() => fs.rmSync(tmp, { recursive: true, force: true })];
async function cleanup() {
  for (const f of cleanups.reverse()) {
    try { await f(); } catch (e) { console.error(`cleanup: ${e.message}`); }
  }
}

function run(argv, what) {
  const t0 = Date.now();
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', maxBuffer: 64 << 20 });
  const ok = r.status === 0;
  check(ok, what, `${((Date.now() - t0) / 1000).toFixed(1)} s`);
  if (!ok) console.log(r.stdout + r.stderr);
  return ok;
}

// A server on a free port; resolves with its base URL once it says where it listens.
function startServe(dir) {
  return new Promise((resolve, reject) => {
    const p = spawn(c2w, ['serve', dir, '--addr', '127.0.0.1:0'], { stdio: ['ignore', 'ignore', 'pipe'] });
    cleanups.push(() => p.kill());
    let err = '';
    p.stderr.on('data', (d) => {
      err += d;
      const m = /serving .* at (http:\/\/\S+)/.exec(err);
      if (m) resolve(m[1]);
    });
    p.on('exit', (code) => reject(new Error(`c2w serve exited with ${code}: ${err}`)));
  });
}

// The same folder without the isolation headers, to see the page explain what is missing.
function startPlainServer(dir) {
  return new Promise((resolve) => {
    const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm' };
    const server = http.createServer((req, res) => {
      const rel = decodeURIComponent(new URL(req.url, 'http://x').pathname).replace(/^\/+/, '') || 'index.html';
      const file = path.join(dir, rel);
      if (rel.includes('..') || !fs.existsSync(file)) { res.writeHead(404); res.end(); return; }
      res.writeHead(200, { 'Content-Type': types[path.extname(file)] || 'application/octet-stream' });
      res.end(req.method === 'HEAD' ? undefined : fs.readFileSync(file));
    });
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}/`));
    cleanups.push(() => new Promise((r) => server.close(r)));
  });
}

// CPU time (ms) of a process and all its descendants, from /proc.
function treeCpuMs(rootPid) {
  const hz = 100;  // USER_HZ on Linux
  const stats = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      stats.set(Number(d), { ppid: Number(f[1]), cpu: Number(f[11]) + Number(f[12]) });
    } catch { /* gone */ }
  }
  const inTree = new Set([rootPid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, s] of stats) if (!inTree.has(pid) && inTree.has(s.ppid)) { inTree.add(pid); grew = true; }
  }
  let ticks = 0;
  for (const pid of inTree) ticks += stats.get(pid)?.cpu || 0;
  return (ticks * 1000) / hz;
}

const termText = () => {
  const b = window.c2w.term.buffer.active;
  const lines = [];
  for (let i = 0; i < b.length; i++) lines.push(b.getLine(i).translateToString(true));
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines.join('\n');
};

async function waitText(page, pred, what, timeout = 60000) {
  try {
    await page.waitForFunction(`(${pred.toString()})((${termText.toString()})())`, null, { timeout, polling: 20 });
    return check(true, what);
  } catch (e) {
    check(false, what, 'timed out');
    console.log('--- terminal ---\n' + (await page.evaluate(termText).catch(() => '?')) + '\n---');
    return false;
  }
}

async function main() {
  // Convert: a copy of the fixture cache has the kernel, nothing else of ours.
  spawnSync('cp', ['-a', kernelCache, path.join(tmp, 'cache')]);
  const site = path.join(tmp, 'site');
  if (!run([c2w, '--cache-dir', path.join(tmp, 'cache'), '--progress=plain', '--to-browser',
    `oci-layout:${layout}`, site], 'c2w --to-browser busybox DIR')) return;
  const expected = ['index.html', 'c2w-page.js', 'c2w-worker.js', 'c2w-wasi.js', 'xterm.js', 'xterm.css', 'out.wasm'];
  check(expected.every((f) => fs.existsSync(path.join(site, f))), 'the folder has page, scripts, xterm and module',
    fs.readdirSync(site).join(' '));

  // The same through a recipe: PACK ... TARGET browser gives the same folder.
  const recipeDir = path.join(tmp, 'recipe');
  fs.mkdirSync(path.join(recipeDir, 'kernel'), { recursive: true });
  fs.copyFileSync(path.join(sourceDir, 'ops/kernel/riscv64.config'), path.join(recipeDir, 'kernel/riscv64.config'));
  const shown = spawnSync(c2w, ['--show-recipe'], { encoding: 'utf8' }).stdout;
  fs.writeFileSync(path.join(recipeDir, 'recipe'), shown.replace('TARGET wasi', 'TARGET browser'));
  const site2 = path.join(tmp, 'site2');
  if (run([c2w, '--cache-dir', path.join(tmp, 'cache'), '--progress=plain', '--recipe', path.join(recipeDir, 'recipe'),
    `oci-layout:${layout}`, site2], 'recipe with PACK ... TARGET browser')) {
    check(fs.existsSync(path.join(site2, 'index.html')), 'the recipe wrote the folder');
    check(Buffer.compare(fs.readFileSync(path.join(site, 'out.wasm')), fs.readFileSync(path.join(site2, 'out.wasm'))) === 0,
      'both ways give the same module');
  }

  const base = await startServe(site);
  const head = await fetch(base + 'out.wasm', { method: 'HEAD' });
  check(head.headers.get('content-type') === 'application/wasm', 'c2w serve: out.wasm is application/wasm');
  check(head.headers.get('cross-origin-opener-policy') === 'same-origin' &&
    head.headers.get('cross-origin-embedder-policy') === 'require-corp', 'c2w serve: COOP and COEP headers');
  check((await fetch(base + '%2e%2e/cache/lock')).status === 404, 'c2w serve: nothing outside the folder');
  const plain = await startPlainServer(site);

  const server = await chromium.launchServer({
    executablePath: chromiumPath,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  cleanups.push(() => server.close());
  const browser = await chromium.connect(server.wsEndpoint());
  cleanups.push(() => browser.close());
  const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.log(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') console.log(`console: ${m.text()}`); });

  // Without isolation the page names the missing header.
  await page.goto(plain);
  await page.waitForFunction(() => window.c2w && window.c2w.error, null, { timeout: 20000 }).catch(() => {});
  const why = await page.evaluate(() => document.getElementById('status').textContent);
  check(why.includes('Cross-Origin-Opener-Policy: same-origin') && why.includes('Cross-Origin-Embedder-Policy: require-corp'),
    'without isolation the page says which headers are missing', why.split('\n')[1]);

  // The interactive shell.
  await page.goto(base);
  if (!(await waitText(page, (t) => /\/ # ?$/.test(t), 'the shell prompt appears'))) return;
  const timings = await page.evaluate(() => ({ ...window.c2w.timings, now: performance.now() }));
  const loadToPrompt = timings.now;
  const sec = (ms) => `${((ms || 0) / 1000).toFixed(2)} s`;
  console.log(`load -> prompt: ${sec(loadToPrompt)} (since navigation: page script ${sec(timings.script)}, ` +
    `worker ${sec(timings.worker)}, first bytes ${sec(timings.fetch)}, downloaded ${sec(timings.compile)}, ` +
    `compiled ${sec(timings.instantiate)}, instantiated ${sec(timings.run)}, first output ${sec(timings.firstOutput)})`);

  await page.click('#terminal');
  await page.keyboard.type('echo -n hello; echo\n');
  await waitText(page, (t) => t.split('\n').includes('hello'), 'typed `echo -n hello; echo` prints hello');

  await page.keyboard.type('cat\n');
  await page.waitForTimeout(300);
  await page.keyboard.type('line one\n');
  await waitText(page, (t) => t.split('\n').filter((l) => l === 'line one').length >= 2, 'cat echoes the typed line back');
  await page.waitForTimeout(500);
  const count = await page.evaluate(`(${termText.toString()})().split('\\n').filter((l) => l === 'line one').length`);
  check(count === 2, 'each line once from the terminal and once from cat (no double echo)', `${count} times`);
  await page.keyboard.press('Control+C');
  await waitText(page, (t) => /\^C\n?\/ # ?$/.test(t) || /\n\/ # ?$/.test(t.slice(t.lastIndexOf('line one'))), 'Ctrl-C interrupts cat');
  await page.keyboard.type('echo after-$((6*7))\n');
  await waitText(page, (t) => t.split('\n').includes('after-42'), 'the shell still answers after Ctrl-C');

  // Idle at the prompt: the worker must sleep, not spin.
  await page.waitForTimeout(1000);
  const pid = server.process().pid;
  const s0 = await page.evaluate(() => window.c2w.stats);
  const cpu0 = treeCpuMs(pid), t0 = Date.now();
  await page.waitForTimeout(5000);
  const cpu1 = treeCpuMs(pid), t1 = Date.now();
  const s1 = await page.evaluate(() => window.c2w.stats);
  const idleCpu = (cpu1 - cpu0) / (t1 - t0);
  const slept = s0 && s1 && s1.wallMs > s0.wallMs ? (s1.waitMs - s0.waitMs) / (s1.wallMs - s0.wallMs) : NaN;
  console.log(`idle at the prompt: chromium (all processes) ${(idleCpu * 100).toFixed(1)}% of a core; ` +
    `the worker slept ${(slept * 100).toFixed(1)}% of the time`);
  check(idleCpu < 0.15, 'idle CPU of the whole browser below 15% of a core', `${(idleCpu * 100).toFixed(1)}%`);
  check(slept > 0.9, 'the worker sleeps more than 90% of the time when idle', `${(slept * 100).toFixed(1)}%`);

  // The terminal's size reaches the container at start (100x30) and on resize.
  await page.keyboard.type('stty size\n');
  await waitText(page, (t) => t.split('\n').includes('30 100'), 'the container starts with the page terminal\'s size (stty size)');
  await page.evaluate(() => window.c2w.resize(120, 40));
  await page.waitForTimeout(300);
  // busybox's ash exports LINES/COLUMNS at start and its tools prefer them to the terminal.
  await page.keyboard.type('env -u LINES -u COLUMNS stty size\n');
  await waitText(page, (t) => t.split('\n').includes('40 120'), 'resizing the page\'s terminal reaches the container (stty size)');

  await page.locator('#terminal').screenshot({ path: screenshot });
  console.log(`screenshot of the terminal: ${screenshot}`);

  // Files picked on the page appear at /mnt (in memory) and the container can change them.
  const share = path.join(tmp, 'share');
  fs.mkdirSync(share);
  fs.writeFileSync(path.join(share, 'picked.txt'), 'from the picker\n');
  await page.setInputFiles('#files', [path.join(share, 'picked.txt')]);
  if (await waitText(page, (t) => /\/ # ?$/.test(t) && !t.includes('after-42'), 'picking a file restarts the container')) {
    await page.click('#terminal');
    await page.keyboard.type('cat /mnt/picked.txt; echo made > /mnt/new.txt; mkdir /mnt/d; mv /mnt/new.txt /mnt/d/; cat /mnt/d/new.txt; ls /mnt\n');
    await waitText(page, (t) => t.includes('from the picker\nmade\nd           picked.txt') || /from the picker\nmade\nd\s+picked\.txt/.test(t),
      'the picked file is at /mnt, and the container writes, moves and lists there');
  }

  // URL options: command and args, env, exit status.
  async function runUrl(query, what, wantStatus, wantText, at = base) {
    const p = await context.newPage();
    await p.goto(at + query);
    try {
      await p.waitForFunction(() => window.c2w && (window.c2w.exitStatus !== null || window.c2w.error), null, { timeout: 60000 });
    } catch {
      check(false, what, 'no exit status within 60 s');
      await p.close();
      return;
    }
    const r = await p.evaluate(`({status: window.c2w.exitStatus, shown: document.getElementById('exit').textContent,
      text: (${termText.toString()})(), error: window.c2w.error})`);
    check(r.status === wantStatus && r.shown === `exited with status ${wantStatus}` && (!wantText || r.text.includes(wantText)),
      what, `status ${r.status}, "${r.shown}", output ${JSON.stringify(r.text.slice(0, 80))}${r.error ? ', ' + r.error : ''}`);
    await p.close();
  }
  await runUrl('?arg=uname&arg=-m', '?arg=uname&arg=-m prints riscv64', 0, 'riscv64');
  await runUrl('?arg=sh&arg=-c&arg=exit%207', "sh -c 'exit 7' shows exit status 7 on the page", 7);
  await runUrl('?env=GREETING=hi%20there&arg=sh&arg=-c&arg=echo%20%24GREETING', '?env=K=V reaches the container', 0, 'hi there');

  // The Debian fixture (a 135 MB module): a command through the URL, then its shell.
  const debSite = path.join(tmp, 'debian-site');
  if (!run([c2w, '--cache-dir', path.join(tmp, 'cache'), '--progress=plain', '--build-arg', 'MEMORY=512M',
    '--to-browser', `oci-layout:${path.join(fixtures, 'debian/layout')}`, debSite], 'c2w --to-browser debian DIR')) return;
  const debBase = await startServe(debSite);
  await runUrl('?arg=sh&arg=-c&arg=echo%20-n%20hello%3B%20uname%20-m%3B%20apt-get%20--version%20%7C%20head%20-1',
    'debian: sh -c "echo -n hello; uname -m; apt-get --version" through the URL', 0, 'helloriscv64', debBase);
  const deb = await context.newPage();
  const debStart = Date.now();
  await deb.goto(debBase);
  if (await waitText(deb, (t) => /# ?$/.test(t), 'debian: the shell prompt appears', 120000)) {
    console.log(`debian load -> prompt: ${((Date.now() - debStart) / 1000).toFixed(2)} s`);
    await deb.click('#terminal');
    await deb.keyboard.type('echo -n deb; echo ian\n');
    await waitText(deb, (t) => t.includes('debian\n'), 'debian: the shell answers');
  }
  await deb.close();
}

try {
  await main();
} catch (e) {
  check(false, 'the test ran to the end', e.stack);
} finally {
  await cleanup();
}
if (failures.length) {
  console.log(`${failures.length} check(s) failed: ${failures.join('; ')}`);
  process.exit(1);
}
console.log('all browser checks passed');
