// logship's TCP reader for LF-framed syslog connections: reads a connection's socket on Node's
// loop straight into the buffer of the batch being built, cuts records at LF in C, and calls
// JavaScript once per batch instead of once per read (see docs/decisions/0008-tcp-reader.md).
// Node's own read path allocates a buffer per read, copies it to its length, and runs the stream
// machinery and our deframer per chunk; here the kernel copies into the batch buffer and nothing
// else touches the bytes until the batch is parsed.
//
//   attach(fd, maxMessageBytes, truncate, batchBytes, delayMs, maxFrameBytes, ends, onEvent) -> handle
//     reads a duplicate of fd (close() closes it); `ends` is a Uint32Array the records' end offsets
//     are copied to for each BATCH (one can serve every reader: it is read during the call);
//     its length caps the records of a batch.
//   onEvent(status, bytes, records, truncated, split, want) -> Buffer | undefined
//     BATCH (0)   bytes [0, bytes) of the current buffer hold `records` records, each ended by LF, and
//                 ends[0, records) their end offsets; the buffer is now the caller's. When `want`,
//                 the caller returns the next buffer (the start of a message waits to move into it).
//     NEED (1)    bytes are waiting (peeked) and the reader holds no buffer: return one (`want` 1).
//     EOF (2)     the peer closed its side; everything it sent was delivered before (BATCH).
//     OCTET (3)   the first byte is a digit '1'..'9': the connection uses octet counting (RFC 6587
//                 §3.4.1), and its records are cut that way from now on (raised once, before any BATCH).
//     FRAMING (4) the octet framing is broken: `bytes` is the octet count read so far, `records` the
//                 byte that followed it instead of a space, or 256 when the count passed
//                 maxFrameBytes. What was whole was delivered before. The reader stopped.
//     < 0         -errno of a failed read; what was whole was delivered before. The reader stopped.
//   truncated / split: messages longer than maxMessageBytes cut since the last event ('truncate'
//   kept the first piece, 'split' made pieces), each counted once.
//   pause(handle, bool)            stop / start polling the socket (backpressure)
//   finish(handle)                 the connection is closing: stop reading, deliver what is whole and
//                                  the unterminated last message as a record (BATCH, if any); not
//                                  from inside onEvent (throws EBUSY)
//   pending(handle) -> bytes held and not delivered;  lastRead(handle) -> ms since the epoch
//   close(handle)                  stops and closes the fd (idempotent)
//
// Records as the JavaScript NewlineDeframer makes them (codec/framing/newline.ts): a record ends at
// LF; trailing CR, NUL and LF bytes are stripped and a record empty after that is skipped; a message
// longer than maxMessageBytes is cut there. A connection whose first byte is a digit is cut as the
// JavaScript OctetCountingDeframer does (codec/framing/octet-counting.ts, non-transparent frames
// allowed): "MSG-LEN SP MSG" frames, LF/CR/NUL/SP between frames skipped, a frame that starts with
// another byte read up to LF, a frame longer than maxMessageBytes cut into pieces ('split') or cut
// and the rest skipped ('truncate'); trailing CR/NUL/LF are stripped from its records too, and an
// LF inside one becomes a space (what flattenInnerNewlines in sources/syslog-tcp/flow.ts does).
// In the buffer, each record is followed by one LF:
//
//   | record LF record LF … | gap (stripped / skipped bytes) | current message … | free | spare |
//   0                     w                                  r           s      len
//
// A record whose bytes lie after a gap is moved down to w (memmove). The spare bytes let the last
// message take its LF at finish(), and each piece of a split message (at most one per
// maxMessageBytes of the buffer) take one where the next piece starts (the rest moves up a byte);
// so does an octet-counted record or piece with no gap before it. A frame's header (count and
// space) leaves a gap of two bytes or more, so a move comes only after the message that moved to
// the start of the buffer, or after two pieces of max bytes: per buffer, at most one per max bytes,
// one for the moved message and one for the last message, which is what the spare holds.
// EOF and read errors deliver as finish() does before they are reported; a reset (the poll reports
// an error) is read first, since what arrived before it is still queued.
//
// JavaScript's microtasks run after each call into it has returned and the reader has moved what
// follows the batch into the next buffer (a callback scope around the call, not around the
// function alone): a batch settled by a microtask may give its buffer to someone else at once.
//
// Linux only (the JavaScript side reads through node:net when this is not built).

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "napi_common.h"

