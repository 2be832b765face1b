/* /_ping, /version, /info, /system/df, /auth, /events, /build: what the service is, said
 * honestly (cgroup version, runtimes, storage driver, security options). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "api/conn.h"
#include "api/handlers/handlers_internal.h"
#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/containers/containers.h"
#include "engine/events/events.h"
#include "engine/images/images.h"
#include "engine/volumes/volumes.h"
#include "registry/registry.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

static enum MHD_Result ping(struct api_req *r)
{
  struct MHD_Response *resp = MHD_create_response_from_buffer(2, (void *) "OK", MHD_RESPMEM_PERSISTENT);
  if (resp == NULL)
    return MHD_NO;
  MHD_add_response_header(resp, "Content-Type", "text/plain; charset=utf-8");
  MHD_add_response_header(resp, "Cache-Control", "no-cache, no-store, must-revalidate");
  MHD_add_response_header(resp, "Pragma", "no-cache");
  MHD_add_response_header(resp, "Builder-Version", "1");
  char v[16];
  snprintf(v, sizeof v, "1.%u", BERTH_API_VERSION_MAX);
  MHD_add_response_header(resp, "Api-Version", v);
  MHD_add_response_header(resp, "Docker-Experimental", "false");
  MHD_add_response_header(resp, "Ostype", "linux");
  MHD_add_response_header(resp, "Server", "berth/" BERTH_VERSION " (linux)");
  enum MHD_Result res = MHD_queue_response(r->mc, 200, resp);
  MHD_destroy_response(resp);
  return res;
}

enum MHD_Result api_h_PING(struct api_req *r) { return ping(r); }
enum MHD_Result api_h_PING_HEAD(struct api_req *r) { return ping(r); }

static const char *go_arch(const char *machine)
{
  if (strcmp(machine, "x86_64") == 0)
    return "amd64";
  if (strcmp(machine, "aarch64") == 0)
    return "arm64";
  return machine;
}

enum MHD_Result api_h_VERSION(struct api_req *r)
{
  struct utsname u;
  uname(&u);
  char api[16], min[16];
  snprintf(api, sizeof api, "1.%u", BERTH_API_VERSION_MAX);
  snprintf(min, sizeof min, "1.%u", BERTH_API_VERSION_MIN);
  json_t *details =
    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "ApiVersion", api, "MinAPIVersion", min, "Os", "linux",
              "Arch", go_arch(u.machine), "KernelVersion", u.release, "GitCommit", "");
  json_t *o = json_pack("{s:{s:s}, s:[{s:s, s:s, s:o}], s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
                        "Platform", "Name", "berth", "Components", "Name", "Engine", "Version", BERTH_VERSION,
                        "Details", details, "Version", BERTH_VERSION, "ApiVersion", api, "MinAPIVersion", min,
                        "GitCommit", "", "GoVersion", "none (C)", "Os", "linux", "Arch", go_arch(u.machine),
                        "KernelVersion", u.release, "BuildTime", "");
  return api_reply_json(r, 200, o);
}

static char *os_name(void)
{
  cleanup_free char *text = NULL;
  size_t len = 0;
  berth_error_t err = NULL;
  if (berth_read_file("/etc/os-release", 65536, &text, &len, &err) < 0) {
    berth_error_release(&err);
    return xstrdup("Linux");
  }
  const char *p = strstr(text, "PRETTY_NAME=");
  if (p == NULL)
    return xstrdup("Linux");
  p += strlen("PRETTY_NAME=");
  size_t n = strcspn(p, "\n");
  if (n >= 2 && p[0] == '"' && p[n - 1] == '"')
    return xstrndup(p + 1, n - 2);
  return xstrndup(p, n);
}

static json_t *runtimes(void)
{
  json_t *o = json_object();
  static const char *const names[] = { "berth-runtime", "runc", "crun" };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(names); i++) {
    berth_error_t err = NULL;
    cleanup_free char *path = berth_ctr_find_runtime(names[i], &err);
    berth_error_release(&err);
    if (path)
      json_object_set_new(o, names[i], json_pack("{s:s}", "path", path));
  }
  return o;
}

static json_t *security_options(bool v2)
{
  json_t *a = json_array();
  json_array_append_new(a, json_string("name=seccomp,profile=builtin"));
  if (access("/sys/kernel/security/apparmor", F_OK) == 0)
    json_array_append_new(a, json_string("name=apparmor"));
  if (access("/sys/fs/selinux/enforce", F_OK) == 0)
    json_array_append_new(a, json_string("name=selinux"));
  if (v2)
    json_array_append_new(a, json_string("name=cgroupns"));
  if (geteuid() != 0)
    json_array_append_new(a, json_string("name=rootless"));
  return a;
}

struct counts {
  int64_t total, running, paused, stopped, images;
};

static BERTH_WUR int count(struct berth_engine *e, struct counts *n, berth_error_t *err)
{
  struct berth_ctr *v = NULL;
  size_t nc = 0;
  memset(n, 0, sizeof *n);
  if (berth_ctr_list(e, &v, &nc, err) < 0)
    return -1;
  for (size_t i = 0; i < nc; i++) {
    n->total++;
    if (v[i].state == BERTH_CTR_RUNNING || v[i].state == BERTH_CTR_RESTARTING)
      n->running++;
    else if (v[i].state == BERTH_CTR_PAUSED)
      n->paused++;
    else
      n->stopped++;
  }
  berth_ctr_list_free(v, nc);
  struct berth_db_image *imgs = NULL;
  size_t ni = 0;
  if (berth_db_image_list(e->db, &imgs, &ni, err) < 0)
    return -1;
  n->images = (int64_t) ni;
  berth_db_image_list_free(imgs, ni);
  return 0;
}

static json_t *info_base(struct berth_engine *e, const struct counts *n)
{
  struct utsname u;
  uname(&u);
  struct sysinfo si;
  sysinfo(&si);
  struct statfs sf;
  bool v2 = statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
  char host[256] = "";
  gethostname(host, sizeof host - 1);
  cleanup_free char *os = os_name();
  char now[64];
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return json_pack(
    "{s:s, s:I, s:I, s:I, s:I, s:I, s:s, s:[[s,s]], s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:I, "
    "s:s, s:s, s:s, s:o, s:s, s:s, s:o}",
    "ID", "berth", "Containers", (json_int_t) n->total, "ContainersRunning", (json_int_t) n->running,
    "ContainersPaused", (json_int_t) n->paused, "ContainersStopped", (json_int_t) n->stopped, "Images",
    (json_int_t) n->images, "Driver", "overlay2", "DriverStatus", "Backing Filesystem", "extfs",
    "LoggingDriver", "k8s-file", "CgroupDriver", "cgroupfs", "CgroupVersion", v2 ? "2" : "1", "KernelVersion",
    u.release, "OperatingSystem", os, "OSType", "linux", "Architecture", u.machine, "NCPU",
    (int) sysconf(_SC_NPROCESSORS_ONLN), "MemTotal", (json_int_t) si.totalram * (json_int_t) si.mem_unit,
    "DockerRootDir", e->root, "Name", host, "ServerVersion", BERTH_VERSION, "Runtimes", runtimes(),
    "DefaultRuntime", "berth-runtime", "SystemTime", now, "SecurityOptions", security_options(v2));
}

enum MHD_Result api_h_INFO(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  struct berth_engine *e = NULL;
  struct counts n;
  if (api_engine(r, &e, &err) < 0 || count(e, &n, &err) < 0)
    return api_reply_err(r, &err);
  json_t *o = info_base(e, &n);
  static const char *const yes[] = { "MemoryLimit", "SwapLimit",      "CpuCfsPeriod",
                                     "CpuCfsQuota", "CPUShares",      "CPUSet",
                                     "PidsLimit",   "IPv4Forwarding", "LiveRestoreEnabled" };
  static const char *const no[] = { "KernelMemory",      "KernelMemoryTCP",  "OomKillDisable",   "Debug",
                                    "ExperimentalBuild", "BridgeNfIptables", "BridgeNfIp6tables" };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(yes); i++)
    json_object_set_new(o, yes[i], json_true());
  for (size_t i = 0; i < BERTH_N_ELEMENTS(no); i++)
    json_object_set_new(o, no[i], json_false());
  json_object_set_new(o, "Plugins",
                      json_pack("{s:[s], s:[s,s,s], s:[s], s:n}", "Volume", "local", "Network", "bridge",
                                "host", "none", "Log", "k8s-file", "Authorization"));
  json_object_set_new(o, "IndexServerAddress", json_string("https://index.docker.io/v1/"));
  json_object_set_new(o, "Swarm",
                      json_pack("{s:s, s:s, s:s, s:s, s:b, s:n}", "NodeID", "", "NodeAddr", "",
                                "LocalNodeState", "inactive", "Error", "", "ControlAvailable", 0,
                                "RemoteManagers"));
  json_object_set_new(o, "RegistryConfig",
                      json_pack("{s:[], s:{}, s:[]}", "InsecureRegistryCIDRs", "IndexConfigs", "Mirrors"));
  json_object_set_new(o, "Labels", json_array());
  json_object_set_new(o, "Warnings", json_array());
  json_object_set_new(o, "Isolation", json_string(""));
  static const char *const commits[] = { "ContainerdCommit", "RuncCommit", "InitCommit" };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(commits); i++)
    json_object_set_new(o, commits[i], json_pack("{s:s}", "ID", ""));
  static const char *const proxies[][2] = { { "HttpProxy", "HTTP_PROXY" },
                                            { "HttpsProxy", "HTTPS_PROXY" },
                                            { "NoProxy", "NO_PROXY" } };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(proxies); i++)
    json_object_set_new(o, proxies[i][0], json_string(getenv(proxies[i][1]) ? getenv(proxies[i][1]) : ""));
  json_object_set_new(o, "InitBinary", json_string("berth-init"));
  json_object_set_new(o, "NEventsListener", json_integer(0));
  json_object_set_new(o, "NFd", json_integer(0));
  json_object_set_new(o, "NGoroutines", json_integer(0));
  return api_reply_json(r, 200, o);
}

enum MHD_Result api_h_AUTH(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  json_t *body = api_body(r, &err);
  if (body == NULL)
    return api_reply_err_status(r, 400, &err);
  const char *user = json_string_value(json_object_get(body, "username"));
  const char *pass = json_string_value(json_object_get(body, "password"));
  const char *server = json_string_value(json_object_get(body, "serveraddress"));
  if (user == NULL || pass == NULL) {
    json_decref(body);
    return api_reply_error(r, 400, "username and password are required");
  }
  cleanup_free char *reg = api_registry_host(server);
  struct berth_credentials creds = { .username = (char *) user, .password = (char *) pass };
  int rc = api_registry_login(reg, &creds, &err);
  json_decref(body);
  if (rc < 0)
    return api_reply_err_status(r, 401, &err);
  return api_reply_json(r, 200, json_pack("{s:s, s:s}", "Status", "Login Succeeded", "IdentityToken", ""));
}

/* ---- /events: the catalogue's events (engine/events), as Docker's JSON messages, one per line ---- */
struct events_job {
  char **filters;
  int64_t since, until;
  int out;
};

