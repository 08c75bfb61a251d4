// Path safety for values that come from the network (host, program, …) and the base_dir
// confinement check. Pure string functions: no fs here.
//
// A sanitized component can never change the directory a path points to:
//   - '/' and '\\' (separators), C0/C1 control characters, DEL and NUL become '_';
//   - a leading '.' becomes '_', so no value is '.', '..' or a hidden file, and a value glued
//     to a literal in a template cannot form a '..' component (it always holds a non-dot);
//   - lone UTF-16 surrogates become '_' (they have no UTF-8 encoding);
//   - the result is cut to at most `maxBytes` UTF-8 bytes on a code point boundary;
//   - an empty value becomes '_'.
// Other Unicode is kept: host and program names in any script stay readable.

import { isAbsolute, relative, resolve, sep } from 'node:path';

/** Default bound of one sanitized component, in UTF-8 bytes (file names allow 255). */
export const MAX_COMPONENT_BYTES = 128;

const SAFE_RE = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/** Turns an untrusted value into one safe path component (never empty, never '.' or '..'). */
export function sanitizePathComponent(value: string, maxBytes: number = MAX_COMPONENT_BYTES): string {
  if (value.length <= maxBytes && SAFE_RE.test(value)) return value;
  let out = '';
  let bytes = 0;
  for (let i = 0; i < value.length; i++) {
    let c = value.charCodeAt(i);
    let ch: string;
    let n: number;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < value.length) {
      const d = value.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        ch = value.slice(i, i + 2);
        n = 4;
        i++;
      } else {
        ch = '_';
        n = 1;
      }
    } else if (c >= 0xd800 && c <= 0xdfff) {
      ch = '_';
      n = 1;
    } else {
      if (c < 0x20 || c === 0x7f || (c >= 0x80 && c <= 0x9f) || c === 0x2f || c === 0x5c) c = 0x5f;
      if (c === 0x2e && out === '') c = 0x5f;
      ch = String.fromCharCode(c);
      n = c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
    }
    if (bytes + n > maxBytes) break;
    out += ch;
    bytes += n;
  }
  return out === '' ? '_' : out;
}

/**
 * Resolves `rel` against `baseDir` and returns the absolute path only when it lies strictly
 * inside baseDir; undefined otherwise (absolute `rel`, '..' escapes, or baseDir itself).
 */
export function confinePath(baseDir: string, rel: string): string | undefined {
  const base = resolve(baseDir);
  const abs = resolve(base, rel);
  const r = relative(base, abs);
  if (r === '' || isAbsolute(r) || r === '..' || r.startsWith(`..${sep}`)) return undefined;
  return abs;
}
