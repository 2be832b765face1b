/* Jobs: engine work that streams (logs, pulls, archives, save and load) runs in a forked child
 * of the connection's process, with an engine handle of its own and pipes for its input and
 * output; it reports success or its error on a sync channel (base/sync.h) and _exits. The
 * connection's process copies between the pipes and the client, and notices the client
 * leaving; a job whose reader went away fails on its next write (SIGPIPE is ignored). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api/conn.h"
#include "base/cleanup.h"
#include "base/sync.h"

#define JOB_DONE 0x10B0D0u

static void close_pair(int p[2])
{
  for (int i = 0; i < 2; i++)
    if (p[i] >= 0)
      close(p[i]);
}

static void run_child(struct api_req *r, api_job_fn *fn, void *data, int in, int out, int sock)
{
  berth_error_t err = NULL;
  struct berth_engine *e = NULL;
  close(r->c->fd); /* the client is the connection process's to talk to */
  signal(SIGTERM, SIG_DFL);
  if (berth_engine_open(&r->c->o->engine, &e, &err) < 0 || fn(e, data, in, out, &err) < 0) {
    berth_sync_send_error(sock, &err);
  } else {
    berth_error_t ignore = NULL;
    if (berth_sync_send(sock, JOB_DONE, 0, NULL, 0, -1, &ignore) < 0)
      berth_error_release(&ignore);
  }
  if (out >= 0)
    close(out);
  berth_engine_close(e);
  _exit(0);
}

int api_job_start(struct api_req *r, api_job_fn *fn, void *data, int *in_fd, int *out_fd, struct api_job *j,
                  berth_error_t *err)
{
  int in[2] = { -1, -1 }, out[2] = { -1, -1 }, sync[2] = { -1, -1 };
  j->pid = -1;
  j->sock = -1;
  if ((in_fd && pipe2(in, O_CLOEXEC) < 0) || (out_fd && pipe2(out, O_CLOEXEC) < 0) ||
      berth_sync_pair(sync, err) < 0) {
    if (err && *err == NULL)
      BERTH_ERR_ERRNO(err, "job: pipe");
    close_pair(in), close_pair(out), close_pair(sync);
    return -1;
  }
  pid_t pid = fork();
  if (pid < 0) {
    close_pair(in), close_pair(out), close_pair(sync);
    return BERTH_ERR_ERRNO(err, "job: fork");
  }
  if (pid == 0) {
    if (in[1] >= 0)
      close(in[1]);
    if (out[0] >= 0)
      close(out[0]);
    close(sync[0]);
    run_child(r, fn, data, in[0], out[1], sync[1]);
  }
  close(sync[1]);
  if (in[0] >= 0)
    close(in[0]);
  if (out[1] >= 0)
    close(out[1]);
  j->pid = pid;
  j->sock = sync[0];
  if (in_fd)
    *in_fd = in[1];
  if (out_fd)
    *out_fd = out[0];
  return 0;
}

int api_job_wait(struct api_job *j, berth_error_t *err)
{
  if (j->pid < 0)
    return 0;
  struct berth_sync_msg msg;
  int r = berth_sync_recv(j->sock, &msg, NULL, err);
  if (r == 0 && msg.type != JOB_DONE)
    r = BERTH_ERR(err, "job: unexpected message");
  close(j->sock);
  int status;
  while (waitpid(j->pid, &status, 0) < 0 && errno == EINTR)
    ;
  j->pid = -1;
  j->sock = -1;
  return r;
}

void api_job_end(struct api_job *j, bool kill_it)
{
  if (j->pid < 0)
    return;
  if (kill_it)
    kill(j->pid, SIGTERM);
  close(j->sock);
  /* a job that was not killed finishes on its own (a pull the client stopped watching); its
   * exit is collected when it is quick, else by whoever inherits it */
  for (int i = 0; i < 20; i++) {
    if (waitpid(j->pid, NULL, WNOHANG) != 0)
      break;
    usleep(kill_it ? 5000 : 1000);
  }
  j->pid = -1;
  j->sock = -1;
}
