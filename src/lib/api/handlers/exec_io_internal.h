/* The attached exec (exec_io.c) and what it shares with h_exec.c. */
#ifndef BERTH_API_HANDLERS_EXEC_IO_INTERNAL_H
#define BERTH_API_HANDLERS_EXEC_IO_INTERNAL_H

#include <jansson.h>

#include "api/conn.h"
#include "engine/containers/containers.h"

/* the hijacked start: takes rec and body */
enum MHD_Result api_exec_hijack(struct api_req *r, json_t *rec, json_t *body);
/* the runtime's input from a record and a start body (args, env: vectors the caller frees) */
void api_exec_start_in(json_t *rec, json_t *body, struct berth_ctr_exec_in *in, char ***args, char ***env);
/* Running/Pid/ExitCode written to the record */
void api_exec_record(struct berth_engine *e, json_t *rec, bool running, int64_t pid, int code);

#endif
