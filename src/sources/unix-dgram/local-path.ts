// Filesystem side of the local sources (unix-dgram, unix-stream, pipe): the socket path of
// `listen`, clearing a stale socket before binding, setting mode/owner/group, and removing only
// what we created on stop. No sockets are read here.
//
//   start: socketPathOf(listen) ─► clearStaleSocket ─► bind (the source) ─► claimPath: identify + permissions
//   stop:  close (the source) ─► releasePath: removeIfOurs, a failure counted

import { execFile } from 'node:child_process';
import { chmod, chown, lstat, unlink } from 'node:fs/promises';
import type { Telemetry } from '../../core/component.js';
import { LogshipError } from '../../core/errors.js';
import { parseListenAddress } from '../../transport/listener.js';

/** Device and inode of a path we created: on stop we remove the path only if it is still ours. */
export interface PathIdentity {
  readonly dev: number;
  readonly ino: number;
}

const MODE_RE = /^0?[0-7]{3}$/;

/** '0666' / '666' → 0o666; undefined when not an octal mode of three digits. */
export function parseMode(s: string): number | undefined {
  return MODE_RE.test(s) ? Number.parseInt(s, 8) : undefined;
}

export function isValidMode(s: string): boolean {
  return MODE_RE.test(s);
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** What a config key names, for error messages: `unix-dgram source "devlog": listen`. */
export interface KeyRef {
  /** e.g. 'unix-dgram source "devlog"' */
  readonly who: string;
  /** The config key holding the path, e.g. 'listen' or 'path'. */
  readonly key: string;
}

/** The path of a unix socket source's `listen` (`kind`:PATH); LS_STARTUP naming the source otherwise. */
export function socketPathOf(listen: string, kind: 'unix+dgram' | 'unix+stream', ref: KeyRef): string {
  const a = parseListenAddress(listen);
  if (!a.ok || a.value.kind !== kind || !('path' in a.value)) throw new LogshipError('LS_STARTUP', `${ref.who}: ${ref.key} "${listen}" is not ${kind}:PATH`);
  return a.value.path;
}

/**
 * Makes `path` free for a new socket. A stale socket (nobody receives on it) is removed; a live
 * one, or anything that is not a socket, is refused with LS_STARTUP naming the key.
 */
export async function clearStaleSocket(path: string, ref: KeyRef, isLive: (path: string) => boolean | Promise<boolean>): Promise<void> {
  let st;
  try {
    st = await lstat(path);
  } catch (err) {
    if (errno(err) === 'ENOENT') return;
    throw new LogshipError('LS_STARTUP', `${ref.who}: cannot check ${ref.key} path ${path}: ${errno(err) ?? String(err)}`, { cause: err });
  }
  if (!st.isSocket()) {
    throw new LogshipError(
      'LS_STARTUP',
      `${ref.who}: ${ref.key} path ${path} exists and is ${describeKind(st)}, not a socket; logship only replaces stale sockets. ` +
        `Remove it or set \`${ref.key}\` to another path.`,
    );
  }
  if (await isLive(path)) {
    throw new LogshipError(
      'LS_STARTUP',
      `${ref.who}: another process is receiving on the socket ${path} (${ref.key}); stop it (e.g. the system's syslog daemon) or set \`${ref.key}\` to another path.`,
    );
  }
  try {
    await unlink(path);
  } catch (err) {
    if (errno(err) !== 'ENOENT') {
      throw new LogshipError('LS_STARTUP', `${ref.who}: cannot remove the stale socket ${path} (${ref.key}): ${errno(err) ?? String(err)}`, { cause: err });
    }
  }
}

export function describeKind(st: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean; isFIFO(): boolean; isSocket(): boolean }): string {
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a directory';
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isFIFO()) return 'a named pipe';
  if (st.isSocket()) return 'a socket';
  return 'a device or other special file';
}

export interface Permissions {
  /** Octal string such as '0666'. */
  readonly mode: string;
  /** User name or numeric uid. */
  readonly owner?: string | number | undefined;
  /** Group name or numeric gid. */
  readonly group?: string | number | undefined;
}

