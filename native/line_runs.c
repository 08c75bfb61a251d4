// logship's line-run writer: the inner loop of the file destination's syslog line format
// (destinations/file/format.ts, encodeSyslogRecords) in C for its commonest case. Records of one
// sender mostly repeat the header of the record before (same second, host, program, PRI): the
// parser marks them (RecordFields.same: the index of the record whose header they took over), and
// their lines start with the same bytes as the line before. For a template whose only step after
// that prefix is ${MESSAGE} (the default one), the line of such a record is the prefix, its message
// and LF: this writes a whole run of them in one call, or plans it for the thread that writes the
// file (plan, then append: the copies are done in libuv's thread pool, next to the write).
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
//   plan(out, at, prevAt, prevLen, base, dataLen, ends, msgStart, msgEnd, same, i, n, stop, plan, planAt) -> at
//     The same run, the same new `at`, but nothing is written to `out`: the run is appended to the
//     Uint32Array `plan` from planAt as [at, prevAt, prevLen, count] and then [src, len] per line
//     (src = base + ms: its message in `out`). stop[0] = the first x not planned, stop[1] = the new
//     planAt. A run that would not fit in `plan` (or an `out` of 4 GiB or more) is cut short.
//
//   append(fd, out, start, end, srcEnd, plan, planFrom, planTo, callback)
//     In the thread pool: first the lines the plan's runs in plan[planFrom, planTo) name, then
//     write(2) of out[start, end) to fd until all of it is written (a file opened O_APPEND: one
//     call, or more after a short write). callback(null, bytes) or callback(error), error.code the
//     errno name ('EIO', 'ENOSPC'…). Every run is checked before anything is copied: its lines
//     lie in [start, end), its prefix in [start, its first line), its messages in [0, srcEnd) with
//     srcEnd <= start. A plan that breaks this is refused (EINVAL, nothing written): two appends
//     of one arena running at once never touch each other's bytes. `out` and `plan` are held
//     until the callback; neither may change meanwhile.
//
// Portable C and N-API (libuv only for the errno names).

#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "napi_common.h"

#define ABI 3 /* line-runs.ts LINE_RUNS_ABI */

/** One run's arguments, read and checked (see lines() above). */
typedef struct {
  uint8_t *o;
  uint32_t *e, *ms, *me;
  int32_t *sm, *stop;
  size_t cap, nstop;
  int64_t at, prev_at, prev_len, base, data_len, i, n;
} run_args;

/** Reads and checks the 13 arguments lines() and plan() share; false with an error thrown. */
static bool read_run(napi_env env, napi_value *argv, run_args *r) {
  // The numbers first: nothing after the views are taken may run JavaScript.
  int64_t *nums[] = {&r->at, &r->prev_at, &r->prev_len, &r->base, &r->data_len};
  for (int k = 0; k < 5; k++)
    if (napi_get_value_int64(env, argv[1 + k], nums[k]) != napi_ok) goto bad_type;
  if (napi_get_value_int64(env, argv[10], &r->i) != napi_ok || napi_get_value_int64(env, argv[11], &r->n) != napi_ok) goto bad_type;
  size_t ne, nms, nme, nsm;
  if (!typed_arg(env, argv[0], napi_uint8_array, (void **)&r->o, &r->cap) || !typed_arg(env, argv[6], napi_uint32_array, (void **)&r->e, &ne) ||
      !typed_arg(env, argv[7], napi_uint32_array, (void **)&r->ms, &nms) || !typed_arg(env, argv[8], napi_uint32_array, (void **)&r->me, &nme) ||
      !typed_arg(env, argv[9], napi_int32_array, (void **)&r->sm, &nsm) || !typed_arg(env, argv[12], napi_int32_array, (void **)&r->stop, &r->nstop) ||
      r->nstop < 1) {
    napi_throw_type_error(env, "EINVAL", "lines: bad typed arrays");
    return false;
  }
  size_t nrec = ne < nms ? ne : nms;
  if (nme < nrec) nrec = nme;
  if (nsm < nrec) nrec = nsm;
  // (each bound is checked without a sum that could overflow)
  if (r->at < 0 || r->prev_at < 0 || r->prev_len < 0 || r->base < 0 || r->data_len < 0 || r->i < 1 || r->n < 0 || (uint64_t)r->n > nrec ||
      (uint64_t)r->at > r->cap || r->prev_len > r->at || r->prev_at > r->at - r->prev_len || r->base > r->at || r->data_len > r->at - r->base) {
    napi_throw_range_error(env, "EINVAL", "lines: bad positions");
    return false;
  }
  return true;
bad_type:
  napi_throw_type_error(env, "EINVAL", "lines: positions must be numbers");
  return false;
}

/**
 * Walks the run from r->i, its lines from *w on, while a line fits (in `out`, up to r->cap, and at
 * most `room` lines): writes each line (plan_lines NULL) or plans it ([src, len] in plan_lines).
 * Returns the first record not taken; *w is the new end.
 */