static int event_sink(void *data, json_t *event)
{
  struct events_job *j = data;
  char *text = json_dumps(event, JSON_COMPACT);
  if (text == NULL)
    return 0;
  cleanup_free char *line = xasprintf("%s\n", text);
  free(text);
  return berth_write_all(j->out, line, strlen(line));
}

static BERTH_WUR int events_run(struct berth_engine *e, void *data, int in, int out, berth_error_t *err)
{
  struct events_job *j = data;
  cleanup_events_filter struct berth_events_filter *f = NULL;
  (void) in;
  j->out = out;
  if (berth_events_filter_parse(j->filters, &f, err) < 0)
    return -1;
  struct berth_events_opts o = { .since = j->since, .until = j->until, .filter = f };
  return berth_events_stream(e, &o, event_sink, j, err) < 0 ? -1 : 0;
}

static BERTH_WUR int event_time(struct api_req *r, const char *key, int64_t *ns, berth_error_t *err)
{
  const char *v = api_query(r, key);
  *ns = 0;
  if (v == NULL || v[0] == '\0')
    return 0;
  if (berth_events_parse_time(v, api_now_ns(), ns) < 0)
    return BERTH_ERR(err, "invalid value for `%s`: `%s`", key, v);
  if (*ns == 0)
    *ns = 1; /* "since the beginning" is not "from now on" */
  return 0;
}

