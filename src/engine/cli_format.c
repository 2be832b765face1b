/* docker/cli's formatter.Context and TemplateInspector for berth's commands. */
#include "cli_format.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "format/format.h"

/* .Label "key" of a row: the row's labels (its data) */
static json_t *row_label(json_t *row, const char *const *args, void *data, berth_error_t *err)
{
  json_t *v = data ? json_object_get((json_t *) data, args[0]) : NULL;
  return json_string(v && json_is_string(v) ? json_string_value(v) : "");
}

static const struct berth_format_method row_methods[] = {
  { "Label", 1, row_label },
  { NULL, 0, NULL },
};

/* the Go maps of Docker's inspect structs (Labels, Options, ... map[string]string; ports,
 * networks, volumes, a network's containers); every other object is a struct */
static const struct berth_format_map inspect_maps[] = {
  { "Labels", true },
  { "Options", true },
  { "DriverOpts", true },
  { "Annotations", true },
  { "Sysctls", true },
  { "Tmpfs", true },
  { "StorageOpt", true },
  { "LogConfig.Config", true },
  { "GraphDriver.Data", true },
  { "ExposedPorts", false },
  { "Volumes", false },
  { "PortBindings", false },
  { "NetworkSettings.Ports", false },
  { "NetworkSettings.Networks", false },
  { "Containers", false },
  { "Status", false },
  { NULL, false },
};
static const struct berth_format_type inspect_type = { .maps = inspect_maps };

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *) a, *(char *const *) b); }

char *cli_labels_text(json_t *labels, bool sorted)
{
  size_t n = json_is_object(labels) ? json_object_size(labels) : 0, i = 0;
  char **kv = xcalloc(n + 1, sizeof *kv);
  const char *k;
  json_t *v;
  if (n)
    json_object_foreach (labels, k, v)
      kv[i++] = xasprintf("%s=%s", k, json_is_string(v) ? json_string_value(v) : "");
  if (sorted)
    qsort(kv, n, sizeof *kv, cmp_str);
  struct berth_strbuf b = BERTH_STRBUF_INIT;
  berth_strbuf_append(&b, "", 0);
  for (i = 0; i < n; i++) {
    berth_strbuf_printf(&b, "%s%s", i ? "," : "", kv[i]);
    free(kv[i]);
  }
  free(kv);
  return berth_strbuf_detach(&b);
}

bool cli_format_is_default(const char *format)
{
  return format == NULL || *format == '\0' || strcmp(format, "table") == 0;
}

int cli_format_list(struct cmd_ctx *ctx, const char *format, const struct cli_list_format *f, json_t *rows,
                    json_t *labels, berth_error_t *err)
{
  const struct berth_format_type type = { .name = f->type, .methods = row_methods, .sorted_json = true };
  json_t *header = json_loads(f->header, 0, NULL);
  struct berth_format_writer w;
  int r = berth_format_writer_init(&w, format, &type, header, err);
  json_decref(header);
  if (r < 0)
    return berth_error_wrap(err, "%s", ctx->path);
  size_t i;
  json_t *row;
  json_array_foreach (rows, i, row) {
    json_t *l = labels ? json_array_get(labels, i) : NULL;
    if (berth_format_writer_add_data(&w, row, l, err) < 0) {
      berth_format_writer_release(&w);
      return berth_error_wrap(err, "%s", ctx->path);
    }
  }
  berth_format_writer_print(&w, stdout);
  berth_format_writer_release(&w);
  return 0;
}

static int inspect_json(const char *format, json_t *objects)
{
  if (format == NULL || *format == '\0') {
    cli_print_json(objects);
    return 0;
  }
  char *s = json_dumps(objects, JSON_COMPACT | JSON_PRESERVE_ORDER);
  puts(s ? s : "[]");
  free(s);
  return 0;
}

int cli_format_inspect(struct cmd_ctx *ctx, const char *format, json_t *objects)
{
  if (format == NULL || *format == '\0' || strcmp(format, "json") == 0)
    return inspect_json(format, objects);
  cleanup_format_template struct berth_format_template *t = NULL;
  berth_error_t err = NULL;
  if (berth_format_parse(format, &t, &err) < 0) {
    fprintf(stderr, "%s: template parsing error: %s\n", ctx->path, err->msg);
    berth_error_release(&err);
    return 64;
  }
  cleanup_strbuf struct berth_strbuf out = BERTH_STRBUF_INIT, errors = BERTH_STRBUF_INIT;
  size_t i;
  json_t *o;
  json_array_foreach (objects, i, o) {
    struct berth_strbuf one = BERTH_STRBUF_INIT;
    if (berth_format_exec(t, o, &inspect_type, &one, &err) < 0) {
      berth_strbuf_printf(&errors, "%s: template parsing error: %s\n", ctx->path, err->msg);
      berth_error_release(&err);
    } else {
      berth_strbuf_append(&out, one.buf ? one.buf : "", one.len);
      berth_strbuf_putc(&out, '\n');
    }
    berth_strbuf_release(&one);
  }
  fwrite(out.len ? out.buf : "\n", 1, out.len ? out.len : 1, stdout);
  if (errors.len)
    fputs(errors.buf, stderr);
  return errors.len ? 1 : 0;
}