#define ST_BATCH 0
#define ST_NEED 1
#define ST_EOF 2
#define ST_OCTET 3
#define ST_FRAMING 4

/* Octet counting (RFC 6587 §3.4.1): where the reader is in the stream. */
#define O_START 0 /* between frames */
#define O_COUNT 1 /* reading MSG-LEN */
#define O_MSG 2   /* reading MSG: the current piece is [r, s) */
#define O_SKIP 3  /* dropping the rest of a truncated frame */
#define O_LINE 4  /* a frame that starts with a non-digit: read up to LF */

/* reader.ferr: why the octet framing broke (0: it did not). */
#define FERR_BYTE 0x100  /* | the byte that followed the count instead of a space (NUL too) */
#define FERR_LARGE 0x200 /* the count passed maxFrameBytes */

/** Reads per readiness before the loop serves other work. */
#define ROUNDS 4

typedef struct {
  uv_poll_t poll;
  uv_timer_t timer;
  int fd;
  int closing;
  int handles;
  int paused;
  int stopped;     /* EOF, error or OCTET reported: no more reads */
  int first;       /* the first byte is still to be looked at */
  int octet;       /* octet counting: the first byte was a digit */
  int ostate;      /* octet counting: O_START … O_LINE */
  int ferr;        /* octet counting: the framing broke (FRAMING to report): FERR_BYTE | the byte after the count, or FERR_LARGE */
  int calling;     /* inside call_event (JavaScript runs): finish() is refused */
  uint64_t olen;   /* octet counting: MSG-LEN read so far (O_COUNT), the frame's (later) */
  uint64_t remain; /* O_MSG/O_SKIP: bytes of the frame not yet consumed */
  uint64_t piece_left; /* O_MSG: bytes still needed to complete the current piece */
  uint64_t max_frame;
  int timer_armed;
  int truncate;    /* oversize policy: 1 truncate, 0 split */
  int discard;     /* truncate: dropping the rest of a cut message up to its LF */
  int cut;         /* split: the current message (or octet frame) was cut already */
  uint32_t max;    /* maxMessageBytes */
  uint32_t batch_bytes;
  uint32_t delay_ms;
  double last_read_ms;
  uint32_t truncated, split;
  napi_env env;
  napi_ref on_event;
  napi_ref buf_ref;
  napi_async_context async;
  uint8_t *buf;
  size_t cap;
  size_t w, r, s, len;
  size_t spare;
  /** Record ends of the batch being built (grown as needed, up to the shared array's length). */
  uint32_t *ends;
  size_t ends_cap;
  size_t ends_max;
  size_t count;
  napi_ref shared_ref;
  napi_ref resource_ref;
  uint32_t *shared;
  int errored;     /* the poll reported an error: reading what is queued before failing */
} reader;

typedef struct {
  reader *r; /* NULL once closed */
} handle_box;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)(ts.tv_nsec / 1000000);
}

/** Holds `b` (a Buffer) as the current buffer; 0, or -1 if it is not a usable Buffer. */
static int hold_buffer(reader *c, napi_value b) {
  napi_env env = c->env;
  bool is_buffer = false;
  void *data = NULL;
  size_t n = 0;
  if (napi_is_buffer(env, b, &is_buffer) != napi_ok || !is_buffer || napi_get_buffer_info(env, b, &data, &n) != napi_ok) return -1;
  size_t spare = n / c->max + 2;
  if (n < (size_t)c->max + 2 + spare || n > UINT32_MAX) return -1;
  napi_ref ref;
  if (napi_create_reference(env, b, 1, &ref) != napi_ok) return -1;
  if (c->buf_ref != NULL) napi_delete_reference(env, c->buf_ref);
  c->buf_ref = ref;
  c->buf = data;
  c->cap = n;
  c->spare = spare;
  return 0;
}

