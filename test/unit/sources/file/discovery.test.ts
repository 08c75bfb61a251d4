// Glob roots: which directory chokidar watches for a pattern, and how deep.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { patternRoot } from '../../../../src/sources/file/discovery.js';
import { classifyPath } from '../../../../src/sources/file/rotation.js';

test('a literal path is watched through its directory', () => {
  assert.deepEqual(patternRoot('/var/log/app.log'), { dir: '/var/log', depth: 0 });
});

test('a glob is watched from its static base, as deep as its segments', () => {
  assert.deepEqual(patternRoot('/var/log/*.log'), { dir: '/var/log', depth: 0 });
  assert.deepEqual(patternRoot('/var/log/*/x.log'), { dir: '/var/log', depth: 1 });
  assert.deepEqual(patternRoot('/srv/a/{b,c}/*.log'), { dir: '/srv/a', depth: 1 });
  assert.deepEqual(patternRoot('/var/log/**/*.log'), { dir: '/var/log', depth: undefined });
  assert.deepEqual(patternRoot('/*.log'), { dir: '/', depth: 0 });
});

test('classifyPath: same inode, replaced, or gone', () => {
  const id = { dev: '5', ino: '7' };
  assert.equal(classifyPath(id, { dev: 5n, ino: 7n }), 'same');
  assert.equal(classifyPath(id, { dev: 5n, ino: 8n }), 'replaced');
  assert.equal(classifyPath(id, undefined), 'gone');
});
