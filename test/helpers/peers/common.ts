// Words every module of the peers helper shares: the test-context type, transports and framings,
// PeerError, and the string literal of the peers' config languages.

/** A node:test TestContext, or anything with its `after`. */
export type AfterHost = { after(fn: () => unknown): void };

export type Transport = 'tcp' | 'udp';
/** RFC 6587: newline ("non-transparent", §3.4.2) or octet counting (§3.4.1). */
export type Framing = 'newline' | 'octet-counted';

/** Signals errors of this helper; `code` says which. */
export class PeerError extends Error {
  readonly code: 'PEER_NOT_INSTALLED' | 'PEER_EXITED' | 'PEER_NOT_READY' | 'PEER_BAD_CONFIG' | 'PEER_BAD_OPTION';
  constructor(code: PeerError['code'], message: string) {
    super(message);
    this.name = 'PeerError';
    this.code = code;
  }
}

/** A string literal for rsyslog's RainerScript and syslog-ng's config (both take C-style escapes). */
export const q = (s: string): string => JSON.stringify(s);
