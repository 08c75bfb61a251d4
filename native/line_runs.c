// logship's line-run writer: the inner loop of the file destination's syslog line format
// (destinations/file/format.ts, encodeSyslogRecords) in C for its commonest case. Records of one
// sender mostly repeat the header of the record before (same second, host, program, PRI): the
// parser marks them (RecordFields.same: the index of the record whose header they took over), and
// their lines start with the same bytes as the line before. For a template whose only step after
// that prefix is ${MESSAGE} (the default one), the line of such a record is the prefix, its message
// and LF: this writes a whole run of them in one call (lines), or plans it for the thread that
// writes the file (plan, then append: the copies are made in libuv's thread pool, next to the write).
//
//   lines(out, at, prevAt, prevLen, base, dataLen, ends, msgStart, msgEnd, same, i, n, stop) -> at
//     out: the Uint8Array written (the batch's dataLen bytes are inside it, from `base`, before
//     `at`: the lines never overwrite a byte still to be read); for x = i, i+1, …
//     while x < n and same[x] == same[i]: out[at, …) = out[prevAt, prevAt + prevLen) (the prefix),
//     then out[base + ms, base + me) with s0 = ends[x-1], te = ends[x] without one LF and then
//     one CR, ms = max(msgStart[x], s0), me = min(msgEnd[x], te) (nothing when ms >= me), then LF.
//     Returns the new `at`; stop[0] = the first x not written (a line that would not fit, or a
//     record past the batch's bytes, is left to the caller, which sized `out` for every line).
//
//   plan(data, cap, at, prevAt, prevLen, ends, msgStart, msgEnd, same, i, n, stop, plan, planAt, src) -> at
//     The same run of the batch `data` (a buffer of its own), for an output of `cap` bytes whose
//     prefix line lies at [prevAt, prevAt + prevLen): the same new `at`, but nothing is written.
//     The run is appended to the Uint32Array `plan` from planAt as [at, prevAt, prevLen, count,
//     src], then [offset, length] of each line's message in `data`; `src` says which of the
//     append's sources `data` will be. stop[0] = the first x not planned, stop[1] = the new
//     planAt. A run that would not fit in `plan` (or a `cap` of 4 GiB or more) is cut short.
//
//   append(fd, out, start, end, sources, plan, planFrom, planTo, callback)
//     Checks the runs of plan[planFrom, planTo) and takes a copy of them (a RangeError, nothing
//     queued, when one breaks the rules: its lines lie in [start, end) in order, its prefix in
//     [start, its first line), its messages in the Uint8Array sources[src], and no source shares
//     a byte with `out`). Then, in the thread pool: the lines of those runs, written into `out`,
//     and write(2) of out[start, end) to fd until all of it is written (a file opened O_APPEND:
//     one call, or more after a short write). callback(null, bytes) or callback(error), error.code
//     the errno name ('EIO', 'ENOSPC'…). Appends of one `out` may run at once when their
//     [start, end) ranges are apart: each writes only its own range and reads the sources and its
//     own range. `out` and the sources are held until the callback; none may change, be detached
//     or be transferred meanwhile.
//
// Portable C and N-API (libuv only for the errno names).

#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "napi_common.h"

#define ABI 4 /* line-runs.ts LINE_RUNS_ABI */

/** Entries of a run's head in a plan: at, prevAt, prevLen, count, src. */
#define HEAD 5

/** One run's arguments, read and checked (see lines() and plan() above). */
typedef struct {
  const uint8_t *d; /* the batch's bytes */
  uint8_t *o;       /* lines(): the output (d lies inside it); plan(): NULL */
  uint32_t *e, *ms, *me;
  int32_t *sm, *stop;
  size_t cap, nstop, data_len;
  int64_t at, prev_at, prev_len, i, n;
} run_args;

