// logship's header-run reader: the reuse path of the syslog parser (codec/syslog/parse.ts,
// parseSyslogRecords) in C. Records of one sender mostly repeat the header of the record before;
// once the parser has read one header whole and alone (record hj, its header data[hs, hs + hn)),
// each next record that starts with the same bytes and has a message after them takes its fields
// over. This does that for a run of records in one call, and stops at the first record that needs
// a parse of its own.
//
//   take(data, ends, i, n, hj, hs, hn, bomMatters, cols, stop) -> nothing
//     data: Uint8Array (the batch); ends: Uint32Array; cols: the RecordFields columns in this order:
//       pri u8, timeMs f64, tzMin i16, fracDigits u8, pidStart/pidEnd/msgidStart/msgidEnd/sdStart/
//       sdEnd i32, msgStart/msgEnd u32, flags u8, same i32   (14 typed arrays, each >= n long)
//     For x = i, i+1, … < n: s = ends[x-1] (0 for x = 0), e = ends[x] without one LF, te = e without
//     trailing LF/CR/NUL; the record takes record hj's fields when te > s + hn, data[s, s + hn) ==
//     data[hs, hs + hn), and (bomMatters = 0, or no UTF-8 BOM at s + hn): the offsets that hj has
//     (>= 0) moved by s - hs, msgStart = s + hn, msgEnd = te, same = hj. stop[0] = the first x not taken.
//
// Host and program (JavaScript strings) are the caller's: the same as hj's for the whole run.
// Portable C and N-API only.

#include <node_api.h>
#include <stdint.h>
#include <string.h>

#include "napi_common.h"

#define ABI 1 /* header-runs.ts HEADER_RUNS_ABI */

#define NCOLS 14

static const napi_typedarray_type COL_TYPES[NCOLS] = {
    napi_uint8_array,  napi_float64_array, napi_int16_array,  napi_uint8_array,  napi_int32_array,
    napi_int32_array,  napi_int32_array,   napi_int32_array,  napi_int32_array,  napi_int32_array,
    napi_uint32_array, napi_uint32_array,  napi_uint8_array,  napi_int32_array,
};

static napi_value js_take(napi_env env, napi_callback_info info) {
  napi_value argv[10];
  if (!get_args(env, info, 10, argv, "take(data, ends, i, n, hj, hs, hn, bomMatters, cols, stop)")) return NULL;
  // Everything that may run JavaScript (reading the cols array's elements) comes before the first
  // pointer into a buffer is taken: JavaScript could detach one.
  int64_t i, n, hj, hs, hn;
  bool bom;
  CHECK(napi_get_value_int64(env, argv[2], &i));
  CHECK(napi_get_value_int64(env, argv[3], &n));
  CHECK(napi_get_value_int64(env, argv[4], &hj));
  CHECK(napi_get_value_int64(env, argv[5], &hs));
  CHECK(napi_get_value_int64(env, argv[6], &hn));
  CHECK(napi_get_value_bool(env, argv[7], &bom));
  napi_value cv[NCOLS];
  bool is_array = false;
  uint32_t ncols = 0;
  CHECK(napi_is_array(env, argv[8], &is_array));
  if (is_array) CHECK(napi_get_array_length(env, argv[8], &ncols));
  if (!is_array || ncols != NCOLS) {
    napi_throw_type_error(env, "EINVAL", "take: cols must hold 14 typed arrays");
    return NULL;
  }
  for (uint32_t k = 0; k < NCOLS; k++) CHECK(napi_get_element(env, argv[8], k, &cv[k]));
  uint8_t *d;
  uint32_t *ends;
  int32_t *stop;
  size_t dlen, nends, nstop;
  if (!typed_arg(env, argv[0], napi_uint8_array, (void **)&d, &dlen) || !typed_arg(env, argv[1], napi_uint32_array, (void **)&ends, &nends) ||
      !typed_arg(env, argv[9], napi_int32_array, (void **)&stop, &nstop) || nstop < 1) {
    napi_throw_type_error(env, "EINVAL", "take: bad typed arrays");
    return NULL;
  }
  void *col[NCOLS];
  for (uint32_t k = 0; k < NCOLS; k++) {
    size_t len;
    if (!typed_arg(env, cv[k], COL_TYPES[k], &col[k], &len) || n < 0 || len < (uint64_t)n) {
      napi_throw_type_error(env, "EINVAL", "take: bad column");
      return NULL;
    }
  }
  // (each bound is checked without a sum that could overflow)
  if (i < 0 || n < i || (uint64_t)n > nends || hj < 0 || hj >= n || hs < 0 || hn < 1 || (uint64_t)hn > dlen || (uint64_t)hs > dlen - (uint64_t)hn) {
    napi_throw_range_error(env, "EINVAL", "take: bad positions");
    return NULL;
  }
  uint8_t *pri = col[0], *frac = col[3], *flags = col[12];
  double *time = col[1];
  int16_t *tz = col[2];
  int32_t *offs[6] = {col[4], col[5], col[6], col[7], col[8], col[9]};
  uint32_t *ms = col[10], *me = col[11];
  int32_t *same = col[13];
  int64_t x = i;
  for (; x < n; x++) {
    size_t s = x == 0 ? 0 : ends[x - 1], e = ends[x];
    if (e < s || e > dlen) break;
    if (e > s && d[e - 1] == '\n') e--;
    size_t te = e;
    while (te > s && (d[te - 1] == '\n' || d[te - 1] == '\r' || d[te - 1] == 0)) te--;
    size_t m = s + (size_t)hn;
    if (te <= m || memcmp(d + hs, d + s, (size_t)hn) != 0) break;
    if (bom && m + 3 <= te && d[m] == 0xef && d[m + 1] == 0xbb && d[m + 2] == 0xbf) break;
    int64_t delta = (int64_t)s - hs;
    pri[x] = pri[hj];
    time[x] = time[hj];
    tz[x] = tz[hj];
    frac[x] = frac[hj];
    for (int k = 0; k < 6; k += 2) {
      if (offs[k][hj] >= 0) {
        offs[k][x] = (int32_t)(offs[k][hj] + delta);
        offs[k + 1][x] = (int32_t)(offs[k + 1][hj] + delta);
      }
    }
    ms[x] = (uint32_t)m;
    me[x] = (uint32_t)te;
    flags[x] = flags[hj];
    same[x] = (int32_t)hj;
  }
  stop[0] = (int32_t)x;
  return NULL;
}

NAPI_MODULE_INIT() { return export_versioned(env, exports, ABI, "take", js_take); }