/** Nothing is pending: let go of the buffer and the record ends (an idle connection holds neither). */
static void drop_buffer(reader *c) {
  if (c->buf_ref != NULL) napi_delete_reference(c->env, c->buf_ref);
  c->buf_ref = NULL;
  c->buf = NULL;
  c->cap = 0;
  c->w = c->r = c->s = c->len = 0;
  free(c->ends);
  c->ends = NULL;
  c->ends_cap = 0;
}

/**
 * Calls onEvent; returns its result's Buffer held as the new current buffer when `want` (1 on
 * success), 0 when none was wanted, -1 when one was wanted and not given, or JavaScript threw.
 */
static int call_event(reader *c, int status, size_t bytes, size_t records, int want, size_t tail_from) {
  napi_env env = c->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return -1;
  napi_value fn, recv, argv[6], result, resource;
  napi_callback_scope cscope;
  c->calling++;
  if (status == ST_BATCH && records > 0) memcpy(c->shared, c->ends, records * sizeof(uint32_t));
  napi_get_reference_value(env, c->resource_ref, &resource);
  if (napi_open_callback_scope(env, resource, c->async, &cscope) != napi_ok) {
    c->calling--;
    napi_close_handle_scope(env, scope);
    return -1;
  }
  napi_get_reference_value(env, c->on_event, &fn);
  napi_get_global(env, &recv);
  napi_create_int32(env, status, &argv[0]);
  napi_create_uint32(env, (uint32_t)bytes, &argv[1]);
  napi_create_uint32(env, (uint32_t)records, &argv[2]);
  napi_create_uint32(env, c->truncated, &argv[3]);
  napi_create_uint32(env, c->split, &argv[4]);
  napi_create_int32(env, want, &argv[5]);
  c->truncated = c->split = 0;
  int ret = 0;
  if (napi_call_function(env, recv, fn, 6, argv, &result) != napi_ok) {
    report_uncaught(env);
    ret = -1;
  } else if (want && !c->closing) {
    uint8_t *old = c->buf;
    size_t r = c->r, s = c->s, len = c->len;
    if (hold_buffer(c, result) != 0) ret = -1;
    else {
      // The rest of the old buffer (the current message) moves to the start of the new one (the
      // same one when JavaScript copied a small batch out and gave it back).
      if (old != NULL && len > tail_from) memmove(c->buf, old + tail_from, len - tail_from);
      c->w = 0;
      c->r = r - tail_from;
      c->s = s - tail_from;
      c->len = len - tail_from;
      ret = 1;
    }
  }
  napi_close_callback_scope(env, cscope); // microtasks run here, after the move
  c->calling--;
  napi_close_handle_scope(env, scope);
  return ret;
}

/** Stops reading for good (EOF, error, OCTET): the poll is stopped, the fd stays open until close(). */
static void stop_reading(reader *c) {
  c->stopped = 1;
  uv_poll_stop(&c->poll);
  if (c->timer_armed) {
    uv_timer_stop(&c->timer);
    c->timer_armed = 0;
  }
}

/**
 * Hands the whole records [0, w) to JavaScript (BATCH), and takes the buffer it returns for the
 * rest [r, len); with nothing left, the reader holds no buffer until the socket is readable again
 * (an idle connection holds none). Returns 0, or -1 when the reader cannot go on (closed from
 * JavaScript, or no buffer given).
 */
static int deliver(reader *c) {
  if (c->timer_armed) {
    uv_timer_stop(&c->timer);
    c->timer_armed = 0;
  }
  size_t bytes = c->w, records = c->count;
  int want = c->len > c->r;
  c->count = 0;
  int ret = call_event(c, ST_BATCH, bytes, records, want, c->r);
  if (!want) {
    drop_buffer(c);
    return c->closing ? -1 : 0;
  }
  if (ret != 1) {
    // No next buffer: the current one is the batch's now, and what followed it is lost with it.
    drop_buffer(c);
    if (!c->closing) {
      stop_reading(c);
      call_event(c, -EINVAL, 0, 0, 0, 0);
    }
    return -1;
  }
  return c->closing ? -1 : 0;
}

