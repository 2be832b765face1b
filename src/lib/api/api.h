/* The Docker Engine API (issue 17; docs/design/api.md): `berth system service` serves it on a
 * unix socket (or loopback TCP), so that the docker CLI, docker-py, docker-compose and the other
 * Docker SDKs drive berth. HTTP routing and JSON mapping onto the engine's rooms, no state of
 * its own: every request opens the same catalogue the `berth` command line uses, so both see
 * the same containers, and containers keep running under their monitors when the service stops.
 *
 * Shape (server.c, conn.c): one small listening process that accepts, checks the peer
 * (SO_PEERCRED; on TCP, TLS client certificates: tls.c) and forks one process per connection;
 * that process speaks HTTP/1.1 through
 * libmicrohttpd (keep-alive, chunked streams, the `Upgrade: tcp` hijack of attach and exec) and
 * calls the engine. Work that streams (logs, pulls, archives) runs in a forked job that writes
 * to a pipe (job.c). The pure parts — the router, the JSON → run options mapping, the progress
 * and tar-header translations — are unit-tested and fuzzed. */
#ifndef BERTH_API_API_H
#define BERTH_API_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "engine/engine.h"
#include "engine/runspec/runspec.h"

#define BERTH_API_VERSION_MAX      43 /* 1.43 */
#define BERTH_API_VERSION_MIN      24 /* 1.24: what the docker CLI still negotiates down to */
#define BERTH_API_DEFAULT_SOCKET   "unix:///run/berth/docker.sock"
#define BERTH_API_MAX_BODY         (4u << 20) /* a JSON body; tar bodies stream */
#define BERTH_API_MAX_CONNECTIONS  256
#define BERTH_API_REQUEST_DEADLINE 30 /* seconds for a request's headers (and a keep-alive's idle time) */

/* ---- the service ---- */
/* TLS on tcp:// (tls.c; dockerd's flags): --tlsverify makes clients present a certificate
 * that chains to cacert (the only way to serve a non-loopback address); --tls, or a cert and
 * key without --tlsverify, is TLS without client authentication: loopback and
 * --insecure-loopback only. The files are read and checked before anything listens. */
struct berth_api_tls_opts {
  bool tls;           /* --tls: TLS without client authentication (implied by the others) */
  bool verify;        /* --tlsverify */
  const char *cacert; /* --tlscacert: the CA of the clients' certificates (PEM) */
  const char *cert;   /* --tlscert: the server's certificate (PEM, with its chain) */
  const char *key;    /* --tlskey: its private key (PEM, not encrypted) */
};
struct berth_api_opts {
  const char *address; /* unix:///path or tcp://host:port (NULL: BERTH_API_DEFAULT_SOCKET) */
  int listen_fd;       /* >= 0: a listening socket given by systemd (address ignored) */
  int idle_timeout;    /* seconds without a connection before the service exits (0: never) */
  const char *group;   /* the unix socket's group (mode 0660; NULL: root's) */
  bool
    tcp_insecure_loopback; /* tcp:// on a loopback address without client certificates (an explicit flag) */
  struct berth_api_tls_opts tls;
  unsigned max_connections;  /* 0: BERTH_API_MAX_CONNECTIONS */
  unsigned request_deadline; /* 0: BERTH_API_REQUEST_DEADLINE */
  struct berth_engine_opts engine;
  const char *self_exe; /* the berth binary (Info's paths); NULL: /proc/self/exe */
};
/* Serve until SIGTERM/SIGINT or the idle timeout: returns 0 then. The socket file it made is
 * removed; connections in progress get a few seconds to end. */
int berth_api_serve(const struct berth_api_opts *o, berth_error_t *err) BERTH_WUR;

/* Check an address: "unix:///abs/path" or "tcp://host:port" (host an IP address or localhost).
 * Out: the path (unix) or host and port (tcp). Who may be served (berth_api_tcp_allowed): tcp
 * with --tlsverify on any address; otherwise only on a loopback address with
 * --insecure-loopback. The TLS flags with a unix address are an error. */
struct berth_api_address {
  bool unix_socket;
  char *path; /* unix */
  char *host; /* tcp */
  uint16_t port;
};
int berth_api_address_parse(const char *s, const struct berth_api_opts *o, struct berth_api_address *out,
                            berth_error_t *err) BERTH_WUR;
/* may tcp on host (shown: the address as the user gave it) be served with o's flags */
int berth_api_tcp_allowed(const char *shown, const char *host, const struct berth_api_opts *o,
                          berth_error_t *err) BERTH_WUR;
