// Loading a native addon built by node-gyp: `<root>/build/Release/<name>.node`, else the Debug build;
// logship's own addons (native/, built into the project's build/) loaded once, and those the code
// can do without (optionalAddon); and calling JavaScript handlers from an addon's callback without
// letting an exception into the addon.

import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

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

/**
 * The loader of one of logship's own addons (binding.gyp's target `name`): its exports, or an
 * Error "<what> not built: …" that says why. Loaded on the first call, once.
 */
export function ownAddon<T>(name: string, what: string): () => T | Error {
  let loaded: T | Error | undefined;
  return () => {
    if (loaded !== undefined) return loaded;
    // src/util/ and dist/util/ are both two levels below the project's root.
    const b = requireAddon<T>(fileURLToPath(new URL('../../', import.meta.url)), name);
    loaded = b instanceof Error ? new Error(`${what} not built: ${b.message}`, { cause: b }) : b;
    return loaded;
  };
}

/**
 * One of logship's own addons that the code can do without (a JavaScript path gives the same
 * results): `get` returns it, or null where it is not built or was built for another calling
 * convention (its `abi` is not `abi`: a build/ older or newer than dist/); `set` is a test seam
 * (null: go without it, an object: use that instead, undefined: the addon again).
 */
export function optionalAddon<T>(name: string, what: string, abi: number): { get: () => T | null; set: (b: T | null | undefined) => void } {
  const load = ownAddon<T & { readonly abi?: unknown }>(name, what);
  let current: T | null | undefined;
  return {
    get: () => {
      if (current === undefined) {
        const b = load();
        current = b instanceof Error || b.abi !== abi ? null : b;
      }
      return current;
    },
    set: (b) => {
      current = b;
    },
  };
}

/**
 * Runs a handler called from an addon's callback. Nothing is thrown into the addon: a bug in the
 * handler surfaces on the next tick as an uncaught exception, as it would from a socket listener.
 */
export function guarded(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    process.nextTick(() => {
      throw e;
    });
  }
}
