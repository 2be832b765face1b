/* Exec instances between their create and their inspect: Docker keeps them in the daemon's
 * memory; the service has no memory across connections (each is a process), so they are small
 * JSON files in <runroot>/api/exec/<id>.json (a tmpfs), written aside and renamed. They go with
 * the machine's reboot, or a day after their process ended. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/handlers/exec_internal.h"
#include "base/cleanup.h"
#include "base/fs.h"
#include "base/xalloc.h"

static bool id_ok(const char *id)
{
  size_t n = strlen(id);
  if (n != BERTH_CTR_ID_LEN)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
      return false;
  return true;
}

static char *path_of(struct berth_engine *e, const char *id, const char *ext)
{
  cleanup_free char *dir = api_state_dir(e, "exec");
  return xasprintf("%s/%s%s", dir, id, ext);
}

char *api_exec_sock_path(struct berth_engine *e, const char *id) { return path_of(e, id, ".sock"); }

json_t *api_exec_load(struct berth_engine *e, const char *id, berth_error_t *err)
{
  if (!id_ok(id)) {
    BERTH_ERR(err, "no such exec instance: `%s`", id);
    return NULL;
  }
  cleanup_free char *path = path_of(e, id, ".json");
  json_error_t je;
  json_t *o = json_load_file(path, 0, &je);
  if (o == NULL)
    BERTH_ERR(err, "no such exec instance: `%s`", id);
  return o;
}

int api_exec_save(struct berth_engine *e, json_t *rec, berth_error_t *err)
{
  const char *id = json_string_value(json_object_get(rec, "ID"));
  if (id == NULL || !id_ok(id))
    return BERTH_ERR(err, "exec record without an id");
  cleanup_free char *path = path_of(e, id, ".json");
  cleanup_free char *text = json_dumps(rec, JSON_COMPACT);
  return berth_write_file_atomic(path, text, strlen(text), 0600, err);
}

void api_exec_gc(struct berth_engine *e)
{
  cleanup_free char *dir = api_state_dir(e, "exec");
  cleanup_dir DIR *d = opendir(dir);
  struct dirent *de;
  time_t now = time(NULL);
  while (d && (de = readdir(d)) != NULL) {
    size_t n = strlen(de->d_name);
    if (n < 6 || strcmp(de->d_name + n - 5, ".json") != 0)
      continue;
    cleanup_free char *p = xasprintf("%s/%s", dir, de->d_name);
    struct stat st;
    if (stat(p, &st) == 0 && now - st.st_mtime > 86400)
      unlink(p);
  }
}

json_t *api_exec_inspect_json(json_t *rec)
{
  json_t *cmd = json_object_get(rec, "Cmd");
  json_t *args = json_array();
  size_t i;
  json_t *w;
  json_array_foreach (cmd, i, w)
    if (i > 0)
      json_array_append(args, w);
  json_t *code = json_object_get(rec, "ExitCode");
  return json_pack("{s:O, s:O, s:O, s:{s:O, s:O, s:o, s:O, s:O}, s:O, s:O, s:O, s:b, s:O, s:s, s:O}", "ID",
                   json_object_get(rec, "ID"), "Running", json_object_get(rec, "Running"), "ExitCode",
                   code ? code : json_null(), "ProcessConfig", "tty", json_object_get(rec, "Tty"),
                   "entrypoint", json_array_get(cmd, 0), "arguments", args, "privileged",
                   json_object_get(rec, "Privileged"), "user", json_object_get(rec, "User"), "OpenStdin",
                   json_object_get(rec, "AttachStdin"), "OpenStdout", json_object_get(rec, "AttachStdout"),
                   "OpenStderr", json_object_get(rec, "AttachStderr"), "CanRemove", 0, "ContainerID",
                   json_object_get(rec, "ContainerID"), "DetachKeys", "", "Pid", json_object_get(rec, "Pid"));
}
