// c2w's WASI preview1 layer for a Web Worker: exactly what a c2w module needs, nothing else.
//
//  - args and environment from the page's URL options;
//  - fd 0 is a terminal: a character device without seek/tell rights (so the module's isatty()
//    holds and it runs the container with a terminal), read from a SharedArrayBuffer ring the
//    page fills with keystrokes, untouched (the guest has its own line discipline);
//  - fds 1 and 2 are the terminal too; their bytes are batched and posted to the page;
//  - poll_oneoff sleeps in Atomics.wait until the earliest clock or terminal input, and
//    fd_read on an empty ring sleeps the same way: an idle container costs no CPU;
//  - with `files`, one preopened directory (fd 3, at `mount`, default /mnt) holding them in
//    memory (C2wMemFs): the module shares it with the guest over 9p, read and write;
//  - anything else the module imports answers ENOSYS (named once in the console).
//
// The stdin ring (C2wStdinRing below, shared with the page): an Int32Array header
//   [0] bytes written so far (mod 2^32), [1] bytes read so far, [2] a wake-up counter the
//   writer bumps and notifies after each write, [3] the terminal size (rows << 16 | cols), set
//   by the page on resize (with a wake-up too); then `capacity` bytes of data.
'use strict';

const C2W_RING_HEADER = 16;
const C2W_RING_WRITTEN = 0;
const C2W_RING_READ = 1;
const C2W_RING_WAKE = 2;
const C2W_RING_SIZE = 3;

class C2wStdinRing {
  constructor(sab) {
    this.sab = sab;
    this.header = new Int32Array(sab, 0, 4);
    this.data = new Uint8Array(sab, C2W_RING_HEADER);
    this.capacity = this.data.length;
  }

  static create(capacity) {
    return new C2wStdinRing(new SharedArrayBuffer(C2W_RING_HEADER + capacity));
  }

  available() {
    return (Atomics.load(this.header, C2W_RING_WRITTEN) - Atomics.load(this.header, C2W_RING_READ)) >>> 0;
  }

  // Writer side (the page): copies what fits, returns how many bytes it took.
  write(bytes) {
    const w = Atomics.load(this.header, C2W_RING_WRITTEN) >>> 0;
    const free = this.capacity - this.available();
    const n = Math.min(free, bytes.length);
    for (let i = 0; i < n; i++) this.data[(w + i) % this.capacity] = bytes[i];
    Atomics.store(this.header, C2W_RING_WRITTEN, (w + n) | 0);
    Atomics.add(this.header, C2W_RING_WAKE, 1);
    Atomics.notify(this.header, C2W_RING_WAKE);
    return n;
  }

  // Reader side (the worker): copies up to `max` bytes into `into` (a Uint8Array) at `at`.
  read(into, at, max) {
    const r = Atomics.load(this.header, C2W_RING_READ) >>> 0;
    const n = Math.min(max, this.available());
    for (let i = 0; i < n; i++) into[at + i] = this.data[(r + i) % this.capacity];
    Atomics.store(this.header, C2W_RING_READ, (r + n) | 0);
    return n;
  }

  // The page: a new terminal size; wakes the worker, which hands it to the module.
  setSize(rows, cols) {
    Atomics.store(this.header, C2W_RING_SIZE, (rows << 16) | cols);
    Atomics.add(this.header, C2W_RING_WAKE, 1);
    Atomics.notify(this.header, C2W_RING_WAKE);
  }

  size() {
    return Atomics.load(this.header, C2W_RING_SIZE);
  }

  wakeCount() {
    return Atomics.load(this.header, C2W_RING_WAKE);
  }

  // Sleeps until the writer bumps the wake counter past `seen` or `ms` pass (Infinity: no limit).
  sleep(seen, ms) {
    Atomics.wait(this.header, C2W_RING_WAKE, seen, ms);
  }
}

class C2wExit extends Error {
  constructor(code) {
    super(`exit ${code}`);
    this.code = code;
  }
}

// errno values of WASI preview1
const E_SUCCESS = 0, E_AGAIN = 6, E_BADF = 8, E_FAULT = 21, E_INVAL = 28, E_NOSYS = 52,
  E_SPIPE = 70;
