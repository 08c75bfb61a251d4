// The native TCP reader's binding (native/tcp_read.c) on real loopback sockets, driven directly:
// which events it raises and when it asks for a buffer (an idle connection, or one that ends
// without sending, takes none), and that the start of a message moved out of a delivered buffer is
// moved before JavaScript's microtasks run (a settled batch may hand its buffer to anyone then);
// octet counting and its broken framing; and a fuzz of its records against NewlineDeframer and
// OctetCountingDeframer with the smallest buffers it takes. The syslog-tcp source's own tests
// (syslog-tcp.test.ts) check the records end to end.
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import { FRAME_FLAG, NewlineDeframer, type RecordDeframer } from '../../../src/codec/framing/newline.js';
import { OctetCountingDeframer } from '../../../src/codec/framing/octet-counting.js';
import { LogshipError } from '../../../src/core/errors.js';
import { socketFd, tcpBinding, type Binding } from '../../../src/sources/syslog-tcp/native.js';
import { sleep, waitFor } from '../../helpers/wait.js';
import { prngInts } from '../../helpers/prng.js';

const NAMES = ['BATCH', 'NEED', 'EOF', 'OCTET', 'FRAMING'];
const BUF_BYTES = 272 * 1024;
const MAX_FRAME = 1 << 20;

function binding(): Binding {
  const b = tcpBinding();
  if (b instanceof Error) throw b; // the tests need it built (npm ci builds it)
  return b;
}

interface Reader {
  /** Events as NAME or BATCH(bytes,want), in order. */
  readonly log: string[];
  readonly records: string[];
  readonly closed: () => boolean;
}

