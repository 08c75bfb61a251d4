// Scenario definitions: reads bench/scenarios/<name>/scenario.yaml (checked by a zod schema) and finds
// each daemon's config templates beside it. Templates take {{PLACEHOLDERS}} (see render()). No
// processes here.

import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

export const SCENARIOS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'scenarios');

export const DAEMON_KINDS = ['logship', 'rsyslog', 'syslog-ng'] as const;
export type DaemonKind = (typeof DAEMON_KINDS)[number];

const size = z.number().int().min(140).max(8000).default(200).describe('Bytes per message, as loggen -s counts them.');
const host = z.string().default('localhost').describe('HOSTNAME in the syslog header; "{n}" becomes the sender number 01, 02, …');

const loadSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('tcp').describe('Syslog over TCP from our generator (loggen-format messages).'),
      framing: z.enum(['newline', 'octet-counting']).describe('newline: RFC 3164 + LF; octet-counting: RFC 5424, "LEN MSG".'),
      port: z.string().describe('Name of the port (from `ports`) the generator sends to.'),
      connections: z.number().int().min(1).max(1000).default(1).describe('Concurrent connections, one host name each.'),
      size,
      host,
    })
    .strict(),
  z
    .object({
      type: z.literal('udp').describe('Syslog over UDP, one message per datagram.'),
      port: z.string().describe('Name of the port (from `ports`) the generator sends to.'),
      rate: z.number().int().min(0).default(0).describe('Messages per second; 0 = as fast as the sender goes.'),
      size,
      host,
    })
    .strict(),
  z
    .object({
      type: z.literal('file').describe('Lines appended to a file that the client tails.'),
      file: z.string().describe('The file, relative to {{IN}}; created empty before the daemons start.'),
      size,
      host,
    })
    .strict(),
  z
    .object({
      type: z.literal('idle').describe('No traffic: CPU and RSS of the measured processes while they watch files.'),
      files: z.number().int().min(1).describe('Files created in {{IN}} (one line each) before the start.'),
      settle_seconds: z
        .number()
        .min(0)
        .default(10)
        .describe('Wait this long after the files\' lines have all reached the output (reading them is traffic, not idle) before measuring.'),
      seconds: z.number().min(1).default(60).describe('Measurement window.'),
      quick_seconds: z.number().min(1).default(5).describe('Measurement window with --quick.'),
    })
    .strict(),
]);

const processSchema = z
  .object({
    role: z.string().regex(/^[a-z][a-z0-9-]*$/).describe('client, relay, server…: names the config files when there are several processes.'),
    ready: z
      .object({
        tcp: z.array(z.string()).default([]).describe('Port names it must listen on (TCP) before it counts as started.'),
        udp: z.array(z.string()).default([]).describe('Port names it must be bound to (UDP).'),
        delay_ms: z.number().int().min(0).default(0).describe('Then wait this long (clients with nothing to listen on).'),
      })
      .strict()
      .default({ tcp: [], udp: [], delay_ms: 0 })
      .describe('When the process counts as started.'),
    measured: z.boolean().default(true).describe('Its CPU and RSS count as the daemon\'s (false: a helper, e.g. the server of the idle client).'),
  })
  .strict();

const scenarioSchema = z
  .object({
    title: z.string().describe('One line for the report.'),
    description: z.string().describe('What it measures, for RESULTS.md.'),
    load: loadSchema.describe('What drives the daemons.'),
    lines: z.number().int().min(1).default(1_000_000).describe('Messages per run.'),
    quick_lines: z.number().int().min(1).default(20_000).describe('Messages per run with --quick.'),
    ports: z.array(z.string().regex(/^[a-z][a-z0-9_]*$/)).default([]).describe('Port names; {{PORT_<NAME>}} in templates.'),
    processes: z.array(processSchema).min(1).describe('Started in this order (servers first), stopped in reverse.'),
    output: z
      .object({
        files: z.number().int().min(1).optional().describe('Files the output must consist of (checked).'),
        per_sender: z.boolean().default(false).describe('Each output file must hold the lines of one sender only (S4).'),
      })
      .strict()
      .default({ per_sender: false })
      .describe('What the daemons write under {{OUT}}.'),
    outage: z
      .object({
        role: z.string().describe('The process stopped (SIGTERM) mid-run and started again with the same config and state.'),
        at_fraction: z.number().gt(0).lt(1).default(0.3).describe('Stop it once this share of the lines is in the output.'),
        seconds: z.number().min(0).default(30).describe('How long it stays stopped.'),
        quick_seconds: z.number().min(0).default(3).describe('How long with --quick.'),
      })
      .strict()
      .optional()
      .describe('Stop one process mid-run (the backlog must be held upstream, in memory or on disk).'),
    fsync_variants: z.boolean().default(true).describe('Run logship twice per round: fsync true and false ({{FSYNC}}).'),
    strict: z
      .union([z.boolean(), z.literal('logship')])
      .default(true)
      .describe("Lost or duplicated lines are a failure: true (TCP), false (UDP: reported only), 'logship' (only logship's)."),
    daemons: z.array(z.enum(DAEMON_KINDS)).default([...DAEMON_KINDS]).describe('Who takes part.'),
    targets: z
      .object({
        ratio: z.number().optional().describe('logship msg/s ÷ the faster peer\'s, at least.'),
        rss_mb: z.record(z.string(), z.number()).optional().describe('Peak RSS of logship per role, at most (MB).'),
        cpu_percent: z.number().optional().describe('Idle: CPU % of one core, at most.'),
      })
      .strict()
      .default({})
      .describe('Issue 5\'s targets, marked in the report.'),
    analysis: z
      .string()
      .optional()
      .describe('Where a missed target is analysed (profile, causes, what was measured): a path from the repository root, linked under the targets when one is missed.'),
  })
  .strict();

