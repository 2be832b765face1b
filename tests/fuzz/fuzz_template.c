/* Fuzz the Go-template engine (src/lib/format): the input is a template, then optionally a NUL
 * and a JSON document. The template runs over the document as plain JSON (Go maps), as an
 * inspect document (structs with map rules), and through docker's writer as a row with a
 * method and a table header; the output goes through the tabwriter. Invariants: a failure
 * always comes with a message in Go's shape ("template: :L..."), output stays bounded. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "format/format.h"

static json_t *label(json_t *row, const char *const *args, void *data, berth_error_t *err)
{
  if (strcmp(args[0], "fail") == 0) {
    BERTH_ERR(err, "no label \"fail\"");
    return NULL;
  }
  json_t *v = json_object_get(row, args[0]);
  return v && json_is_string(v) ? json_incref(v) : json_string("");
}

static const struct berth_format_method methods[] = { { "Label", 1, label }, { NULL, 0, NULL } };
static const struct berth_format_map maps[] = { { "Labels", true },
                                                { "Config.Volumes", false },
                                                { NULL, false } };
static const struct berth_format_type doc_type = { .maps = maps };
static const struct berth_format_type row_type = { .name = "*formatter.Row",
                                                   .methods = methods,
                                                   .sorted_json = true };

static void check_error(int r, berth_error_t *err)
{
  if (r < 0 && (*err == NULL || strncmp((*err)->msg, "template", 8) != 0))
    abort();
  if (r == 0 && *err != NULL)
    abort();
  berth_error_release(err);
}

static void run_writer(const char *tmpl, json_t *data)
{
  struct berth_format_writer w;
  berth_error_t err = NULL;
  char *format = xasprintf("table %s", tmpl);
  json_t *header = json_pack("{s:s, s:s}", "ID", "CONTAINER ID", "Names", "NAMES");
  int r = berth_format_writer_init(&w, format, &row_type, header, &err);
  check_error(r, &err);
  if (r == 0) {
    json_t *row = json_is_object(data) ? json_incref(data) : json_pack("{s:s}", "ID", "abc");
    check_error(berth_format_writer_add(&w, row, &err), &err);
    check_error(berth_format_writer_add(&w, row, &err), &err);
    json_decref(row);
    struct berth_strbuf out = BERTH_STRBUF_INIT;
    berth_format_writer_finish(&w, &out);
    berth_strbuf_release(&out);
    berth_format_writer_release(&w);
  }
  json_decref(header);
  free(format);
}

int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
  if (size > 4096)
    return 0;
  char *in = xstrndup((const char *) bytes, size);
  size_t tlen = strlen(in);
  json_t *data = NULL;
  if (tlen < size) {
    json_error_t je;
    data = json_loadb((const char *) bytes + tlen + 1, size - tlen - 1, JSON_DECODE_ANY, &je);
  }
  struct berth_format_template *t = NULL;
  berth_error_t err = NULL;
  int r = berth_format_parse(in, &t, &err);
  check_error(r, &err);
  if (r == 0) {
    const struct berth_format_type *types[] = { NULL, &doc_type };
    for (size_t i = 0; i < 2; i++) {
      struct berth_strbuf out = BERTH_STRBUF_INIT;
      check_error(berth_format_exec(t, data, types[i], &out, &err), &err);
      if (out.len > (64u << 20) + (1u << 21))
        abort();
      struct berth_strbuf aligned = BERTH_STRBUF_INIT;
      if (out.len < 65536)
        berth_format_tabwrite(out.buf ? out.buf : "", out.len, 10, 3, &aligned);
      berth_strbuf_release(&aligned);
      berth_strbuf_release(&out);
    }
    berth_format_free(t);
    run_writer(in, data);
  }
  if (data)
    json_decref(data);
  free(in);
  return 0;
}