enum MHD_Result api_h_EVENTS(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  cleanup_strv char **filters = NULL;
  struct events_job j = { 0 };
  cleanup_events_filter struct berth_events_filter *check = NULL;
  if (berth_api_filters_parse(api_query(r, "filters"), &filters, &err) < 0 ||
      berth_events_filter_parse(filters, &check, &err) < 0 || event_time(r, "since", &j.since, &err) < 0 ||
      event_time(r, "until", &j.until, &err) < 0)
    return api_reply_err_status(r, 400, &err);
  j.filters = filters;
  struct api_job job;
  int fd = -1;
  struct berth_engine *e = NULL;
  if (api_engine(r, &e, &err) < 0 || api_job_start(r, events_run, &j, NULL, &fd, &job, &err) < 0)
    return api_reply_err(r, &err);
  struct api_stream_opts so = { .ctype = "application/json", .kill_job = true };
  return api_reply_stream(r, 200, fd, &job, &so);
}

enum MHD_Result api_h_DF(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  struct berth_engine *e = NULL;
  json_t *images = NULL, *ctrs = NULL, *vols = NULL;
  if (api_engine(r, &e, &err) < 0 || api_image_summaries(e, true, &images, &err) < 0 ||
      api_ctr_select(e, NULL, true, -1, &ctrs, &err) < 0 || api_volume_list(e, NULL, true, &vols, &err) < 0) {
    json_decref(images);
    json_decref(ctrs);
    return api_reply_err(r, &err);
  }
  json_int_t layers = 0;
  size_t i;
  json_t *x;
  json_array_foreach (images, i, x)
    layers += json_integer_value(json_object_get(x, "Size"));
  json_array_foreach (ctrs, i, x) {
    json_object_set_new(x, "SizeRw", json_integer(0));
    json_object_set_new(x, "SizeRootFs", json_integer(0));
  }
  return api_reply_json(r, 200,
                        json_pack("{s:I, s:o, s:o, s:o, s:[]}", "LayersSize", layers, "Images", images,
                                  "Containers", ctrs, "Volumes", vols, "BuildCache"));
}
