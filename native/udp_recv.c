// logship's UDP receiver: a bound, non-blocking UDP socket read with recvmmsg(2), many datagrams
// per system call and one call into JavaScript per round, instead of node:dgram's one read, one
// Buffer and one JavaScript callback per datagram (see docs/decisions/0006-udp-recvmmsg.md).
//
//   open(family, host, port, rcvbuf, slab, meta, onReady) -> handle
//     slab: ArrayBuffer of SLOTS * SLOT_BYTES; meta: ArrayBuffer of SLOTS * META_INTS int32.
//     Each readiness of the socket: up to ROUNDS rounds of recvmmsg into the slots; after each
//     round with datagrams, onReady(count, 0) reads them (synchronously: the slots are reused).
//     A receive error other than EAGAIN: onReady(0, -errno), the socket stays open.
//   port(handle) -> the bound port;  address(handle, slot) -> the slot's sender address, as text
//   (a link-local IPv6 one with its %interface, as node:dgram gives it);
//   close(handle): stops reading and closes the socket (idempotent; the handle is dead after it:
//   port and address throw EBADF).
//   stats(handle) -> [calls into onReady with datagrams, current pause in µs, the pause's cap in µs,
//   times the pause was halved]
//
//   meta of slot i, int32 [i * META_INTS …]: length, truncated (0/1), family (4/6), port,
//   address bytes (16: an IPv4 address in the first 4), IPv6 scope id.
//
// A socket error (the poll reports one) is read with SO_ERROR, which clears it, reported as
// onReady(0, -errno), and reading goes on.
//
// Coalescing: once a readiness has drained the socket, the socket is not polled again for a short
// pause (a timerfd), so that under a steady sender the next readiness reads a round of datagrams
// instead of one or two: one call into JavaScript per pause rather than per datagram, about half
// the CPU at 250k datagrams/s. The pause adapts to the queue found when it ends (SO_MEMINFO): over
// a quarter of the receive buffer it halves, under a tenth it doubles, within [PAUSE_MIN_US, cap].
// The cap scales with the buffer: PAUSE_MAX_US for CAP_RCVBUF bytes (the kernel's doubled figure,
// as getsockopt gives it) or more, proportionally less for a smaller buffer, so that even a burst
// of 1M datagrams/s fills a fraction of any buffer during one pause. A buffer too small for
// PAUSE_MIN_US, or a kernel without SO_MEMINFO or timerfd: no pause, as before.
//
// Linux only (recvmmsg); the JavaScript side falls back to node:dgram when this is not built.

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/sock_diag.h>
#include <net/if.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <uv.h>

#include "napi_common.h"

#define SLOTS 32
#define SLOT_BYTES 65536
#define META_INTS 9
#define ROUNDS 8
#define PAUSE_MIN_US 16
#define PAUSE_MAX_US 1000
#define CAP_RCVBUF (8 * 1024 * 1024)

typedef struct {
  uv_poll_t poll;
  int fd;
  int closing;
  /** Handles still to be closed before the receiver is freed (poll, and timer when coalescing). */
  int handles;
  /** Coalescing (see the header): the timerfd and its poll (open: timer_open); cap_us 0 = off. */
  uv_poll_t timer;
  int timer_open;
  int tfd;
  uint32_t pause_us;
  uint32_t cap_us;
  /** Calls into onReady with datagrams, and halvings of the pause (for tests and status). */
  double calls;
  double shrinks;
  napi_env env;
  napi_ref on_ready;
  napi_ref slab_ref;
  napi_ref meta_ref;
  napi_async_context async;
  uint8_t *slab;
  int32_t *meta;
  struct mmsghdr msgs[SLOTS];
  struct iovec iovs[SLOTS];
  struct sockaddr_storage addrs[SLOTS];
} receiver;

/** What a JavaScript handle points to: outlives the receiver (freed by the handle's finalizer). */
typedef struct {
  receiver *r; // NULL once closed
} handle_box;

