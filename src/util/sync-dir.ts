// fsync of a directory: what makes a create, rename or unlink in it survive a host crash (the
// file's own fsync covers its data and inode, not its name). Shared by the file destination
// (journal rename, new output files) and the spool (new segments).

import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

/** fsyncs directory `dir`; throws the fs error (ENOTDIR when it is not a directory). */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