/** The columns and stop of a run (argv: ends, msgStart, msgEnd, same, i, n, stop); false with an error thrown. */
static bool read_columns(napi_env env, napi_value *argv, run_args *r, const char *fn) {
  char msg[64];
  if (napi_get_value_int64(env, argv[4], &r->i) != napi_ok || napi_get_value_int64(env, argv[5], &r->n) != napi_ok) {
    snprintf(msg, sizeof msg, "%s: positions must be numbers", fn);
    napi_throw_type_error(env, "EINVAL", msg);
    return false;
  }
  size_t ne, nms, nme, nsm;
  if (!typed_arg(env, argv[0], napi_uint32_array, (void **)&r->e, &ne) || !typed_arg(env, argv[1], napi_uint32_array, (void **)&r->ms, &nms) ||
      !typed_arg(env, argv[2], napi_uint32_array, (void **)&r->me, &nme) || !typed_arg(env, argv[3], napi_int32_array, (void **)&r->sm, &nsm) ||
      !typed_arg(env, argv[6], napi_int32_array, (void **)&r->stop, &r->nstop) || r->nstop < 1) {
    snprintf(msg, sizeof msg, "%s: bad typed arrays", fn);
    napi_throw_type_error(env, "EINVAL", msg);
    return false;
  }
  size_t nrec = ne < nms ? ne : nms;
  if (nme < nrec) nrec = nme;
  if (nsm < nrec) nrec = nsm;
  if (r->i < 1 || r->n < 0 || (uint64_t)r->n > nrec || r->i > r->n) {
    snprintf(msg, sizeof msg, "%s: bad record range", fn);
    napi_throw_range_error(env, "EINVAL", msg);
    return false;
  }
  return true;
}

/** at, prevAt and prevLen against cap, without a sum that could overflow; false with an error thrown. */
static bool positions_ok(napi_env env, const run_args *r, const char *fn) {
  if (r->at < 0 || r->prev_at < 0 || r->prev_len < 0 || (uint64_t)r->at > r->cap || r->prev_len > r->at || r->prev_at > r->at - r->prev_len) {
    char msg[64];
    snprintf(msg, sizeof msg, "%s: bad positions", fn);
    napi_throw_range_error(env, "EINVAL", msg);
    return false;
  }
  return true;
}

/**
 * Walks the run from r->i, its lines from *w on, while a line fits (up to r->cap, and at most
 * `room` lines): writes each line into r->o (plan_lines NULL) or plans it ([offset, length] of its
 * message in plan_lines). Returns the first record not taken; *w is the new end.
 */
static int64_t walk_run(const run_args *r, size_t *w, size_t room, uint32_t *plan_lines) {
  int32_t root = r->sm[r->i];
  const uint8_t *d = r->d;
  size_t pl = (size_t)r->prev_len;
  int64_t x = r->i;
  for (; x < r->n && r->sm[x] == root && (size_t)(x - r->i) < room; x++) {
    size_t s0 = r->e[x - 1], te = r->e[x];
    if (te < s0 || te > r->data_len) break; // the batch's bytes end before the output starts
    if (te > s0 && d[te - 1] == '\n') {
      te--;
      if (te > s0 && d[te - 1] == '\r') te--;
    }
    size_t a = r->ms[x] > s0 ? r->ms[x] : s0;
    size_t z = r->me[x] < te ? r->me[x] : te;
    size_t len = a < z ? z - a : 0;
    if (pl > r->cap - *w || len + 1 > r->cap - *w - pl) break;
    if (plan_lines != NULL) {
      size_t k = 2 * (size_t)(x - r->i);
      plan_lines[k] = (uint32_t)(len > 0 ? a : s0); // (within the batch's bytes, empty or not)
      plan_lines[k + 1] = (uint32_t)len;
    } else {
      uint8_t *o = r->o;
      memcpy(o + *w, o + r->prev_at, pl);
      if (len > 0) memmove(o + *w + pl, d + a, len);
      o[*w + pl + len] = '\n';
    }
    *w += pl + len + 1;
  }
  return x;
}

static napi_value js_lines(napi_env env, napi_callback_info info) {
  napi_value argv[13];
  if (!get_args(env, info, 13, argv, "lines(out, at, prevAt, prevLen, base, dataLen, ends, msgStart, msgEnd, same, i, n, stop)")) return NULL;
  // The numbers first: nothing after the views are taken may run JavaScript.
  run_args r;
  int64_t base, data_len;
  int64_t *nums[] = {&r.at, &r.prev_at, &r.prev_len, &base, &data_len};
  for (int k = 0; k < 5; k++) {
    if (napi_get_value_int64(env, argv[1 + k], nums[k]) != napi_ok) {
      napi_throw_type_error(env, "EINVAL", "lines: positions must be numbers");
      return NULL;
    }
  }
  if (!read_columns(env, argv + 6, &r, "lines")) return NULL;
  if (!typed_arg(env, argv[0], napi_uint8_array, (void **)&r.o, &r.cap)) {
    napi_throw_type_error(env, "EINVAL", "lines: bad typed arrays");
    return NULL;
  }
  if (!positions_ok(env, &r, "lines")) return NULL;
  if (base < 0 || data_len < 0 || base > r.at || data_len > r.at - base) {
    napi_throw_range_error(env, "EINVAL", "lines: bad positions");
    return NULL;
  }
  r.d = r.o + base;
  r.data_len = (size_t)data_len;
  size_t w = (size_t)r.at;
  int64_t x = r.i < r.n ? walk_run(&r, &w, SIZE_MAX, NULL) : r.i;
  r.stop[0] = (int32_t)x;
  napi_value res;
  CHECK(napi_create_double(env, (double)w, &res));
  return res;
}

