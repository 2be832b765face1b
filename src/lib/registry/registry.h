/* The OCI distribution-spec client (docs/design/registry.md): references and the registries
 * configuration, credentials and the auth flows (anonymous, Basic, Bearer tokens), TLS,
 * manifests and indexes, parallel resumable blob downloads streamed into layer extraction,
 * and pushes. The pure parts (WWW-Authenticate parser, reference normaliser, platform matcher,
 * retry planner, progress renderer) have no I/O and are unit-tested and fuzzed; the rest talks
 * HTTP through libcurl's multi interface. The engine stores what it pulls in the content store
 * and the catalogue; this module never touches the catalogue. */
#ifndef BERTH_REGISTRY_REGISTRY_H
#define BERTH_REGISTRY_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"
#include "image/layer.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "image/store.h"

/* ======================= pure parts ======================= */

/* ---- WWW-Authenticate (RFC 7235): one or more challenges ---- */
struct berth_auth_challenge {
  char *scheme;                          /* lower-case: "basic", "bearer" */
  char *realm, *service, *scope, *error; /* NULL when absent */
};
/* Every challenge in the header, in order. A header that is not a challenge list is an error
 * naming the offset. */
int berth_auth_challenges_parse(const char *header, struct berth_auth_challenge **out, size_t *n,
                                berth_error_t *err) BERTH_WUR;
void berth_auth_challenges_free(struct berth_auth_challenge *c, size_t n);

/* ---- retries: what to do after a failed attempt ---- */
struct berth_retry_policy {
  int max_attempts;     /* total attempts (0: 5) */
  int64_t base_ms;      /* first backoff (0: 200) */
  int64_t max_delay_ms; /* cap for backoff and Retry-After (0: 10000) */
};
struct berth_retry_input {
  int attempt;             /* attempts made so far (>= 1) */
  long status;             /* HTTP status, 0 for a transport error */
  bool transport_error;    /* connection reset, timeout, truncated body... */
  const char *retry_after; /* the Retry-After header or NULL: delta-seconds or an HTTP-date */
  int64_t now;             /* unix seconds (for an HTTP-date) */
};
/* Delay in ms before the next attempt, or -1: do not retry (a status that will not change,
 * attempts used up). Retried: transport errors, 408, 429, 500, 502, 503, 504. */
int64_t berth_retry_plan(const struct berth_retry_policy *p, const struct berth_retry_input *in);

/* ---- platforms ---- */
struct berth_platform_want {
  char os[32], arch[32], variant[32], os_version[64]; /* "" when unset */
};
/* "os/arch[/variant]" (Go names; aliases x86_64, aarch64... normalised); NULL or "": the host's */
int berth_platform_want_parse(const char *s, struct berth_platform_want *out, berth_error_t *err) BERTH_WUR;
/* the host's platform (linux/amd64, linux/arm64/v8...) */
void berth_platform_want_host(struct berth_platform_want *out);
/* The index entry for a platform: os and arch must match; a wanted variant must match the entry's
 * (arm64's default v8 and arm's v7 implied; an entry without a variant matches only when
 * nothing better does); a wanted os.version prefers equal entries. Among equals, document
 * order. -1 when none matches. */
ssize_t berth_platform_select(const struct berth_index *ix, const struct berth_platform_want *w);
/* "linux/arm64/v8" (malloc'd) */
char *berth_platform_want_string(const struct berth_platform_want *w);