const FILETYPE_CHARACTER_DEVICE = 2;
const RIGHT_FD_SEEK = 1n << 2n, RIGHT_FD_TELL = 1n << 5n;
const RIGHTS_ALL = (1n << 30n) - 1n;
const EVENTTYPE_CLOCK = 0, EVENTTYPE_FD_READ = 1, EVENTTYPE_FD_WRITE = 2;
const CLOCK_REALTIME = 0;

// ---- the mapped directory: an in-memory tree shared as a preopened directory (fd 3) ----
// Files the page hands over (name or relative path -> bytes) become a tree the module's 9p
// server reads and writes through path_* / fd_* calls; changes live as long as the worker.

const E_EXIST = 20, E_ISDIR = 31, E_NOENT = 44, E_NOTDIR = 54, E_NOTEMPTY = 55, E_NOTSUP = 58,
  E_NOTCAPABLE = 76;
const FILETYPE_DIRECTORY = 3, FILETYPE_REGULAR_FILE = 4;
const OFLAG_CREAT = 1, OFLAG_DIRECTORY = 2, OFLAG_EXCL = 4, OFLAG_TRUNC = 8;
const FDFLAG_APPEND = 1;

class C2wMemFs {
  constructor(files) {
    this.nextIno = 1n;
    this.root = this.node('dir');
    for (const f of files || []) {
      const parts = f.path.split('/').filter((p) => p && p !== '.' && p !== '..');
      if (!parts.length) continue;
      let dir = this.root;
      for (const p of parts.slice(0, -1)) {
        let next = dir.children.get(p);
        if (!next) dir.children.set(p, (next = this.node('dir')));
        if (next.type !== 'dir') break;
        dir = next;
      }
      const file = this.node('file');
      file.data = new Uint8Array(f.bytes);
      file.size = file.data.length;
      dir.children.set(parts[parts.length - 1], file);
    }
  }

  node(type) {
    const now = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
    const n = { ino: this.nextIno++, type, atim: now, mtim: now, ctim: now };
    if (type === 'dir') n.children = new Map();
    else { n.data = new Uint8Array(0); n.size = 0; }
    return n;
  }

  // Walks `path` from `dir`: {node} or {error}; with `parent`, stops before the last component
  // and returns {dir, name}. ".." may not climb above the starting directory.
  resolve(dir, path, parent) {
    if (path.startsWith('/')) return { error: E_NOTCAPABLE };
    const parts = path.split('/').filter((p) => p && p !== '.');
    const stack = [dir];
    const last = parent ? parts.pop() : undefined;
    if (parent && (last === undefined || last === '..')) return { error: last === '..' ? E_NOTCAPABLE : E_INVAL };
    for (const p of parts) {
      const cur = stack[stack.length - 1];
      if (cur.type !== 'dir') return { error: E_NOTDIR };
      if (p === '..') {
        if (stack.length === 1) return { error: E_NOTCAPABLE };
        stack.pop();
        continue;
      }
      const next = cur.children.get(p);
      if (!next) return { error: E_NOENT };
      stack.push(next);
    }
    const end = stack[stack.length - 1];
    if (parent) return end.type === 'dir' ? { dir: end, name: last } : { error: E_NOTDIR };
    return { node: end };
  }

  grow(file, size) {
    if (size > file.data.length) {
      const bigger = new Uint8Array(Math.max(size, file.data.length * 2, 4096));
      bigger.set(file.data.subarray(0, file.size));
      file.data = bigger;
    }
    if (size > file.size) file.data.fill(0, file.size, size);
    file.size = size;
  }

  stat(view, ptr, n) {
    for (let k = 0; k < 64; k += 4) view.setUint32(ptr + k, 0, true);
    view.setBigUint64(ptr, 0x63327766n, true);
    view.setBigUint64(ptr + 8, n.ino, true);
    view.setUint8(ptr + 16, n.type === 'dir' ? FILETYPE_DIRECTORY : FILETYPE_REGULAR_FILE);
    view.setBigUint64(ptr + 24, 1n, true);
    view.setBigUint64(ptr + 32, BigInt(n.type === 'dir' ? 4096 : n.size), true);
    view.setBigUint64(ptr + 40, n.atim, true);
    view.setBigUint64(ptr + 48, n.mtim, true);
    view.setBigUint64(ptr + 56, n.ctim, true);
  }

