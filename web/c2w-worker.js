// The worker that runs a c2w module (web/README.md). The page sends one 'start' message:
//   {url, args, env, stdin: SharedArrayBuffer of the terminal input ring,
//    files: [{path, bytes}] or undefined, mount: where they appear in the container}
// and gets back:
//   {type: 'progress', phase: 'worker'|'fetch'|'compile'|'instantiate'|'run', loaded, total, ms}
//   {type: 'output', chunks: [{fd, bytes}]}     terminal output, batched
//   {type: 'stats', stats: {waitMs, waits, wallMs}}  how long it slept (twice a second at most)
//   {type: 'exit', code, stats}                 the module's exit status (the container's)
//   {type: 'error', message}                    it could not be loaded or it trapped
// The module is compiled here, streaming while it downloads: Chromium refuses a synchronous
// compile of more than 8 MB on the main thread, and the worker is where it runs anyway.
'use strict';
importScripts('c2w-wasi.js');

function post(message, transfer) {
  self.postMessage(message, transfer || []);
}

async function fetchAndCompile(url) {
  const t0 = performance.now();
  const response = await fetch(url);
  if (!response.ok) throw new Error(`cannot fetch ${url}: HTTP ${response.status} ${response.statusText}`);
  const type = response.headers.get('Content-Type') || '';
  if (!type.startsWith('application/wasm'))
    throw new Error(`${url} is served as "${type}"; the server must send Content-Type: application/wasm`);
  const total = Number(response.headers.get('Content-Length')) || 0;
  let loaded = 0, lastReport = 0;
  // Count bytes as they stream into the compiler.
  const counter = new TransformStream({
    transform(chunk, controller) {
      loaded += chunk.byteLength;
      const now = performance.now();
      if (now - lastReport > 100) {
        lastReport = now;
        post({ type: 'progress', phase: 'fetch', loaded, total, ms: now - t0 });
      }
      controller.enqueue(chunk);
    },
    flush() {
      post({ type: 'progress', phase: 'compile', loaded, total, ms: performance.now() - t0 });
    },
  });
  const counted = new Response(response.body.pipeThrough(counter), {
    headers: { 'Content-Type': 'application/wasm' },
  });
  const module = await WebAssembly.compileStreaming(counted);
  return { module, loaded, total, ms: performance.now() - t0 };
}

self.onmessage = async (event) => {
  const msg = event.data;
  if (msg.type !== 'start') return;
  post({ type: 'progress', phase: 'worker' });
  try {
    const compiled = await fetchAndCompile(msg.url);
    post({ type: 'progress', phase: 'instantiate', loaded: compiled.loaded, total: compiled.total, ms: compiled.ms });
    const stats = {};
    const wasi = new C2wWasi({
      args: msg.args,
      env: msg.env,
      stdin: new C2wStdinRing(msg.stdin),
      files: msg.files,
      mount: msg.mount,
      stats,
      onStats: (s) => post({ type: 'stats', stats: { ...s } }),
      output: (chunks) => {
        const out = chunks.map((c) => {
          const size = c.parts.reduce((n, p) => n + p.length, 0);
          const bytes = new Uint8Array(size);
          let at = 0;
          for (const p of c.parts) { bytes.set(p, at); at += p.length; }
          return { fd: c.fd, bytes };
        });
        post({ type: 'output', chunks: out }, out.map((c) => c.bytes.buffer));
      },
    });
    const t1 = performance.now();
    const instance = await WebAssembly.instantiate(compiled.module, wasi.imports(compiled.module));
    post({ type: 'progress', phase: 'run', ms: performance.now() - t1 });
    const t2 = performance.now();
    const code = wasi.start(instance);
    stats.runMs = performance.now() - t2;
    post({ type: 'exit', code, stats });
  } catch (e) {
    post({ type: 'error', message: e && e.stack ? String(e.stack) : String(e) });
  }
};
