// The fault tests' syslog sender: RFC 5424 messages carrying the checker's `#<id> <seq>` marker,
// octet-counted (RFC 6587 §3.4.1) over one TCP connection per call. Test code only.

import { connect } from 'node:net';
import { sleep } from '../helpers/wait.js';
import { LINE_BYTES, noise, seqLine } from './writer.js';

/** One RFC 5424 message (octet-counted on the wire) whose text is `#<id> <seq> …`; the program is `seq-<id>`. */
export function syslogMessage(id: string, seq: number, pad?: string, at = 0): string {
  // Fixed-length fields: every message of a sender has the same length.
  return `<134>1 2026-01-01T00:00:00.000Z syslog-sender seq-${id.toLowerCase()} - - - ${seqLine(id, seq, pad, at).slice(0, -1)}`;
}

/**
 * Sends messages `from`…`to-1` of sender `id` over one TCP connection (octet counting, RFC 6587
 * §3.4.1), in chunks of `chunk` with `pauseMs` between them, then half-closes and waits until the
 * peer has closed too: the peer read everything (its 'end' comes after its last 'data').
 */
export async function sendSyslog(port: number, id: string, from: number, to: number, chunk = 200, pauseMs = 5, timeoutMs = 60_000): Promise<void> {
  const sock = connect({ host: '127.0.0.1', port });
  const closed = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`syslog sender ${id}: not closed by the relay within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.once('close', (hadError) => {
      clearTimeout(timer);
      if (hadError) reject(new Error(`syslog sender ${id}: connection failed`));
      else resolve();
    });
    sock.on('error', () => {
      // reported through 'close'
    });
  });
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  for (let s = from; s < to; s += chunk) {
    let text = '';
    const end = Math.min(to, s + chunk);
    const pad = noise((end - s) * LINE_BYTES);
    for (let i = s, at = 0; i < end; i++, at += LINE_BYTES) {
      const m = syslogMessage(id, i, pad, at);
      text += `${Buffer.byteLength(m)} ${m}`;
    }
    if (!sock.write(text)) await new Promise<void>((r) => sock.once('drain', r));
    if (pauseMs > 0) await sleep(pauseMs);
  }
  sock.end();
  sock.resume(); // read (and ignore) anything, so the peer's FIN is seen
  await closed;
}

/** Bytes one sender's messages take in the server's raw file (each message plus '\n'). */
export function syslogLineBytes(id: string): number {
  return Buffer.byteLength(syslogMessage(id, 0)) + 1;
}
