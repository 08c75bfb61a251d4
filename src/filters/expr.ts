// Filter expressions: parsed and compiled once at config load into a predicate over batch metadata.
// Pure: no I/O, cannot fail at run time.
//
//   expr    := or
//   or      := and ( "or" and )*
//   and     := unary ( "and" unary )*
//   unary   := "not" unary | "(" expr ")" | test
//   test    := level-field ( cmp level | "in" level ".." level | "in" "(" level ("," level)* ")" )
//            | name-field ( ("==" | "!=") word | ("=~" | "!~") /regex/flags )
//            | "message" ( "contains" word | ("=~" | "!~") /regex/flags )
//   level-field := facility | severity        cmp := == != < <= > >=
//   name-field  := host | program             word: bare or quoted; * ? [ make it a glob
//
// Severity follows syslog numbering: emerg = 0 … debug = 7, so `severity <= warning` means
// "warning or more severe".
//
// Evaluation is three-valued per batch: a test on shared metadata decides the whole batch; a
// test on the message, or on a field of a syslog batch (whose records carry their own), answers
// "undefined" and the router asks each record.

import picomatch from 'picomatch';
import { recordFields } from '../codec/syslog/parse.js';
import type { Batch, BatchMeta } from '../core/batch.js';
import type { CompiledFilter } from '../core/component.js';
import type { RecordFields } from '../core/records.js';
import { facilityCode, severityCode } from '../util/syslog-codes.js';

export class FilterSyntaxError extends Error {
  readonly col: number;
  constructor(message: string, col: number) {
    super(message);
    this.name = 'FilterSyntaxError';
    this.col = col;
  }
}

type Tok =
  | { t: 'word'; v: string; col: number; quoted: boolean }
  | { t: 'op'; v: string; col: number }
  | { t: 'regex'; v: RegExp; col: number }
  | { t: 'end'; col: number };

type Node =
  | { readonly k: 'and' | 'or'; readonly a: Node; readonly b: Node }
  | { readonly k: 'not'; readonly a: Node }
  | { readonly k: 'level'; readonly field: 'facility' | 'severity'; readonly test: (v: number) => boolean }
  | { readonly k: 'name'; readonly field: 'host' | 'program'; readonly test: (s: string) => boolean }
  | { readonly k: 'message'; readonly test: (data: Buffer, start: number, end: number) => boolean };

type Pred = Node;

const OPS = ['==', '!=', '<=', '>=', '=~', '!~', '<', '>', '(', ')', ',', '..'];

function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    const col = i + 1;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let v = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\' && j + 1 < src.length) j++;
        v += src[j];
        j++;
      }
      if (j >= src.length) throw new FilterSyntaxError('unterminated string', col);
      toks.push({ t: 'word', v, col, quoted: true });
      i = j + 1;
      continue;
    }
    if (c === '/' ) {
      let j = i + 1;
      let body = '';
      while (j < src.length && src[j] !== '/') {
        if (src[j] === '\\' && j + 1 < src.length) {
          body += src[j]! + src[j + 1]!;
          j += 2;
          continue;
        }
        body += src[j];
        j++;
      }
      if (j >= src.length) throw new FilterSyntaxError('unterminated regular expression', col);
      j++;
      let flags = '';
      while (j < src.length && /[a-z]/.test(src[j]!)) flags += src[j++];
      try {
        toks.push({ t: 'regex', v: new RegExp(body, flags), col });
      } catch (err) {
        throw new FilterSyntaxError(`invalid regular expression: ${(err as Error).message}`, col);
      }
      i = j;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (op !== undefined) {
      toks.push({ t: 'op', v: op, col });
      i += op.length;
      continue;
    }
    const m = /^[A-Za-z0-9_\-*?[\]@:+]+/.exec(src.slice(i));
    if (m === null) throw new FilterSyntaxError(`unexpected character '${c}'`, col);
    // A ".." inside a bare word ends it (so "err..emerg" is a range).
    let word = m[0];
    const dots = src.slice(i, i + word.length + 2).indexOf('..');
    if (dots > 0 && dots < word.length) word = word.slice(0, dots);
    let end = i + word.length;
    // Allow single dots inside words (hostnames: web-1.example.com), never "..".
    while (src[end] === '.' && src[end + 1] !== '.' && end + 1 < src.length) {
      const more = /^[A-Za-z0-9_\-*?[\]@:+]+/.exec(src.slice(end + 1));
      if (more === null) break;
      word += `.${more[0]}`;
      end += 1 + more[0].length;
    }
    toks.push({ t: 'word', v: word, col, quoted: false });
    i = end;
  }
  toks.push({ t: 'end', col: src.length + 1 });
  return toks;
}