  // The directory's entries from `cookie` on, as WASI dirents (".", ".." first).
  dirents(dir, cookie) {
    const names = [['.', dir], ['..', dir], ...dir.children.entries()];
    const enc = new TextEncoder();
    const out = [];
    for (let i = Number(cookie); i < names.length; i++) {
      const [name, n] = names[i];
      const b = enc.encode(name);
      const e = new Uint8Array(24 + b.length);
      const v = new DataView(e.buffer);
      v.setBigUint64(0, BigInt(i + 1), true);
      v.setBigUint64(8, n.ino, true);
      v.setUint32(16, b.length, true);
      v.setUint8(20, n.type === 'dir' ? FILETYPE_DIRECTORY : FILETYPE_REGULAR_FILE);
      e.set(b, 24);
      out.push(e);
    }
    return out;
  }
}

class C2wWasi {
  // options: args (strings, args[0] the program), env ({K: V}), stdin (C2wStdinRing),
  // output(chunks) called with [{fd, bytes}] batches, stats: an object it keeps counters in
// (waitMs: time asleep, waits, wallMs), onStats(stats) called at most twice a second.
  constructor(options) {
    this.args = options.args;
    this.env = Object.entries(options.env || {}).map(([k, v]) => `${k}=${v}`);
    this.stdin = options.stdin;
    this.output = options.output;
    this.stats = options.stats || {};
    this.stats.waitMs = 0;
    this.stats.waits = 0;
    this.stats.startedAt = performance.now();
    this.onStats = options.onStats || (() => {});
    this.lastStats = 0;
    this.pending = [];
    this.pendingBytes = 0;
    this.lastFlush = performance.now();
    this.memory = null;
    this.warned = new Set();
    this.encoder = new TextEncoder();
    this.decoder = new TextDecoder();
    this.fds = new Map();
    if (options.files) {
      this.mount = options.mount || '/mnt';
      this.memfs = new C2wMemFs(options.files);
      this.fds.set(3, { node: this.memfs.root, pos: 0, preopen: true });
    }
  }

  path(ptr, len) {
    return this.decoder.decode(this.u8().slice(ptr, ptr + len));
  }

  freeFd() {
    let fd = 4;
    while (this.fds.has(fd)) fd++;
    return fd;
  }

  iovecs(iovs, n) {
    const v = this.view(), list = [];
    for (let i = 0; i < n; i++) list.push([v.getUint32(iovs + 8 * i, true), v.getUint32(iovs + 8 * i + 4, true)]);
    return list;
  }

  fileRead(f, iovs, iovsLen, at) {
    const m = this.u8();
    let total = 0;
    for (const [ptr, len] of this.iovecs(iovs, iovsLen)) {
      const n = Math.max(0, Math.min(len, f.size - at - total));
      m.set(f.data.subarray(at + total, at + total + n), ptr);
      total += n;
      if (n < len) break;
    }
    f.atim = this.nowNs(CLOCK_REALTIME);
    return total;
  }

  fileWrite(f, iovs, iovsLen, at) {
    const list = this.iovecs(iovs, iovsLen);
    const total = list.reduce((n, [, len]) => n + len, 0);
    if (at + total > f.size) this.memfs.grow(f, at + total);
    const m = this.u8();
    let off = at;
    for (const [ptr, len] of list) { f.data.set(m.subarray(ptr, ptr + len), off); off += len; }
    f.mtim = f.ctim = this.nowNs(CLOCK_REALTIME);
    return total;
  }