/* ---- progress, in Docker's style ---- */
enum berth_progress_state {
  BERTH_PROGRESS_WAITING,    /* "Waiting" / "Pulling fs layer" */
  BERTH_PROGRESS_ACTIVE,     /* "Downloading" / "Pushing" */
  BERTH_PROGRESS_VERIFYING,  /* "Verifying Checksum" */
  BERTH_PROGRESS_EXTRACTING, /* "Extracting" (still streaming) */
  BERTH_PROGRESS_DONE,       /* "Pull complete" / "Pushed" */
  BERTH_PROGRESS_EXISTS,     /* "Already exists" / "Layer already exists" */
  BERTH_PROGRESS_MOUNTED,    /* "Mounted from <repo>" */
  BERTH_PROGRESS_RETRYING,   /* "Retrying in N seconds" */
  BERTH_PROGRESS_FAILED,
};
struct berth_progress_item {
  char id[16]; /* short digest: 12 hex */
  enum berth_progress_state state;
  uint64_t done, total; /* bytes */
  const char *note;     /* "Mounted from library/a", the retry reason... or NULL */
  bool changed;         /* set by the owner when state changed; cleared by plain rendering */
};
struct berth_progress_view {
  bool push;    /* wording of pushes */
  bool tty;     /* bars redrawn in place; else one plain line per change */
  int width;    /* terminal columns (tty) */
  size_t drawn; /* lines drawn by the previous tty rendering (to move the cursor up) */
};
/* The text to write for the items' current state: on a terminal, the cursor moves up over what
 * was drawn before and every line is redrawn; otherwise one line per item whose state changed
 * (changed flags cleared). Never NULL. */
char *berth_progress_render(struct berth_progress_view *v, struct berth_progress_item *items, size_t n);
/* "12.3MB" as Docker prints sizes */
void berth_progress_size(uint64_t n, char out[16]);

/* ---- registries configuration and references ---- */
struct berth_registry_mirror_set {
  char *registry; /* "docker.io" */
  char **mirrors; /* "127.0.0.1:5001", "https://mirror.example/path"... NULL-terminated */
};
struct berth_registry_conf {
  struct berth_strmap aliases; /* short name -> full name ("alpine" -> "docker.io/library/alpine") */
  struct berth_registry_mirror_set *mirrors;
  size_t n_mirrors;
  char **insecure; /* host[:port], NULL-terminated */
  char **blocked;  /* registries never contacted; "*": all but loopback ones. NULL-terminated */
};
/* Parse a registries.json document: {"aliases": {...}, "registry-mirrors": [...] (docker.io's),
 * "mirrors": {"host": [...]}, "insecure-registries": [...], "blocked-registries": [...]}. */
int berth_registry_conf_parse(const char *data, size_t len, const char *name, struct berth_registry_conf *out,
                              berth_error_t *err) BERTH_WUR;
/* path NULL: $BERTH_REGISTRIES_CONF, else /etc/berth/registries.json; a missing file is empty */
int berth_registry_conf_load(const char *path, struct berth_registry_conf *out, berth_error_t *err) BERTH_WUR;
void berth_registry_conf_release(struct berth_registry_conf *c);
/* A user's reference, normalised as Docker does after applying the short-name aliases (a name
 * without a registry whose repository, without tag or digest, is an alias key). */
int berth_registry_normalize(const struct berth_registry_conf *c, const char *input, struct berth_ref *out,
                             berth_error_t *err) BERTH_WUR;
/* "docker.io" -> "registry-1.docker.io"; others unchanged (malloc'd) */
char *berth_registry_wire_host(const char *registry);
/* configured insecure, or loopback (localhost, 127.0.0.0/8, [::1]) as Docker treats it */
bool berth_registry_is_insecure(const struct berth_registry_conf *c, const char *registry);
/* configured in blocked-registries (by name, by wire host, or "*" for every registry that is not
 * on loopback): berth never opens a connection to it */
bool berth_registry_is_blocked(const struct berth_registry_conf *c, const char *registry);
/* the key of a registry in auth files: "docker.io" also as "https://index.docker.io/v1/" */
bool berth_registry_auth_key_matches(const char *key, const char *registry);
/* the mirrors to try, in order, for a registry (NULL-terminated, borrowed; NULL when none) */
char *const *berth_registry_mirrors(const struct berth_registry_conf *c, const char *registry);

/* base64 (standard alphabet, padded) */
char *berth_base64_encode(const void *data, size_t len);
/* NULL when not base64 */
void *berth_base64_decode(const char *s, size_t *len);

