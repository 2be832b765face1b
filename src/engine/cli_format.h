/* --format and inspect -f of the commands: docker/cli's formatter.Context (list commands: json,
 * "table TEMPLATE", TEMPLATE) and TemplateInspector (inspect -f) over the template engine of
 * src/lib/format. A command's default table (no --format, or a bare "table") stays its own. */
#ifndef BERTH_ENGINE_CLI_FORMAT_H
#define BERTH_ENGINE_CLI_FORMAT_H

#include <stdbool.h>

#include <jansson.h>

#include "base/error.h"
#include "cli.h"

/* a list command's rows as Docker's CLI gives them to templates */
struct cli_list_format {
  const char *type;   /* Docker's context type, named by errors: "*formatter.ContainerContext" */
  const char *header; /* JSON object: each field's column title in a "table ..." format */
};

/* labels (an object) as Docker's list rows show them: "k=v,k2=v2", sorted by key when `sorted`
 * (volumes, networks), else in their order (containers) */
char *cli_labels_text(json_t *labels, bool sorted);
/* no --format, or a bare "table": the command prints its own default table */
bool cli_format_is_default(const char *format);
/* Print rows (objects, one per line) through the user's format ("json", "table TEMPLATE",
 * TEMPLATE). labels: NULL, or an array parallel to rows of each row's labels (an object), what
 * .Label "key" reads. Nothing is printed when a row fails (Docker's behaviour). */
int cli_format_list(struct cmd_ctx *ctx, const char *format, const struct cli_list_format *f, json_t *rows,
                    json_t *labels, berth_error_t *err);
/* inspect -f: objects (an array) as an indented JSON array (no format), a compact one ("json") or
 * each through the template, a line each; a failing object is reported after the others'
 * output and makes the status 1; a template that does not parse: 64, nothing printed. Errors
 * are printed here. Returns the exit status. */
int cli_format_inspect(struct cmd_ctx *ctx, const char *format, json_t *objects);

#endif
