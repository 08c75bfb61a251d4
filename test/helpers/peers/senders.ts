// Senders: an input the test feeds (a loopback listener or a file) → rsyslog's or syslog-ng's
// syslog destination aimed at a target.
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { PeerError, q, type AfterHost, type Framing, type Transport } from './common.js';
import { freeLoopbackPort } from './ports.js';
import type { PeerProcess, ReadySpec } from './process.js';
import { startRsyslog } from './rsyslog.js';
import { startSyslogNg } from './syslog-ng.js';

/** What the sender reads: a TCP or UDP listener on loopback (fed whole syslog lines, RFC 3164 for
 *  syslog-ng), or a file (fed plain text lines, to which the sender adds the header). */
export type SenderInput =
  | { type: 'tcp' }
  | { type: 'udp' }
  | {
      type: 'file';
      /** The program name put on each line (rsyslog: tag "<program>:"; syslog-ng: program-override). */
      program?: string;
      /** Facility and severity names for each line (default local0 / notice). */
      facility?: string;
      severity?: string;
    };

export interface PeerSender extends PeerProcess {
  readonly input: SenderInput;
  /** The input's port (tcp/udp inputs), or 0. */
  readonly inputPort: number;
  /** The input's file (file input), or ''. */
  readonly inputFile: string;
  /** Feeds lines to the input: one TCP connection with newline framing, one datagram each, or
   *  appended to the file. */
  send(lines: readonly string[]): Promise<void>;
}

/** What both senders take besides their target and peer-specific settings. */
export interface SenderOptions {
  /** Default: a TCP listener. */
  input?: SenderInput;
  /** The HOSTNAME put on lines of a file input. rsyslog: global(localHostname), on every message it
   *  makes itself; syslog-ng: host-override() of the file source (network inputs keep theirs). */
  localHostname?: string;
  /** More config in the peer's own language: RainerScript placed before the ruleset (e.g. template
   *  definitions), or syslog-ng config placed before the log path (e.g. an options block). */
  extraConfig?: string;
  timeoutMs?: number;
}

export interface SenderTarget {
  host?: string;
  port: number;
  transport: Transport;
}

function feeder(input: SenderInput, port: number, file: string): (lines: readonly string[]) => Promise<void> {
  return async (lines) => {
    if (input.type === 'file') {
      await appendFile(file, lines.map((l) => `${l}\n`).join(''));
    } else if (input.type === 'udp') {
      const sock = createSocket('udp4');
      try {
        for (const l of lines) {
          await new Promise<void>((res, rej) => sock.send(l, port, '127.0.0.1', (err) => (err ? rej(err) : res())));
        }
      } finally {
        sock.close();
      }
    } else {
      const sock = connect(port, '127.0.0.1');
      const timer = setTimeout(() => sock.destroy(new Error(`feeding 127.0.0.1:${port} took over 10 s`)), 10_000);
      try {
        await once(sock, 'connect');
        sock.end(lines.map((l) => `${l}\n`).join(''));
        await once(sock, 'close');
      } finally {
        clearTimeout(timer);
        sock.destroy();
      }
    }
  };
}

/** What both senders do with their input: its port, its file, the ready spec, and the sender made of the peer. */
interface InputPlan {
  input: SenderInput;
  /** The input's port, or 0 for a file input. */
  port: number;
  ready: ReadySpec;
  /** Creates the (empty) input file in the peer's dir and returns its path. */
  makeFile(dir: string): string;
  senderOf(peer: PeerProcess): PeerSender;
}

async function planInput(input: SenderInput = { type: 'tcp' }): Promise<InputPlan> {
  const port = input.type === 'file' ? 0 : await freeLoopbackPort();
  let file = '';
  return {
    input,
    port,
    ready: input.type === 'file' ? {} : { listening: [{ transport: input.type, port }] },
    makeFile: (dir) => {
      file = join(dir, 'input.log');
      writeFileSync(file, ''); // imfile warns when a configured file is missing at start
      return file;
    },
    senderOf: (peer) => ({ ...peer, input, inputPort: port, inputFile: file, send: feeder(input, port, file) }),
  };
}

export interface RsyslogSenderOptions extends SenderOptions {
  /** omfwd's target. `framing` is TCP only: newline (omfwd's default) or octet-counted. */
  target: SenderTarget & { framing?: Framing };
  /** omfwd's template: a built-in (RSYSLOG_TraditionalForwardFormat is omfwd's default,
   *  RSYSLOG_ForwardFormat, RSYSLOG_SyslogProtocol23Format) or one defined in `extraConfig`. */
  template?: string;
  maxMessageSize?: number;
}