static void call_ready(receiver *r, int count, int err) {
  napi_env env = r->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value fn, recv, argv[2], result;
  napi_get_reference_value(env, r->on_ready, &fn);
  napi_get_global(env, &recv); // napi_make_callback needs an object as the receiver
  napi_create_int32(env, count, &argv[0]);
  napi_create_int32(env, err, &argv[1]);
  if (napi_make_callback(env, r->async, recv, fn, 2, argv, &result) != napi_ok) report_uncaught(env);
  napi_close_handle_scope(env, scope);
}

static void fill_meta(receiver *r, int n) {
  for (int i = 0; i < n; i++) {
    int32_t *m = r->meta + i * META_INTS;
    const struct sockaddr_storage *a = &r->addrs[i];
    m[0] = (int32_t)r->msgs[i].msg_len;
    m[1] = (r->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
    memset(m + 4, 0, 16);
    m[8] = 0;
    if (a->ss_family == AF_INET) {
      const struct sockaddr_in *v4 = (const struct sockaddr_in *)a;
      m[2] = 4;
      m[3] = ntohs(v4->sin_port);
      memcpy(m + 4, &v4->sin_addr, 4);
    } else if (a->ss_family == AF_INET6) {
      const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)a;
      m[2] = 6;
      m[3] = ntohs(v6->sin6_port);
      memcpy(m + 4, &v6->sin6_addr, 16);
      m[8] = (int32_t)v6->sin6_scope_id;
    } else {
      m[2] = 0;
      m[3] = 0;
    }
  }
}

static void on_poll(uv_poll_t *handle, int status, int events);

/** After a readiness that drained the socket: poll it again only after the pause (if coalescing). */
static void pause_reading(receiver *r) {
  if (r->cap_us == 0 || r->closing) return;
  struct itimerspec ts = {{0, 0}, {0, (long)r->pause_us * 1000}};
  if (timerfd_settime(r->tfd, 0, &ts, NULL) != 0) return; // not paused: the socket stays polled
  uv_poll_stop(&r->poll);
}

/** The pause is over: adapt it to how full the receive queue is now, and poll the socket again. */
static void on_timer(uv_poll_t *handle, int status, int events) {
  receiver *r = (receiver *)handle->data;
  if (r->closing) return;
  if (status < 0) {
    // libuv stopped the timer's poll: no more pauses (the handle stays open until close).
    r->cap_us = 0;
    uv_poll_start(&r->poll, UV_READABLE, on_poll);
    return;
  }
  uint64_t expirations;
  while (read(r->tfd, &expirations, sizeof expirations) < 0 && errno == EINTR) {
  }
  uint32_t mem[SK_MEMINFO_VARS];
  socklen_t len = sizeof mem;
  if (getsockopt(r->fd, SOL_SOCKET, SO_MEMINFO, mem, &len) == 0 && mem[SK_MEMINFO_RCVBUF] > 0) {
    uint64_t queued = mem[SK_MEMINFO_RMEM_ALLOC];
    uint64_t size = mem[SK_MEMINFO_RCVBUF];
    if (queued * 4 > size) {
      r->pause_us = r->pause_us / 2 < PAUSE_MIN_US ? PAUSE_MIN_US : r->pause_us / 2;
      r->shrinks++;
    } else if (queued * 10 < size) r->pause_us = r->pause_us * 2 > r->cap_us ? r->cap_us : r->pause_us * 2;
  }
  uv_poll_start(&r->poll, UV_READABLE, on_poll);
}

