// File identity: inode + fingerprint of the first bytes, and how a grown or rewritten file matches.
import assert from 'node:assert/strict';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { FINGERPRINT_BYTES, fingerprintMatches, hashHead, identify, identityMatches, sameInode } from '../../../../src/sources/file/identity.js';
import { tmpDir } from '../../../helpers/tmp.js';

const fp = (s: string) => ({ fingerprint: hashHead(Buffer.from(s)), fpLen: Buffer.byteLength(s) });

test('a file that grew still matches a fingerprint taken when it was short', () => {
  assert.equal(fingerprintMatches(fp('abc'), Buffer.from('abcdef')), true);
  assert.equal(fingerprintMatches(fp(''), Buffer.from('anything')), true);
});

test('a rewritten or shorter file does not match', () => {
  assert.equal(fingerprintMatches(fp('abc'), Buffer.from('abX')), false);
  assert.equal(fingerprintMatches(fp('abc'), Buffer.from('ab')), false, 'shorter than what was hashed: truncated');
  assert.equal(fingerprintMatches(fp('abc'), Buffer.from('xabc')), false);
});

test('identity needs the same device, inode and fingerprint', () => {
  const id = { dev: '1', ino: '42', ...fp('hello') };
  const head = Buffer.from('hello world');
  assert.equal(identityMatches(id, '1', '42', head), true);
  assert.equal(identityMatches(id, '1', '43', head), false);
  assert.equal(identityMatches(id, '2', '42', head), false);
  assert.equal(identityMatches(id, '1', '42', Buffer.from('HELLO')), false);
  assert.equal(sameInode(id, { dev: '1', ino: '42' }), true);
  assert.equal(sameInode(id, { dev: '1', ino: '4' }), false);
});

test('identify() hashes at most FINGERPRINT_BYTES and reports the inode as a string', async (t) => {
  const dir = await tmpDir(t);
  const small = join(dir, 'small.log');
  const big = join(dir, 'big.log');
  await writeFile(small, 'tiny\n');
  await writeFile(big, 'b'.repeat(FINGERPRINT_BYTES * 3));
  for (const [path, len] of [
    [small, 5],
    [big, FINGERPRINT_BYTES],
  ] as const) {
    const fh = await open(path, 'r');
    try {
      const { id, size, head } = await identify(fh);
      assert.equal(id.fpLen, len);
      assert.equal(head.length, len);
      assert.match(id.ino, /^\d+$/);
      assert.equal(size, path === small ? 5 : FINGERPRINT_BYTES * 3);
      assert.equal(fingerprintMatches(id, head), true);
    } finally {
      await fh.close();
    }
  }
});
