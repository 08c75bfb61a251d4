// Loading a native addon built by node-gyp: `<root>/build/Release/<name>.node`, else the Debug build.

import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

/** The addon's exports, or the error of the last attempt (not built, built for another Node). */
export function requireAddon<T>(root: string, name: string): T | Error {
  let lastErr: unknown;
  for (const build of ['Release', 'Debug']) {
    try {
      return require(join(root, 'build', build, `${name}.node`)) as T;
    } catch (err) {
      lastErr = err;
    }
  }
  return lastErr instanceof Error ? lastErr : new Error(String(lastErr));
}
