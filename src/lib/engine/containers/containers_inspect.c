/* Containers: Docker's `container inspect` object. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "engine/containers/containers_internal.h"
#include "engine/format.h"

/* Go's zero time for "never" */
static json_t *time_json(int64_t ns)
{
  if (ns == 0)
    return json_string("0001-01-01T00:00:00Z");
  cleanup_free char *s = berth_fmt_rfc3339(ns);
  return json_string(s);
}

static json_t *state_json(const struct berth_ctr *c)
{
  enum berth_ctr_state s = c->state;
  bool running = berth_ctr_state_kept(s);
  json_t *o =
    json_pack("{s:s, s:b, s:b, s:b, s:b, s:b, s:I, s:I, s:s, s:o, s:o}", "Status", berth_ctr_state_name(s),
              "Running", running, "Paused", s == BERTH_CTR_PAUSED, "Restarting", s == BERTH_CTR_RESTARTING,
              "OOMKilled", c->row.oom_killed, "Dead", s == BERTH_CTR_DEAD, "Pid",
              (json_int_t) (s == BERTH_CTR_RUNNING || s == BERTH_CTR_PAUSED ? c->row.pid : 0), "ExitCode",
              (json_int_t) c->row.exit_code, "Error", c->row.error, "StartedAt", time_json(c->row.started_at),
              "FinishedAt", time_json(c->row.finished_at));
  if (c->health) /* Docker's State.Health: Status, FailingStreak, the last 5 results */
    json_object_set(o, "Health", c->health);
  return o;
}

/* Path and Args: the command, Entrypoint + Cmd */
static void command_json(json_t *o, json_t *config)
{
  json_t *args = json_array();
  const char *keys[] = { "Entrypoint", "Cmd" };
  for (size_t k = 0; k < 2; k++) {
    size_t i;
    json_t *w;
    json_array_foreach (json_object_get(config, keys[k]), i, w)
      json_array_append(args, w);
  }
  json_t *path = json_array_size(args) ? json_incref(json_array_get(args, 0)) : json_string("");
  if (json_array_size(args))
    json_array_remove(args, 0);
  json_object_set_new(o, "Path", path);
  json_object_set_new(o, "Args", args);
}

static json_t *graph_driver(struct berth_engine *e, const struct berth_ctr *c)
{
  struct berth_db_image img;
  cleanup_strbuf struct berth_strbuf lower = BERTH_STRBUF_INIT;
  berth_error_t ignore = NULL;
  if (berth_db_image_get(e->db, c->row.image_id, &img, &ignore) > 0) {
    for (size_t i = img.nlayers; i-- > 0;) {
      cleanup_free char *dir = berth_store_layer_dir(e->store, img.chain_ids[i]);
      berth_strbuf_printf(&lower, "%s%s/diff", lower.len ? ":" : "", dir ? dir : "?");
    }
    berth_db_image_release(&img);
  }
  berth_error_release(&ignore);
  cleanup_free char *merged = xasprintf("%s/bundle/rootfs", c->dir), *upper = xasprintf("%s/upper", c->dir);
  cleanup_free char *work = xasprintf("%s/work", c->dir);
  return json_pack("{s:{s:s, s:s, s:s, s:s}, s:s}", "Data", "LowerDir", lower.buf ? lower.buf : "",
                   "MergedDir", merged, "UpperDir", upper, "WorkDir", work, "Name", "overlay2");
}

static json_t *mounts_json(struct berth_engine *e, const char *id)
{
  json_t *a = json_array();
  struct berth_db_mount *m = NULL;
  size_t n = 0;
  berth_error_t ignore = NULL;
  if (berth_db_container_mounts(e->db, id, &m, &n, &ignore) < 0) {
    berth_error_release(&ignore);
    return a;
  }
  for (size_t i = 0; i < n; i++) {
    json_t *o = json_pack("{s:s}", "Type", m[i].type);
    if (*m[i].volume)
      json_object_set_new(o, "Name", json_string(m[i].volume));
    json_object_set_new(o, "Source", json_string(m[i].source));
    json_object_set_new(o, "Destination", json_string(m[i].destination));
    if (*m[i].volume)
      json_object_set_new(o, "Driver", json_string("local"));
    json_object_set_new(o, "Mode", json_string(m[i].mode));
    json_object_set_new(o, "RW", json_boolean(m[i].rw));
    json_object_set_new(o, "Propagation", json_string(m[i].propagation));
    json_array_append_new(a, o);
  }
  berth_db_mounts_free(m, n);
  return a;
}

/* Docker's NetworkSettings (engine/networks); SandboxKey: the namespace while a monitor holds it */
static json_t *network_settings(struct berth_engine *e, const struct berth_ctr *c)
{
  berth_error_t ignore = NULL;
  json_t *s = berth_networks_settings(e, c->row.id, c->host_config, &ignore);
  berth_error_release(&ignore);
  if (s == NULL)
    s = json_object();
  if (berth_ctr_state_kept(c->state) && ctr_uses_networks(e, c)) {
    cleanup_free char *netns = ctr_netns_path(e, c->row.id);
    cleanup_free char *key = xasprintf("/proc/%lld/root%s", (long long) c->row.monitor_pid, netns);
    json_object_set_new(s, "SandboxKey", json_string(key));
  }
  return s;
}

static json_t *inspect_loaded(struct berth_engine *e, const struct berth_ctr *c)
{
  json_t *o = json_object();
  cleanup_free char *log = berth_ctr_log_path(e, c->row.id);
  cleanup_free char *resolv = xasprintf("%s/resolv.conf", c->dir),
                    *hostname = xasprintf("%s/hostname", c->dir);
  cleanup_free char *hosts = xasprintf("%s/hosts", c->dir), *name = xasprintf("/%s", c->row.name);
  json_object_set_new(o, "Id", json_string(c->row.id));
  json_object_set_new(o, "Created", time_json(c->row.created));
  command_json(o, c->config);
  json_object_set_new(o, "State", state_json(c));
  json_object_set_new(o, "Image", json_string(c->row.image_id));
  json_object_set_new(o, "ResolvConfPath", json_string(resolv));
  json_object_set_new(o, "HostnamePath", json_string(hostname));
  json_object_set_new(o, "HostsPath", json_string(hosts));
  json_object_set_new(o, "LogPath", json_string(log));
  json_object_set_new(o, "Name", json_string(name));
  json_object_set_new(o, "RestartCount", json_integer(c->row.restart_count));
  json_object_set_new(o, "Driver", json_string("overlay2"));
  json_object_set_new(o, "Platform", json_string("linux"));
  json_object_set_new(o, "MountLabel", json_string(""));
  json_object_set_new(o, "ProcessLabel", json_string(""));
  json_object_set_new(o, "AppArmorProfile", json_string(""));
  json_object_set_new(o, "ExecIDs", json_null());
  json_object_set(o, "HostConfig", c->host_config);
  json_object_set_new(o, "GraphDriver", graph_driver(e, c));
  json_object_set_new(o, "Mounts", mounts_json(e, c->row.id));
  json_object_set(o, "Config", c->config);
  json_object_set_new(o, "NetworkSettings", network_settings(e, c));
  return o;
}

json_t *berth_ctr_inspect(struct berth_engine *e, const char *what, berth_error_t *err)
{
  struct berth_ctr c;
  if (berth_ctr_get(e, what, &c, err) < 0)
    return NULL;
  json_t *o = inspect_loaded(e, &c);
  berth_ctr_release(&c);
  return o;
}