  // The calls on the mapped directory's descriptors (fd >= 3).
  fsFunctions() {
    const fds = this.fds;
    const file = (fd) => fds.get(fd);
    const at = (fd, ptr, len, parent) => {
      const d = fds.get(fd);
      if (!d) return { error: E_BADF };
      if (d.node.type !== 'dir') return { error: E_NOTDIR };
      return this.memfs.resolve(d.node, this.path(ptr, len), parent);
    };
    const touch = (n) => { n.mtim = n.ctim = this.nowNs(CLOCK_REALTIME); };
    return {
      fd_prestat_get: (fd, ptr) => {
        const d = fds.get(fd);
        if (!d || !d.preopen) return E_BADF;
        const v = this.view();
        v.setUint32(ptr, 0, true);
        v.setUint32(ptr + 4, this.encoder.encode(this.mount).length, true);
        return E_SUCCESS;
      },
      fd_prestat_dir_name: (fd, ptr, len) => {
        const d = fds.get(fd);
        if (!d || !d.preopen) return E_BADF;
        this.u8().set(this.encoder.encode(this.mount).subarray(0, len), ptr);
        return E_SUCCESS;
      },
      path_open: (dirfd, _dirflags, ptr, len, oflags, _rb, _ri, fdflags, fdPtr) => {
        let r = at(dirfd, ptr, len, false);
        let node = r.node;
        if (r.error === E_NOENT && (oflags & OFLAG_CREAT)) {
          const p = at(dirfd, ptr, len, true);
          if (p.error) return p.error;
          node = this.memfs.node('file');
          p.dir.children.set(p.name, node);
          touch(p.dir);
        } else if (r.error) {
          return r.error;
        } else if ((oflags & OFLAG_CREAT) && (oflags & OFLAG_EXCL)) {
          return E_EXIST;
        }
        if ((oflags & OFLAG_DIRECTORY) && node.type !== 'dir') return E_NOTDIR;
        if ((oflags & OFLAG_TRUNC) && node.type === 'dir') return E_ISDIR;
        if ((oflags & OFLAG_TRUNC) && node.type === 'file') { node.size = 0; touch(node); }
        const fd = this.freeFd();
        fds.set(fd, { node, pos: 0, append: (fdflags & FDFLAG_APPEND) !== 0 });
        this.view().setUint32(fdPtr, fd, true);
        return E_SUCCESS;
      },
      fd_close: (fd) => {
        if (fd <= 2) return E_SUCCESS;
        const d = fds.get(fd);
        if (!d || d.preopen) return E_BADF;
        fds.delete(fd);
        return E_SUCCESS;
      },
      fd_filestat_get: (fd, ptr) => {
        const d = file(fd);
        if (!d) return E_BADF;
        this.memfs.stat(this.view(), ptr, d.node);
        return E_SUCCESS;
      },
      path_filestat_get: (fd, _flags, ptr, len, buf) => {
        const r = at(fd, ptr, len, false);
        if (r.error) return r.error;
        this.memfs.stat(this.view(), buf, r.node);
        return E_SUCCESS;
      },
      fd_fdstat_get: (fd, ptr) => {
        const d = file(fd);
        if (!d) return E_BADF;
        const v = this.view();
        v.setUint8(ptr, d.node.type === 'dir' ? FILETYPE_DIRECTORY : FILETYPE_REGULAR_FILE);
        v.setUint8(ptr + 1, 0);
        v.setUint16(ptr + 2, d.append ? FDFLAG_APPEND : 0, true);
        v.setUint32(ptr + 4, 0, true);
        v.setBigUint64(ptr + 8, RIGHTS_ALL, true);
        v.setBigUint64(ptr + 16, RIGHTS_ALL, true);
        return E_SUCCESS;
      },
      fd_readdir: (fd, buf, bufLen, cookie, usedPtr) => {
        const d = file(fd);
        if (!d) return E_BADF;
        if (d.node.type !== 'dir') return E_NOTDIR;
        const m = this.u8();
        let used = 0;
        for (const e of this.memfs.dirents(d.node, cookie)) {
          const n = Math.min(e.length, bufLen - used);
          m.set(e.subarray(0, n), buf + used);
          used += n;
          if (used >= bufLen) break;
        }
        this.view().setUint32(usedPtr, used, true);
        return E_SUCCESS;
      },
      fd_pread: (fd, iovs, iovsLen, offset, nPtr) => {
        const d = file(fd);
        if (!d) return E_BADF;
        if (d.node.type === 'dir') return E_ISDIR;
        this.view().setUint32(nPtr, this.fileRead(d.node, iovs, iovsLen, Number(offset)), true);
        return E_SUCCESS;
      },
      fd_pwrite: (fd, iovs, iovsLen, offset, nPtr) => {
        const d = file(fd);
        if (!d) return E_BADF;
        if (d.node.type === 'dir') return E_ISDIR;
        this.view().setUint32(nPtr, this.fileWrite(d.node, iovs, iovsLen, Number(offset)), true);
        return E_SUCCESS;
      },
      fd_read: (fd, iovs, iovsLen, nPtr) => {
        const d = file(fd);
        if (!d) return E_BADF;
        if (d.node.type === 'dir') return E_ISDIR;
        const n = this.fileRead(d.node, iovs, iovsLen, d.pos);
        d.pos += n;
        this.view().setUint32(nPtr, n, true);
        return E_SUCCESS;
      },
      fd_write: (fd, iovs, iovsLen, nPtr) => {
        const d = file(fd);
        if (!d) return E_BADF;
        if (d.node.type === 'dir') return E_ISDIR;
        if (d.append) d.pos = d.node.size;
        const n = this.fileWrite(d.node, iovs, iovsLen, d.pos);
        d.pos += n;
        this.view().setUint32(nPtr, n, true);
        return E_SUCCESS;
      },
      fd_seek: (fd, offset, whence, newPtr) => {
        const d = file(fd);
        if (!d) return E_BADF;
        const base = whence === 0 ? 0 : whence === 1 ? d.pos : whence === 2 ? (d.node.size || 0) : NaN;
        const pos = base + Number(offset);
        if (!(pos >= 0)) return E_INVAL;
        d.pos = pos;
        this.view().setBigUint64(newPtr, BigInt(pos), true);
        return E_SUCCESS;
      },
      fd_filestat_set_size: (fd, size) => {
        const d = file(fd);
        if (!d) return E_BADF;
        if (d.node.type === 'dir') return E_ISDIR;
        const n = Number(size);
        if (n > d.node.size) this.memfs.grow(d.node, n); else d.node.size = n;
        touch(d.node);
        return E_SUCCESS;
      },
      fd_filestat_set_times: (fd, atim, mtim, flags) => {
        const d = file(fd);
        if (!d) return E_BADF;
        const now = this.nowNs(CLOCK_REALTIME);
        if (flags & 1) d.node.atim = atim; else if (flags & 2) d.node.atim = now;
        if (flags & 4) d.node.mtim = mtim; else if (flags & 8) d.node.mtim = now;
        d.node.ctim = now;
        return E_SUCCESS;
      },
      fd_datasync: (fd) => (file(fd) ? E_SUCCESS : E_BADF),
      fd_sync: (fd) => (file(fd) ? E_SUCCESS : E_BADF),
      fd_fdstat_set_flags: (fd) => (file(fd) ? E_SUCCESS : E_BADF),
      path_create_directory: (fd, ptr, len) => {
        const p = at(fd, ptr, len, true);
        if (p.error) return p.error;
        if (p.dir.children.has(p.name)) return E_EXIST;
        p.dir.children.set(p.name, this.memfs.node('dir'));
        touch(p.dir);
        return E_SUCCESS;
      },
      path_unlink_file: (fd, ptr, len) => {
        const p = at(fd, ptr, len, true);
        if (p.error) return p.error;
        const n = p.dir.children.get(p.name);
        if (!n) return E_NOENT;
        if (n.type === 'dir') return E_ISDIR;
        p.dir.children.delete(p.name);
        touch(p.dir);
        return E_SUCCESS;
      },
      path_remove_directory: (fd, ptr, len) => {
        const p = at(fd, ptr, len, true);
        if (p.error) return p.error;
        const n = p.dir.children.get(p.name);
        if (!n) return E_NOENT;
        if (n.type !== 'dir') return E_NOTDIR;
        if (n.children.size) return E_NOTEMPTY;
        p.dir.children.delete(p.name);
        touch(p.dir);
        return E_SUCCESS;
      },
      path_rename: (fd, ptr, len, fd2, ptr2, len2) => {
        const from = at(fd, ptr, len, true), to = at(fd2, ptr2, len2, true);
        if (from.error) return from.error;
        if (to.error) return to.error;
        const n = from.dir.children.get(from.name);
        if (!n) return E_NOENT;
        const old = to.dir.children.get(to.name);
        if (old === n) return E_SUCCESS;
        if (old && old.type === 'dir' && n.type !== 'dir') return E_ISDIR;
        if (old && old.type !== 'dir' && n.type === 'dir') return E_NOTDIR;
        if (old && old.type === 'dir' && old.children.size) return E_NOTEMPTY;
        // A directory may not move into itself.
        const inside = (d, target) => d === target ||
          (d.type === 'dir' && [...d.children.values()].some((c) => inside(c, target)));
        if (n.type === 'dir' && inside(n, to.dir)) return E_INVAL;
        from.dir.children.delete(from.name);
        to.dir.children.set(to.name, n);
        touch(from.dir);
        touch(to.dir);
        return E_SUCCESS;
      },
      path_readlink: (fd, ptr, len) => {
        const r = at(fd, ptr, len, false);
        return r.error || E_INVAL;
      },
      path_symlink: () => E_NOTSUP,
      path_link: () => E_NOTSUP,
    };
  }



