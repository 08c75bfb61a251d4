// Receivers: rsyslog or syslog-ng listening on loopback, writing one JSON object per message to a
// file, read back as ReceivedRecord. The JSON keys are each peer's own names for the fields.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { waitFor } from '../wait.js';
import { PeerError, q, type AfterHost, type Transport } from './common.js';
import { freeLoopbackPorts } from './ports.js';
import { DEFAULT_READY_MS, type PeerProcess } from './process.js';
import { startRsyslog } from './rsyslog.js';
import { startSyslogNg } from './syslog-ng.js';

/** One message as a receiver stored it, fields as the peer parsed them. */
export interface ReceivedRecord {
  facility: number;
  severity: number;
  host: string;
  /** APP-NAME (5424) or the TAG's program part (3164). */
  program: string;
  /** PROCID, or the [pid] of a 3164 TAG; '' or '-' when absent (as the peer says it). */
  pid: string;
  msgid: string;
  /** STRUCTURED-DATA as text; '' or '-' when absent. */
  sd: string;
  /** The sender's timestamp as the peer renders it (ISO 8601 with offset). */
  timestamp: string;
  /** The MSG part. For RFC 3164 input rsyslog keeps the space after the TAG: one is removed here. */
  message: string;
  /** The received message as it came off the wire, without framing. */
  raw: string;
  /** Everything the peer wrote, for fields not listed above. */
  fields: Record<string, unknown>;
}

export interface PeerReceiver extends PeerProcess {
  /** The ports listened on, in the order of `listen`. */
  readonly ports: number[];
  /** The file the receiver writes (one JSON object per message). */
  readonly outFile: string;
  records(): Promise<ReceivedRecord[]>;
  /** Waits (bounded) until at least `n` records were written. */
  waitForRecords(n: number, timeoutMs?: number): Promise<ReceivedRecord[]>;
}

const OUT_FILE = 'received.jsonl';

function receiverOf(peer: PeerProcess, ports: number[], parse: (o: Record<string, unknown>) => ReceivedRecord): PeerReceiver {
  const outFile = join(peer.dir, OUT_FILE);
  const records = async (): Promise<ReceivedRecord[]> => {
    const text = await readFile(outFile, 'utf8').catch(() => '');
    const out: ReceivedRecord[] = [];
    for (const line of text.split('\n')) {
      if (line.length === 0) continue;
      try {
        out.push(parse(JSON.parse(line) as Record<string, unknown>));
      } catch {
        break; // a line being written: the next poll sees it whole
      }
    }
    return out;
  };
  return {
    ...peer,
    ports,
    outFile,
    records,
    waitForRecords: async (n, timeoutMs = DEFAULT_READY_MS) => {
      try {
        return await waitFor(`${n} records in ${outFile}`, async () => {
          const r = await records();
          return r.length >= n ? r : undefined;
        }, timeoutMs);
      } catch (err) {
        const got = (await records()).length;
        throw new PeerError('PEER_NOT_READY', `${peer.name} wrote ${got} of ${n} records: ${String(err)}\n${peer.output()}`);
      }
    },
  };
}

// A field of a peer's JSON output: the templates write scalars.
const str = (v: unknown): string => (typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v as number | boolean));

/** The peer's JSON key of each ReceivedRecord field. */
type FieldKeys = Record<Exclude<keyof ReceivedRecord, 'fields'>, string>;

function recordOf(o: Record<string, unknown>, k: FieldKeys): ReceivedRecord {
  return {
    facility: Number(o[k.facility]),
    severity: Number(o[k.severity]),
    host: str(o[k.host]),
    program: str(o[k.program]),
    pid: str(o[k.pid]),
    msgid: str(o[k.msgid]),
    sd: str(o[k.sd]),
    timestamp: str(o[k.timestamp]),
    message: str(o[k.message]),
    raw: str(o[k.raw]),
    fields: o,
  };
}

/** rsyslog's `%jsonmesg%` names. */
const RSYSLOG_KEYS: FieldKeys = {
  facility: 'syslogfacility',
  severity: 'syslogseverity',
  host: 'hostname',
  program: 'app-name',
  pid: 'procid',
  msgid: 'msgid',
  sd: 'structured-data',
  timestamp: 'timereported',
  message: 'msg',
  raw: 'rawmsg',
};

export interface RsyslogReceiverOptions {
  /** One input per entry: imtcp (newline and octet-counted framing, detected per frame) or imudp. */
  listen?: Transport[];
  maxMessageSize?: number;
  timeoutMs?: number;
}

