// Temp dirs that the test removes when it ends.
//
// node:test runs a test's after-hooks in the order they were added, so this removal (added when the
// dir is made, first) runs before the hooks that stop what writes into the dir (a spool, a
// destination). A removal that races with such a late write (ENOTEMPTY) is retried, and if it still
// fails the dir is removed when the process exits: a cleanup is never a test failure.
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

const leftovers = new Set<string>();

function removeAtExit(dir: string): void {
  if (leftovers.size === 0) {
    process.once('exit', () => {
      for (const d of leftovers) rmSync(d, { recursive: true, force: true });
    });
  }
  leftovers.add(dir);
}

export async function tmpDir(t: TestContext | { after(fn: () => unknown): void }, prefix = 'logship-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  // LOGSHIP_KEEP_TMP=1 keeps the directories for a post-mortem.
  if (process.env['LOGSHIP_KEEP_TMP'] === '1') process.stderr.write(`# kept: ${dir}\n`);
  else t.after(() => rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 }).catch(() => removeAtExit(dir)));
  return dir;
}