  // The import object for `module`: our functions, ENOSYS for whatever else it asks of WASI.
  imports(module) {
    const ours = this.functions();
    if (this.memfs) {
      const fsf = this.fsFunctions();
      for (const [name, f] of Object.entries(fsf)) {
        const term = ours[name];
        // Calls whose first argument is a descriptor: 0-2 stay the terminal's.
        ours[name] = term ? (fd, ...rest) => (fd > 2 ? f(fd, ...rest) : term(fd, ...rest)) : f;
      }
    }
    const wasi = {};
    for (const imp of WebAssembly.Module.imports(module)) {
      if (imp.module !== 'wasi_snapshot_preview1' || imp.kind !== 'function') continue;
      wasi[imp.name] = ours[imp.name] || ((...a) => {
        if (!this.warned.has(imp.name)) {
          this.warned.add(imp.name);
          console.warn(`c2w-wasi: ${imp.name} is not provided (ENOSYS)`);
        }
        return E_NOSYS;
      });
    }
    return { wasi_snapshot_preview1: wasi };
  }

  // Runs the module's _start; returns its exit status.
  start(instance) {
    this.memory = instance.exports.memory;
    this.instance = instance;
    // 0: the first poll hands the page's terminal size to the module (the runtime starts with
    // 24x80 unless LINES/COLUMNS say otherwise, and those would also pin busybox's idea of
    // the size: its tools prefer them to the terminal's).
    this.lastSize = 0;
    try {
      instance.exports._start();
      return 0;
    } catch (e) {
      if (e instanceof C2wExit) return e.code;
      throw e;
    } finally {
      this.flush();
    }
  }