static void on_poll(uv_poll_t *handle, int status, int events) {
  receiver *r = (receiver *)handle->data;
  if (r->closing) return;
  if (status < 0) {
    // libuv stopped the poll: read (and so clear) the socket's error, report it, poll again.
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err == 0) err = -status;
    call_ready(r, 0, -err);
    if (!r->closing) uv_poll_start(&r->poll, UV_READABLE, on_poll);
    return;
  }
  if ((events & UV_READABLE) == 0) return;
  for (int round = 0; round < ROUNDS && !r->closing; round++) {
    for (int i = 0; i < SLOTS; i++) {
      r->msgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
      r->msgs[i].msg_hdr.msg_flags = 0;
      r->msgs[i].msg_len = 0;
    }
    int n = recvmmsg(r->fd, r->msgs, SLOTS, MSG_DONTWAIT, NULL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) call_ready(r, 0, -errno);
      else if (round > 0) pause_reading(r);
      return;
    }
    if (n == 0) return;
    fill_meta(r, n);
    r->calls++;
    call_ready(r, n, 0);
    if (n < SLOTS) {
      pause_reading(r); // drained (the poll calls again when more arrives)
      return;
    }
  }
}

static void on_closed(uv_handle_t *handle) {
  receiver *r = (receiver *)handle->data;
  if (--r->handles > 0) return;
  napi_env env = r->env;
  if (r->on_ready != NULL) napi_delete_reference(env, r->on_ready);
  if (r->slab_ref != NULL) napi_delete_reference(env, r->slab_ref);
  if (r->meta_ref != NULL) napi_delete_reference(env, r->meta_ref);
  if (r->async != NULL) napi_async_destroy(env, r->async);
  free(r);
}

static void do_close(receiver *r) {
  if (r->closing) return;
  r->closing = 1;
  uv_poll_stop(&r->poll); // takes the fd out of epoll now
  // The socket is closed now, not in on_closed: the port is free when close() returns (a reload
  // binds it again at once). Nothing runs between this and uv_close that could reuse the fd number.
  close(r->fd);
  uv_close((uv_handle_t *)&r->poll, on_closed);
  if (r->timer_open) {
    uv_poll_stop(&r->timer);
    close(r->tfd);
    uv_close((uv_handle_t *)&r->timer, on_closed);
  }
}

static int parse_address(int family, const char *host, int port, struct sockaddr_storage *ss, socklen_t *len) {
  memset(ss, 0, sizeof *ss);
  if (family == 4) {
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &a->sin_addr) != 1) return -1;
    *len = sizeof *a;
  } else {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1) return -1;
    *len = sizeof *a;
  }
  return 0;
}

/** Turns coalescing on when the kernel has what it needs and the buffer is large enough (see the header). */
static void setup_coalescing(receiver *r, uv_loop_t *loop) {
  r->cap_us = 0;
  int size = 0;
  socklen_t len = sizeof size;
  uint32_t mem[SK_MEMINFO_VARS];
  socklen_t mem_len = sizeof mem;
  if (getsockopt(r->fd, SOL_SOCKET, SO_RCVBUF, &size, &len) != 0 || getsockopt(r->fd, SOL_SOCKET, SO_MEMINFO, mem, &mem_len) != 0) return;
  uint64_t cap = (uint64_t)PAUSE_MAX_US * (uint64_t)size / CAP_RCVBUF;
  if (cap > PAUSE_MAX_US) cap = PAUSE_MAX_US;
  if (cap < PAUSE_MIN_US) return;
  r->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (r->tfd < 0) return;
  if (uv_poll_init(loop, &r->timer, r->tfd) != 0) {
    close(r->tfd);
    return;
  }
  r->timer.data = r;
  r->handles = 2;
  r->timer_open = 1;
  if (uv_poll_start(&r->timer, UV_READABLE, on_timer) != 0) return; // closed with the receiver; no pauses
  r->cap_us = (uint32_t)cap;
  r->pause_us = PAUSE_MIN_US;
}

static const napi_type_tag HANDLE_TAG = {0x6c6f67736869705fULL, 0x7564705f72656376ULL}; // "logship_udp_recv"

/** Reads the `n` arguments of a call whose first one is a handle; its box, or NULL (thrown). */
static handle_box *box_arg(napi_env env, napi_callback_info info, size_t n, napi_value *argv) {
  return (handle_box *)handle_arg(env, info, n, argv, &HANDLE_TAG, "receiver");
}

