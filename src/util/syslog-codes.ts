// Syslog facility and severity names and codes (RFC 5424 §6.2.1, tables 1 and 2).

export const FACILITIES = [
  'kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news', 'uucp', 'cron', 'authpriv', 'ftp',
  'ntp', 'security', 'console', 'solaris-cron', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5',
  'local6', 'local7',
] as const;

export const SEVERITIES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'] as const;

const SEVERITY_ALIASES: Record<string, number> = { panic: 0, error: 3, warn: 4, informational: 6 };

/** Facility name or number → code, or undefined when unknown. */
export function facilityCode(v: string | number): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 && v < FACILITIES.length ? v : undefined;
  const i = (FACILITIES as readonly string[]).indexOf(v.toLowerCase());
  return i === -1 ? undefined : i;
}

/** Severity name (or common alias) or number → code, or undefined when unknown. */
export function severityCode(v: string | number): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 && v < SEVERITIES.length ? v : undefined;
  const k = v.toLowerCase();
  const i = (SEVERITIES as readonly string[]).indexOf(k);
  return i !== -1 ? i : SEVERITY_ALIASES[k];
}

export function facilityName(code: number): string {
  return FACILITIES[code] ?? String(code);
}

export function severityName(code: number): string {
  return SEVERITIES[code] ?? String(code);
}