  u8() { return new Uint8Array(this.memory.buffer); }
  view() { return new DataView(this.memory.buffer); }

  flush() {
    if (this.pending.length === 0) return;
    const chunks = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    this.lastFlush = performance.now();
    this.output(chunks);
  }

  // Output reaches the page in batches: when enough is pending, every 20 ms while the guest
  // runs, and before any sleep.
  maybeFlush() {
    if (this.pendingBytes >= 65536 || performance.now() - this.lastFlush >= 20) this.flush();
  }

  writeStrings(list, ptrs, buf) {
    const v = this.view(), m = this.u8();
    for (const s of list) {
      const b = this.encoder.encode(s);
      v.setUint32(ptrs, buf, true);
      ptrs += 4;
      m.set(b, buf);
      m[buf + b.length] = 0;
      buf += b.length + 1;
    }
    return E_SUCCESS;
  }

  sizes(list, countPtr, sizePtr) {
    const v = this.view();
    v.setUint32(countPtr, list.length, true);
    v.setUint32(sizePtr, list.reduce((n, s) => n + this.encoder.encode(s).length + 1, 0), true);
    return E_SUCCESS;
  }

  nowNs(id) {
    if (id === CLOCK_REALTIME) return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
    return BigInt(Math.round(performance.now() * 1e6));
  }

