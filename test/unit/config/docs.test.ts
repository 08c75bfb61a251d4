// docs/config.md is generated from the schemas; this fails when it is stale (UPDATE_DOCS=1 rewrites it).
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { test } from 'node:test';
import { renderConfigDocs } from '../../../src/config/docs.js';
import { DESTINATION_CATALOG } from '../../../src/destinations/catalog.js';
import { SOURCE_CATALOG } from '../../../src/sources/catalog.js';
import { z } from 'zod';

test('every option of every plug-in has a description', () => {
  for (const [type, f] of [...SOURCE_CATALOG, ...DESTINATION_CATALOG]) {
    const js = z.toJSONSchema(f.options, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, { description?: string }> };
    for (const [key, p] of Object.entries(js.properties ?? {})) {
      if (key === 'type') continue;
      assert.ok(p.description && p.description.length > 5, `${type}.${key} has no description`);
    }
  }
});

test('docs/config.md matches the schemas', async () => {
  const fresh = renderConfigDocs();
  if (process.env['UPDATE_DOCS'] === '1') await writeFile('docs/config.md', fresh);
  const current = await readFile('docs/config.md', 'utf8').catch(() => '');
  assert.equal(current, fresh, 'docs/config.md is stale: run UPDATE_DOCS=1 node --import tsx --test test/unit/config/docs.test.ts');
});