/** Room for one more record end; 0, or -1 when the batch is at its record cap. */
static int reserve_end(reader *c) {
  if (c->count < c->ends_cap) return 0;
  if (c->ends_cap >= c->ends_max) return -1;
  size_t cap = c->ends_cap == 0 ? 256 : c->ends_cap * 2;
  if (cap > c->ends_max) cap = c->ends_max;
  uint32_t *grown = realloc(c->ends, cap * sizeof(uint32_t));
  if (grown == NULL) return -1;
  c->ends = grown;
  c->ends_cap = cap;
  return 0;
}

/**
 * Appends buf[a, b) as a record (stripped of trailing CR/NUL/LF; skipped if then empty). On an
 * octet-counted connection an LF inside the record becomes a space.
 */
static void add_record(reader *c, size_t a, size_t b) {
  uint8_t *p = c->buf;
  while (b > a && (p[b - 1] == '\n' || p[b - 1] == '\r' || p[b - 1] == 0)) b--;
  if (b == a) return;
  size_t n = b - a;
  if (a != c->w) memmove(p + c->w, p + a, n);
  if (c->octet) {
    uint8_t *q = p + c->w, *e = q + n;
    while ((q = memchr(q, '\n', (size_t)(e - q))) != NULL) *q++ = ' ';
  }
  p[c->w + n] = '\n';
  c->w += n + 1;
  c->ends[c->count++] = (uint32_t)c->w;
}

/** The batch can take no more records (its cap), or is big enough to go. */
static int batch_full(const reader *c) {
  return c->w >= c->batch_bytes || (c->count == c->ends_cap && c->ends_cap >= c->ends_max);
}

/**
 * Appends buf[a, b) as a record whose next bytes start at b (no LF there to take its place): with
 * no gap before it (w == a), what follows moves up one byte into the spare for the record's LF.
 * Returns where the bytes after the record now start.
 */
static size_t add_piece(reader *c, size_t a, size_t b) {
  if (c->w != a) {
    add_record(c, a, b);
    return b;
  }
  memmove(c->buf + b + 1, c->buf + b, c->len - b);
  c->len++;
  add_record(c, a, b);
  return b + 1;
}

/**
 * LF framing, one step from s (an end reserved): 0 when more bytes are needed; 1 when a piece of a
 * message longer than the maximum was cut; 2 when a message ended at its LF (its record added, or
 * the dropped rest of a truncated one skipped).
 */
static int line_step(reader *c) {
  uint8_t *p = c->buf;
  uint8_t *lf = c->s < c->len ? memchr(p + c->s, '\n', c->len - c->s) : NULL;
  if (c->discard) {
    if (lf == NULL) {
      c->len = c->r; // the dropped rest of a truncated message
      c->s = c->r;
      return 0;
    }
    c->discard = 0;
    c->cut = 0;
    c->r = c->s = (size_t)(lf - p) + 1;
    return 2;
  }
  size_t stop = lf != NULL ? (size_t)(lf - p) : c->len;
  if (stop - c->r > c->max) {
    size_t at = c->r + c->max;
    if (!c->cut) {
      if (c->truncate) c->truncated++;
      else c->split++;
    }
    if (c->truncate) {
      // The byte at `at` (not an LF: the message goes on past it) may now hold the piece's LF.
      add_record(c, c->r, at);
      c->discard = 1;
      c->r = c->s = at + 1;
      return 1;
    }
    c->r = c->s = add_piece(c, c->r, at);
    c->cut = 1;
    return 1;
  }
  if (lf == NULL) {
    c->s = c->len;
    return 0;
  }
  add_record(c, c->r, stop);
  c->cut = 0;
  c->r = c->s = stop + 1;
  return 2;
}

/**
 * Octet counting, one step from s (an end reserved), as OctetCountingDeframer.next() does: 0 when
 * more bytes are needed or the framing broke (ferr set), else 1. Outside O_MSG and O_LINE, r == s.
 */
