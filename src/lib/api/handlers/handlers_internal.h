/* What the handlers (h_*.c) share beyond conn_internal.h. */
#ifndef BERTH_API_HANDLERS_HANDLERS_INTERNAL_H
#define BERTH_API_HANDLERS_HANDLERS_INTERNAL_H

#include <jansson.h>
#include <sys/un.h>
#include <stdbool.h>

#include "api/conn.h"
#include "engine/containers/containers.h"
#include "registry/registry.h"

/* the container named by the path's {id} */
int api_ctr_get(struct api_req *r, struct berth_engine **e, struct berth_ctr *c,
                berth_error_t *err) BERTH_WUR;
/* Docker's container summary (GET /containers/json) of a loaded container */
struct api_ports;
json_t *api_ctr_summary(struct berth_engine *e, const struct berth_ctr *c, struct api_ports *ports);
/* the published ports of every container, read once */
struct api_ports *api_ports_load(struct berth_engine *e);
void api_ports_free(struct api_ports *p);
/* every summary matching the filters vector (Docker's keys), newest first */
int api_ctr_select(struct berth_engine *e, char *const *filters, bool all, int64_t limit, json_t **out,
                   berth_error_t *err) BERTH_WUR;

/* Start, handing the first attach connection to a client waiting for the start (h_attach.c) */
int api_ctr_start(struct berth_engine *e, const char *id, int *code, berth_error_t *err) BERTH_WUR;
/* Clients waiting for a start (attach, wait) listen on <runroot>/api/attach/<id>.<want>.<pid>
 * (api_waiter_listen: the listening socket, *path to unlink); the start hands one of them a
 * connection to the monitor made before the container runs (api_waiter_accept receives it).
 * Whoever sees the EXIT notes the code (<runroot>/api/exit/<id>), for the waits of a container
 * that --rm removed. */
int api_waiter_listen(struct berth_engine *e, const char *id, unsigned want, char **path);
int api_waiter_accept(int listen_fd);
void api_exit_note(struct berth_engine *e, const char *id, int64_t code);
bool api_exit_read(struct berth_engine *e, const char *id, int64_t *code);
/* streams: Docker's content type for a container's output (tty: raw; else multiplexed from 1.42) */
const char *api_stream_ctype(struct api_req *r, bool tty);

/* registries (h_transfer.c): the host of a server address ("https://index.docker.io/v1/" ->
 * docker.io), a login check, the transfer options of a request (X-Registry-Auth) */
char *api_registry_host(const char *server);
/* 200 and a job's JSON messages (one a line on fd) as they come, then {"error": ...} when the
 * job failed; the job is the stream's from here on */
enum MHD_Result api_reply_json_lines(struct api_req *r, int fd, const struct api_job *job);
int api_registry_login(const char *registry, const struct berth_credentials *creds,
                       berth_error_t *err) BERTH_WUR;

/* images (h_images.c): Docker's image summary list */
int api_image_summaries(struct berth_engine *e, bool all, json_t **out, berth_error_t *err) BERTH_WUR;
/* volumes (h_volumes.c): Docker's volume objects, with usage when usage */
int api_volume_list(struct berth_engine *e, char *const *filters, bool usage, json_t **out,
                    berth_error_t *err) BERTH_WUR;

/* write a whole buffer to a socket that may be non-blocking */
int api_sock_write(int fd, const void *data, size_t len);
/* A unix socket's address for path, however long its directory (a store under a long --runroot):
 * /proc/self/fd/<dirfd>/<name>, *dirfd open until the bind, connect or sendto is done (close it
 * after; -1 when path fits as it is). -1 when even that does not fit. */
int api_sun_path(const char *path, struct sockaddr_un *sa, int *dirfd);

#endif