bool berth_api_host_is_loopback(const char *host);

/* ---- TLS flags and PEM files (tls_check.c, pure) ---- */
bool berth_api_tls_on(const struct berth_api_tls_opts *t);
/* the flags go together: a cert with its key, --tlsverify with --tlscacert, --tlscacert only
 * with --tlsverify */
int berth_api_tls_opts_check(const struct berth_api_tls_opts *t, berth_error_t *err) BERTH_WUR;
/* what a PEM file holds: its blocks by kind */
struct berth_api_pem_info {
  unsigned blocks;         /* -----BEGIN X----- ... -----END X----- */
  unsigned certs;          /* CERTIFICATE, X509 CERTIFICATE, TRUSTED CERTIFICATE */
  unsigned keys;           /* PRIVATE KEY, RSA/EC/DSA PRIVATE KEY */
  unsigned encrypted_keys; /* ENCRYPTED PRIVATE KEY, or a key with Proc-Type: 4,ENCRYPTED */
  bool unterminated;       /* a BEGIN line without its END line */
};
void berth_api_pem_scan(const char *data, size_t len, struct berth_api_pem_info *pi);
enum berth_api_pem_kind { BERTH_API_PEM_CERT, BERTH_API_PEM_KEY, BERTH_API_PEM_CA };
/* data (the file path, given as flag) holds what kind asks for; the error names flag and path */
int berth_api_pem_check(const char *flag, const char *path, const char *data, size_t len,
                        enum berth_api_pem_kind kind, berth_error_t *err) BERTH_WUR;
void berth_api_address_release(struct berth_api_address *a);

/* ---- the router (router.c, pure) ---- */
enum berth_api_route_flags {
  BERTH_API_BODY_JSON = 0x1,   /* a JSON body (capped at BERTH_API_MAX_BODY) */
  BERTH_API_BODY_STREAM = 0x2, /* a tar body, streamed to the handler's job */
  BERTH_API_UNSUPPORTED = 0x4, /* a Docker endpoint berth does not serve: 501 */
};
struct berth_api_match {
  int route;          /* index in the route table; -1: no route (404) */
  unsigned version;   /* minor version of the /v1.N prefix (0: none given) */
  bool bad_version;   /* /v1.N outside [MIN, MAX] or not a version: 400 */
  const char *arg[2]; /* the path's parameters, percent-decoded, in arg_buf */
  char arg_buf[2][1024];
  unsigned flags;
  const char *name; /* "POST /containers/{id}/start" (messages, logs) */
};
/* Route "METHOD /path" (no query): the version prefix taken off, parameters decoded. HEAD
 * routes as GET where no HEAD route exists. */
void berth_api_route(const char *method, const char *path, struct berth_api_match *m);

/* ---- the JSON → run options mapping (map_create.c, map_host.c, pure) ---- */
/* What POST /containers/create asks for, as `berth create` would: the body's Config and
 * HostConfig become the flags of run (berth_runopts_set, so every value is checked by the same
 * code and the same messages), its Cmd the arguments after the image. One mapping: the CLI's
 * options and the API's are the same struct, and a container's HostConfig (what inspect shows)
 * maps back to the options it was made with. */
struct berth_api_create {
  struct berth_run_opts opts;
  char *image;
  char **args;          /* Cmd (NULL: the image's; an empty Cmd is an empty vector) */
  char **runtime_flags; /* none from the API */
  bool attach_stdin;    /* Config.AttachStdin (run -i in the foreground) */
};
/* name: the ?name= parameter (NULL: none). Unknown keys are errors unless Docker has them (a
 * key berth has no use for is accepted when its value is the zero value, else an error naming
 * it). Errors are the client's: 400. */
int berth_api_create_parse(json_t *body, const char *name, struct berth_api_create *out,
                           berth_error_t *err) BERTH_WUR;
void berth_api_create_release(struct berth_api_create *c);
/* The HostConfig object alone onto opts (run's flags), for create and for tests */
int berth_api_host_config_apply(json_t *host_config, struct berth_run_opts *o, berth_error_t *err) BERTH_WUR;

/* ---- small pure translations (values.c) ---- */
/* Docker's boolean query values: "1", "true", "True" (and "0", "false"...); NULL: dflt */
bool berth_api_query_bool(const char *v, bool dflt);
/* filters={"status":["running"],"label":["a=b"]} (or the old {"status":{"running":true}}) as
 * "key=value" strings, NULL-terminated; NULL/"" -> an empty vector */