/* ======================= credentials ======================= */
struct berth_credentials {
  char *username;
  char *password; /* or an identity token */
};
void berth_credentials_release(struct berth_credentials *c);
struct berth_auth_files {
  const char *authfile; /* NULL: $REGISTRY_AUTH_FILE, else ${XDG_RUNTIME_DIR:-/run}/containers/auth.json */
  const char *docker_config; /* NULL: $DOCKER_CONFIG/config.json, else ~/.docker/config.json */
};
/* The credentials for a registry: auth.json "auths", then Docker's config.json "credHelpers",
 * "auths", "credsStore" (helpers run as docker-credential-<name> get, the server on stdin).
 * 1 found, 0 none. */
int berth_credentials_lookup(const struct berth_auth_files *f, const char *registry,
                             struct berth_credentials *out, berth_error_t *err) BERTH_WUR;
/* the auth.json path in use (malloc'd) */
char *berth_authfile_path(const struct berth_auth_files *f);
/* store (replace) or remove a registry's entry of auth.json (written whole, 0600, renamed into
 * place). remove: 1 removed, 0 there was none. */
int berth_authfile_store(const struct berth_auth_files *f, const char *registry,
                         const struct berth_credentials *c, berth_error_t *err) BERTH_WUR;
int berth_authfile_remove(const struct berth_auth_files *f, const char *registry,
                          berth_error_t *err) BERTH_WUR;

/* ======================= the client ======================= */
struct berth_registry_opts {
  const struct berth_registry_conf *conf; /* NULL: none */
  struct berth_auth_files auth;
  const struct berth_credentials *creds; /* explicit (--creds, login): instead of the files */
  int tls_verify;                        /* -1 default (verify unless insecure), 0 off, 1 on */
  const char *cert_dir;                  /* --cert-dir: instead of certs.d/<host> */
  const char *certs_d;                   /* colon list of certs.d roots; NULL: $BERTH_CERTS_D, else
                                            /etc/containers/certs.d:/etc/docker/certs.d */
  struct berth_retry_policy retry;
  int max_parallel;    /* parallel blob transfers (0: 6) */
  uint64_t chunk_size; /* push: blobs larger than this go in chunks (0: 64 MiB) */
  const char *user_agent;
};
struct berth_registry;
/* A client for one registry (its mirrors are separate clients). registry: "docker.io",
 * "127.0.0.1:5000"; base_url NULL: derived (https, or http for insecure/loopback after https
 * fails to handshake), else "http://host:port[/path]" of a mirror. */
int berth_registry_new(const char *registry, const char *base_url, const struct berth_registry_opts *o,
                       struct berth_registry **out, berth_error_t *err) BERTH_WUR;
void berth_registry_free(struct berth_registry *r);
const char *berth_registry_name(const struct berth_registry *r);

/* ---- any URL (builds: ADD <url>) ---- */
/* GET an http:// or https:// URL (redirects followed, TLS as o says, no registry credentials)
 * into fd, at most max bytes. *mtime: the Last-Modified time (unix seconds), or -1. Errors name
 * the URL: a status other than 2xx ("404 Not Found"), a transport error, a body too large. */
int berth_http_get(const char *url, const struct berth_registry_opts *o, int fd, uint64_t max, int64_t *mtime,
                   berth_error_t *err) BERTH_WUR;

/* GET /v2/ with the credentials: 0 when they are accepted (login) */
int berth_registry_check_login(struct berth_registry *r, berth_error_t *err) BERTH_WUR;

/* ---- manifests ---- */
struct berth_registry_doc {
  char *data; /* as served, NUL-terminated */
  size_t len;
  char *media_type; /* of the document (Content-Type, checked against its content) */
  char digest[BERTH_DIGEST_LEN + 1];
};
void berth_registry_doc_release(struct berth_registry_doc *d);
/* GET a manifest or index by tag or digest: digest verified (against the reference's digest and
 * Docker-Content-Digest), media type checked against the content, schema 1 refused. */
int berth_registry_get_manifest(struct berth_registry *r, const char *repo, const char *tag_or_digest,
                                struct berth_registry_doc *out, berth_error_t *err) BERTH_WUR;

/* What a pull needs, resolved: the image manifest for the platform (through an index when the
 * reference names one), parsed; its config blob once berth_registry_get_config has run. */
