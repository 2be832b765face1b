/* Exec instances (exec_store.c, h_exec.c): records between create, start and inspect. */
#ifndef BERTH_API_HANDLERS_EXEC_INTERNAL_H
#define BERTH_API_HANDLERS_EXEC_INTERNAL_H

#include <jansson.h>

#include "api/conn.h"

/* <runroot>/api/exec/<id>.json: "no such exec instance" when absent */
json_t *api_exec_load(struct berth_engine *e, const char *id, berth_error_t *err) BERTH_WUR;
int api_exec_save(struct berth_engine *e, json_t *rec, berth_error_t *err) BERTH_WUR;
/* records a day old go */
void api_exec_gc(struct berth_engine *e);
/* Docker's exec inspect object of a record (new reference) */
json_t *api_exec_inspect_json(json_t *rec);
/* where a running exec with a terminal listens for resizes */
char *api_exec_sock_path(struct berth_engine *e, const char *id);

#endif