/** rsyslog: imtcp/imudp/imfile → omfwd to the target (retrying every second while it is down). */
export async function startRsyslogSender(t: AfterHost, opts: RsyslogSenderOptions): Promise<PeerSender> {
  const plan = await planInput(opts.input);
  const { input } = plan;
  const tgt = opts.target;
  if (tgt.framing === 'octet-counted' && tgt.transport !== 'tcp') {
    throw new PeerError('PEER_BAD_OPTION', 'octet-counted framing is for TCP only');
  }
  const fwd = [
    'type="omfwd"',
    `target=${q(tgt.host ?? '127.0.0.1')}`,
    `port="${tgt.port}"`,
    `protocol="${tgt.transport}"`,
    ...(tgt.framing === 'octet-counted' ? ['TCP_Framing="octet-counted"'] : []),
    ...(opts.template !== undefined ? [`template=${q(opts.template)}`] : []),
    'action.resumeInterval="1"',
    'action.resumeRetryCount="-1"',
  ];
  const peer = await startRsyslog(t, {
    config: (dir) => {
      let inputLine: string;
      if (input.type === 'file') {
        const params = [
          `file=${q(plan.makeFile(dir))}`,
          `tag=${q(`${input.program ?? 'fileapp'}:`)}`,
          `facility=${q(input.facility ?? 'local0')}`,
          `severity=${q(input.severity ?? 'notice')}`,
        ];
        inputLine = `module(load="imfile")\ninput(type="imfile" ${params.join(' ')} ruleset="forward")`;
      } else {
        const m = input.type === 'tcp' ? 'imtcp' : 'imudp';
        inputLine = `module(load="${m}")\ninput(type="${m}" address="127.0.0.1" port="${plan.port}" ruleset="forward")`;
      }
      return [opts.extraConfig ?? '', `ruleset(name="forward") { action(${fwd.join(' ')}) }`, inputLine].join('\n');
    },
    ready: plan.ready,
    localHostname: opts.localHostname,
    maxMessageSize: opts.maxMessageSize,
    timeoutMs: opts.timeoutMs,
  });
  return plan.senderOf(peer);
}

export interface SyslogNgSenderOptions extends SenderOptions {
  /** The destination: `network()` sends newline-framed RFC 3164 (RFC 5424 with `syslogProtocol`);
   *  `syslog()` sends RFC 5424, octet-counted on TCP. Default driver: network. */
  target: SenderTarget & { driver?: 'network' | 'syslog'; syslogProtocol?: boolean };
  /** frac_digits(): sub-second digits in the timestamps it writes (default 0, as a stock install). */
  fracDigits?: number;
}

/** syslog-ng: network() listener or file() → network()/syslog() destination (reconnecting every second). */
export async function startSyslogNgSender(t: AfterHost, opts: SyslogNgSenderOptions): Promise<PeerSender> {
  const plan = await planInput(opts.input);
  const { input } = plan;
  const tgt = opts.target;
  const driver = tgt.driver ?? 'network';
  if (tgt.syslogProtocol === true && driver !== 'network') {
    throw new PeerError('PEER_BAD_OPTION', 'syslogProtocol is a network() flag; syslog() always sends RFC 5424');
  }
  const destFlags = tgt.syslogProtocol === true ? ' flags(syslog-protocol)' : '';
  const dest = `${driver}(${q(tgt.host ?? '127.0.0.1')} transport("${tgt.transport}") port(${tgt.port})${destFlags})`;
  const peer = await startSyslogNg(t, {
    config: (dir) => {
      let source: string;
      if (input.type === 'file') {
        const params = [
          'follow-freq(0.1)',
          'flags(no-parse)',
          `program-override(${q(input.program ?? 'fileapp')})`,
          ...(opts.localHostname !== undefined ? [`host-override(${q(opts.localHostname)})`] : []),
          `default-facility(${input.facility ?? 'local0'})`,
          `default-priority(${input.severity ?? 'notice'})`,
        ];
        source = `file(${q(plan.makeFile(dir))} ${params.join(' ')})`;
      } else {
        source = `network(transport("${input.type}") ip("127.0.0.1") port(${plan.port}))`;
      }
      return [
        `options { frac_digits(${opts.fracDigits ?? 0}); };`,
        `source s_feed { ${source}; };`,
        `destination d_forward { ${dest}; };`,
        opts.extraConfig ?? '',
        'log { source(s_feed); destination(d_forward); };',
      ].join('\n');
    },
    ready: plan.ready,
    timeoutMs: opts.timeoutMs,
  });
  return plan.senderOf(peer);
}
