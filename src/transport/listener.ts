// Listen addresses: `tcp:HOST:PORT | udp:HOST:PORT | unix+dgram:PATH | unix+stream:PATH`
// (STYLE.md C). Parsing only; the sockets are opened by tcp.ts and its siblings.

export type ListenAddress =
  | { readonly kind: 'tcp' | 'udp'; readonly host: string; readonly port: number }
  | { readonly kind: 'unix+dgram' | 'unix+stream'; readonly path: string };

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

/** "HOST:PORT" or "[V6]:PORT" → host and port. Port 0 is allowed when `allowZeroPort`. */
export function parseHostPort(s: string, allowZeroPort: boolean): Parsed<{ host: string; port: number }> {
  let host: string;
  let portText: string;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close === -1 || s[close + 1] !== ':') return { ok: false, error: `"${s}" is not [IPV6]:PORT` };
    host = s.slice(1, close);
    portText = s.slice(close + 2);
  } else {
    const colon = s.lastIndexOf(':');
    if (colon === -1) return { ok: false, error: `"${s}" has no port (write HOST:PORT)` };
    host = s.slice(0, colon);
    portText = s.slice(colon + 1);
    if (host.includes(':')) return { ok: false, error: `"${s}": write IPv6 addresses in brackets, e.g. [::1]:5140` };
  }
  if (host.length === 0) return { ok: false, error: `"${s}" has an empty host (use 0.0.0.0 or :: to listen on every address)` };
  if (!/^[0-9]{1,5}$/.test(portText)) return { ok: false, error: `"${s}" has a bad port "${portText}"` };
  const port = Number(portText);
  if (port > 65535 || (port === 0 && !allowZeroPort)) return { ok: false, error: `"${s}": port must be ${allowZeroPort ? '0' : '1'}..65535` };
  return { ok: true, value: { host, port } };
}

export function parseListenAddress(s: string): Parsed<ListenAddress> {
  const sep = s.indexOf(':');
  const scheme = sep === -1 ? '' : s.slice(0, sep);
  const rest = s.slice(sep + 1);
  switch (scheme) {
    case 'tcp':
    case 'udp': {
      const hp = parseHostPort(rest, true);
      return hp.ok ? { ok: true, value: { kind: scheme, host: hp.value.host, port: hp.value.port } } : hp;
    }
    case 'unix+dgram':
    case 'unix+stream':
      if (rest.length === 0) return { ok: false, error: `"${s}" has no socket path` };
      return { ok: true, value: { kind: scheme, path: rest } };
    default:
      return { ok: false, error: `"${s}" must start with tcp:, udp:, unix+dgram: or unix+stream:` };
  }
}

export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