static napi_value js_plan(napi_env env, napi_callback_info info) {
  napi_value argv[15];
  if (!get_args(env, info, 15, argv, "plan(data, cap, at, prevAt, prevLen, ends, msgStart, msgEnd, same, i, n, stop, plan, planAt, src)")) return NULL;
  run_args r;
  int64_t cap, plan_at, src;
  int64_t *nums[] = {&cap, &r.at, &r.prev_at, &r.prev_len};
  for (int k = 0; k < 4; k++) {
    if (napi_get_value_int64(env, argv[1 + k], nums[k]) != napi_ok) {
      napi_throw_type_error(env, "EINVAL", "plan: positions must be numbers");
      return NULL;
    }
  }
  if (napi_get_value_int64(env, argv[13], &plan_at) != napi_ok || napi_get_value_int64(env, argv[14], &src) != napi_ok) {
    napi_throw_type_error(env, "EINVAL", "plan: positions must be numbers");
    return NULL;
  }
  if (!read_columns(env, argv + 5, &r, "plan")) return NULL;
  uint32_t *plan;
  size_t nplan;
  if (!typed_arg(env, argv[0], napi_uint8_array, (void **)&r.d, &r.data_len) || !typed_arg(env, argv[12], napi_uint32_array, (void **)&plan, &nplan) ||
      r.nstop < 2) {
    napi_throw_type_error(env, "EINVAL", "plan: bad typed arrays");
    return NULL;
  }
  if (cap < 0) {
    napi_throw_range_error(env, "EINVAL", "plan: bad positions");
    return NULL;
  }
  r.o = NULL;
  r.cap = (size_t)cap;
  if (!positions_ok(env, &r, "plan")) return NULL;
  if (plan_at < 0 || (uint64_t)plan_at > nplan || src < 0 || src > UINT32_MAX) {
    napi_throw_range_error(env, "EINVAL", "plan: bad planAt or src");
    return NULL;
  }
  size_t w = (size_t)r.at;
  int64_t x = r.i;
  size_t left = nplan - (size_t)plan_at;
  // Positions in the plan are 32-bit: an output of 4 GiB or more is left to the caller.
  if (r.i < r.n && left > HEAD && r.cap <= UINT32_MAX && r.data_len <= UINT32_MAX) {
    uint32_t *head = plan + plan_at;
    x = walk_run(&r, &w, (left - HEAD) / 2, head + HEAD);
    if (x > r.i) {
      head[0] = (uint32_t)r.at;
      head[1] = (uint32_t)r.prev_at;
      head[2] = (uint32_t)r.prev_len;
      head[3] = (uint32_t)(x - r.i);
      head[4] = (uint32_t)src;
      plan_at += HEAD + 2 * (x - r.i);
    }
  }
  r.stop[0] = (int32_t)x;
  r.stop[1] = (int32_t)plan_at;
  napi_value res;
  CHECK(napi_create_double(env, (double)w, &res));
  return res;
}

/** A source of an append: a batch's bytes. */
typedef struct {
  const uint8_t *p;
  size_t len;
} source;

/** One append in flight (see append() above). */
typedef struct {
  napi_async_work work;
  napi_ref out_ref, cb_ref;
  napi_ref *src_refs;
  source *src;
  size_t nsrc;
  uint32_t *plan; /* the job's own copy of plan[planFrom, planTo) */
  size_t nplan;
  int fd;
  uint8_t *o;
  size_t start, end;
  size_t written;
  int err;             /* errno of the failed write */
  const char *syscall; /* what failed */
} append_job;

/** True when every run of the job's plan keeps to the rules of append() (see above). */
static bool plan_ok(const append_job *j) {
  const uint32_t *p = j->plan;
  size_t k = 0, lim = j->nplan;
  size_t w = j->start; // lines are planned in ascending order, each after the last
  while (k < lim) {
    if (lim - k < HEAD) return false;
    size_t at = p[k], pa = p[k + 1], pl = p[k + 2], count = p[k + 3], s = p[k + 4];
    k += HEAD;
    if (count == 0 || count > (lim - k) / 2 || s >= j->nsrc || at < w || at > j->end || pa < j->start || pa > at || pl > at - pa) return false;
    size_t slen = j->src[s].len, x = at;
    for (size_t c = 0; c < count; c++, k += 2) {
      size_t off = p[k], len = p[k + 1];
      if (off > slen || len > slen - off || pl > j->end - x || len + 1 > j->end - x - pl) return false;
      x += pl + len + 1;
    }
    w = x;
  }
  return true;
}

