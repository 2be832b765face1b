/* The route table: every endpoint the API knows, in one list that router.c (matching, pure)
 * and dispatch.c (the handlers) expand. X(id, method, pattern, flags): a pattern's "{x}" is
 * one path segment, "{x*}" one or more (image names have slashes). */
#ifndef BERTH_API_ROUTES_H
#define BERTH_API_ROUTES_H

#include "api/api.h"

#define API_FJ BERTH_API_BODY_JSON
#define API_FS BERTH_API_BODY_STREAM
#define API_FU BERTH_API_UNSUPPORTED

#define API_ROUTES(X)                                                                                        \
  X(PING, "GET", "/_ping", 0)                                                                                \
  X(PING_HEAD, "HEAD", "/_ping", 0)                                                                          \
  X(VERSION, "GET", "/version", 0)                                                                           \
  X(INFO, "GET", "/info", 0)                                                                                 \
  X(EVENTS, "GET", "/events", 0)                                                                             \
  X(DF, "GET", "/system/df", 0)                                                                              \
  X(AUTH, "POST", "/auth", API_FJ)                                                                           \
  X(CTR_LIST, "GET", "/containers/json", 0)                                                                  \
  X(CTR_CREATE, "POST", "/containers/create", API_FJ)                                                        \
  X(CTR_PRUNE, "POST", "/containers/prune", 0)                                                               \
  X(CTR_INSPECT, "GET", "/containers/{id}/json", 0)                                                          \
  X(CTR_TOP, "GET", "/containers/{id}/top", 0)                                                               \
  X(CTR_LOGS, "GET", "/containers/{id}/logs", 0)                                                             \
  X(CTR_CHANGES, "GET", "/containers/{id}/changes", 0)                                                       \
  X(CTR_EXPORT, "GET", "/containers/{id}/export", 0)                                                         \
  X(CTR_STATS, "GET", "/containers/{id}/stats", 0)                                                           \
  X(CTR_RESIZE, "POST", "/containers/{id}/resize", 0)                                                        \
  X(CTR_START, "POST", "/containers/{id}/start", API_FJ)                                                     \
  X(CTR_STOP, "POST", "/containers/{id}/stop", 0)                                                            \
  X(CTR_RESTART, "POST", "/containers/{id}/restart", 0)                                                      \
  X(CTR_KILL, "POST", "/containers/{id}/kill", 0)                                                            \
  X(CTR_UPDATE, "POST", "/containers/{id}/update", API_FJ)                                                   \
  X(CTR_RENAME, "POST", "/containers/{id}/rename", 0)                                                        \
  X(CTR_PAUSE, "POST", "/containers/{id}/pause", 0)                                                          \
  X(CTR_UNPAUSE, "POST", "/containers/{id}/unpause", 0)                                                      \
  X(CTR_ATTACH, "POST", "/containers/{id}/attach", 0)                                                        \
  X(CTR_ATTACH_WS, "GET", "/containers/{id}/attach/ws", 0)                                                   \
  X(CTR_WAIT, "POST", "/containers/{id}/wait", 0)                                                            \
  X(CTR_REMOVE, "DELETE", "/containers/{id}", 0)                                                             \
  X(CTR_ARCHIVE_HEAD, "HEAD", "/containers/{id}/archive", 0)                                                 \
  X(CTR_ARCHIVE_GET, "GET", "/containers/{id}/archive", 0)                                                   \
  X(CTR_ARCHIVE_PUT, "PUT", "/containers/{id}/archive", API_FS)                                              \
  X(EXEC_CREATE, "POST", "/containers/{id}/exec", API_FJ)                                                    \
  X(EXEC_START, "POST", "/exec/{id}/start", API_FJ)                                                          \
  X(EXEC_RESIZE, "POST", "/exec/{id}/resize", 0)                                                             \
  X(EXEC_INSPECT, "GET", "/exec/{id}/json", 0)                                                               \
  X(IMG_LIST, "GET", "/images/json", 0)                                                                      \
  X(BUILD, "POST", "/build", API_FS)                                                                         \
  X(BUILD_PRUNE, "POST", "/build/prune", API_FU)                                                             \
  X(IMG_CREATE, "POST", "/images/create", API_FS)                                                            \
  X(IMG_SEARCH, "GET", "/images/search", API_FU)                                                             \
  X(IMG_PRUNE, "POST", "/images/prune", 0)                                                                   \
  X(IMG_GET_ALL, "GET", "/images/get", 0)                                                                    \
  X(IMG_LOAD, "POST", "/images/load", API_FS)                                                                \
  X(IMG_INSPECT, "GET", "/images/{name*}/json", 0)                                                           \
  X(IMG_HISTORY, "GET", "/images/{name*}/history", 0)                                                        \
  X(IMG_PUSH, "POST", "/images/{name*}/push", 0)                                                             \
  X(IMG_TAG, "POST", "/images/{name*}/tag", 0)                                                               \
  X(IMG_GET, "GET", "/images/{name*}/get", 0)                                                                \
  X(IMG_REMOVE, "DELETE", "/images/{name*}", 0)                                                              \
  X(COMMIT, "POST", "/commit", API_FJ)                                                                       \
  X(NET_LIST, "GET", "/networks", 0)                                                                         \
  X(NET_CREATE, "POST", "/networks/create", API_FJ)                                                          \
  X(NET_PRUNE, "POST", "/networks/prune", 0)                                                                 \
  X(NET_INSPECT, "GET", "/networks/{id}", 0)                                                                 \
  X(NET_REMOVE, "DELETE", "/networks/{id}", 0)                                                               \
  X(NET_CONNECT, "POST", "/networks/{id}/connect", API_FJ)                                                   \
  X(NET_DISCONNECT, "POST", "/networks/{id}/disconnect", API_FJ)                                             \
  X(VOL_LIST, "GET", "/volumes", 0)                                                                          \
  X(VOL_CREATE, "POST", "/volumes/create", API_FJ)                                                           \
  X(VOL_PRUNE, "POST", "/volumes/prune", 0)                                                                  \
  X(VOL_INSPECT, "GET", "/volumes/{name}", 0)                                                                \
  X(VOL_UPDATE, "PUT", "/volumes/{name}", API_FU)                                                            \
  X(VOL_REMOVE, "DELETE", "/volumes/{name}", 0)                                                              \
  X(DISTRIBUTION, "GET", "/distribution/{name*}/json", API_FU)                                               \
  X(SESSION, "POST", "/session", API_FU)                                                                     \
  X(GRPC, "POST", "/grpc", API_FU)                                                                           \
  X(SWARM, "GET", "/swarm", API_FU)                                                                          \
  X(SWARM_ANY, "POST", "/swarm/{x*}", API_FU)                                                                \
  X(NODES, "GET", "/nodes", API_FU)                                                                          \
  X(SERVICES, "GET", "/services", API_FU)                                                                    \
  X(TASKS, "GET", "/tasks", API_FU)                                                                          \
  X(SECRETS, "GET", "/secrets", API_FU)                                                                      \
  X(CONFIGS, "GET", "/configs", API_FU)                                                                      \
  X(PLUGINS, "GET", "/plugins", API_FU)                                                                      \
  X(PLUGINS_ANY, "POST", "/plugins/{x*}", API_FU)

enum api_route_id {
#define API_ROUTE_ENUM(id, method, pattern, flags) API_##id,
  API_ROUTES(API_ROUTE_ENUM)
#undef API_ROUTE_ENUM
    API_N_ROUTES
};

#endif
