// Identity of a file generation: device + inode + a fingerprint of its first bytes.
// The inode alone is not enough (inodes are reused, and copytruncate keeps the inode);
// the fingerprint alone is not enough (many files start alike). Reads only the first bytes.

import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';

/** How many leading bytes the fingerprint covers once the file is that long. */
export const FINGERPRINT_BYTES = 256;

export interface FileIdentity {
  /** Device and inode as decimal strings (inodes may exceed 2^53). */
  readonly dev: string;
  readonly ino: string;
  /** Hash of the first fpLen bytes (hex). */
  readonly fingerprint: string;
  /** How many bytes were hashed: min(file size, FINGERPRINT_BYTES) when last computed. */
  readonly fpLen: number;
}

export function hashHead(head: Buffer): string {
  return createHash('sha256').update(head).digest('hex').slice(0, 32);
}

export function sameInode(a: { dev: string; ino: string }, b: { dev: string; ino: string }): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/**
 * Whether `head` (the first min(size, FINGERPRINT_BYTES) bytes of a file) starts with the bytes
 * the fingerprint was made of. A file now shorter than fpLen was truncated: no match.
 */
export function fingerprintMatches(id: Pick<FileIdentity, 'fingerprint' | 'fpLen'>, head: Buffer): boolean {
  if (head.length < id.fpLen) return false;
  return hashHead(head.subarray(0, id.fpLen)) === id.fingerprint;
}

/** Same generation: same inode and the fingerprinted bytes are unchanged. */
export function identityMatches(id: FileIdentity, dev: string, ino: string, head: Buffer): boolean {
  return id.dev === dev && id.ino === ino && fingerprintMatches(id, head);
}

/** Read the first min(size, FINGERPRINT_BYTES) bytes of an open file. */
export async function readHead(fh: FileHandle): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(FINGERPRINT_BYTES);
  let n = 0;
  while (n < FINGERPRINT_BYTES) {
    const { bytesRead } = await fh.read(buf, n, FINGERPRINT_BYTES - n, n);
    if (bytesRead === 0) break;
    n += bytesRead;
  }
  return buf.subarray(0, n);
}

/** Identity of an open file from its fstat and its head. */
export async function identify(fh: FileHandle): Promise<{ id: FileIdentity; size: number; head: Buffer }> {
  const st = await fh.stat({ bigint: true });
  const head = await readHead(fh);
  return {
    id: { dev: st.dev.toString(), ino: st.ino.toString(), fingerprint: hashHead(head), fpLen: head.length },
    size: Number(st.size),
    head,
  };
}
