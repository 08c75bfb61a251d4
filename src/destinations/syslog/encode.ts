// Batch → syslog bytes for the syslog destination: each record rendered by codec/syslog's
// formatter (RFC 5424 or 3164, from its parsed fields or, for lines that were not syslog, from the
// batch meta), then framed for a stream (RFC 6587) or cut into datagrams (RFC 5426). Pure: no
// sockets here.
//
//   stream, octet-counting (RFC 6587 §3.4.1):  | "87 " <87 bytes of message> | "112 " <…> | …
//   stream, newline        (RFC 6587 §3.4.2):  | <message> "\n" | <message> "\n" | …
//   datagrams:                                  | <message> | <message> | …  + ends[] (one send each)

import { recordFields } from '../../codec/syslog/parse.js';
import { formatRecord, type SyslogFormat } from '../../codec/syslog/format.js';
import type { Batch } from '../../core/batch.js';
import { BufferWriter } from '../../util/buffer-writer.js';
import type { SyslogFraming } from './options.js';

export interface StreamBytes {
  /** The framed messages, a copy owned by the caller (safe to hand to a socket). */
  readonly bytes: Buffer;
  readonly messages: number;
}

export interface Datagrams {
  /** Every message, back to back (a copy owned by the caller). */
  readonly data: Buffer;
  /** Message i is data[starts[i], ends[i]). */
  readonly starts: Uint32Array;
  readonly ends: Uint32Array;
  /** Messages cut to maxBytes. */
  readonly truncated: number;
}

export class SyslogEncoder {
  private readonly _format: SyslogFormat;
  private readonly _out: BufferWriter;

  constructor(format: SyslogFormat) {
    this._format = format;
    this._out = new BufferWriter();
  }

  /** All records of the batch, framed for a TCP/TLS stream. */
  encodeStream(batch: Batch, framing: SyslogFraming): StreamBytes {
    const fields = recordFields(batch);
    const out = this._out;
    out.reset();
    for (let i = 0; i < batch.count; i++) {
      const start = out.length;
      formatRecord(this._format, batch, fields, i, out);
      if (framing === 'octet-counting') {
        out.insertAscii(start, `${out.length - start} `);
      } else {
        // A newline inside a message would end it early at the receiver: make it a space.
        const v = out.view();
        for (let k = v.indexOf(0x0a, start); k !== -1; k = v.indexOf(0x0a, k + 1)) v[k] = 0x20;
        out.byte(0x0a);
      }
    }
    const bytes = out.toBuffer();
    out.reset();
    return { bytes, messages: batch.count };
  }

  /** One datagram per record, each at most maxBytes (cut at a UTF-8 character boundary). */
  encodeDatagrams(batch: Batch, maxBytes: number): Datagrams {
    const fields = recordFields(batch);
    const out = this._out;
    out.reset();
    const starts = new Uint32Array(batch.count);
    const ends = new Uint32Array(batch.count);
    let truncated = 0;
    for (let i = 0; i < batch.count; i++) {
      const start = out.length;
      formatRecord(this._format, batch, fields, i, out);
      let end = out.length;
      if (end - start > maxBytes) {
        truncated++;
        end = utf8Cut(out.view(), start, start + maxBytes);
      }
      starts[i] = start;
      ends[i] = end;
    }
    const data = out.toBuffer();
    out.reset();
    return { data, starts, ends, truncated };
  }
}

/** The largest cut <= `cut` that does not split a UTF-8 sequence of buf[start, …). */
export function utf8Cut(buf: Buffer, start: number, cut: number): number {
  let c = cut;
  // buf[c] is the first byte left out: while it continues a sequence, leave its lead byte out too.
  while (c > start && (buf[c]! & 0xc0) === 0x80) c--;
  return c;
}