/** A server whose one connection is read by the binding; `onBatch` runs inside each BATCH call. */
async function serve(t: TestContext, onBatch?: (old: Buffer) => void, bufBytes = BUF_BYTES): Promise<{ server: Server; reader: Promise<Reader> }> {
  const b = binding();
  const ends = new Uint32Array(65536);
  let resolve!: (r: Reader) => void;
  const reader = new Promise<Reader>((r) => (resolve = r));
  const server = createServer({ pauseOnConnect: true }, (sock) => {
    sock.on('error', () => undefined);
    const log: string[] = [];
    const records: string[] = [];
    let current: Buffer | undefined;
    let closed = false;
    const h = b.attach(socketFd(sock)!, 100, true, 64 * 1024, 5, MAX_FRAME, ends, (st, bytes, n, _tr, _sp, want) => {
      log.push(st === 0 ? `BATCH(${bytes},${want})` : st === 4 ? `FRAMING(${bytes},${n})` : (NAMES[st] ?? String(st)));
      if (st === 0) {
        const old = current!;
        let p = 0;
        for (let i = 0; i < n; i++) {
          records.push(old.toString('latin1', p, ends[i]! - 1));
          p = ends[i]!;
        }
        onBatch?.(old);
      }
      if (st === 2 || st === 4 || st < 0) {
        closed = true;
        b.close(h);
        sock.destroy();
      }
      current = want !== 0 ? Buffer.alloc(bufBytes) : undefined;
      return current;
    });
    t.after(() => {
      b.close(h);
      sock.destroy();
    });
    resolve({ log, records, closed: () => closed });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  return { server, reader };
}

async function peer(t: TestContext, server: Server): Promise<Socket> {
  const c = connect((server.address() as { port: number }).port, '127.0.0.1');
  c.on('error', () => undefined);
  await new Promise((r) => c.once('connect', r));
  t.after(() => c.destroy());
  return c;
}

test('a connection that ends without sending, or goes idle after whole lines, holds no buffer', async (t) => {
  const { server, reader } = await serve(t);
  const quiet = await peer(t, server);
  const r1 = await reader;
  await sleep(50);
  assert.deepEqual(r1.log, [], 'nothing asked of an idle connection');
  quiet.end();
  await waitFor('EOF', () => r1.closed(), 5000);
  assert.deepEqual(r1.log, ['EOF'], 'no buffer taken for a connection that sent nothing');

  const { server: s2, reader: rd2 } = await serve(t);
  const busy = await peer(t, s2);
  const r2 = await rd2;
  busy.write(`<13>${'x'.repeat(95)}\n`.repeat(700)); // 70,000 bytes of whole lines: one full batch and the rest
  await waitFor('all records', () => r2.records.length === 700, 5000);
  await sleep(50);
  // The last delivery left nothing pending: the reader let go of its buffer and asked for no other.
  assert.match(r2.log.at(-1)!, /^BATCH\(\d+,0\)$/);
  assert.equal(r2.log.filter((e) => e === 'NEED').length, 1);
});

test('what follows a delivered batch is moved before microtasks run: a buffer reused by one corrupts nothing', async (t) => {
  const { server, reader } = await serve(t, (old) => queueMicrotask(() => old.fill(0x58)));
  const c = await peer(t, server);
  const r = await reader;
  c.write('<13>first\n<13>second-half-');
  await waitFor('the first record', () => r.records.length === 1, 5000); // the 5 ms delay delivers it, the rest moves
  c.end('arrives later\n');
  await waitFor('EOF', () => r.closed(), 5000);
  assert.deepEqual(r.records, ['<13>first', '<13>second-half-arrives later']);
});

test('a digit first is octet counting: OCTET once, then its frames as records, an LF inside one a space', async (t) => {
  const { server, reader } = await serve(t);
  const c = await peer(t, server);
  const r = await reader;
  c.write('5 hello');
  c.end('10 <13>a\nb\r\n\n2 hi<13>plain line\n3 end');
  await waitFor('EOF', () => r.closed(), 5000);
  assert.equal(r.log[0], 'OCTET');
  assert.equal(r.log.at(-1), 'EOF');
  assert.deepEqual(r.records, ['hello', '<13>a b', 'hi', '<13>plain line', 'end']);
});

test('broken octet framing: what was whole is delivered, then FRAMING with the count and the byte after it', async (t) => {
  const { server, reader } = await serve(t);
  const c = await peer(t, server);
  const r = await reader;
  c.write('5 hello3 abc42x more');
  await waitFor('FRAMING', () => r.closed(), 5000);
  assert.deepEqual(r.records, ['hello', 'abc']);
  assert.equal(r.log.at(-1), `FRAMING(42,${0x78})`);

  const { server: s2, reader: rd2 } = await serve(t);
  const c2 = await peer(t, s2);
  const r2 = await rd2;
  c2.write(`5 hello${MAX_FRAME + 1} `);
  await waitFor('FRAMING', () => r2.closed(), 5000);
  assert.deepEqual(r2.records, ['hello']);
  assert.match(r2.log.at(-1)!, /^FRAMING\(\d+,256\)$/, 'a count above maxFrameBytes');

  // A NUL after the count is a byte like any other (not "no error"), and nothing after it is read.
  const { server: s3, reader: rd3 } = await serve(t);
  const c3 = await peer(t, s3);
  const r3 = await rd3;
  c3.write('5 hello1\u00002 abcdefghijkl');
  await waitFor('FRAMING', () => r3.closed(), 5000);
  assert.deepEqual(r3.records, ['hello']);
  assert.equal(r3.log.at(-1), 'FRAMING(1,0)');
});

test('finish() from inside a reader event is refused (EBUSY): the delivery it would pull away from is still running', async (t) => {
  const b = binding();
  let h: object | undefined;
  let thrown: unknown;
  let current: Buffer | undefined;
  let batches = 0;
  const server = createServer({ pauseOnConnect: true }, (sock) => {
    sock.on('error', () => undefined);
    h = b.attach(socketFd(sock)!, 100, true, 64 * 1024, 5, MAX_FRAME, new Uint32Array(16), (st, _bytes, _n, _tr, _sp, want) => {
      if (st === 0) {
        batches++;
        try {
          b.finish(h!);
        } catch (err) {
          thrown = err;
        }
      }
      current = want !== 0 ? Buffer.alloc(BUF_BYTES) : undefined;
      return current;
    });
    t.after(() => {
      b.close(h!);
      sock.destroy();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const c = await peer(t, server);
  c.write('<13>one\n<13>two\n');
  await waitFor('a batch', () => batches > 0, 5000);
  assert.ok(thrown instanceof Error && (thrown as NodeJS.ErrnoException).code === 'EBUSY', String(thrown));
  b.finish(h!); // outside an event it is fine
});

// ---- fuzz: the reader against NewlineDeframer --------------------------------------------------

type Framing = 'lf' | 'octet';

/**
 * Records and oversize count the JavaScript deframer makes of a whole stream, its end included (an
 * LF inside an octet-counted record a space, as the flow makes it), and how it ends: EOF, or
 * FRAMING(count,byte) as the reader reports the error the deframer threw.
 */
function oracle(framing: Framing, stream: Buffer, max: number, oversize: 'truncate' | 'split'): { records: string[]; oversize: number; end: string } {
  const d: RecordDeframer =
    framing === 'lf' ? new NewlineDeframer({ maxMessageBytes: max, oversize }) : new OctetCountingDeframer({ maxMessageBytes: max, oversize, allowNonTransparent: true });
  d.push(stream);
  const records: string[] = [];
  let over = 0;
  const take = (): void => {
    records.push(d.buf.toString('latin1', d.start, d.end).replaceAll('\n', ' '));
    if ((d.flags & FRAME_FLAG.OVERSIZE) !== 0) over++;
  };
  try {
    while (d.next()) take();
    if (d.finish()) take();
  } catch (err) {
    assert.ok(err instanceof LogshipError);
    const m = /^octet count (\d+) followed by byte 0x([0-9a-f]{2})/.exec(err.message);
    return { records, oversize: over, end: m !== null ? `FRAMING(${m[1]},${parseInt(m[2]!, 16)})` : err.code === 'LS_FRAME_OVERSIZE' ? 'FRAMING(256)' : err.message };
  }
  return { records, oversize: over, end: 'EOF' };
}

/** Messages around and past `max`, with CR, NUL, blank lines and an unterminated last one. */
function fuzzStream(rnd: (k: number) => number, max: number): Buffer {
  const parts: Buffer[] = [];
  const n = 1 + rnd(200);
  for (let i = 0; i < n; i++) {
    const kind = rnd(12);
    const len = kind < 3 ? max - 2 + rnd(5) : kind < 5 ? max * (1 + rnd(4)) + rnd(3) - 1 : rnd(max);
    const body = Buffer.alloc(Math.max(0, len));
    // Letters, and (not first: a piece of only CR/NUL is counted differently, see decision 0008) CR and NUL.
    for (let j = 0; j < body.length; j++) {
      const r = rnd(20);
      body[j] = j > 0 && r === 0 ? 13 : j > 0 && r === 1 ? 0 : 97 + rnd(26);
    }
    const tails = ['\r\n', '\0\n', '\n\n', '\r\r\n', '\n', '\n'];
    parts.push(body, Buffer.from(tails[rnd(tails.length)]!, 'latin1'));
  }
  if (rnd(2) === 0) parts.push(Buffer.alloc(rnd(max * 2 + 3), 0x7a), Buffer.from(rnd(2) === 0 ? '\r' : ''));
  const s = Buffer.concat(parts);
  if (s.length > 0 && s[0]! >= 0x31 && s[0]! <= 0x39) s[0] = 0x61; // not octet counting
  return s;
}

/**
 * Octet-counted frames around and past `max` (bodies with LF, CR and NUL anywhere), bytes between
 * frames, non-transparent frames, and a partial last frame or a framing error at the end.
 */
function fuzzOctetStream(rnd: (k: number) => number, max: number): Buffer {
  const parts: Buffer[] = [];
  const n = 1 + rnd(150);
  for (let i = 0; i < n; i++) {
    const kind = rnd(14);
    if (i > 0 && kind === 0) {
      parts.push(Buffer.from(['\n', '\r\n', ' ', '\0', '  \n'][rnd(5)]!, 'latin1'));
      continue;
    }
    if (i > 0 && kind === 1) {
      // a non-transparent frame: a letter first, up to LF (maybe longer than max)
      const body = Buffer.alloc(1 + rnd(max * 2), 0x61 + rnd(26));
      parts.push(Buffer.from('<'), body, Buffer.from(rnd(2) === 0 ? '\n' : '\r\n'));
      continue;
    }
    const len = kind < 5 ? max - 2 + rnd(5) : kind < 8 ? max * (1 + rnd(4)) + rnd(3) - 1 : 1 + rnd(max);
    const body = Buffer.alloc(Math.max(1, len));
    for (let j = 0; j < body.length; j++) {
      // A frame cut into pieces starts with a letter: a first piece of only CR/NUL/LF is counted
      // differently (see decision 0008); shorter frames may be nothing but those (skipped).
      const r = j === 0 && body.length > max ? 3 : rnd(16);
      body[j] = r === 0 ? 10 : r === 1 ? 13 : r === 2 ? 0 : 97 + rnd(26);
    }
    parts.push(Buffer.from(`${body.length} `), body);
  }
  switch (rnd(6)) {
    case 0:
      parts.push(Buffer.from(`${max + 5} abc`)); // a frame cut short by the end
      break;
    case 1:
      parts.push(Buffer.from('12')); // a count without its space
      break;
    case 2:
      parts.push(Buffer.from(`${1 + rnd(99)}${['x', '\n', '-', '\0'][rnd(4)]!}rest`)); // broken: not a space after the count
      break;
    case 3:
      parts.push(Buffer.from(`${MAX_FRAME + 1 + rnd(1000)} rest`)); // broken: a count above the largest frame
      break;
    default:
      break;
  }
  return Buffer.concat(parts);
}

const GUARD = 64;

/**
 * One stream through the reader with the smallest buffers it takes (guard bytes around each), a
 * small record cap and small batches, written in pieces of any size across loop turns.
 */
async function fuzzOne(t: TestContext, b: Binding, framing: Framing, seed: number): Promise<void> {
  const rnd = prngInts(seed);
  const max = 3 + rnd(30);
  const oversize = rnd(2) === 0 ? 'truncate' : 'split';
  let bufBytes = max + 4 + rnd(4 * max + 20);
  while (bufBytes < max + 4 + Math.floor(bufBytes / max)) bufBytes++;
  const batchBytes = 1 + rnd(bufBytes);
  const cap = 1 + rnd(6);
  const ends = new Uint32Array(cap);
  const stream = framing === 'lf' ? fuzzStream(rnd, max) : fuzzOctetStream(rnd, max);
  const want = oracle(framing, stream, max, oversize);
  const got: string[] = [];
  const problems: string[] = [];
  const guarded: Buffer[] = [];
  let counted = 0;
  let current: Buffer | undefined;
  let end = '';
  const server = createServer({ pauseOnConnect: true }, (sock) => {
    sock.on('error', () => undefined);
    const h = b.attach(socketFd(sock)!, max, oversize === 'truncate', batchBytes, 1, MAX_FRAME, ends, (st, bytes, records, tr, sp, w) => {
      counted += tr + sp;
      if (st === 0) {
        const buf = current!;
        let prev = 0;
        if (records > cap) problems.push(`${records} records > cap ${cap}`);
        for (let i = 0; i < records; i++) {
          const e = ends[i]!;
          if (e > bytes || buf[e - 1] !== 0x0a) problems.push(`bad end ${e} of ${bytes}`);
          got.push(buf.toString('latin1', prev, e - 1));
          prev = e;
        }
        if (prev !== bytes) problems.push(`bytes ${bytes}, last end ${prev}`);
      } else if (st === 3) {
        if (framing !== 'octet' || got.length > 0) problems.push('OCTET late or on an LF-framed stream');
      } else if (st === 2 || st === 4 || st < 0) {
        end = st === 4 ? (records === 256 ? 'FRAMING(256)' : `FRAMING(${bytes},${records})`) : (NAMES[st] ?? String(st));
        b.close(h);
        sock.destroy();
      }
      if (w !== 0) {
        const g = Buffer.alloc(bufBytes + 2 * GUARD, 0xee);
        guarded.push(g);
        current = g.subarray(GUARD, GUARD + bufBytes);
        return current;
      }
      if (st === 0) current = undefined;
      return undefined;
    });
    t.after(() => b.close(h));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const c = await peer(t, server);
    for (let at = 0; at < stream.length; ) {
      const n = 1 + rnd(Math.max(1, Math.floor(bufBytes * 1.5)));
      c.write(stream.subarray(at, at + n));
      at += n;
      await new Promise((r) => setImmediate(r));
      if (rnd(4) === 0) await sleep(2);
    }
    c.end();
    await waitFor(`seed ${seed}: the end`, () => end !== '', 5000);
  } finally {
    server.close();
  }
  const what = `${framing} seed ${seed} (max ${max} ${oversize}, buffer ${bufBytes}, batch ${batchBytes}, cap ${cap})`;
  assert.deepEqual(problems, [], what);
  assert.equal(end, want.end, what);
  for (const g of guarded) assert.ok(g.subarray(0, GUARD).every((v) => v === 0xee) && g.subarray(g.length - GUARD).every((v) => v === 0xee), `${what}: wrote outside its buffer`);
  assert.deepEqual(got, want.records, what);
  assert.equal(counted, want.oversize, `${what}: oversize count`);
}

test('fuzz: 150 streams of awkward messages through the smallest buffers come out as NewlineDeframer makes them', async (t) => {
  const b = binding();
  for (let seed = 1; seed <= 150; seed++) await fuzzOne(t, b, 'lf', seed);
});

test('fuzz: 150 octet-counted streams through the smallest buffers come out as OctetCountingDeframer makes them', async (t) => {
  const b = binding();
  for (let seed = 1; seed <= 150; seed++) await fuzzOne(t, b, 'octet', seed);
});