int berth_api_filters_parse(const char *json, char ***out, berth_error_t *err) BERTH_WUR;
/* the values of one key in a filters vector (borrowed pointers, NULL-terminated, malloc'd) */
const char **berth_api_filters_get(char *const *filters, const char *key);
/* Docker's stream multiplexing header: stream 1 stdout, 2 stderr (0 stdin), big-endian length */
void berth_api_mux_header(unsigned char out[8], int stream, uint32_t len);
/* One line of berth's plain pull/push progress ("a1b2c3: Downloading", "Digest: sha256:...")
 * as Docker's JSON message, with a newline (malloc'd) */
char *berth_api_progress_json(const char *line, size_t len);
/* X-Registry-Auth (base64url of {"username","password","serveraddress","identitytoken"}):
 * 1 with credentials, 0 none or empty */
int berth_api_registry_auth(const char *header, char **username, char **password,
                            berth_error_t *err) BERTH_WUR;

/* A path's stat as docker cp wants it (X-Docker-Container-Path-Stat), from the first entry of
 * a tar stream (ustar, with pax and GNU long-name headers): *used bytes looked at. 1 parsed,
 * 0 more bytes needed, -1 not a tar. */
struct berth_api_path_stat {
  char name[256];
  char link[256];
  int64_t size;
  uint32_t mode; /* Go's os.FileMode */
  int64_t mtime; /* unix seconds */
};
int berth_api_tar_stat(const unsigned char *data, size_t len, struct berth_api_path_stat *st);
/* the header's value: base64 of {"name","size","mode","mtime","linkTarget"} (malloc'd) */
char *berth_api_path_stat_header(const struct berth_api_path_stat *st);

/* ---- websocket frames (ws.c, pure; RFC 6455): GET /containers/{id}/attach/ws ---- */
#define BERTH_API_WS_MAX_FRAME (1u << 20) /* a client frame's payload cap (larger: close 1009) */
enum berth_api_ws_opcode {
  BERTH_API_WS_CONT = 0x0,
  BERTH_API_WS_TEXT = 0x1,
  BERTH_API_WS_BINARY = 0x2,
  BERTH_API_WS_CLOSE = 0x8,
  BERTH_API_WS_PING = 0x9,
  BERTH_API_WS_PONG = 0xa,
};
#define BERTH_API_WS_ACCEPT_LEN 28 /* base64 of a SHA-1 */
/* Sec-WebSocket-Accept (NUL-terminated in out) for a Sec-WebSocket-Key: 0, or -1 when the key
 * is not the base64 of 16 bytes */
int berth_api_ws_accept(const char *key, char out[BERTH_API_WS_ACCEPT_LEN + 1]);
/* a server frame's header (FIN, no mask) for len payload bytes: its length (2, 4 or 10) */
size_t berth_api_ws_header(unsigned char out[10], unsigned opcode, uint64_t len);
/* a whole close frame (code, then reason cut to fit 125 bytes) into out[127]: its length */
size_t berth_api_ws_close(unsigned char out[127], uint16_t code, const char *reason);
/* a client's frames, one at a time: the state between them is the fragmented message open */
struct berth_api_ws_reader {
  unsigned message; /* the opcode (text, binary) of a data message still to be continued; 0: none */
};
struct berth_api_ws_frame {
  unsigned opcode;        /* as sent (BERTH_API_WS_CONT for a continuation) */
  unsigned message;       /* data frames: the opcode of the message it belongs to */
  bool fin;               /* the last frame of its message */
  unsigned char *payload; /* inside buf, unmasked in place */
  size_t len;
  uint16_t close_code; /* a close frame's code (1005: none); on error: the code to close with */
  const char *error;   /* on error: what was wrong (static text) */
};
/* The frame at the start of buf[0..len) from a client: 1 with *used bytes taken, 0 when more
 * bytes are needed, -1 when it breaks the protocol (unmasked, reserved bits or opcodes, a
 * control frame fragmented or over 125 bytes, a continuation of nothing, a close code no one may
 * send, a payload over max): f->error and f->close_code (1002, or 1009 too big) say what to
 * close with. */
int berth_api_ws_parse(struct berth_api_ws_reader *rd, unsigned char *buf, size_t len, size_t max,
                       size_t *used, struct berth_api_ws_frame *f);

#endif
