// The error code table, docs/errors.md and the code that throws must agree.
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ERROR_CODES } from '../../../src/core/errors.js';
import { EVENTS } from '../../../src/observe/events.js';

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await sources(p)));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

test('docs/errors.md lists exactly the codes of src/core/errors.ts', async () => {
  const doc = await readFile('docs/errors.md', 'utf8');
  const documented = new Set([...doc.matchAll(/`(LS_[A-Z0-9_]+)`/g)].map((m) => m[1]!));
  assert.deepEqual([...documented].sort(), Object.keys(ERROR_CODES).sort());
});

test('every code thrown in src/ is declared, and every telemetry event emitted is declared', async () => {
  for (const file of await sources('src')) {
    const text = await readFile(file, 'utf8');
    for (const m of text.matchAll(/'(LS_[A-Z0-9_]+)'/g)) assert.ok(m[1]! in ERROR_CODES, `${file}: undeclared error code ${m[1]}`);
    for (const m of text.matchAll(/\.emit\(\s*'([a-z_]+)'/g)) assert.ok(m[1]! in EVENTS, `${file}: undeclared event ${m[1]}`);
  }
});
