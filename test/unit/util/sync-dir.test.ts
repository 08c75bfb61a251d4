// Unit tests of util/sync-dir.ts: a directory is synced; a path that is not one is an error, not
// a silent fsync of a file (the spool, the journal and the file destination rely on the error).
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { syncDir } from '../../../src/util/sync-dir.js';
import { tmpDir } from '../../helpers/tmp.js';

test('syncs a directory; a file or a missing path is ENOTDIR or ENOENT', async (t) => {
  const dir = await tmpDir(t);
  await syncDir(dir);
  await writeFile(join(dir, 'f'), 'x');
  await assert.rejects(syncDir(join(dir, 'f')), { code: 'ENOTDIR' });
  await assert.rejects(syncDir(join(dir, 'missing')), { code: 'ENOENT' });
});
