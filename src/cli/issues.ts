// Renders config issues and warnings for a terminal: "file:line:col: key.path: message".
import type { ConfigIssue } from '../config/index.js';

export function formatIssue(file: string, i: ConfigIssue, kind: 'error' | 'warning'): string {
  const where = i.line !== undefined ? `${file}:${i.line}:${i.col ?? 1}` : file;
  return `${where}: ${kind}: ${i.path === '' ? '(top level)' : i.path}: ${i.message}`;
}
