// logship's line-run writer: the inner loop of the file destination's syslog line format
// (destinations/file/format.ts, encodeSyslogRecords) in C for its commonest case. Records of one
// sender mostly repeat the header of the record before (same second, host, program, PRI): the
// parser marks them (RecordFields.same: the index of the record whose header they took over), and
// their lines start with the same bytes as the line before. For a template whose only step after
// that prefix is ${MESSAGE} (the default one), the line of such a record is the prefix, its message
// and LF: this writes a whole run of them in one call.
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
// Portable C and N-API only.

#include <node_api.h>
#include <stdint.h>
#include <string.h>

#include "napi_common.h"

#define ABI 2 /* line-runs.ts LINE_RUNS_ABI */

static napi_value js_lines(napi_env env, napi_callback_info info) {
  napi_value argv[13];
  if (!get_args(env, info, 13, argv, "lines(out, at, prevAt, prevLen, base, dataLen, ends, msgStart, msgEnd, same, i, n, stop)")) return NULL;
  // The numbers first: nothing after the views are taken may run JavaScript.
  int64_t at, prev_at, prev_len, base, data_len, i, n;
  CHECK(napi_get_value_int64(env, argv[1], &at));
  CHECK(napi_get_value_int64(env, argv[2], &prev_at));
  CHECK(napi_get_value_int64(env, argv[3], &prev_len));
  CHECK(napi_get_value_int64(env, argv[4], &base));
  CHECK(napi_get_value_int64(env, argv[5], &data_len));
  CHECK(napi_get_value_int64(env, argv[10], &i));
  CHECK(napi_get_value_int64(env, argv[11], &n));
  uint8_t *o;
  uint32_t *e, *ms, *me;
  int32_t *sm, *stop;
  size_t cap, ne, nms, nme, nsm, nstop;
  if (!typed_arg(env, argv[0], napi_uint8_array, (void **)&o, &cap) || !typed_arg(env, argv[6], napi_uint32_array, (void **)&e, &ne) ||
      !typed_arg(env, argv[7], napi_uint32_array, (void **)&ms, &nms) || !typed_arg(env, argv[8], napi_uint32_array, (void **)&me, &nme) ||
      !typed_arg(env, argv[9], napi_int32_array, (void **)&sm, &nsm) || !typed_arg(env, argv[12], napi_int32_array, (void **)&stop, &nstop) || nstop < 1) {
    napi_throw_type_error(env, "EINVAL", "lines: bad typed arrays");
    return NULL;
  }
  size_t nrec = ne < nms ? ne : nms;
  if (nme < nrec) nrec = nme;
  if (nsm < nrec) nrec = nsm;
  // (each bound is checked without a sum that could overflow)
  if (at < 0 || prev_at < 0 || prev_len < 0 || base < 0 || data_len < 0 || i < 1 || n < 0 || (uint64_t)n > nrec || (uint64_t)at > cap ||
      prev_len > at || prev_at > at - prev_len || base > at || data_len > at - base) {
    napi_throw_range_error(env, "EINVAL", "lines: bad positions");
    return NULL;
  }
  if (i >= n) {
    stop[0] = (int32_t)i;
    napi_value same_at;
    CHECK(napi_create_double(env, (double)at, &same_at));
    return same_at;
  }
  int32_t root = sm[i];
  size_t w = (size_t)at, pa = (size_t)prev_at, pl = (size_t)prev_len, b = (size_t)base;
  int64_t x = i;
  for (; x < n && sm[x] == root; x++) {
    size_t s0 = e[x - 1], te = e[x];
    if (te < s0 || te > (size_t)data_len) break; // the batch's bytes end before the output starts
    if (te > s0 && o[b + te - 1] == '\n') {
      te--;
      if (te > s0 && o[b + te - 1] == '\r') te--;
    }
    size_t a = ms[x] > s0 ? ms[x] : s0;
    size_t z = me[x] < te ? me[x] : te;
    size_t len = a < z ? z - a : 0;
    if (w + pl + len + 1 > cap) break;
    memcpy(o + w, o + pa, pl);
    w += pl;
    if (len > 0) {
      memmove(o + w, o + b + a, len);
      w += len;
    }
    o[w++] = '\n';
  }
  stop[0] = (int32_t)x;
  napi_value res;
  CHECK(napi_create_double(env, (double)w, &res));
  return res;
}

NAPI_MODULE_INIT() { return export_versioned(env, exports, ABI, "lines", js_lines); }