static void free_job(napi_env env, append_job *j) {
  if (j->work != NULL) napi_delete_async_work(env, j->work);
  if (j->out_ref != NULL) napi_delete_reference(env, j->out_ref);
  if (j->cb_ref != NULL) napi_delete_reference(env, j->cb_ref);
  for (size_t k = 0; j->src_refs != NULL && k < j->nsrc; k++)
    if (j->src_refs[k] != NULL) napi_delete_reference(env, j->src_refs[k]);
  free(j->src_refs);
  free(j->src);
  free(j->plan);
  free(j);
}

static void append_execute(napi_env env, void *data) {
  append_job *j = data;
  uint8_t *o = j->o;
  const uint32_t *p = j->plan;
  for (size_t k = 0; k < j->nplan;) {
    size_t w = p[k], pa = p[k + 1], pl = p[k + 2], count = p[k + 3];
    const uint8_t *d = j->src[p[k + 4]].p;
    k += HEAD;
    for (size_t c = 0; c < count; c++, k += 2) {
      size_t off = p[k], len = p[k + 1];
      memcpy(o + w, o + pa, pl);
      memcpy(o + w + pl, d + off, len); // (a source shares no byte with `out`)
      o[w + pl + len] = '\n';
      w += pl + len + 1;
    }
  }
  size_t off = j->start;
  while (off < j->end) {
    ssize_t n = write(j->fd, o + off, j->end - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      j->err = errno;
      j->syscall = "write";
      return;
    }
    if (n == 0) {
      j->err = EIO;
      j->syscall = "write (0 bytes written)";
      return;
    }
    off += (size_t)n;
    j->written += (size_t)n;
  }
}

static void append_complete(napi_env env, napi_status status, void *data) {
  append_job *j = data;
  if (status != napi_ok && j->err == 0) {
    j->err = ECANCELED;
    j->syscall = "append";
  }
  napi_value cb, undef, args[2];
  bool ok = napi_get_reference_value(env, j->cb_ref, &cb) == napi_ok && napi_get_undefined(env, &undef) == napi_ok;
  if (ok && j->err != 0) {
    char msg[160];
    const char *name = uv_err_name(-j->err);
    snprintf(msg, sizeof msg, "%s: %s, %s", name, strerror(j->err), j->syscall);
    napi_value code, message, errno_value;
    ok = napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code) == napi_ok && napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message) == napi_ok &&
         napi_create_error(env, code, message, &args[0]) == napi_ok;
    // (errno is a detail: without it the error still says what failed)
    if (ok && napi_create_int32(env, -j->err, &errno_value) == napi_ok) napi_set_named_property(env, args[0], "errno", errno_value);
    args[1] = undef;
  } else if (ok) {
    ok = napi_get_null(env, &args[0]) == napi_ok && napi_create_double(env, (double)j->written, &args[1]) == napi_ok;
  }
  free_job(env, j);
  // A callback that cannot be called would leave its write cycle waiting for ever.
  if (!ok) napi_fatal_error("logship:append", NAPI_AUTO_LENGTH, "could not call back", NAPI_AUTO_LENGTH);
  if (napi_call_function(env, undef, cb, 2, args, NULL) != napi_ok) report_uncaught(env);
}

/** A whole number in [0, max] (no NaN, no fraction); false with a RangeError thrown. */
static bool index_arg(napi_env env, napi_value v, double max, size_t *out) {
  double x;
  if (napi_get_value_double(env, v, &x) != napi_ok || !(x >= 0 && x <= max) || x != (double)(uint64_t)x) {
    napi_throw_range_error(env, "EINVAL", "append: bad positions");
    return false;
  }
  *out = (size_t)x;
  return true;
}

