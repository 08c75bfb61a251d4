import assert from 'node:assert/strict';
import { join, resolve, sep } from 'node:path';
import { test } from 'node:test';
import { confinePath, MAX_COMPONENT_BYTES, sanitizePathComponent } from '../../../src/util/path-sanitize.js';

const clean = (v: string): string => sanitizePathComponent(v);

function assertSafe(out: string): void {
  assert.ok(out.length > 0);
  assert.ok(!out.includes('/'), out);
  assert.ok(!out.includes('\\'), out);
  assert.ok(!out.startsWith('.'), out);
  // eslint-disable-next-line no-control-regex
  assert.ok(!/[\u0000-\u001f\u007f-\u009f]/.test(out), JSON.stringify(out));
  assert.ok(Buffer.byteLength(out) <= MAX_COMPONENT_BYTES);
}

test('plain names pass unchanged', () => {
  for (const v of ['web-1', 'nginx', 'db_2.example.com', 'A9', 'sshd']) assert.equal(clean(v), v);
});

test('traversal attempts become one harmless component', () => {
  const cases: [string, string][] = [
    ['..', '_.'],
    ['.', '_'],
    ['../../etc', '_._.._etc'],
    ['a/b', 'a_b'],
    ['a\\b', 'a_b'],
    ['/etc/passwd', '_etc_passwd'],
    ['.hidden', '_hidden'],
    ['..\\..\\x', '_._.._x'],
  ];
  for (const [input, want] of cases) {
    const out = clean(input);
    assert.equal(out, want, input);
    assertSafe(out);
    assert.notEqual(out, '..');
  }
});

test('control characters, NUL and DEL become "_"', () => {
  assert.equal(clean('a\u0000b'), 'a_b');
  assert.equal(clean('a\nb\rc\td'), 'a_b_c_d');
  assert.equal(clean('x\u007fy\u0085z'), 'x_y_z');
  assertSafe(clean('\u001b[31mred'));
});

test('empty becomes "_"', () => {
  assert.equal(clean(''), '_');
});

test('unicode is kept, lone surrogates are replaced', () => {
  assert.equal(clean('hôte-ü'), 'hôte-ü');
  assert.equal(clean('サーバー'), 'サーバー');
  assert.equal(clean('emoji-😀'), 'emoji-😀');
  assert.equal(clean('bad\ud800x'), 'bad_x');
  assert.equal(clean('bad\udc00'), 'bad_');
});

test('long values are cut to the byte bound on a code point boundary', () => {
  const out = clean('a'.repeat(1000));
  assert.equal(out, 'a'.repeat(MAX_COMPONENT_BYTES));
  const multi = clean('é'.repeat(100)); // 2 bytes each
  assert.equal(Buffer.byteLength(multi), 128);
  const odd = clean(`a${'é'.repeat(100)}`); // 1 + 2n: 127 fits, 129 does not
  assert.equal(Buffer.byteLength(odd), 127);
  const emoji = clean(`ab${'😀'.repeat(40)}`); // 2 + 4n
  assert.equal(Buffer.byteLength(emoji), 126);
  assert.ok(!emoji.includes('\ufffd'));
  assert.equal(sanitizePathComponent('abcdef', 3), 'abc');
});

test('a sanitized value glued to dots cannot form a ".." component', () => {
  for (const v of ['.', '..', '...', '.a']) {
    const comp = `.${clean(v)}`;
    assert.notEqual(comp, '..');
    assert.notEqual(comp, '.');
  }
});

test('confinePath keeps paths strictly inside base_dir', () => {
  const base = resolve('/tmp/logship-base');
  assert.equal(confinePath(base, 'web-1/nginx.log'), join(base, 'web-1', 'nginx.log'));
  assert.equal(confinePath(`${base}${sep}`, 'a'), join(base, 'a'));
  assert.equal(confinePath(base, '../x'), undefined);
  assert.equal(confinePath(base, 'a/../../x'), undefined);
  assert.equal(confinePath(base, '/etc/passwd'), undefined);
  assert.equal(confinePath(base, ''), undefined);
  assert.equal(confinePath(base, '.'), undefined);
  assert.equal(confinePath(base, '../logship-base-evil/x'), undefined);
  assert.equal(confinePath(base, 'a/../b'), join(base, 'b'));
});