/** rsyslog: imtcp/imudp on 127.0.0.1 → omfile with `%jsonmesg%` (every field, plus rawmsg). */
export async function startRsyslogReceiver(t: AfterHost, opts: RsyslogReceiverOptions = {}): Promise<PeerReceiver> {
  const listen = opts.listen ?? ['tcp', 'udp'];
  const ports = await freeLoopbackPorts(listen.length);
  const mod = (tr: Transport): string => (tr === 'tcp' ? 'imtcp' : 'imudp');
  const peer = await startRsyslog(t, {
    config: (dir) =>
      [
        ...[...new Set(listen)].map((tr) => `module(load="${mod(tr)}")`),
        'template(name="logship_all" type="string" string="%jsonmesg%\\n")',
        `ruleset(name="receive") { action(type="omfile" file=${q(join(dir, OUT_FILE))} template="logship_all") }`,
        ...listen.map((tr, i) => `input(type="${mod(tr)}" address="127.0.0.1" port="${ports[i]}" ruleset="receive")`),
      ].join('\n'),
    ready: { listening: listen.map((transport, i) => ({ transport, port: ports[i]! })) },
    maxMessageSize: opts.maxMessageSize,
    timeoutMs: opts.timeoutMs,
  });
  return receiverOf(peer, ports, (o) => {
    const r = recordOf(o, RSYSLOG_KEYS);
    if (str(o['protocol-version']) === '0' && r.message.startsWith(' ')) r.message = r.message.slice(1);
    return r;
  });
}

/** A syslog-ng listener: `network()` is newline-framed RFC 3164 (RFC 5424 with `syslogProtocol`);
 *  `syslog()` is RFC 5424, octet-counted on TCP (a newline-framed frame is refused: "Invalid frame header"). */
export interface SyslogNgListen {
  driver: 'network' | 'syslog';
  transport: Transport;
  /** network() only: flags(syslog-protocol), i.e. parse RFC 5424 instead of RFC 3164. */
  syslogProtocol?: boolean;
}

export interface SyslogNgReceiverOptions {
  listen?: SyslogNgListen[];
  /** log_msg_size() in bytes (syslog-ng's default: 65536). */
  maxMessageSize?: number;
  timeoutMs?: number;
}

const SNG_FIELDS =
  'pri=int($PRI) facility=int($FACILITY_NUM) severity=int($LEVEL_NUM) host=$HOST program=$PROGRAM pid=$PID ' +
  'msgid=$MSGID sdata=$SDATA date=$S_ISODATE message=$MESSAGE raw=$RAWMSG source_ip=$SOURCEIP';

/** The names SNG_FIELDS gives. */
const SYSLOG_NG_KEYS: FieldKeys = {
  facility: 'facility',
  severity: 'severity',
  host: 'host',
  program: 'program',
  pid: 'pid',
  msgid: 'msgid',
  sd: 'sdata',
  timestamp: 'date',
  message: 'message',
  raw: 'raw',
};

/** syslog-ng: network()/syslog() sources on 127.0.0.1 → file() with a `$(format-json …)` template
 *  (frac_digits(6) so sub-second timestamps survive; a 3164 time then shows `.000000`). */
export async function startSyslogNgReceiver(t: AfterHost, opts: SyslogNgReceiverOptions = {}): Promise<PeerReceiver> {
  const listen = opts.listen ?? [
    { driver: 'network', transport: 'tcp' },
    { driver: 'network', transport: 'udp' },
    { driver: 'syslog', transport: 'tcp' },
  ];
  const ports = await freeLoopbackPorts(listen.length);
  const sources = listen.map((l, i) => {
    const flags = ['store-raw-message', ...(l.syslogProtocol === true ? ['syslog-protocol'] : [])];
    return `${l.driver}(transport("${l.transport}") ip("127.0.0.1") port(${ports[i]}) flags(${flags.join(', ')}));`;
  });
  const options = ['frac_digits(6);', ...(opts.maxMessageSize !== undefined ? [`log_msg_size(${opts.maxMessageSize});`] : [])];
  const peer = await startSyslogNg(t, {
    config: (dir) =>
      [
        `options { ${options.join(' ')} };`,
        `source s_receive { ${sources.join(' ')} };`,
        `destination d_received { file(${q(join(dir, OUT_FILE))} template("$(format-json ${SNG_FIELDS})\\n")); };`,
        'log { source(s_receive); destination(d_received); };',
      ].join('\n'),
    ready: { listening: listen.map((l, i) => ({ transport: l.transport, port: ports[i]! })) },
    timeoutMs: opts.timeoutMs,
  });
  return receiverOf(peer, ports, (o) => recordOf(o, SYSLOG_NG_KEYS));
}
