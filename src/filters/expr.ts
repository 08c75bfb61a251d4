// Filter expressions: parsed and compiled once at config load into a predicate over batch metadata.
// Pure: no I/O, cannot fail at run time.
//
//   expr    := or
//   or      := and ( "or" and )*
//   and     := unary ( "and" unary )*
//   unary   := "not" unary | "(" expr ")" | test
//   test    := level-field ( cmp level | "in" level ".." level | "in" "(" level ("," level)* ")" )
//            | name-field ( ("==" | "!=") word | ("=~" | "!~") /regex/flags )
//   level-field := facility | severity        cmp := == != < <= > >=
//   name-field  := host | program             word: bare or quoted; * ? [ make it a glob
//
// Severity follows syslog numbering: emerg = 0 … debug = 7, so `severity <= warning` means
// "warning or more severe".

import picomatch from 'picomatch';
import type { BatchMeta } from '../core/batch.js';
import type { CompiledFilter } from '../core/component.js';
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

type Pred = (m: BatchMeta) => boolean;

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
      const a = left;
      const b = this._and();
      left = (m) => a(m) || b(m);
    }
    return left;
  }

  private _and(): Pred {
    let left = this._unary();
    while (this._isWord('and')) {
      this._next();
      const a = left;
      const b = this._unary();
      left = (m) => a(m) && b(m);
    }
    return left;
  }

  private _unary(): Pred {
    if (this._isWord('not')) {
      this._next();
      const p = this._unary();
      return (m) => !p(m);
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
    throw new FilterSyntaxError(`unknown field '${f.v}' (known: facility, severity, host, program)`, f.col);
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
    const get = field === 'facility' ? (m: BatchMeta) => m.facility : (m: BatchMeta) => m.severity;
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
        return (m) => set.has(get(m));
      }
      const a = this._level(field);
      this._expectOp('..');
      const b = this._level(field);
      const lo = Math.min(a, b);
      const hi = Math.max(a, b);
      return (m) => get(m) >= lo && get(m) <= hi;
    }
    if (t.t !== 'op') throw new FilterSyntaxError(`expected a comparison after '${field}'`, t.col);
    const v = this._level(field);
    switch (t.v) {
      case '==': return (m) => get(m) === v;
      case '!=': return (m) => get(m) !== v;
      case '<': return (m) => get(m) < v;
      case '<=': return (m) => get(m) <= v;
      case '>': return (m) => get(m) > v;
      case '>=': return (m) => get(m) >= v;
      default: throw new FilterSyntaxError(`'${t.v}' does not apply to ${field}`, t.col);
    }
  }

  private _nameTest(field: 'host' | 'program'): Pred {
    const get = field === 'host' ? (m: BatchMeta) => m.host : (m: BatchMeta) => m.program;
    const op = this._next();
    if (op.t !== 'op') throw new FilterSyntaxError(`expected ==, !=, =~ or !~ after '${field}'`, op.col);
    if (op.v === '=~' || op.v === '!~') {
      const r = this._next();
      if (r.t !== 'regex') throw new FilterSyntaxError('expected a /regular expression/', r.col);
      const re = r.v;
      return op.v === '=~' ? (m) => re.test(get(m)) : (m) => !re.test(get(m));
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
    return op.v === '==' ? (m) => eq(get(m)) : (m) => !eq(get(m));
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
  const pred = new Parser(tokenize(src)).parse();
  return { matchBatch: pred };
}
