// A small seeded PRNG (mulberry32) for tests and benchmarks: the same seed gives the same sequence,
// so a failing random case can be replayed.

/** mulberry32: numbers in [0, 1) from a 32-bit seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Integers in [0, k) from prng(seed): rnd(6) is a die. */
export function prngInts(seed: number): (k: number) => number {
  const r = prng(seed);
  return (k) => Math.floor(r() * k);
}
