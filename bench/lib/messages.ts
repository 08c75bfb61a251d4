// Benchmark message bytes: loggen's message layout ("seq: NNNNNNNNNN, thread: …, runid: …, stamp: …
// PADD…") built as one template per sender and stamped with sequence numbers into big chunks.
// Pure Buffer work: no sockets, no files (bench/lib/gen.ts sends what this builds).
//
//   template  <38>Nov 23 12:04:31 localhost prg00000[1234]: seq: 0000000000, thread: 0000, … PADDPADD\n
//                                                              ^ seqAt (10 ASCII digits)
//
// One difference from loggen: the RFC 3164 header carries a BSD timestamp ("Nov 23 12:04:31"), as
// libc's syslog() and rsyslog's forwarding send it. loggen puts an ISO time without zone there, which
// rsyslog's 3164 parser does not take: it then files every message under the sender's IP instead of
// its HOSTNAME, and S4 (one file per host) could not be compared.
//   chunk     [ tpl | tpl | tpl | … ]   each copy gets its own 10 digits, seq = first, first+1, …

/** newline: RFC 3164 as `loggen -S` sends it, LF-terminated; octet-counting: RFC 5424 as `loggen -S -P`
 *  sends it, "LEN MSG" (RFC 6587 §3.4.1); dgram: the newline form, one per datagram; file: a plain
 *  application log line (no syslog header), LF-terminated. */
export type MessageKind = 'newline' | 'octet-counting' | 'dgram' | 'file';

export interface TemplateSpec {
  kind: MessageKind;
  /** Bytes of the message: the whole line with its LF (newline, dgram, file), or the MSG without
   *  its "LEN " prefix (octet-counting), as loggen's -s counts them. */
  size: number;
  /** HOSTNAME of the syslog header (loggen: localhost). */
  host: string;
  /** loggen's "thread:" field: the sender's index. */
  thread: number;
  runid: number;
  /** The time put in the header and in the stamp field. */
  time: Date;
}

export interface Template {
  readonly bytes: Buffer;
  /** Offset of the 10 sequence digits inside `bytes`. */
  readonly seqAt: number;
}

const PAD = 'PADD';
export const SEQ_DIGITS = 10;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number): string => String(n).padStart(2, '0');

/** loggen's stamp: local time to the second, ISO 8601 without zone. */
function isoLocal(d: Date): string {
  return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}T${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
}

/** RFC 3164 §4.1.2 TIMESTAMP: "Mmm dd hh:mm:ss", the day space-padded, local time. */
function bsd(d: Date): string {
  return `${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
}

export function buildTemplate(spec: TemplateSpec): Template {
  const stamp = isoLocal(spec.time);
  const body = `seq: ${'0'.repeat(SEQ_DIGITS)}, thread: ${String(spec.thread).padStart(4, '0')}, runid: ${spec.runid}, stamp: ${stamp} `;
  let head: string;
  let tail = '';
  switch (spec.kind) {
    case 'newline':
    case 'dgram':
      head = `<38>${bsd(spec.time)} ${spec.host} prg00000[1234]: `;
      tail = '\n';
      break;
    case 'octet-counting':
      head = `<38>1 ${spec.time.toISOString()} ${spec.host} prg00000 1234 - - \u{FEFF}`;
      break;
    case 'file':
      head = `${spec.time.toISOString()} ${spec.host} app[1234]: `;
      tail = '\n';
      break;
  }
  const fixed = Buffer.byteLength(head) + Buffer.byteLength(body) + Buffer.byteLength(tail);
  const padLen = spec.size - fixed;
  if (padLen < 0) throw new Error(`message size ${spec.size} is below the ${fixed} bytes of its fixed part`);
  const pad = PAD.repeat(Math.ceil(padLen / PAD.length)).slice(0, padLen);
  const msg = Buffer.from(head + body + pad + tail, 'utf8');
  const prefix = spec.kind === 'octet-counting' ? Buffer.from(`${msg.length} `) : Buffer.alloc(0);
  const bytes = Buffer.concat([prefix, msg]);
  const seqAt = bytes.indexOf('seq: ') + 5;
  return { bytes, seqAt };
}

/** Writes `n` as SEQ_DIGITS ASCII digits at `at`. */
export function writeSeq(buf: Uint8Array, at: number, n: number): void {
  let v = n;
  for (let i = SEQ_DIGITS - 1; i >= 0; i--) {
    buf[at + i] = 48 + (v % 10);
    v = Math.floor(v / 10);
  }
}

/**
 * `count` copies of the template in one new Buffer, numbered first, first+1, … The copies double
 * (log2(count) calls), and each number is the one before plus one, carried through its digits: the
 * generator builds these while the daemon runs on the same cores, so they cost little per line (a
 * Buffer copy and ten divisions per line cost about 50 ms of CPU per million lines).
 */
export function buildChunk(tpl: Template, first: number, count: number): Buffer {
  const len = tpl.bytes.length;
  if (!Number.isInteger(first) || first < 0 || !Number.isInteger(count) || count < 0 || first + count > 10 ** SEQ_DIGITS) {
    throw new RangeError(`${count} sequence numbers from ${first}: not whole numbers of at most ${SEQ_DIGITS} digits`);
  }
  const buf = Buffer.allocUnsafe(len * count);
  if (count === 0) return buf;
  tpl.bytes.copy(buf, 0);
  for (let filled = len; filled < buf.length; ) filled += buf.copy(buf, filled, 0, Math.min(filled, buf.length - filled));
  const digits = new Uint8Array(SEQ_DIGITS);
  writeSeq(digits, 0, first);
  for (let k = 0, at = tpl.seqAt; k < count; k++, at += len) {
    for (let i = 0; i < SEQ_DIGITS; i++) buf[at + i] = digits[i]!;
    let i = SEQ_DIGITS - 1;
    while (i > 0 && digits[i] === 57) digits[i--] = 48;
    digits[i]!++;
  }
  return buf;
}
