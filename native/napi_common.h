// What logship's addons (udp_recv.c, tcp_read.c, header_runs.c, line_runs.c) share: reading a
// call's arguments, errors thrown with the errno name as their code, the report of an exception
// left by a call into JavaScript, and handles that are tagged externals pointing to a box (the box
// outlives what it points to; its finalizer frees it).

#ifndef LOGSHIP_NAPI_COMMON_H
#define LOGSHIP_NAPI_COMMON_H

#include <errno.h>
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

/** In a function returning napi_value: a failed N-API call throws and returns NULL. */
#define CHECK(call)                                    \
  do {                                                 \
    if ((call) != napi_ok) {                           \
      napi_throw_error(env, "EINVAL", "napi: " #call); \
      return NULL;                                     \
    }                                                  \
  } while (0)

/** Reads the `n` arguments of a call; false, with a TypeError `usage` thrown, when fewer came. */
static inline bool get_args(napi_env env, napi_callback_info info, size_t n, napi_value *argv, const char *usage) {
  size_t argc = n;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < n) {
    napi_throw_type_error(env, "EINVAL", usage);
    return false;
  }
  return true;
}

/** The data and element count of `v` when it is a typed array of type `want`; false (nothing thrown) otherwise. */
static inline bool typed_arg(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *len) {
  bool is = false;
  napi_typedarray_type type;
  napi_value ab;
  size_t off;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return false;
  if (napi_get_typedarray_info(env, v, &type, len, data, &ab, &off) != napi_ok) return false;
  return type == want;
}

/**
 * The exports of an addon with one function `name` and `abi`, the version of its calling
 * convention (the JavaScript uses a build whose abi it expects only: util/addon.ts optionalAddon).
 */
static inline napi_value export_versioned(napi_env env, napi_value exports, uint32_t abi, const char *name, napi_callback fn) {
  napi_value v;
  if (napi_create_uint32(env, abi, &v) != napi_ok) return NULL;
  napi_property_descriptor props[] = {
      {"abi", NULL, NULL, NULL, NULL, v, napi_enumerable, NULL},
      {name, NULL, fn, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  return napi_define_properties(env, exports, 2, props) == napi_ok ? exports : NULL;
}

/** Throws an Error "<syscall> failed: <strerror>" with `code` the errno name and `errno` -err; NULL. */
static inline napi_value throw_errno(napi_env env, int err, const char *syscall) {
  char msg[128];
  snprintf(msg, sizeof msg, "%s failed: %s", syscall, strerror(err));
  napi_value code, message, error, errno_value;
  napi_create_string_utf8(env, uv_err_name(-err), NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &error);
  napi_create_int32(env, -err, &errno_value);
  napi_set_named_property(env, error, "errno", errno_value);
  napi_throw(env, error);
  return NULL;
}

/**
 * After a call into JavaScript that failed: its exception is reported as uncaught. The JavaScript
 * sides catch everything they run, so one here is a bug.
 */
static inline void report_uncaught(napi_env env) {
  bool pending = false;
  napi_value exc;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending && napi_get_and_clear_last_exception(env, &exc) == napi_ok) napi_fatal_exception(env, exc);
}

/**
 * Reads the `n` arguments of a call whose first one is a handle tagged `tag`: the box it points to,
 * or NULL with a TypeError thrown (missing arguments, or "not a <what> handle").
 */
static inline void *handle_arg(napi_env env, napi_callback_info info, size_t n, napi_value *argv, const napi_type_tag *tag, const char *what) {
  if (!get_args(env, info, n, argv, "missing arguments")) return NULL;
  void *p = NULL;
  bool tagged = false;
  if (napi_check_object_type_tag(env, argv[0], tag, &tagged) != napi_ok || !tagged || napi_get_value_external(env, argv[0], &p) != napi_ok || p == NULL) {
    char msg[64];
    snprintf(msg, sizeof msg, "not a %s handle", what);
    napi_throw_type_error(env, "EINVAL", msg);
    return NULL;
  }
  return p;
}

#endif
