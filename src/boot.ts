// Runtime flags that must be set before anything else is loaded: main.ts imports this first.
//
// V8 doubles the young generation (semi-space) as a process allocates, up to 16 MiB here; with
// batches of up to 1 MiB passing through, it grows to the top and stays there, holding garbage
// that a smaller one collects sooner. A growth factor of 1 keeps it at its initial size (1 MiB):
// a client's peak RSS drops by about 11 MB (S3 in bench/RESULTS.md). A process that receives
// over the network (what many senders send) gets a larger one at start (youngGeneration below).
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

setFlagsFromString('--semi-space-growth-factor=1');

/** The least young generation a receiving process starts with (V8's new space, as it reports its size). */
export const SERVER_YOUNG_BYTES = 4 * 1024 * 1024;

const newSpaceBytes = (): number => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;

/**
 * Sizes the young generation once the configuration is known. A process that only tails and ships
 * (a client) keeps the 1 MiB one. One with a network source (`receives`: syslog over TCP, TLS or
 * UDP, the ship protocol) grows it now, before any load, to at least `target` bytes, and keeps it
 * there: at a million lines in half a second, 1 MiB meant about 100 scavenges a run. V8 sizes the
 * young generation at start (--min-semi-space-size, a command-line flag) and afterwards only grows
 * it, by its growth factor, when enough objects survive scavenges; so for a moment the factor is 4
 * and a few thousand objects are kept alive over a few scavenges (a few ms, bounded), then the
 * factor is 1 again. A reload that drops the network sources keeps what was grown.
 *
 * Measured (docs/decisions/0005-one-thread-per-process.md), a 4 MiB young generation from the
 * start against 1 MiB, S4, six rounds in ABBA order: 2.01M → 2.12M msg/s with fsync, 2.37M →
 * 2.70M without, 9–13 % less CPU. Growing while the load runs instead (the factor left at 4) was
 * slower; and a client grown that way peaked at 94 MB in S5 instead of 74 (the target is 80).
 */
export function youngGeneration(receives: boolean, target: number = SERVER_YOUNG_BYTES): void {
  if (!receives || newSpaceBytes() >= target) return;
  setFlagsFromString('--semi-space-growth-factor=4');
  try {
    // Alive until the function returns: survivors of the scavenges their allocation causes.
    const kept: object[][] = [];
    for (let round = 0; round < 32 && newSpaceBytes() < target; round++) {
      const chunk = new Array<object>(10_000);
      for (let i = 0; i < chunk.length; i++) chunk[i] = { i };
      kept.push(chunk);
    }
  } finally {
    setFlagsFromString('--semi-space-growth-factor=1');
  }
}