class Parser {
  private _i = 0;
  private readonly _toks: Tok[];
  constructor(toks: Tok[]) {
    this._toks = toks;
  }

  private _peek(): Tok {
    return this._toks[this._i]!;
  }
  private _next(): Tok {
    return this._toks[this._i++]!;
  }
  private _isWord(v: string): boolean {
    const t = this._peek();
    return t.t === 'word' && !t.quoted && t.v.toLowerCase() === v;
  }
  private _isOp(v: string): boolean {
    const t = this._peek();
    return t.t === 'op' && t.v === v;
  }
  private _expectOp(v: string): void {
    const t = this._next();
    if (t.t !== 'op' || t.v !== v) throw new FilterSyntaxError(`expected '${v}'`, t.col);
  }

  parse(): Pred {
    const p = this._or();
    const t = this._peek();
    if (t.t !== 'end') throw new FilterSyntaxError(`unexpected '${describe(t)}' after a complete expression`, t.col);
    return p;
  }

  private _or(): Pred {
    let left = this._and();
    while (this._isWord('or')) {
      this._next();
      left = { k: 'or', a: left, b: this._and() };
    }
    return left;
  }

  private _and(): Pred {
    let left = this._unary();
    while (this._isWord('and')) {
      this._next();
      left = { k: 'and', a: left, b: this._unary() };
    }
    return left;
  }

  private _unary(): Pred {
    if (this._isWord('not')) {
      this._next();
      return { k: 'not', a: this._unary() };
    }
    if (this._isOp('(')) {
      this._next();
      const p = this._or();
      this._expectOp(')');
      return p;
    }
    return this._test();
  }

  private _test(): Pred {
    const f = this._next();
    if (f.t !== 'word' || f.quoted) throw new FilterSyntaxError(`expected a field (facility, severity, host, program), found '${describe(f)}'`, f.col);
    const field = f.v.toLowerCase();
    if (field === 'facility' || field === 'severity') return this._levelTest(field);
    if (field === 'host' || field === 'program') return this._nameTest(field);
    if (field === 'message') return this._messageTest();
    throw new FilterSyntaxError(`unknown field '${f.v}' (known: facility, severity, host, program, message)`, f.col);
  }

  private _level(field: 'facility' | 'severity'): number {
    const t = this._next();
    if (t.t !== 'word') throw new FilterSyntaxError(`expected a ${field} name or number`, t.col);
    const v = /^\d+$/.test(t.v) ? Number(t.v) : t.v;
    const code = field === 'facility' ? facilityCode(v) : severityCode(v);
    if (code === undefined) throw new FilterSyntaxError(`unknown ${field} '${t.v}'`, t.col);
    return code;
  }

  private _levelTest(field: 'facility' | 'severity'): Pred {
    const test = this._levelCmp(field);
    return { k: 'level', field, test };
  }

  private _levelCmp(field: 'facility' | 'severity'): (v: number) => boolean {
    const t = this._next();
    if (t.t === 'word' && !t.quoted && t.v.toLowerCase() === 'in') {
      if (this._isOp('(')) {
        this._next();
        const set = new Set<number>([this._level(field)]);
        while (this._isOp(',')) {
          this._next();
          set.add(this._level(field));
        }
        this._expectOp(')');
        return (x) => set.has(x);
      }
      const a = this._level(field);
      this._expectOp('..');
      const b = this._level(field);
      const lo = Math.min(a, b);
      const hi = Math.max(a, b);
      return (x) => x >= lo && x <= hi;
    }
    if (t.t !== 'op') throw new FilterSyntaxError(`expected a comparison after '${field}'`, t.col);
    const v = this._level(field);
    switch (t.v) {
      case '==': return (x) => x === v;
      case '!=': return (x) => x !== v;
      case '<': return (x) => x < v;
      case '<=': return (x) => x <= v;
      case '>': return (x) => x > v;
      case '>=': return (x) => x >= v;
      default: throw new FilterSyntaxError(`'${t.v}' does not apply to ${field}`, t.col);
    }
  }

