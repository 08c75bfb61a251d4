// boot.ts: a process without network sources keeps the young generation it starts with; one with
// them grows it at once, before any load, to the size asked, and it stays there. V8 flags are process-wide, so each
// case runs in a child process of its own, which then allocates objects that survive scavenges.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { promisify } from 'node:util';

const BOOT = fileURLToPath(new URL('../../../src/boot.ts', import.meta.url));

// Under tsx the young generation has grown while tsx loaded (to 4 MiB here): ask for twice that.
const CHILD = `
import { getHeapSpaceStatistics } from 'node:v8';
const { youngGeneration } = await import(${JSON.stringify(BOOT)});
const newSpace = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
const base = newSpace();
const t0 = performance.now();
youngGeneration(process.argv[process.argv.length - 1] === 'receives', 2 * base);
const ms = performance.now() - t0;
const after = newSpace();
const kept = [];
let chunk = [];
let most = after;
for (let i = 0; i < 2_000_000; i++) {
  chunk.push({ i, s: 'x' + (i % 100) });
  if (chunk.length === 5000) {
    kept.push(chunk);
    chunk = [];
    if (kept.length > 100) kept.shift();
  }
  if (i % 50_000 === 0) most = Math.max(most, newSpace());
}
process.stdout.write(JSON.stringify({ base, after, most, ms }));
`;

async function sizes(role: string): Promise<{ base: number; after: number; most: number; ms: number }> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD, role], { timeout: 60_000 });
  return JSON.parse(stdout) as { base: number; after: number; most: number; ms: number };
}

test('a process without network sources keeps its young generation; one with them grows it at once to the size asked, and no further', async () => {
  const [ships, receives] = await Promise.all([sizes('ships'), sizes('receives')]);
  assert.equal(ships.after, ships.base, 'not grown');
  assert.equal(ships.most, ships.base, 'nor by the load');
  assert.ok(receives.after >= 2 * receives.base, `grown at once: ${JSON.stringify(receives)}`);
  assert.equal(receives.most, receives.after, `and no further under load: ${JSON.stringify(receives)}`);
  assert.ok(receives.ms < 1000, `in ${receives.ms} ms`);
});