static int octet_step(reader *c) {
  uint8_t *p = c->buf;
  switch (c->ostate) {
    case O_START: {
      c->cut = 0; // the last frame's pieces are done
      while (c->s < c->len && (p[c->s] == '\n' || p[c->s] == '\r' || p[c->s] == 0 || p[c->s] == ' ')) c->s++;
      c->r = c->s;
      if (c->s == c->len) return 0;
      uint8_t b = p[c->s];
      if (b >= '1' && b <= '9') {
        c->ostate = O_COUNT;
        c->olen = (uint64_t)(b - '0');
        c->r = ++c->s;
      } else {
        c->ostate = O_LINE; // a non-transparent frame (§3.4.2), as rsyslog reads it
      }
      return 1;
    }
    case O_COUNT:
      while (c->s < c->len) {
        uint8_t b = p[c->s++];
        if (b >= '0' && b <= '9') {
          c->olen = c->olen * 10 + (uint64_t)(b - '0');
          if (c->olen > c->max_frame) {
            c->ferr = FERR_LARGE;
            return 0;
          }
        } else if (b == ' ') {
          c->ostate = O_MSG;
          c->remain = c->olen;
          c->piece_left = c->olen < c->max ? c->olen : c->max;
          c->cut = 0;
          c->r = c->s;
          return 1;
        } else {
          c->ferr = FERR_BYTE | b;
          return 0;
        }
      }
      c->r = c->s;
      return 0;
    case O_MSG: {
      size_t avail = c->len - c->s;
      size_t take = c->piece_left < avail ? (size_t)c->piece_left : avail;
      c->s += take;
      c->remain -= take;
      c->piece_left -= take;
      if (c->piece_left > 0) return 0;
      if (c->remain == 0) {
        c->ostate = O_START;
      } else {
        if (!c->cut) {
          if (c->truncate) c->truncated++;
          else c->split++;
        }
        if (c->truncate) c->ostate = O_SKIP;
        else {
          c->cut = 1;
          c->piece_left = c->remain < c->max ? c->remain : c->max;
        }
      }
      c->r = c->s = add_piece(c, c->r, c->s);
      return 1;
    }
    case O_SKIP: {
      size_t avail = c->len - c->s;
      size_t take = c->remain < avail ? (size_t)c->remain : avail;
      c->remain -= take;
      if (c->remain > 0) {
        c->len = c->s = c->r; // dropped
        return 0;
      }
      c->r = c->s += take;
      c->ostate = O_START;
      return 1;
    }
    default: { // O_LINE
      int st = line_step(c);
      if (st == 2) c->ostate = O_START;
      return st != 0;
    }
  }
}

/** Cuts what is buffered into records, up to the ends' capacity (stops at broken framing). */
static void scan(reader *c) {
  if (c->octet) {
    while (!c->ferr && reserve_end(c) == 0 && octet_step(c) != 0) {}
  } else {
    while (reserve_end(c) == 0 && line_step(c) != 0) {}
  }
}

/** Delivers while the batch is full (what follows a delivery may complete the next one). */
static int drain(reader *c) {
  while (c->buf != NULL && batch_full(c)) {
    if (deliver(c) != 0) return -1;
    if (c->buf != NULL) scan(c);
  }
  return 0;
}

static void on_timer(uv_timer_t *t) {
  reader *c = (reader *)t->data;
  c->timer_armed = 0;
  if (!c->closing && c->count > 0) deliver(c);
}

/**
 * The connection ends (EOF, a read error, finish()): stop reading, deliver what is whole, then the
 * unterminated last message as a record (unless it is the dropped rest of a truncated one).
 * Returns 0, or -1 when closed from JavaScript meanwhile.
 */
static int finish_all(reader *c) {
  stop_reading(c);
  if (c->buf == NULL) return c->closing ? -1 : 0;
  // The last message: an LF-framed one not being dropped; of octet counting, a frame's piece begun
  // or a non-transparent frame (not a count without its space, not a frame's skipped rest).
  int last = c->octet ? (c->ostate == O_MSG || (c->ostate == O_LINE && !c->discard)) : !c->discard;
  if (last && c->len > c->r) {
    if (reserve_end(c) != 0) {
      if (deliver(c) != 0 || c->buf == NULL) return -1;
      if (reserve_end(c) != 0) return -1;
    }
    add_record(c, c->r, c->len);
    c->r = c->s = c->len;
  }
  c->discard = 0;
  c->cut = 0;
  c->ostate = O_START;
  if (c->count > 0) return deliver(c);
  drop_buffer(c);
  return c->closing ? -1 : 0;
}