static int64_t walk_run(const run_args *r, size_t *w, size_t room, uint32_t *plan_lines) {
  int32_t root = r->sm[r->i];
  const uint8_t *d = r->o + r->base;
  size_t pl = (size_t)r->prev_len;
  int64_t x = r->i;
  for (; x < r->n && r->sm[x] == root && (size_t)(x - r->i) < room; x++) {
    size_t s0 = r->e[x - 1], te = r->e[x];
    if (te < s0 || te > (size_t)r->data_len) break; // the batch's bytes end before the output starts
    if (te > s0 && d[te - 1] == '\n') {
      te--;
      if (te > s0 && d[te - 1] == '\r') te--;
    }
    size_t a = r->ms[x] > s0 ? r->ms[x] : s0;
    size_t z = r->me[x] < te ? r->me[x] : te;
    size_t len = a < z ? z - a : 0;
    if (*w + pl + len + 1 > r->cap) break;
    if (plan_lines != NULL) {
      size_t k = 2 * (size_t)(x - r->i);
      plan_lines[k] = (uint32_t)((size_t)r->base + a);
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
  run_args r;
  if (!read_run(env, argv, &r)) return NULL;
  size_t w = (size_t)r.at;
  int64_t x = r.i < r.n ? walk_run(&r, &w, SIZE_MAX, NULL) : r.i;
  r.stop[0] = (int32_t)x;
  napi_value res;
  CHECK(napi_create_double(env, (double)w, &res));
  return res;
}

static napi_value js_plan(napi_env env, napi_callback_info info) {
  napi_value argv[15];
  if (!get_args(env, info, 15, argv, "plan(out, at, prevAt, prevLen, base, dataLen, ends, msgStart, msgEnd, same, i, n, stop, plan, planAt)")) return NULL;
  int64_t plan_at;
  if (napi_get_value_int64(env, argv[14], &plan_at) != napi_ok) {
    napi_throw_type_error(env, "EINVAL", "plan: planAt must be a number");
    return NULL;
  }
  run_args r;
  if (!read_run(env, argv, &r)) return NULL;
  uint32_t *plan;
  size_t nplan;
  if (!typed_arg(env, argv[13], napi_uint32_array, (void **)&plan, &nplan) || r.nstop < 2) {
    napi_throw_type_error(env, "EINVAL", "plan: bad typed arrays");
    return NULL;
  }
  if (plan_at < 0 || (uint64_t)plan_at > nplan) {
    napi_throw_range_error(env, "EINVAL", "plan: bad planAt");
    return NULL;
  }
  size_t w = (size_t)r.at;
  int64_t x = r.i;
  size_t left = nplan - (size_t)plan_at;
  // Positions in the plan are 32-bit: an `out` of 4 GiB or more is left to lines().
  if (r.i < r.n && left > 4 && r.cap <= UINT32_MAX) {
    uint32_t *head = plan + plan_at;
    x = walk_run(&r, &w, (left - 4) / 2, head + 4);
    if (x > r.i) {
      head[0] = (uint32_t)r.at;
      head[1] = (uint32_t)r.prev_at;
      head[2] = (uint32_t)r.prev_len;
      head[3] = (uint32_t)(x - r.i);
      plan_at += 4 + 2 * (x - r.i);
    }
  }
  r.stop[0] = (int32_t)x;
  r.stop[1] = (int32_t)plan_at;
  napi_value res;
  CHECK(napi_create_double(env, (double)w, &res));
  return res;
}

/** One append in flight (see append() above). */
typedef struct {
  napi_async_work work;
  napi_ref out_ref, plan_ref, cb_ref;
  int fd;
  uint8_t *o;
  const uint32_t *plan;
  size_t start, end, src_end, plan_from, plan_to;
  size_t written;
  int err;             /* errno of the failed write, or EINVAL for a plan refused */
  const char *syscall; /* what failed */
} append_job;

/** True when every run of the plan keeps to the rules of append() (see above). */
static bool plan_ok(const append_job *j) {
  const uint32_t *p = j->plan;
  size_t k = j->plan_from, lim = j->plan_to;
  size_t w = j->start; // lines are planned in ascending order, each after the last
  while (k < lim) {
    if (lim - k < 4) return false;
    size_t at = p[k], pa = p[k + 1], pl = p[k + 2], count = p[k + 3];
    k += 4;
    if (count == 0 || count > (lim - k) / 2 || at < w || at > j->end || pa < j->start || pa > at || pl > at - pa) return false;
    size_t x = at;
    for (size_t c = 0; c < count; c++, k += 2) {
      size_t src = p[k], len = p[k + 1];
      if (src > j->src_end || len > j->src_end - src || pl + len + 1 > j->end - x) return false;
      x += pl + len + 1;
    }
    w = x;
  }
  return true;
}

static void append_execute(napi_env env, void *data) {
  append_job *j = data;
  if (!plan_ok(j)) {
    j->err = EINVAL;
    j->syscall = "append (a plan out of its bounds)";
    return;
  }
  uint8_t *o = j->o;
  const uint32_t *p = j->plan;
  for (size_t k = j->plan_from; k < j->plan_to;) {
    size_t w = p[k], pa = p[k + 1], pl = p[k + 2], count = p[k + 3];
    k += 4;
    for (size_t c = 0; c < count; c++, k += 2) {
      size_t src = p[k], len = p[k + 1];
      memcpy(o + w, o + pa, pl);
      memcpy(o + w + pl, o + src, len); // (src + len <= srcEnd <= start <= w: apart)
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
  napi_value cb, undef, args[2];
  bool ok = napi_get_reference_value(env, j->cb_ref, &cb) == napi_ok && napi_get_undefined(env, &undef) == napi_ok;
  if (ok) {
    if (status != napi_ok && j->err == 0) {
      j->err = ECANCELED;
      j->syscall = "append";
    }
    if (j->err != 0) {
      char msg[160];
      snprintf(msg, sizeof msg, "%s: %s, %s", uv_err_name(-j->err), strerror(j->err), j->syscall);
      napi_value code, message, errno_value;
      ok = napi_create_string_utf8(env, uv_err_name(-j->err), NAPI_AUTO_LENGTH, &code) == napi_ok &&
           napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message) == napi_ok && napi_create_error(env, code, message, &args[0]) == napi_ok &&
           napi_create_int32(env, -j->err, &errno_value) == napi_ok && napi_set_named_property(env, args[0], "errno", errno_value) == napi_ok;
      args[1] = undef;
    } else {
      args[0] = undef;
      ok = napi_get_null(env, &args[0]) == napi_ok && napi_create_double(env, (double)j->written, &args[1]) == napi_ok;
    }
  }
  napi_delete_reference(env, j->out_ref);
  napi_delete_reference(env, j->plan_ref);
  napi_delete_reference(env, j->cb_ref);
  napi_delete_async_work(env, j->work);
  free(j);
  if (ok && napi_call_function(env, undef, cb, 2, args, NULL) != napi_ok) report_uncaught(env);
}

static napi_value js_append(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  if (!get_args(env, info, 9, argv, "append(fd, out, start, end, srcEnd, plan, planFrom, planTo, callback)")) return NULL;
  int32_t fd;
  int64_t nums[5]; // start, end, srcEnd, planFrom, planTo
  const int at[5] = {2, 3, 4, 6, 7};
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok) {
    napi_throw_type_error(env, "EINVAL", "append: fd must be a number");
    return NULL;
  }
  for (int k = 0; k < 5; k++) {
    if (napi_get_value_int64(env, argv[at[k]], &nums[k]) != napi_ok) {
      napi_throw_type_error(env, "EINVAL", "append: positions must be numbers");
      return NULL;
    }
  }
  napi_valuetype cbt;
  CHECK(napi_typeof(env, argv[8], &cbt));
  uint8_t *o;
  uint32_t *plan;
  size_t cap, nplan;
  if (cbt != napi_function || !typed_arg(env, argv[1], napi_uint8_array, (void **)&o, &cap) || !typed_arg(env, argv[5], napi_uint32_array, (void **)&plan, &nplan)) {
    napi_throw_type_error(env, "EINVAL", "append: bad arguments");
    return NULL;
  }
  if (fd < 0 || nums[0] < 0 || nums[1] < nums[0] || (uint64_t)nums[1] > cap || nums[2] < 0 || nums[2] > nums[0] || nums[3] < 0 || nums[4] < nums[3] ||
      (uint64_t)nums[4] > nplan) {
    napi_throw_range_error(env, "EINVAL", "append: bad positions");
    return NULL;
  }
  append_job *j = calloc(1, sizeof *j);
  if (j == NULL) {
    napi_throw_error(env, "ENOMEM", "append: out of memory");
    return NULL;
  }
  j->fd = fd;
  j->o = o;
  j->plan = plan;
  j->start = (size_t)nums[0];
  j->end = (size_t)nums[1];
  j->src_end = (size_t)nums[2];
  j->plan_from = (size_t)nums[3];
  j->plan_to = (size_t)nums[4];
  napi_value name;
  if (napi_create_string_utf8(env, "logship:append", NAPI_AUTO_LENGTH, &name) != napi_ok || napi_create_reference(env, argv[1], 1, &j->out_ref) != napi_ok ||
      napi_create_reference(env, argv[5], 1, &j->plan_ref) != napi_ok || napi_create_reference(env, argv[8], 1, &j->cb_ref) != napi_ok ||
      napi_create_async_work(env, NULL, name, append_execute, append_complete, j, &j->work) != napi_ok || napi_queue_async_work(env, j->work) != napi_ok) {
    if (j->work != NULL) napi_delete_async_work(env, j->work);
    if (j->out_ref != NULL) napi_delete_reference(env, j->out_ref);
    if (j->plan_ref != NULL) napi_delete_reference(env, j->plan_ref);
    if (j->cb_ref != NULL) napi_delete_reference(env, j->cb_ref);
    free(j);
    napi_throw_error(env, "EINVAL", "append: could not queue the job");
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
