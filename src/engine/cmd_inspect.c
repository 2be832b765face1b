/* berth image inspect / berth inspect: Docker's JSON array; -f with a small template subset */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "cli.h"
#include "engine/images/images.h"

static json_t *lookup(json_t *v, const char *path)
{
  cleanup_free char *p = xstrdup(path);
  char *save = NULL;
  for (char *k = strtok_r(p, ".", &save); k && v; k = strtok_r(NULL, ".", &save))
    v = json_is_object(v) ? json_object_get(v, k) : NULL;
  return v;
}

static void put_value(struct berth_strbuf *out, json_t *v, bool as_json)
{
  if (v == NULL) {
    berth_strbuf_puts(out, "<no value>");
    return;
  }
  if (!as_json && json_is_string(v)) {
    berth_strbuf_puts(out, json_string_value(v));
    return;
  }
  if (!as_json && json_is_array(v)) { /* Go prints a slice of strings as [a b] */
    berth_strbuf_putc(out, '[');
    for (size_t i = 0; i < json_array_size(v); i++) {
      if (i)
        berth_strbuf_putc(out, ' ');
      put_value(out, json_array_get(v, i), !json_is_string(json_array_get(v, i)));
    }
    berth_strbuf_putc(out, ']');
    return;
  }
  char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
  berth_strbuf_puts(out, s ? s : "null");
  free(s);
}

/* "{{.Id}} {{json .Config.Env}}": fields and json of fields */
int cli_render_template(const char *tmpl, json_t *obj, char **out, berth_error_t *err)
{
  cleanup_strbuf struct berth_strbuf b = BERTH_STRBUF_INIT;
  for (const char *p = tmpl; *p;) {
    const char *open = strstr(p, "{{");
    if (open == NULL) {
      berth_strbuf_puts(&b, p);
      break;
    }
    berth_strbuf_append(&b, p, (size_t) (open - p));
    const char *close = strstr(open, "}}");
    if (close == NULL)
      return BERTH_ERR(err, "template `%s`: unclosed action", tmpl);
    cleanup_free char *expr = xstrndup(open + 2, (size_t) (close - open - 2));
    char *e = expr + strspn(expr, " ");
    for (size_t n = strlen(e); n && e[n - 1] == ' '; n--)
      e[n - 1] = '\0';
    bool as_json = strncmp(e, "json ", 5) == 0;
    if (as_json)
      e += 5 + strspn(e + 5, " ");
    if (e[0] != '.')
      return BERTH_ERR(err, "template `%s`: unsupported action `%s` (supported: .Field.Sub, json .Field)",
                       tmpl, expr);
    put_value(&b, e[1] ? lookup(obj, e + 1) : obj, as_json);
    p = close + 2;
  }
  *out = berth_strbuf_detach(&b);
  return 0;
}

int cmd_image_inspect(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  const char *format = NULL;
  const struct berth_cli_opt opts[] = {
    { "format", 'f', BERTH_CLI_STRING, &format, "string",
      "Format output using a template ({{.Id}}, {{json .Config}})" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r = cli_parse(ctx, argc, argv, opts, "berth image inspect [OPTIONS] IMAGE [IMAGE...]",
                    "Display detailed information on one or more images", err);
  if (r != 0 || cli_want_args(ctx, 1, -1, "IMAGE", err) < 0)
    return r > 0 ? 0 : -1;
  struct berth_engine *e = NULL;
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  json_t *all = json_array();
  int status = 0;
  for (int i = 0; i < ctx->argc; i++) {
    berth_error_t one = NULL;
    json_t *o = berth_images_inspect(e, ctx->argv[i], &one);
    if (o == NULL) {
      fprintf(stderr, "berth: %s\n", one->msg);
      berth_error_release(&one);
      status = 1;
      continue;
    }
    json_array_append_new(all, o);
  }
  berth_engine_close(e);
  for (size_t i = 0; format && i < json_array_size(all) && status >= 0; i++) {
    cleanup_free char *line = NULL;
    if (cli_render_template(format, json_array_get(all, i), &line, err) < 0)
      status = -1;
    else
      puts(line);
  }
  if (format == NULL)
    cli_print_json(all);
  json_decref(all);
  return status;
}