static void fail(reader *c, int err) {
  if (finish_all(c) != 0) return;
  call_event(c, -err, 0, 0, 0, 0);
}

/**
 * Broken octet framing (ferr): the stream's position is lost. What was whole is delivered, the rest
 * dropped (as the JavaScript deframer's error does), then FRAMING. Returns -1: the reader stopped.
 */
static int framing_failed(reader *c) {
  c->len = c->s = c->r;
  c->ostate = O_START;
  if (finish_all(c) == 0) call_event(c, ST_FRAMING, (size_t)c->olen, c->ferr == FERR_LARGE ? 256 : (size_t)(c->ferr & 0xff), 0, 0);
  return -1;
}

/** After a scan: delivers the batches that are full; -1 when the reader cannot go on. */
static int settle(reader *c) {
  if (drain(c) != 0) return -1;
  return c->ferr ? framing_failed(c) : 0;
}

/** The socket's pending error (cleared by reading it), else the error the poll reported. */
static int poll_error(reader *c) {
  int err = 0;
  socklen_t sl = sizeof err;
  if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl) != 0 || err == 0) err = c->errored;
  return err;
}

static void on_poll(uv_poll_t *h, int status, int events) {
  reader *c = (reader *)h->data;
  if (c->closing || c->stopped) return;
  if (status < 0) {
    // An error (a reset): libuv stopped the poll. What arrived before it is still queued; read()
    // returns it, then the error (or 0).
    c->errored = -status;
    if (!c->paused) uv_poll_start(&c->poll, UV_READABLE, on_poll);
  }
  if (c->first) {
    uint8_t b;
    ssize_t n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) return; // polled again
      if (errno != EAGAIN && errno != EWOULDBLOCK) fail(c, errno);
      else if (c->errored) fail(c, poll_error(c));
      return;
    }
    c->first = 0;
    if (n == 1 && b >= '1' && b <= '9') {
      c->octet = 1;
      call_event(c, ST_OCTET, 0, 0, 0, 0);
      if (c->closing || c->stopped) return;
    }
  }
  int got = 0;
  for (int round = 0; round < ROUNDS && !c->closing && !c->paused; round++) {
    if (c->buf == NULL) {
      // A buffer only for bytes that are there: an idle connection, or one that ends without
      // sending, never takes one.
      uint8_t b;
      ssize_t n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n == 0) {
        finish_all(c);
        if (!c->closing) call_event(c, ST_EOF, 0, 0, 0, 0);
        return;
      }
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) fail(c, errno);
        else if (c->errored) fail(c, poll_error(c));
        return;
      }
      if (call_event(c, ST_NEED, 0, 0, 1, 0) != 1) {
        if (!c->closing) fail(c, EINVAL);
        return;
      }
      if (c->closing || c->paused) break;
    }
    if (c->len + c->spare >= c->cap) {
      // Full: deliver what is whole, else drop the gap before the current message.
      if (c->count > 0) {
        if (deliver(c) != 0) return;
        if (c->buf != NULL) scan(c);
        if (settle(c) != 0) return;
        if (c->paused) break;
        continue;
      }
      if (c->r > 0) {
        memmove(c->buf, c->buf + c->r, c->len - c->r);
        c->len -= c->r;
        c->s -= c->r;
        c->r = 0;
        c->w = 0;
      }
      if (c->len + c->spare >= c->cap) {
        fail(c, ENOBUFS); // cannot happen: a longer message than max is cut, and cap > max + spare
        return;
      }
    }
    ssize_t n = read(c->fd, c->buf + c->len, c->cap - c->spare - c->len);
    if (n > 0) {
      got = 1;
      c->len += (size_t)n;
      scan(c);
      if (settle(c) != 0) return;
      continue;
    }
    if (n == 0) {
      c->last_read_ms = now_ms();
      if (finish_all(c) != 0) return;
      call_event(c, ST_EOF, 0, 0, 0, 0);
      return;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (c->errored) {
        fail(c, poll_error(c)); // the poll's error, and nothing more to read
        return;
      }
      break;
    }
    fail(c, errno);
    return;
  }
  if (got) c->last_read_ms = now_ms();
  if (!c->closing && c->count > 0 && !c->timer_armed) {
    uv_timer_start(&c->timer, on_timer, c->delay_ms, 0);
    c->timer_armed = 1;
  }
}

