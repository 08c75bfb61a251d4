// Temp dirs that the test removes when it ends.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

export async function tmpDir(t: TestContext | { after(fn: () => unknown): void }, prefix = 'logship-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  // LOGSHIP_KEEP_TMP=1 keeps the directories for a post-mortem.
  if (process.env['LOGSHIP_KEEP_TMP'] === '1') process.stderr.write(`# kept: ${dir}\n`);
  else t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
