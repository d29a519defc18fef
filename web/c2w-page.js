// The page of c2w's browser output (web/README.md): a terminal (xterm.js) wired to a worker
// that runs out.wasm. Keystrokes go to the guest untouched through a SharedArrayBuffer ring
// (the guest has its own line discipline: echo, ^C, line editing); output comes back batched.
// URL options: arg (repeatable: the command and its arguments), env=K=V (repeatable),
// cols, rows, fit=1 (follow the window's size), blink=1 (a blinking cursor), module (default out.wasm), mount (where picked
// files appear in the container, default /mnt).
// For tests and curious users, window.c2w holds: timings (ms since navigation), exitStatus,
// stats (the worker's sleep accounting), term (the xterm Terminal), resize(cols, rows).
'use strict';

(function () {
  const statusEl = document.getElementById('status');
  const exitEl = document.getElementById('exit');
  const state = (window.c2w = { timings: {}, exitStatus: null, stats: null, term: null, error: null });
  const mark = (name) => { state.timings[name] = performance.now(); };
  mark('script');

  function status(text, isError) {
    statusEl.textContent = text;
    statusEl.classList.toggle('error', !!isError);
    if (isError) state.error = text;
  }

  const mb = (n) => (n / 1048576).toFixed(1);

  // SharedArrayBuffer exists only in a cross-origin isolated page; say which header is missing.
  async function explainIsolation() {
    const needed = {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
    };
    let missing = [];
    try {
      const r = await fetch(location.href, { method: 'HEAD', cache: 'no-store' });
      for (const [h, v] of Object.entries(needed)) {
        const got = r.headers.get(h);
        if (!got || got.trim().toLowerCase() !== v) missing.push(`${h}: ${v}` + (got ? ` (got "${got}")` : ''));
      }
    } catch (e) {
      missing = Object.entries(needed).map(([h, v]) => `${h}: ${v}`);
    }
    if (!window.isSecureContext) missing.push('a secure context (https://, or http://localhost / 127.0.0.1)');
    status('This page is not cross-origin isolated, so it cannot give the container a terminal ' +
      '(SharedArrayBuffer is unavailable).\nThe server must send: ' +
      (missing.length ? missing.join('; ') : 'Cross-Origin-Opener-Policy: same-origin and ' +
        'Cross-Origin-Embedder-Policy: require-corp') +
      '.\nServe this folder with `c2w serve DIR`, which sends them.', true);
  }

  const params = new URLSearchParams(location.search);
  const args = params.getAll('arg');
  const env = {};
  for (const kv of params.getAll('env')) {
    const i = kv.indexOf('=');
    if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  const clamp = (v, lo, hi, d) => {
    const n = parseInt(v, 10);
    return Number.isFinite(n) ? Math.min(hi, Math.max(lo, n)) : d;
  };
  const cols = clamp(params.get('cols'), 20, 500, 100);
  const rows = clamp(params.get('rows'), 5, 200, 30);
  const moduleUrl = params.get('module') || 'out.wasm';
  const mount = params.get('mount') || '/mnt';

  if (typeof Terminal === 'undefined') {
    status('xterm.js did not load: the folder is incomplete (convert again with c2w --to-browser).', true);
    return;
  }
  if (typeof SharedArrayBuffer === 'undefined' || !self.crossOriginIsolated) {
    explainIsolation();
    return;
  }

  // A blinking cursor repaints twice a second: ~13% of a core in headless Chromium without a
  // GPU, more than the idle guest itself. Off unless asked for (&blink=1).
  const term = new Terminal({ cols, rows, cursorBlink: params.get('blink') === '1', scrollback: 5000, fontSize: 14 });
  state.term = term;
  term.open(document.getElementById('terminal'));
  term.focus();

  // Keystrokes -> the ring. What does not fit waits here until the guest has read some.
  let ring = null;
  const encoder = new TextEncoder();
  let queued = [];
  let retry = null;
  function pump() {
    retry = null;
    while (queued.length) {
      const n = ring.write(queued[0]);
      if (n < queued[0].length) {
        queued[0] = queued[0].subarray(n);
        retry = setTimeout(pump, 10);
        return;
      }
      queued.shift();
    }
  }
  function send(bytes) {
    if (state.exitStatus !== null || !ring) return;
    queued.push(bytes);
    if (!retry) pump();
  }
  term.onData((s) => send(encoder.encode(s)));
  term.onBinary((s) => send(Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff)));

  let worker = null;
  // (Re)starts the module; `files` ([{path, bytes}]) become a directory at `mount`.
  function start(files) {
    if (worker) worker.terminate();
    if (retry) clearTimeout(retry);
    retry = null;
    queued = [];
    ring = C2wStdinRing.create(64 * 1024);
    ring.setSize(term.rows, term.cols);
    state.exitStatus = null;
    state.stats = null;
    exitEl.textContent = '';
    delete exitEl.dataset.status;
    term.reset();
    term.focus();
    worker = new Worker('c2w-worker.js');
    worker.onerror = (e) => status(`the worker failed: ${e.message}`, true);
    worker.onmessage = onWorkerMessage;
    status(`fetching ${moduleUrl}…`);
    worker.postMessage({
      type: 'start',
      url: new URL(moduleUrl, location.href).href,
      args: [moduleUrl, ...args],
      // No LINES/COLUMNS: the size goes through the ring (c2w_resize) at the first poll, so
      // later resizes are not overridden by the environment in the container.
      env,
      stdin: ring.sab,
      files,
      mount,
    }, files ? files.map((f) => f.bytes) : []);
  }

  function onWorkerMessage(event) {
    const m = event.data;
    switch (m.type) {
      case 'progress':
        mark(m.phase);
        if (m.phase === 'fetch')
          status(`fetching ${moduleUrl}: ${mb(m.loaded)}` + (m.total ? ` / ${mb(m.total)} MB` : ' MB'));
        else if (m.phase === 'compile')
          status(`fetched ${mb(m.loaded)} MB in ${(m.ms / 1000).toFixed(2)} s; compiling…`);
        else if (m.phase === 'instantiate')
          status(`compiled (${mb(m.loaded)} MB, ${(m.ms / 1000).toFixed(2)} s); starting…`);
        else if (m.phase === 'run')
          status(`running (${((performance.now() - state.timings.script) / 1000).toFixed(2)} s to start)`);
        break;
      case 'output':
        if (state.timings.firstOutput === undefined) mark('firstOutput');
        for (const c of m.chunks) term.write(c.bytes);
        break;
      case 'stats':
        state.stats = m.stats;
        break;
      case 'exit':
        mark('exit');
        state.stats = m.stats;
        state.exitStatus = m.code;
        exitEl.textContent = `exited with status ${m.code}`;
        exitEl.dataset.status = String(m.code);
        status('finished');
        break;
      case 'error':
        status(`the module failed: ${m.message}`, true);
        exitEl.textContent = 'failed';
        break;
    }
  }

  // Live resize: the terminal and, through the ring, the container's tty (TIOCSWINSZ, SIGWINCH).
  function resize(c, r) {
    c = clamp(c, 20, 500, term.cols);
    r = clamp(r, 5, 200, term.rows);
    if (c === term.cols && r === term.rows) return;
    term.resize(c, r);
    if (ring) ring.setSize(r, c);
  }
  state.resize = resize;
  // &fit=1: follow the window's size.
  function fit() {
    const screen = term.element && term.element.querySelector('.xterm-screen');
    if (!screen || !screen.clientWidth) return;
    const cellW = screen.clientWidth / term.cols, cellH = screen.clientHeight / term.rows;
    const top = term.element.getBoundingClientRect().top;
    resize(Math.floor((window.innerWidth - 24) / cellW), Math.floor((window.innerHeight - top - 90) / cellH));
  }
  if (params.get('fit') === '1') {
    window.addEventListener('resize', fit);
    fit();
  }

  // Files picked here are shared with the container at `mount` (kept in the worker's memory;
  // what the container changes there is lost with the page). Picking restarts the module.
  document.getElementById('mount').textContent = mount;
  for (const id of ['files', 'folder']) {
    document.getElementById(id).addEventListener('change', async (e) => {
      const picked = [...e.target.files];
      const files = await Promise.all(picked.map(async (f) => ({
        path: f.webkitRelativePath || f.name, bytes: await f.arrayBuffer() })));
      state.shared = files.map((f) => f.path);
      start(files);
    });
  }
  start(undefined);
})();
