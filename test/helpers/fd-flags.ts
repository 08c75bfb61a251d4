// The open(2) flags of this process's descriptors for a path, from /proc/self/fd and fdinfo
// (Linux): lets a test check how a file is held (O_DSYNC, O_APPEND…) without a seam in the code.
import { readdir, readFile, readlink } from 'node:fs/promises';

/** The flags of every descriptor of this process open on `file` (an absolute path). */
export async function openFlags(file: string): Promise<number[]> {
  const out: number[] = [];
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => ''); // closed meanwhile: ''
    if (target !== file) continue;
    const m = /^flags:\s*([0-7]+)$/m.exec(await readFile(`/proc/self/fdinfo/${fd}`, 'latin1').catch(() => ''));
    if (m !== null) out.push(parseInt(m[1]!, 8));
  }
  return out;
}