  private _nameTest(field: 'host' | 'program'): Pred {
    const op = this._next();
    if (op.t !== 'op') throw new FilterSyntaxError(`expected ==, !=, =~ or !~ after '${field}'`, op.col);
    if (op.v === '=~' || op.v === '!~') {
      const r = this._next();
      if (r.t !== 'regex') throw new FilterSyntaxError('expected a /regular expression/', r.col);
      const re = r.v;
      return { k: 'name', field, test: op.v === '=~' ? (x) => re.test(x) : (x) => !re.test(x) };
    }
    if (op.v !== '==' && op.v !== '!=') throw new FilterSyntaxError(`'${op.v}' does not apply to ${field}`, op.col);
    const w = this._next();
    if (w.t !== 'word') throw new FilterSyntaxError(`expected a ${field} name or glob`, w.col);
    const value = w.v;
    let eq: (s: string) => boolean;
    if (/[*?[]/.test(value)) {
      const isMatch = picomatch(value, { dot: true });
      eq = (s) => isMatch(s);
    } else {
      eq = (s) => s === value;
    }
    return { k: 'name', field, test: op.v === '==' ? eq : (x) => !eq(x) };
  }

  private _messageTest(): Pred {
    const op = this._next();
    if (op.t === 'op' && (op.v === '=~' || op.v === '!~')) {
      const r = this._next();
      if (r.t !== 'regex') throw new FilterSyntaxError('expected a /regular expression/', r.col);
      const re = r.v;
      const hit = (d: Buffer, s: number, e: number): boolean => re.test(d.toString('utf8', s, e));
      return { k: 'message', test: op.v === '=~' ? hit : (d, s, e) => !hit(d, s, e) };
    }
    if (!(op.t === 'word' && !op.quoted && op.v.toLowerCase() === 'contains')) {
      throw new FilterSyntaxError("expected 'contains', =~ or !~ after 'message'", op.col);
    }
    const w = this._next();
    if (w.t !== 'word') throw new FilterSyntaxError('expected the text to look for', w.col);
    const needle = Buffer.from(w.v, 'utf8');
    const hit = (d: Buffer, s: number, e: number): boolean => e - s >= needle.length && d.subarray(s, e).indexOf(needle) !== -1;
    return { k: 'message', test: hit };
  }
}

/** Three-valued: undefined when the answer depends on the records. */
function onBatch(n: Node, m: BatchMeta): boolean | undefined {
  switch (n.k) {
    case 'and': {
      const a = onBatch(n.a, m);
      if (a === false) return false;
      const b = onBatch(n.b, m);
      if (b === false) return false;
      return a === true && b === true ? true : undefined;
    }
    case 'or': {
      const a = onBatch(n.a, m);
      if (a === true) return true;
      const b = onBatch(n.b, m);
      if (b === true) return true;
      return a === false && b === false ? false : undefined;
    }
    case 'not': {
      const a = onBatch(n.a, m);
      return a === undefined ? undefined : !a;
    }
    case 'level':
      if (m.format === 'syslog') return undefined;
      return n.test(n.field === 'facility' ? m.facility : m.severity);
    case 'name':
      if (m.format === 'syslog') return undefined;
      return n.test(n.field === 'host' ? m.host : m.program);
    case 'message':
      return undefined;
  }
}

function onRecord(n: Node, b: Batch, f: RecordFields, i: number): boolean {
  switch (n.k) {
    case 'and':
      return onRecord(n.a, b, f, i) && onRecord(n.b, b, f, i);
    case 'or':
      return onRecord(n.a, b, f, i) || onRecord(n.b, b, f, i);
    case 'not':
      return !onRecord(n.a, b, f, i);
    case 'level':
      return n.test(n.field === 'facility' ? f.facility(i) : f.severity(i));
    case 'name':
      return n.test(n.field === 'host' ? f.host[i]! : f.program[i]!);
    case 'message':
      return n.test(b.data, f.msgStart[i]!, f.msgEnd[i]!);
  }
}

function describe(t: Tok): string {
  if (t.t === 'end') return 'end of expression';
  if (t.t === 'regex') return String(t.v);
  return t.v;
}

/** Compiles an expression; throws FilterSyntaxError (with a 1-based column) when it is malformed. */
export function compileFilter(src: string): CompiledFilter {
  if (src.trim() === '') throw new FilterSyntaxError('empty expression', 1);
  const root = new Parser(tokenize(src)).parse();
  return {
    matchBatch: (meta) => onBatch(root, meta),
    matchRecord: (batch, i) => onRecord(root, batch, recordFields(batch), i),
  };
}