  // The terminal was resized: tell the module through its c2w_resize export (a re-entrant call
  // from inside this WASI call; it only stores the size, the runtime sends it to the guest).
  // Returns whether it did, so a sleep ends and the runtime gets to run.
  checkResize() {
    const size = this.stdin.size();
    if (size === this.lastSize || !this.instance) return false;
    this.lastSize = size;
    const resize = this.instance.exports.c2w_resize;
    if (typeof resize === 'function' && size) resize(size >>> 16, size & 0xffff);
    return true;
  }

  // Waits (Atomics.wait) until stdin has bytes or `deadline` (performance.now() ms) passes.
  sleepUntil(deadline, wantStdin) {
    this.flush();
    for (;;) {
      const seen = this.stdin.wakeCount();
      if (this.checkResize()) return;
      if (wantStdin && this.stdin.available() > 0) return;
      const left = deadline - performance.now();
      if (left <= 0) return;
      const t0 = performance.now();
      this.stdin.sleep(seen, left);
      const t1 = performance.now();
      this.stats.waitMs += t1 - t0;
      this.stats.waits++;
      if (t1 - this.lastStats >= 500) {
        this.lastStats = t1;
        this.stats.wallMs = t1 - this.stats.startedAt;
        this.onStats(this.stats);
      }
    }
  }

