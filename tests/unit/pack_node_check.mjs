// Instantiates a packed test module in node and reads its memory back through the module's own
// code: `load(addr)` is an exported wasm function doing i32.load.
//   node pack_node_check.mjs OUT.wasm EXPECTED.bin BASE
// EXPECTED.bin holds the bytes that must be at [BASE, BASE + size) (guest RAM, zero pages
// included, then the state); every 32-bit word is compared. Prints one JSON line:
//   {"info": address of c2w_pack_info, "words": its 8 words, "memoryBytes": ..., "checked": N,
//    "mismatches": [[addr, got, want], ...]}
// and exits 1 if any word differs.
import { readFileSync } from 'node:fs';

const [wasmPath, expectedPath, baseText] = process.argv.slice(2);
const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath));
const { load, memory, c2w_pack_info: info } = instance.exports;
const expected = readFileSync(expectedPath);
const base = Number(baseText);
const view = new DataView(expected.buffer, expected.byteOffset, expected.byteLength);

const words = [];
for (let i = 0; i < 8; i++) words.push(load(info.value + 4 * i) >>> 0);
const mismatches = [];
let checked = 0;
for (let off = 0; off + 4 <= expected.byteLength; off += 4) {
  const got = load((base + off) | 0) >>> 0;
  const want = view.getUint32(off, true);
  checked++;
  if (got !== want && mismatches.length < 10) mismatches.push([base + off, got, want]);
}
console.log(JSON.stringify({
  info: info.value >>> 0, words, memoryBytes: memory.buffer.byteLength, checked, mismatches,
}));
process.exit(mismatches.length ? 1 : 0);