static napi_value js_append(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  if (!get_args(env, info, 9, argv, "append(fd, out, start, end, sources, plan, planFrom, planTo, callback)")) return NULL;
  size_t fd, start, end, plan_from, plan_to, nsrc = 0;
  napi_valuetype cbt;
  bool is_array = false;
  // The numbers first: nothing after the views are taken may run JavaScript.
  if (!index_arg(env, argv[0], 2147483647.0, &fd) || !index_arg(env, argv[2], 9007199254740991.0, &start) ||
      !index_arg(env, argv[3], 9007199254740991.0, &end) || !index_arg(env, argv[6], 9007199254740991.0, &plan_from) ||
      !index_arg(env, argv[7], 9007199254740991.0, &plan_to))
    return NULL;
  CHECK(napi_typeof(env, argv[8], &cbt));
  CHECK(napi_is_array(env, argv[4], &is_array));
  if (is_array) {
    uint32_t len;
    CHECK(napi_get_array_length(env, argv[4], &len));
    nsrc = len;
  }
  append_job *j = calloc(1, sizeof *j);
  if (j == NULL) {
    napi_throw_error(env, "ENOMEM", "append: out of memory");
    return NULL;
  }
  j->src = calloc(nsrc > 0 ? nsrc : 1, sizeof *j->src);
  j->src_refs = calloc(nsrc > 0 ? nsrc : 1, sizeof *j->src_refs);
  napi_value *srcv = calloc(nsrc > 0 ? nsrc : 1, sizeof *srcv);
  const char *bad = NULL;
  if (j->src == NULL || j->src_refs == NULL || srcv == NULL) bad = "out of memory";
  // Each element read (an array's getters may run JavaScript) before any view is taken.
  for (size_t k = 0; bad == NULL && k < nsrc; k++)
    if (napi_get_element(env, argv[4], (uint32_t)k, &srcv[k]) != napi_ok) bad = "bad sources";
  uint8_t *o = NULL;
  uint32_t *plan = NULL;
  size_t cap = 0, nplan = 0;
  if (bad == NULL && (cbt != napi_function || !is_array || !typed_arg(env, argv[1], napi_uint8_array, (void **)&o, &cap) ||
                      !typed_arg(env, argv[5], napi_uint32_array, (void **)&plan, &nplan)))
    bad = "bad arguments";
  if (bad == NULL && (end < start || end > cap || plan_to < plan_from || plan_to > nplan)) bad = "bad positions";
  for (size_t k = 0; bad == NULL && k < nsrc; k++) {
    void *p;
    if (!typed_arg(env, srcv[k], napi_uint8_array, &p, &j->src[k].len)) {
      bad = "bad sources";
      break;
    }
    j->src[k].p = p;
    uintptr_t a = (uintptr_t)p, b = (uintptr_t)o;
    if (j->src[k].len > 0 && cap > 0 && a < b + cap && b < a + j->src[k].len) bad = "a source shares bytes with out";
  }
  j->nsrc = nsrc;
  if (bad == NULL) {
    j->nplan = plan_to - plan_from;
    j->plan = malloc((j->nplan > 0 ? j->nplan : 1) * sizeof *j->plan);
    if (j->plan == NULL) bad = "out of memory";
    else memcpy(j->plan, plan + plan_from, j->nplan * sizeof *j->plan);
  }
  j->fd = (int)fd;
  j->o = o;
  j->start = start;
  j->end = end;
  if (bad == NULL && !plan_ok(j)) bad = "a plan out of its bounds";
  napi_value name;
  if (bad == NULL) {
    bool refs = napi_create_reference(env, argv[1], 1, &j->out_ref) == napi_ok && napi_create_reference(env, argv[8], 1, &j->cb_ref) == napi_ok;
    for (size_t k = 0; refs && k < nsrc; k++) refs = napi_create_reference(env, srcv[k], 1, &j->src_refs[k]) == napi_ok;
    if (!refs || napi_create_string_utf8(env, "logship:append", NAPI_AUTO_LENGTH, &name) != napi_ok ||
        napi_create_async_work(env, NULL, name, append_execute, append_complete, j, &j->work) != napi_ok || napi_queue_async_work(env, j->work) != napi_ok)
      bad = "could not queue the job";
  }
  free(srcv);
  if (bad != NULL) {
    char msg[96];
    snprintf(msg, sizeof msg, "append: %s", bad);
    free_job(env, j);
    napi_throw_range_error(env, "EINVAL", msg);
    return NULL;
  }
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value v;
  if (napi_create_uint32(env, ABI, &v) != napi_ok) return NULL;
  napi_property_descriptor props[] = {
      {"abi", NULL, NULL, NULL, NULL, v, napi_enumerable, NULL},
      {"lines", NULL, js_lines, NULL, NULL, NULL, napi_enumerable, NULL},
      {"plan", NULL, js_plan, NULL, NULL, NULL, napi_enumerable, NULL},
      {"append", NULL, js_append, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  return napi_define_properties(env, exports, 4, props) == napi_ok ? exports : NULL;
}
