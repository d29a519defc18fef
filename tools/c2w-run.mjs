#!/usr/bin/env -S node --no-warnings
// Runs a WASI module (a c2w output, or any preview1 module) on Node's node:wasi.
//   c2w-run.mjs MODULE.wasm [--dir HOST[::GUEST]]... [--env K=V]... [--] [ARGS...]
// Flags before `--` (or before the first argument that is not one of ours) belong to this
// runner; everything after goes to the module. The module's exit status is ours.
import { readFile } from 'node:fs/promises';
import { WASI } from 'node:wasi';
import process from 'node:process';

function usage(message) {
  if (message) process.stderr.write(`c2w-run: ${message}\n`);
  process.stderr.write(
    'usage: c2w-run.mjs MODULE.wasm [--dir HOST[::GUEST]]... [--env K=V]... [--] [ARGS...]\n');
  process.exit(2);
}

const argv = process.argv.slice(2);
if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') usage();
const modulePath = argv.shift();
const preopens = {};
const env = {};
while (argv.length) {
  const a = argv[0];
  if (a === '--') { argv.shift(); break; }
  let m;
  if ((m = /^--dir(?:=(.*))?$/.exec(a))) {
    argv.shift();
    const spec = m[1] ?? argv.shift();
    if (!spec) usage('--dir needs HOST[::GUEST]');
    const [host, guest] = spec.includes('::') ? spec.split('::', 2) : [spec, spec];
    preopens[guest] = host;
  } else if ((m = /^--env(?:=(.*))?$/.exec(a))) {
    argv.shift();
    const spec = m[1] ?? argv.shift();
    if (!spec || !spec.includes('=')) usage('--env needs K=V');
    const i = spec.indexOf('=');
    env[spec.slice(0, i)] = spec.slice(i + 1);
  } else {
    break;
  }
}

let bytes;
try {
  bytes = await readFile(modulePath);
} catch (e) {
  usage(`cannot read module ${modulePath}: ${e.message}`);
}
const wasi = new WASI({
  version: 'preview1',
  args: [modulePath, ...argv],
  env,
  preopens,
  returnOnExit: true,
});
const module = await WebAssembly.compile(bytes);
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
// A terminal on stdin goes raw, as `docker run -t` does: keys reach the guest's own line
// discipline (its echo, ^C as SIGINT inside the container) instead of being cooked twice.
// Node does not read fd 0 itself here (its stdin stream stays paused); the module does.
const raw = process.stdin.isTTY === true;
if (raw) process.stdin.setRawMode(true);
let status;
try {
  status = wasi.start(instance);
} finally {
  if (raw) process.stdin.setRawMode(false);
}
process.exitCode = status ?? 0;