  functions() {
    return {
      args_sizes_get: (c, s) => this.sizes(this.args, c, s),
      args_get: (p, b) => this.writeStrings(this.args, p, b),
      environ_sizes_get: (c, s) => this.sizes(this.env, c, s),
      environ_get: (p, b) => this.writeStrings(this.env, p, b),

      clock_res_get: (id, ptr) => {
        this.view().setBigUint64(ptr, 1000n, true);
        return E_SUCCESS;
      },
      clock_time_get: (id, _precision, ptr) => {
        this.view().setBigUint64(ptr, this.nowNs(id), true);
        return E_SUCCESS;
      },

      random_get: (ptr, len) => {
        const m = this.u8();
        // getRandomValues takes at most 65536 bytes, and no view of shared memory.
        for (let off = 0; off < len; off += 65536) {
          const chunk = new Uint8Array(Math.min(65536, len - off));
          crypto.getRandomValues(chunk);
          m.set(chunk, ptr + off);
        }
        return E_SUCCESS;
      },

      fd_write: (fd, iovs, iovsLen, nwrittenPtr) => {
        if (fd !== 1 && fd !== 2) return E_BADF;
        const v = this.view(), m = this.u8();
        let total = 0;
        for (let i = 0; i < iovsLen; i++) {
          const ptr = v.getUint32(iovs + 8 * i, true), len = v.getUint32(iovs + 8 * i + 4, true);
          if (len === 0) continue;
          const bytes = m.slice(ptr, ptr + len);
          const last = this.pending[this.pending.length - 1];
          if (last && last.fd === fd) last.parts.push(bytes);
          else this.pending.push({ fd, parts: [bytes] });
          total += len;
        }
        this.pendingBytes += total;
        v.setUint32(nwrittenPtr, total, true);
        this.maybeFlush();
        return E_SUCCESS;
      },

      fd_read: (fd, iovs, iovsLen, nreadPtr) => {
        if (fd !== 0) return E_BADF;
        // Blocking read, as a terminal: sleep until a key arrives.
        while (this.stdin.available() === 0) this.sleepUntil(Infinity, true);
        const v = this.view(), m = this.u8();
        let total = 0;
        for (let i = 0; i < iovsLen; i++) {
          const ptr = v.getUint32(iovs + 8 * i, true), len = v.getUint32(iovs + 8 * i + 4, true);
          const n = this.stdin.read(m, ptr, len);
          total += n;
          if (n < len) break;
        }
        v.setUint32(nreadPtr, total, true);
        return E_SUCCESS;
      },

      poll_oneoff: (inPtr, outPtr, nsubs, neventsPtr) => {
        if (nsubs === 0) return E_INVAL;
        const v = this.view();
        const subs = [];
        let deadline = Infinity, wantStdin = false;
        const now = performance.now();
        for (let i = 0; i < nsubs; i++) {
          const base = inPtr + 48 * i;
          const sub = { userdata: v.getBigUint64(base, true), type: v.getUint8(base + 8) };
          if (sub.type === EVENTTYPE_CLOCK) {
            const id = v.getUint32(base + 16, true);
            const timeout = v.getBigUint64(base + 24, true);
            const abs = (v.getUint16(base + 40, true) & 1) !== 0;
            const relNs = abs ? Number(timeout - this.nowNs(id)) : Number(timeout);
            sub.deadline = now + Math.max(0, relNs) / 1e6;
            deadline = Math.min(deadline, sub.deadline);
          } else if (sub.type === EVENTTYPE_FD_READ || sub.type === EVENTTYPE_FD_WRITE) {
            sub.fd = v.getUint32(base + 16, true);
            if (sub.type === EVENTTYPE_FD_READ && sub.fd === 0) wantStdin = true;
          } else {
            return E_INVAL;
          }
          subs.push(sub);
        }
        const ready = (s) => {
          if (s.type === EVENTTYPE_CLOCK) return performance.now() >= s.deadline;
          if (s.type === EVENTTYPE_FD_READ) return s.fd !== 0 || this.stdin.available() > 0;
          return true;  // writes to the terminal never block
        };
        this.checkResize();
        if (!subs.some(ready)) {
          if (deadline - performance.now() > 0) this.sleepUntil(deadline, wantStdin);
        } else {
          this.maybeFlush();
        }
        let n = 0;
        for (const s of subs) {
          if (!ready(s)) continue;
          const base = outPtr + 32 * n++;
          for (let k = 0; k < 32; k += 4) v.setUint32(base + k, 0, true);
          v.setBigUint64(base, s.userdata, true);
          const known = s.fd === undefined || s.fd <= 2 || this.fds.has(s.fd);
          v.setUint16(base + 8, known ? E_SUCCESS : E_BADF, true);
          v.setUint8(base + 10, s.type);
          if (s.type === EVENTTYPE_FD_READ && s.fd === 0)
            v.setBigUint64(base + 16, BigInt(this.stdin.available()), true);
        }
        v.setUint32(neventsPtr, n, true);
        return E_SUCCESS;
      },

      fd_fdstat_get: (fd, ptr) => {
        if (fd > 2) return E_BADF;
        const v = this.view();
        v.setUint8(ptr, FILETYPE_CHARACTER_DEVICE);
        v.setUint8(ptr + 1, 0);
        v.setUint16(ptr + 2, 0, true);
        v.setUint32(ptr + 4, 0, true);
        v.setBigUint64(ptr + 8, RIGHTS_ALL & ~(RIGHT_FD_SEEK | RIGHT_FD_TELL), true);
        v.setBigUint64(ptr + 16, 0n, true);
        return E_SUCCESS;
      },
      fd_filestat_get: (fd, ptr) => {
        if (fd > 2) return E_BADF;
        const v = this.view();
        for (let k = 0; k < 64; k += 4) v.setUint32(ptr + k, 0, true);
        v.setUint8(ptr + 16, FILETYPE_CHARACTER_DEVICE);
        v.setBigUint64(ptr + 24, 1n, true);
        return E_SUCCESS;
      },
      fd_fdstat_set_flags: (fd) => (fd <= 2 ? E_SUCCESS : E_BADF),
      fd_prestat_get: () => E_BADF,
      fd_prestat_dir_name: () => E_BADF,
      fd_close: (fd) => (fd <= 2 ? E_SUCCESS : E_BADF),
      fd_seek: (fd) => (fd <= 2 ? E_SPIPE : E_BADF),
      fd_tell: (fd) => (fd <= 2 ? E_SPIPE : E_BADF),
      fd_sync: (fd) => (fd <= 2 ? E_SUCCESS : E_BADF),
      sched_yield: () => E_SUCCESS,
      proc_exit: (code) => {
        this.flush();
        throw new C2wExit(code);
      },
    };
  }
}

if (typeof self !== 'undefined') Object.assign(self, { C2wStdinRing, C2wWasi, C2wExit });