export type Scenario = z.infer<typeof scenarioSchema> & { name: string; dir: string };
export type Load = Scenario['load'];
export type ProcessDef = Scenario['processes'][number];

/** Scenario folders: s1…, s2…, then the others (idle) in name order. */
export function listScenarios(): string[] {
  const rank = (n: string): string => (/^s\d/.test(n) ? `0${n}` : `1${n}`);
  return readdirSync(SCENARIOS_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(SCENARIOS_DIR, d.name, 'scenario.yaml')))
    .map((d) => d.name)
    .sort((a, b) => rank(a).localeCompare(rank(b)));
}

/** "all", a folder name, or its prefix before the first '-' ("S1" → s1-tcp-newline, s1-tcp-octet). */
export function selectScenarios(wanted: string[]): string[] {
  const all = listScenarios();
  const out: string[] = [];
  for (const w of wanted) {
    const key = w.toLowerCase();
    const hits = key === 'all' ? all : all.filter((n) => n === key || n.split('-')[0] === key);
    if (hits.length === 0) throw new Error(`no scenario "${w}": there are ${all.join(', ')} (or "all", or a prefix such as S1)`);
    for (const h of hits) if (!out.includes(h)) out.push(h);
  }
  return out;
}

export function loadScenario(name: string): Scenario {
  const dir = join(SCENARIOS_DIR, name);
  const raw: unknown = parseYaml(readFileSync(join(dir, 'scenario.yaml'), 'utf8'));
  const r = scenarioSchema.safeParse(raw);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new Error(`bench/scenarios/${name}/scenario.yaml:\n${issues}`);
  }
  const s: Scenario = { ...r.data, name, dir };
  for (const p of s.processes) {
    for (const port of [...p.ready.tcp, ...p.ready.udp]) {
      if (!s.ports.includes(port)) throw new Error(`${name}: process ${p.role} waits for port "${port}", not in ports`);
    }
    for (const d of s.daemons) {
      const f = configPath(s, d, p.role);
      if (!existsSync(f)) throw new Error(`${name}: missing ${f}`);
    }
  }
  if (s.outage && !s.processes.some((p) => p.role === s.outage!.role)) throw new Error(`${name}: outage.role "${s.outage.role}" is not a process`);
  if ((s.load.type === 'tcp' || s.load.type === 'udp') && !s.ports.includes(s.load.port)) {
    throw new Error(`${name}: load.port "${s.load.port}" is not in ports`);
  }
  return s;
}

const CONFIG_BASE: Record<DaemonKind, [string, string]> = {
  logship: ['logship', 'yaml'],
  rsyslog: ['rsyslog', 'conf'],
  'syslog-ng': ['syslog-ng', 'conf'],
};

/** logship.yaml / rsyslog.conf / syslog-ng.conf for one process, logship.<role>.yaml … for several. */
export function configPath(s: Scenario, kind: DaemonKind, role: string): string {
  const [base, ext] = CONFIG_BASE[kind];
  return join(s.dir, s.processes.length === 1 ? `${base}.${ext}` : `${base}.${role}.${ext}`);
}

/**
 * Renders a config template. A line starting with `#?NAME ` is kept (without that marker) only when
 * the build under test has capability NAME (e.g. SPOOL: the ship listener takes a `spool` block),
 * `#?!NAME ` only when it has not; then every {{NAME}} is replaced, and an unknown name is an error
 * (a typo in a config).
 */
export function render(template: string, vars: Record<string, string>, what: string, caps: Record<string, boolean> = {}): string {
  const lines: string[] = [];
  for (const line of template.split('\n')) {
    const m = /^#\?(!?)([A-Z][A-Z0-9_]*) (.*)$/.exec(line);
    if (!m) {
      lines.push(line);
      continue;
    }
    if (caps[m[2]!] === undefined) throw new Error(`${what}: unknown capability #?${m[2]} (known: ${Object.keys(caps).join(', ')})`);
    if ((caps[m[2]!] === true) !== (m[1] === '!')) lines.push(m[3]!);
  }
  return lines.join('\n').replace(/\{\{([A-Z][A-Z0-9_]*)\}\}/g, (_m, name: string) => {
    const v = vars[name];
    if (v === undefined) throw new Error(`${what}: unknown placeholder {{${name}}} (known: ${Object.keys(vars).join(', ')})`);
    return v;
  });
}

/** Whether lost or duplicated lines of this contender fail the run. */
export function isStrict(s: Scenario, kind: DaemonKind): boolean {
  return s.strict === true || (s.strict === 'logship' && kind === 'logship');
}
