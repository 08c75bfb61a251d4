// Interning of host and program names: the same few names repeat across millions of records, so
// each distinct byte string becomes a JS string once. No I/O here.
//
//   FNV-1a hash of the bytes (computed by the caller while it scans for the token's end)
//        │ two candidate slots: low bits, and bits 12..23
//        ▼
//   slot: [ hash | key bytes (a copy) | string ]    4096 slots, 2-way: a name is looked up in both;
//                                            a new one takes an empty candidate, else evicts
//                                            them in turn
//
// Two choices keep a few hundred hot names from evicting each other (with one, 50 names in 1024
// slots already collide). Bounded: at most SLOTS entries of at most MAX_INTERN_BYTES each.

export const HASH_SEED = 0x811c9dc5 | 0;
export const HASH_PRIME = 0x01000193;

const SLOTS = 4096;
const MASK = SLOTS - 1;
/** Longer names are decoded each time rather than cached. */
export const MAX_INTERN_BYTES = 128;

const hashes = new Int32Array(SLOTS);
const keys: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(SLOTS).fill(undefined);
const vals: string[] = new Array<string>(SLOTS).fill('');
let evictSecond = false;

function matches(slot: number, hash: number, data: Buffer, start: number, n: number): boolean {
  if (hashes[slot] !== hash) return false;
  const k = keys[slot];
  if (k === undefined || k.length !== n) return false;
  let j = 0;
  while (j < n && k[j] === data[start + j]) j++;
  return j === n;
}

/** The string of data[start, end) as UTF-8, `hash` being the FNV-1a of those bytes. */
export function intern(data: Buffer, start: number, end: number, hash: number): string {
  const n = end - start;
  if (n > MAX_INTERN_BYTES) return data.toString('utf8', start, end);
  const a = hash & MASK;
  if (matches(a, hash, data, start, n)) return vals[a]!;
  const b = (hash >>> 12) & MASK;
  if (matches(b, hash, data, start, n)) return vals[b]!;
  let slot: number;
  if (keys[a] === undefined) slot = a;
  else if (keys[b] === undefined) slot = b;
  else {
    slot = evictSecond ? b : a;
    evictSecond = !evictSecond;
  }
  const copy = new Uint8Array(n);
  copy.set(data.subarray(start, end));
  const s = data.toString('utf8', start, end);
  hashes[slot] = hash;
  keys[slot] = copy;
  vals[slot] = s;
  return s;
}

/** FNV-1a of data[start, end) (for callers that did not hash while scanning). */
export function hashBytes(data: Uint8Array, start: number, end: number): number {
  let h = HASH_SEED;
  for (let k = start; k < end; k++) h = Math.imul(h ^ data[k]!, HASH_PRIME);
  return h;
}