/** As box_arg, for a receiver that must be open: throws EBADF for a closed one. */
static receiver *receiver_arg(napi_env env, napi_callback_info info, size_t n, napi_value *argv) {
  handle_box *box = box_arg(env, info, n, argv);
  if (box == NULL) return NULL;
  if (box->r == NULL) {
    throw_errno(env, EBADF, "receiver");
    return NULL;
  }
  return box->r;
}

static void free_box(napi_env env, void *data, void *hint) { free(data); }

// open(family, host, port, rcvbuf, slab, meta, onReady)
static napi_value open_receiver(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  if (!get_args(env, info, 7, argv, "open(family, host, port, rcvbuf, slab, meta, onReady)")) return NULL;
  int32_t family, port, rcvbuf;
  char host[64];
  size_t host_len;
  CHECK(napi_get_value_int32(env, argv[0], &family));
  CHECK(napi_get_value_string_utf8(env, argv[1], host, sizeof host, &host_len));
  CHECK(napi_get_value_int32(env, argv[2], &port));
  CHECK(napi_get_value_int32(env, argv[3], &rcvbuf));
  void *slab, *meta;
  size_t slab_len, meta_len;
  CHECK(napi_get_arraybuffer_info(env, argv[4], &slab, &slab_len));
  CHECK(napi_get_arraybuffer_info(env, argv[5], &meta, &meta_len));
  if (slab_len < (size_t)SLOTS * SLOT_BYTES || meta_len < (size_t)SLOTS * META_INTS * sizeof(int32_t)) {
    napi_throw_range_error(env, "EINVAL", "slab or meta buffer too small");
    return NULL;
  }
  struct sockaddr_storage ss;
  socklen_t ss_len;
  if ((family != 4 && family != 6) || parse_address(family, host, port, &ss, &ss_len) != 0) {
    napi_throw_type_error(env, "EINVAL", "bad address");
    return NULL;
  }

  // IPV6_V6ONLY is left to the system (net.ipv6.bindv6only), as node:dgram does.
  int fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, errno, "socket");
  if (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) != 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, e, "setsockopt(SO_RCVBUF)");
  }
  if (bind(fd, (struct sockaddr *)&ss, ss_len) != 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, e, "bind");
  }

  receiver *r = calloc(1, sizeof *r);
  handle_box *box = calloc(1, sizeof *box);
  if (r == NULL || box == NULL) {
    close(fd);
    free(r);
    free(box);
    return throw_errno(env, ENOMEM, "calloc");
  }
  box->r = r;
  r->fd = fd;
  r->env = env;
  r->slab = slab;
  r->meta = meta;
  for (int i = 0; i < SLOTS; i++) {
    r->iovs[i].iov_base = r->slab + (size_t)i * SLOT_BYTES;
    r->iovs[i].iov_len = SLOT_BYTES;
    r->msgs[i].msg_hdr.msg_iov = &r->iovs[i];
    r->msgs[i].msg_hdr.msg_iovlen = 1;
    r->msgs[i].msg_hdr.msg_name = &r->addrs[i];
  }
  // The handle first: once the poll runs, every failure path goes through do_close (on_closed
  // releases what was created; NULL references are skipped there).
  napi_value handle, resource_name;
  uv_loop_t *loop;
  if (napi_create_external(env, box, free_box, NULL, &handle) != napi_ok) {
    close(fd);
    free(r);
    free(box);
    napi_throw_error(env, "EINVAL", "napi: cannot create the receiver handle");
    return NULL;
  }
  int rc;
  if (napi_type_tag_object(env, handle, &HANDLE_TAG) != napi_ok || napi_get_uv_event_loop(env, &loop) != napi_ok) {
    rc = -EINVAL;
  } else {
    rc = uv_poll_init(loop, &r->poll, fd);
  }
  if (rc != 0) {
    close(fd);
    free(r);
    box->r = NULL;
    return throw_errno(env, -rc, "uv_poll_init");
  }
  r->poll.data = r;
  r->handles = 1;
  setup_coalescing(r, loop);
  if (napi_create_reference(env, argv[6], 1, &r->on_ready) != napi_ok || napi_create_reference(env, argv[4], 1, &r->slab_ref) != napi_ok ||
      napi_create_reference(env, argv[5], 1, &r->meta_ref) != napi_ok ||
      napi_create_string_utf8(env, "logship:udp", NAPI_AUTO_LENGTH, &resource_name) != napi_ok ||
      napi_async_init(env, NULL, resource_name, &r->async) != napi_ok) {
    rc = -EINVAL;
  } else {
    rc = uv_poll_start(&r->poll, UV_READABLE, on_poll);
  }
  if (rc != 0) {
    do_close(r);
    box->r = NULL;
    return throw_errno(env, -rc, "receiver setup");
  }
  return handle;
}