static void on_closed(uv_handle_t *h) {
  reader *c = (reader *)h->data;
  if (--c->handles > 0) return;
  napi_env env = c->env;
  napi_delete_reference(env, c->on_event);
  if (c->buf_ref != NULL) napi_delete_reference(env, c->buf_ref);
  if (c->shared_ref != NULL) napi_delete_reference(env, c->shared_ref);
  if (c->resource_ref != NULL) napi_delete_reference(env, c->resource_ref);
  napi_async_destroy(env, c->async);
  free(c->ends);
  free(c);
}

static void do_close(reader *c) {
  if (c->closing) return;
  c->closing = 1;
  uv_poll_stop(&c->poll);
  uv_timer_stop(&c->timer);
  close(c->fd);
  uv_close((uv_handle_t *)&c->poll, on_closed);
  uv_close((uv_handle_t *)&c->timer, on_closed);
}

static void finalize_box(napi_env env, void *data, void *hint) {
  handle_box *box = (handle_box *)data;
  if (box->r != NULL) do_close(box->r); // collected without close(): close it now
  free(box);
}

static const napi_type_tag HANDLE_TAG = {0x6c6f67736869705fULL, 0x7463705f72656164ULL}; // "logship_tcp_read"

/** Reads the `n` arguments of a call whose first one is a handle; its box, or NULL (thrown). */
static handle_box *box_arg(napi_env env, napi_callback_info info, size_t n, napi_value *argv) {
  return (handle_box *)handle_arg(env, info, n, argv, &HANDLE_TAG, "reader");
}

/** As box_arg, for a reader that must be open: throws EBADF for a closed one. */
static reader *reader_arg(napi_env env, napi_callback_info info, size_t n, napi_value *argv) {
  handle_box *box = box_arg(env, info, n, argv);
  if (box == NULL) return NULL;
  if (box->r == NULL) throw_errno(env, EBADF, "reader");
  return box->r;
}