struct berth_registry_image {
  struct berth_registry_doc index; /* data NULL when the reference names a manifest */
  struct berth_registry_doc manifest;
  struct berth_manifest *m;
  struct berth_registry_doc config; /* media_type from the manifest's descriptor; data NULL until fetched */
};
void berth_registry_image_release(struct berth_registry_image *im);
int berth_registry_resolve(struct berth_registry *r, const char *repo, const char *tag_or_digest,
                           const struct berth_platform_want *want, struct berth_registry_image *out,
                           berth_error_t *err) BERTH_WUR;
/* the config blob of a resolved image into im->config (verified) */
int berth_registry_get_config(struct berth_registry *r, const char *repo, struct berth_registry_image *im,
                              berth_error_t *err) BERTH_WUR;
/* GET a small blob (config) whole, verified */
int berth_registry_get_blob(struct berth_registry *r, const char *repo, const struct berth_descriptor *d,
                            size_t max, char **data, size_t *len, berth_error_t *err) BERTH_WUR;
/* every tag (following Link: rel="next"), NULL-terminated */
int berth_registry_list_tags(struct berth_registry *r, const char *repo, char ***tags,
                             berth_error_t *err) BERTH_WUR;

/* ---- progress sink ---- */
struct berth_progress {
  struct berth_progress_view view;
  int fd; /* where to write; -1: no progress at all (--quiet) */
  struct berth_progress_item *items;
  size_t n;
  int64_t last_ms;
};
/* write the current state (tty: at most every 100 ms unless force) */
void berth_progress_flush(struct berth_progress *p, bool force);

/* ---- blob downloads ---- */
struct berth_blob_task {
  const struct berth_descriptor *desc;
  bool store_blob;   /* write it into the store (verified, renamed into place) */
  int extract_dirfd; /* >= 0: apply it as a layer into this directory while it arrives */
  int record_fd;     /* >= 0 with extract_dirfd: its tar-split record goes here (image/tarsplit.h) */
  /* results */
  struct berth_layer_info info; /* extract_dirfd >= 0 */
  const char *unsafe;           /* record_fd >= 0: why the record cannot rebuild the tar, NULL when it can */
  bool done;
};
/* Download the tasks' blobs, max_parallel at a time, each streamed through its digest and size
 * checks into the store and/or the layer extractor; transport errors and 5xx/429 retried with
 * backoff and a Range request for the rest. Either every task is done, or an error (the first)
 * and no blob of a failed task is in the store (a layer directory may be partly written: the
 * caller removes it). progress: items in task order, or NULL. */
int berth_registry_fetch_blobs(struct berth_registry *r, const char *repo, struct berth_store *store,
                               const struct berth_layer_limits *lim, struct berth_blob_task *tasks, size_t n,
                               struct berth_progress *progress, berth_error_t *err) BERTH_WUR;

/* ---- pushes ---- */
struct berth_push_blob {
  char digest[BERTH_DIGEST_LEN + 1];
  uint64_t size;
  int fd;            /* the blob's content, read from offset 0 (pread: shared fds are fine) */
  char **mount_from; /* repositories of this registry that have it (cross-repo mount), or NULL */
  bool probe_only;   /* only find out whether the push can name it: a HEAD in the repository, then in
                        those of mount_from (nothing is mounted or sent); fd unused */
  /* results */
  enum berth_progress_state outcome; /* DONE (uploaded), EXISTS or MOUNTED */
  bool missing;                      /* probe_only: neither the repository nor mount_from has it */
};
/* HEAD each blob, mount it from another repository when one has it, else upload it (one PUT up
 * to chunk_size, PATCH chunks above); in parallel. progress: items in blob order or NULL. */
int berth_registry_push_blobs(struct berth_registry *r, const char *repo, struct berth_push_blob *blobs,
                              size_t n, struct berth_progress *progress, berth_error_t *err) BERTH_WUR;
/* PUT a manifest by tag or digest; digest_out: the registry's Docker-Content-Digest (checked
 * against the content), may be NULL */
int berth_registry_put_manifest(struct berth_registry *r, const char *repo, const char *tag_or_digest,
                                const char *media_type, const char *data, size_t len,
                                char digest_out[BERTH_DIGEST_LEN + 1], berth_error_t *err) BERTH_WUR;

#endif
