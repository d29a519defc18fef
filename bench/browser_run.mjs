#!/usr/bin/env node
// Runs one c2w browser page to the end in headless Chromium, for benchmarks.
//   browser_run.mjs URL [TIMEOUT_SECONDS]      (default timeout 600)
// URL is a page written by `c2w --to-browser` and served by `c2w serve` (it needs the
// cross-origin isolation headers), with its options, e.g. http://127.0.0.1:PORT/?arg=/cpubench.
// What it promises:
//   - stdout gets the container's output as the page's terminal shows it, one line per
//     terminal line (wrapped lines joined again, no \r), each line as soon as it is complete,
//     the last one when the container has exited. Nothing else goes to stdout.
//   - stderr gets the page's errors and, at the end, one line of page timings.
//   - the exit status is the container's; 124 when it has not exited within the timeout,
//     125 when the page or the module failed, 1 when Chromium or playwright-core is missing,
//     2 for a usage error.
// The terminal keeps 5000 lines of scrollback: longer output loses its oldest lines.
// Environment: C2W_CHROMIUM (default /usr/bin/chromium). playwright-core comes from web/ of
// this source tree (scripts/setup installs it).
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const [url, timeoutArg = '600'] = process.argv.slice(2);
const timeoutMs = Number(timeoutArg) * 1000;
if (!url || !(timeoutMs > 0)) {
  process.stderr.write('usage: browser_run.mjs URL [TIMEOUT_SECONDS]\n');
  process.exit(2);
}
const chromiumPath = process.env.C2W_CHROMIUM || '/usr/bin/chromium';
const sourceDir = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
if (!fs.existsSync(chromiumPath)) {
  process.stderr.write(`browser_run: no chromium at ${chromiumPath} (set C2W_CHROMIUM)\n`);
  process.exit(1);
}
let chromium;
try {
  chromium = createRequire(path.join(sourceDir, 'web/package.json'))('playwright-core').chromium;
} catch (e) {
  process.stderr.write(`browser_run: no playwright-core under web/node_modules: run scripts/setup (${e.message})\n`);
  process.exit(1);
}

// In the page: the terminal's logical lines up to the cursor's (a line the terminal wrapped
// is joined to the one before), and the page's state. The cursor's line may be incomplete.
function pageState() {
  const c = window.c2w;
  if (!c || !c.term) return { lines: [], status: null, error: c ? c.error : null };
  const b = c.term.buffer.active;
  const lines = [];
  const last = Math.min(b.baseY + b.cursorY, b.length - 1);
  for (let i = 0; i <= last; i++) {
    const line = b.getLine(i);
    const text = line.translateToString(true);
    if (line.isWrapped && lines.length) lines[lines.length - 1] += text;
    else lines.push(text);
  }
  return { lines, status: c.exitStatus, error: c.error, timings: c.timings };
}

const browser = await chromium.launch({
  executablePath: chromiumPath,
  args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let code = 125;
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => process.stderr.write(`browser_run: page error: ${e.message}\n`));
  page.on('console', (m) => {
    if (m.type() === 'error') process.stderr.write(`browser_run: console: ${m.text()}\n`);
  });
  const deadline = Date.now() + timeoutMs;
  await page.goto(url, { timeout: timeoutMs });

  // Poll the terminal: print each line once it is complete (the cursor has left it), so the
  // caller can time the lines as they come; stop at the exit status or a page error.
  let printed = 0;
  let s;
  for (;;) {
    s = await page.evaluate(pageState);
    if (s.status !== null || s.error || Date.now() > deadline) break;
    for (; printed < s.lines.length - 1; printed++) process.stdout.write(s.lines[printed] + '\n');
    await new Promise((r) => setTimeout(r, 100));
  }
  if (s.status !== null) {
    // The exit message comes after the last output, but xterm parses writes later: wait for
    // an empty write's callback (writes are handled in order), then take the rest.
    await page.evaluate(() => new Promise((r) => window.c2w.term.write('', r)));
    s = await page.evaluate(pageState);
    const lines = s.lines.slice();
    while (lines.length > printed && lines[lines.length - 1] === '') lines.pop();
    for (; printed < lines.length; printed++) process.stdout.write(lines[printed] + '\n');
    code = s.status;
    const t = s.timings || {};
    const sec = (k) => (t[k] === undefined ? '-' : (t[k] / 1000).toFixed(2));
    process.stderr.write(`browser_run: seconds since navigation: module fetched ${sec('compile')}, ` +
      `compiled ${sec('instantiate')}, running ${sec('run')}, first output ${sec('firstOutput')}, exit ${sec('exit')}\n`);
  } else if (s.error) {
    process.stderr.write(`browser_run: the page failed: ${s.error}\n`);
  } else {
    process.stderr.write(`browser_run: no exit within ${timeoutArg} s; the terminal shows:\n` +
      s.lines.slice(-5).join('\n') + '\n');
    code = 124;
  }
} catch (e) {
  process.stderr.write(`browser_run: ${e.stack || e}\n`);
} finally {
  await browser.close();
}
process.exit(code);
