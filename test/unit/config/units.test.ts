// The systemd units in configs/: each runs its role's sample config, may write where that config
// writes (ProtectSystem=strict makes everything else read-only), and passes systemd's own check.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { loadConfigText } from '../../../src/config/index.js';
import { REPO } from '../../helpers/logship.js';

const ROLES = ['client', 'relay', 'server'] as const;

/** key → values of a unit file ([Section] headers, comments and blank lines dropped). */
function unitKeys(text: string): Map<string, string[]> {
  const keys = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (m) keys.set(m[1]!, [...(keys.get(m[1]!) ?? []), m[2]!]);
  }
  return keys;
}

const inside = (path: string, dir: string): boolean => !relative(dir, path).startsWith('..');

for (const role of ROLES) {
  test(`logship-${role}.service runs configs/${role}.yaml and may write where it writes`, async () => {
    const keys = unitKeys(await readFile(join(REPO, 'configs', `logship-${role}.service`), 'utf8'));
    // A bare name: systemd finds it in /usr/local/bin or /usr/bin, wherever `npm install -g` put it.
    assert.deepEqual(keys.get('ExecStartPre'), [`logship check-config --quiet /etc/logship/${role}.yaml`]);
    assert.deepEqual(keys.get('ExecStart'), [`logship run --config /etc/logship/${role}.yaml`]);
    assert.deepEqual(keys.get('RestartPreventExitStatus'), ['78'], 'a config error is not retried');

    const file = join(REPO, 'configs', `${role}.yaml`);
    const r = loadConfigText(file, await readFile(file, 'utf8'));
    assert.equal(r.ok, true, JSON.stringify(!r.ok && r.issues));
    if (!r.ok) return;
    assert.equal(r.config.node.role, role);
    const writable = (keys.get('ReadWritePaths') ?? []).flatMap((v) => v.split(/\s+/)).filter((p) => p !== '');
    const written = [r.config.node.stateDir, ...r.config.destinations.filter((d) => d.type === 'file').map((d) => String(d.options['base_dir']))];
    for (const p of written) assert.ok(writable.some((w) => inside(p, w)), `${p} is not under ReadWritePaths (${writable.join(' ')})`);
    assert.ok(keys.get('StateDirectory')?.includes('logship'), 'systemd creates /var/lib/logship for the logship user');
  });
}

test('systemd-analyze verify finds nothing wrong in the units but a logship that is not installed here', () => {
  const units = ROLES.map((role) => join(REPO, 'configs', `logship-${role}.service`));
  const r = spawnSync('systemd-analyze', ['verify', ...units], { encoding: 'utf8' });
  assert.equal(r.error, undefined, `systemd-analyze: ${String(r.error)}`);
  const complaints = `${r.stdout}${r.stderr}`
    .split('\n')
    .filter((l) => l.trim() !== '')
    .filter((l) => !/: Command logship is not executable: No such file or directory$/.test(l));
  assert.deepEqual(complaints, []);
});