static napi_value js_attach(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  if (!get_args(env, info, 8, argv, "attach(fd, maxMessageBytes, truncate, batchBytes, delayMs, maxFrameBytes, ends, onEvent)")) return NULL;
  size_t ends_len = 0;
  void *ends_data = NULL;
  if (!typed_arg(env, argv[6], napi_uint32_array, &ends_data, &ends_len) || ends_len < 1) {
    napi_throw_type_error(env, "EINVAL", "attach: ends must be a Uint32Array");
    return NULL;
  }
  int32_t fd, max, batch, delay;
  int64_t max_frame;
  bool truncate;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  CHECK(napi_get_value_int32(env, argv[1], &max));
  CHECK(napi_get_value_bool(env, argv[2], &truncate));
  CHECK(napi_get_value_int32(env, argv[3], &batch));
  CHECK(napi_get_value_int32(env, argv[4], &delay));
  CHECK(napi_get_value_int64(env, argv[5], &max_frame));
  if (fd < 0 || max < 1 || batch < 1 || delay < 0 || max_frame < max) {
    napi_throw_range_error(env, "EINVAL", "attach: bad fd, maxMessageBytes, batchBytes, delayMs or maxFrameBytes");
    return NULL;
  }
  int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup_fd < 0) return throw_errno(env, errno, "dup");
  reader *c = calloc(1, sizeof *c);
  handle_box *box = calloc(1, sizeof *box);
  if (c == NULL || box == NULL) {
    free(c);
    free(box);
    close(dup_fd);
    return throw_errno(env, ENOMEM, "attach");
  }
  c->env = env;
  c->fd = dup_fd;
  c->first = 1;
  c->max = (uint32_t)max;
  c->truncate = truncate;
  c->batch_bytes = (uint32_t)batch;
  c->delay_ms = (uint32_t)delay;
  c->max_frame = (uint64_t)max_frame;
  c->last_read_ms = now_ms();
  c->shared = ends_data;
  c->ends_max = ends_len;
  napi_value name, resource, handle;
  uv_loop_t *loop;
  int err = 0;
  if (napi_create_reference(env, argv[6], 1, &c->shared_ref) != napi_ok || napi_create_reference(env, argv[7], 1, &c->on_event) != napi_ok ||
      napi_create_string_utf8(env, "logship_tcp_read", NAPI_AUTO_LENGTH, &name) != napi_ok || napi_create_object(env, &resource) != napi_ok ||
      napi_create_reference(env, resource, 1, &c->resource_ref) != napi_ok || napi_async_init(env, resource, name, &c->async) != napi_ok ||
      napi_get_uv_event_loop(env, &loop) != napi_ok || (err = uv_poll_init(loop, &c->poll, c->fd)) != 0) {
    close(dup_fd);
    if (c->shared_ref != NULL) napi_delete_reference(env, c->shared_ref);
    if (c->on_event != NULL) napi_delete_reference(env, c->on_event);
    if (c->resource_ref != NULL) napi_delete_reference(env, c->resource_ref);
    if (c->async != NULL) napi_async_destroy(env, c->async);
    free(c);
    free(box);
    if (err != 0) return throw_errno(env, -err, "uv_poll_init");
    napi_throw_error(env, "EINVAL", "attach: napi");
    return NULL;
  }
  uv_timer_init(loop, &c->timer);
  c->poll.data = c;
  c->timer.data = c;
  c->handles = 2;
  box->r = c;
  if (napi_create_external(env, box, finalize_box, NULL, &handle) != napi_ok) {
    do_close(c);
    free(box);
    napi_throw_error(env, "EINVAL", "attach: napi_create_external");
    return NULL;
  }
  if (napi_type_tag_object(env, handle, &HANDLE_TAG) != napi_ok) {
    do_close(c);
    box->r = NULL; // the finalizer frees the box only
    napi_throw_error(env, "EINVAL", "attach: napi_type_tag_object");
    return NULL;
  }
  uv_poll_start(&c->poll, UV_READABLE, on_poll);
  return handle;
}

static napi_value js_pause(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  reader *c = reader_arg(env, info, 2, argv);
  if (c == NULL) return NULL;
  bool on;
  CHECK(napi_get_value_bool(env, argv[1], &on));
  if (c->closing || c->stopped || c->paused == (int)on) return NULL;
  c->paused = on;
  if (on) uv_poll_stop(&c->poll);
  else {
    c->last_read_ms = now_ms();
    uv_poll_start(&c->poll, UV_READABLE, on_poll);
  }
  return NULL;
}

static napi_value js_finish(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  reader *c = reader_arg(env, info, 1, argv);
  if (c == NULL || c->closing) return NULL;
  if (c->calling > 0) {
    // The reader is in the middle of a delivery whose state finish_all() would pull away.
    napi_throw_error(env, "EBUSY", "reader: finish() from inside onEvent");
    return NULL;
  }
  finish_all(c);
  return NULL;
}

static napi_value js_pending(napi_env env, napi_callback_info info) {
  napi_value argv[1], out;
  reader *c = reader_arg(env, info, 1, argv);
  if (c == NULL) return NULL;
  CHECK(napi_create_double(env, (double)(c->len - c->r + c->w), &out));
  return out;
}

static napi_value js_last_read(napi_env env, napi_callback_info info) {
  napi_value argv[1], out;
  reader *c = reader_arg(env, info, 1, argv);
  if (c == NULL) return NULL;
  CHECK(napi_create_double(env, c->last_read_ms, &out));
  return out;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  handle_box *box = box_arg(env, info, 1, argv);
  if (box != NULL && box->r != NULL) {
    do_close(box->r);
    box->r = NULL;
  }
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"attach", NULL, js_attach, NULL, NULL, NULL, napi_enumerable, NULL},
      {"pause", NULL, js_pause, NULL, NULL, NULL, napi_enumerable, NULL},
      {"finish", NULL, js_finish, NULL, NULL, NULL, napi_enumerable, NULL},
      {"pending", NULL, js_pending, NULL, NULL, NULL, napi_enumerable, NULL},
      {"lastRead", NULL, js_last_read, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
