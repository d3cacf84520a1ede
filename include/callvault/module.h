/*
 * callvault module ABI — the only interface a SIP host needs.
 *
 * A host (SIP proxy, B2BUA, HEP listener, ...) loads libcallvault.so, calls
 * cv_get_api(), checks that api->abi_version has the major version it was
 * written against, and then uses the function table.  Everything the module
 * offers is declared in this one file; docs/module-abi.md tells a host author
 * how to call it.
 *
 * Threading: on_message may be called from any number of threads (or
 * processes sharing the same capture ring) at once.  open/reload/close are
 * control-plane calls; the host must not call close concurrently with
 * on_message on the same handle.
 *
 * Cost: on_message copies the bytes and the meta into a shared-memory ring and
 * returns.  It never allocates, locks, parses, encrypts or makes a syscall, so
 * it is safe to call on the SIP thread for every message.
 */
#ifndef CALLVAULT_MODULE_H
#define CALLVAULT_MODULE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Major in the high 16 bits, minor in the low 16.  A host accepts any module
 * whose major equals the one it was built with and whose minor is >= it. */
#define CV_ABI_MAJOR 1
#define CV_ABI_MINOR 0
#define CV_ABI_VERSION ((uint32_t)((CV_ABI_MAJOR << 16) | CV_ABI_MINOR))

/* Return codes. */
#define CV_OK 0
#define CV_ERR_CONFIG -1       /* config missing, malformed or refused */
#define CV_ERR_KEYS -2         /* keyring missing, malformed or badly permissioned */
#define CV_ERR_IO -3           /* journal / shared memory could not be opened */
#define CV_ERR_ARG -4          /* NULL handle or argument */
#define CV_DROPPED_FULL 1      /* on_message: ring full, message counted as dropped */
#define CV_DROPPED_TOO_LARGE 2 /* on_message: larger than a ring slot, counted */

typedef enum cv_direction {
  CV_DIR_RECEIVED = 0, /* the host received this message from the network */
  CV_DIR_SENT = 1      /* the host sent (or forwarded) this message */
} cv_direction;

typedef enum cv_transport {
  CV_TRANSPORT_UDP = 0,
  CV_TRANSPORT_TCP = 1,
  CV_TRANSPORT_TLS = 2,
  CV_TRANSPORT_SCTP = 3,
  CV_TRANSPORT_WS = 4,
  CV_TRANSPORT_WSS = 5
} cv_transport;

/* Host-side flags carried per message. */
#define CV_FLAG_LI 0x0001u /* the host has marked this message for lawful intercept */

/* A network address.  family is 4 or 6 (0 = unknown); addr holds 4 or 16
 * bytes in network order; port is in host order. */
typedef struct cv_addr {
  uint8_t family;
  uint8_t reserved;
  uint16_t port;
  uint8_t addr[16];
} cv_addr;

#define CV_TRUNK_MAX 32 /* trunk ids longer than 31 bytes are truncated */

typedef struct cv_msg_meta {
  uint32_t struct_size; /* sizeof(cv_msg_meta) as the host knows it */
  uint8_t direction;    /* cv_direction */
  uint8_t transport;    /* cv_transport */
  uint16_t flags;       /* CV_FLAG_* */
  cv_addr src;
  cv_addr dst;
  int64_t wall_ns; /* CLOCK_REALTIME in ns; 0 = let the module stamp it */
  int64_t mono_ns; /* CLOCK_MONOTONIC in ns; 0 = let the module stamp it */
  const char *ingress_trunk; /* NUL-terminated trunk id or NULL (unknown) */
  const char *egress_trunk;  /* NUL-terminated trunk id or NULL (unknown) */
} cv_msg_meta;

typedef struct cv_module cv_module; /* opaque */

/* Called once per counter by stats(); name is a stable metric name such as
 * "capture.accepted".  Names never carry identifiers. */
typedef void (*cv_stat_fn)(const char *name, uint64_t value, void *user);

typedef struct cv_api {
  uint32_t abi_version; /* CV_ABI_VERSION of the module */
  uint32_t struct_size; /* sizeof(cv_api) of the module */

  /* Opens the module with the YAML config at config_path.  On failure returns
   * a CV_ERR_* code and writes a message naming the file and key into err. */
  int (*open)(const char *config_path, cv_module **out, char *err, size_t err_len);

  /* The hook.  Copies meta and bytes and returns CV_OK, CV_DROPPED_FULL or
   * CV_DROPPED_TOO_LARGE.  Never blocks. */
  int (*on_message)(cv_module *m, const cv_msg_meta *meta, const void *bytes, size_t len);

  /* Re-reads the config file given to open.  Settings that cannot change
   * while running (capture geometry, node id) are refused with an error. */
  int (*reload)(cv_module *m, char *err, size_t err_len);

  /* Reports every counter through fn. */
  int (*stats)(cv_module *m, cv_stat_fn fn, void *user);

  /* Drains what it can within the configured shutdown budget, writes a
   * checkpoint and frees the handle.  Anything left in the ring is resumed by
   * the next open. */
  void (*close)(cv_module *m);
} cv_api;

/* The single exported symbol.  Look it up with dlsym(handle, "cv_get_api"). */
const cv_api *cv_get_api(void);
typedef const cv_api *(*cv_get_api_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* CALLVAULT_MODULE_H */