/** Device and inode of `path` (not following a symbolic link), or undefined if it is gone. */
export async function identify(path: string): Promise<PathIdentity | undefined> {
  try {
    const st = await lstat(path);
    return { dev: st.dev, ino: st.ino };
  } catch {
    return undefined;
  }
}

/** Sets mode, then owner and group, on a path we just created. */
export async function applyPermissions(path: string, perms: Permissions, ref: KeyRef): Promise<void> {
  const mode = parseMode(perms.mode);
  if (mode === undefined) throw new LogshipError('LS_STARTUP', `${ref.who}: mode "${perms.mode}" is not an octal mode such as '0666'`);
  try {
    await chmod(path, mode);
  } catch (err) {
    throw new LogshipError('LS_STARTUP', `${ref.who}: cannot set mode ${perms.mode} on ${path}: ${errno(err) ?? String(err)}`, { cause: err });
  }
  if (perms.owner !== undefined || perms.group !== undefined) {
    const uid = perms.owner === undefined ? -1 : await resolveId('passwd', perms.owner, ref, 'owner');
    const gid = perms.group === undefined ? -1 : await resolveId('group', perms.group, ref, 'group');
    try {
      await chown(path, uid, gid);
    } catch (err) {
      throw new LogshipError(
        'LS_STARTUP',
        `${ref.who}: cannot change owner/group of ${path} to ${String(perms.owner ?? '-')}:${String(perms.group ?? '-')}: ${errno(err) ?? String(err)} ` +
          '(changing the owner needs root; remove `owner`/`group` or run logship with the rights to do it)',
        { cause: err },
      );
    }
  }
}

/** A user or group name (or number) → numeric id, through NSS (`getent`), so LDAP/sssd names work too. */
async function resolveId(db: 'passwd' | 'group', v: string | number, ref: KeyRef, key: 'owner' | 'group'): Promise<number> {
  if (typeof v === 'number') return v;
  if (/^[0-9]+$/.test(v)) return Number(v);
  const line = await new Promise<string | undefined>((resolve) => {
    execFile('getent', [db, v], { timeout: 5000 }, (err, stdout) => resolve(err ? undefined : stdout));
  });
  const id = line?.split(':')[2];
  if (id === undefined || !/^[0-9]+$/.test(id)) {
    throw new LogshipError('LS_STARTUP', `${ref.who}: ${key} "${v}" is not a known ${db === 'passwd' ? 'user' : 'group'} (getent ${db} ${v} found nothing); fix \`${key}\``);
  }
  return Number(id);
}

/**
 * After a socket was bound at `path`: its identity (so that stop removes it only while it is still
 * ours), then its permissions. When those fail, `undo` closes the socket, the path is removed and
 * the error rethrown.
 */
export async function claimPath(path: string, perms: Permissions, ref: KeyRef, undo: () => void | Promise<void>): Promise<PathIdentity | undefined> {
  const ident = await identify(path);
  try {
    await applyPermissions(path, perms, ref);
  } catch (err) {
    await undo();
    await removeIfOurs(path, ident);
    throw err;
  }
  return ident;
}

/** On stop: removes `path` if it is still ours; a failure is counted (local_cleanup_failed), not thrown. */
export async function releasePath(path: string, ident: PathIdentity | undefined, telemetry: Telemetry): Promise<void> {
  if ((await removeIfOurs(path, ident)) === 'failed') telemetry.emit('local_cleanup_failed', { path });
}

/** What removeIfOurs() found: removed; already gone; replaced by another file (left alone); error. */
export type RemoveResult = 'removed' | 'gone' | 'replaced' | 'failed';

/** Removes `path` if it is still the inode we created (another process may have replaced it). */
export async function removeIfOurs(path: string, ident: PathIdentity | undefined): Promise<RemoveResult> {
  if (ident === undefined) return 'gone';
  try {
    const st = await lstat(path);
    if (st.dev !== ident.dev || st.ino !== ident.ino) return 'replaced';
    await unlink(path);
    return 'removed';
  } catch (err) {
    return errno(err) === 'ENOENT' ? 'gone' : 'failed';
  }
}