static napi_value port_of(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  receiver *r = receiver_arg(env, info, 1, argv);
  if (r == NULL) return NULL;
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(r->fd, (struct sockaddr *)&ss, &len) != 0) return throw_errno(env, errno, "getsockname");
  int port = ss.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&ss)->sin_port) : ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
  napi_value out;
  CHECK(napi_create_int32(env, port, &out));
  return out;
}

static napi_value address_of(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  receiver *r = receiver_arg(env, info, 2, argv);
  if (r == NULL) return NULL;
  int32_t slot;
  CHECK(napi_get_value_int32(env, argv[1], &slot));
  if (slot < 0 || slot >= SLOTS) {
    napi_throw_range_error(env, "EINVAL", "slot out of range");
    return NULL;
  }
  const int32_t *m = r->meta + slot * META_INTS;
  char text[INET6_ADDRSTRLEN + IF_NAMESIZE + 1] = "";
  if (m[2] == 4) {
    inet_ntop(AF_INET, m + 4, text, sizeof text);
  } else if (m[2] == 6) {
    struct in6_addr a;
    memcpy(&a, m + 4, 16);
    inet_ntop(AF_INET6, &a, text, INET6_ADDRSTRLEN);
    char ifname[IF_NAMESIZE];
    // A link-local sender with its interface, as node:dgram names it ("fe80::1%eth0").
    if (IN6_IS_ADDR_LINKLOCAL(&a) && m[8] != 0 && if_indextoname((unsigned)m[8], ifname) != NULL) {
      size_t n = strlen(text);
      snprintf(text + n, sizeof text - n, "%%%s", ifname);
    }
  }
  napi_value out;
  CHECK(napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &out));
  return out;
}

static napi_value stats_of(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  receiver *r = receiver_arg(env, info, 1, argv);
  if (r == NULL) return NULL;
  napi_value out, v;
  CHECK(napi_create_array_with_length(env, 4, &out));
  const double values[4] = {r->calls, r->pause_us, r->cap_us, r->shrinks};
  for (uint32_t k = 0; k < 4; k++) {
    CHECK(napi_create_double(env, values[k], &v));
    CHECK(napi_set_element(env, out, k, v));
  }
  return out;
}

static napi_value close_receiver(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  handle_box *box = box_arg(env, info, 1, argv);
  if (box == NULL) return NULL;
  if (box->r != NULL) do_close(box->r);
  box->r = NULL; // freed by on_closed, on a later loop turn
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, open_receiver, NULL, NULL, NULL, napi_default, NULL},
      {"port", NULL, port_of, NULL, NULL, NULL, napi_default, NULL},
      {"address", NULL, address_of, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, close_receiver, NULL, NULL, NULL, napi_default, NULL},
      {"stats", NULL, stats_of, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  const struct {
    const char *name;
    int32_t value;
  } constants[] = {{"SLOTS", SLOTS}, {"SLOT_BYTES", SLOT_BYTES}, {"META_INTS", META_INTS}};
  for (size_t k = 0; k < sizeof constants / sizeof constants[0]; k++) {
    napi_value v;
    napi_create_int32(env, constants[k].value, &v);
    napi_set_named_property(env, exports, constants[k].name, v);
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
