/* Work in a forked child: a callback of ours (child.h). Programs: child_exec.c. */
#include "base/child.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/child_internal.h"

int berth_child_status_error(const char *what, int status, berth_error_t *err)
{
  if (WIFSIGNALED(status))
    return BERTH_ERR(err, "%s was killed by signal %d (%s)", what, WTERMSIG(status),
                     strsignal(WTERMSIG(status)));
  return BERTH_ERR(err, "%s exited with status %d", what, WIFEXITED(status) ? WEXITSTATUS(status) : status);
}

int child_reap(pid_t pid)
{
  int st = 0;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR)
      return 0;
  return st;
}

static __attribute__((noreturn)) void child_main(berth_child_fn *fn, void *data, int sock)
{
  berth_error_t e = NULL;
  if (fn(data, sock, &e) < 0) {
    if (e == NULL)
      BERTH_ERR(&e, "failed without a message");
    berth_sync_send_error(sock, &e);
    _exit(1);
  }
  /* the parent may have closed the channel already (a child that held until it did) */
  berth_ignore(berth_sync_send(sock, BERTH_CHILD_DONE, 0, NULL, 0, -1, BERTH_IGNORED));
  _exit(0);
}

int berth_child_start(const char *what, berth_child_fn *fn, void *data, struct berth_child *c,
                      berth_error_t *err)
{
  *c = (struct berth_child){ .pid = -1, .sock = -1, .what = what };
  int sv[2];
  if (berth_sync_pair(sv, err) < 0)
    return -1;
  pid_t pid = fork();
  if (pid == 0) {
    close(sv[0]);
    child_main(fn, data, sv[1]);
  }
  close(sv[1]);
  if (pid < 0) {
    close(sv[0]);
    return BERTH_ERR_ERRNO(err, "%s: fork", what);
  }
  c->pid = pid;
  c->sock = sv[0];
  return 0;
}

/* a message from the child: 0, or 1 when it ended without one (reaped, its status in *status),
 * or < 0 with its error */
static BERTH_WUR int recv_report(struct berth_child *c, struct berth_sync_msg *msg, int *fd, int *status,
                                 berth_error_t *err)
{
  int r = c->sock < 0 ? 1 : berth_sync_recv_or_eof(c->sock, msg, fd, err);
  if (r < 0 && msg->type == BERTH_SYNC_ERROR && *err != NULL)
    (*err)->errnum = msg->value; /* the child's errno (the wire carries it; sync.c drops it) */
  if (r == 1) {
    *status = child_reap(c->pid);
    c->pid = -1;
  }
  return r;
}

int berth_child_recv(struct berth_child *c, uint32_t type, struct berth_sync_msg *msg, int *fd,
                     berth_error_t *err)
{
  int status = 0;
  int r = recv_report(c, msg, fd, &status, err);
  if (r == 1)
    return berth_child_status_error(c->what, status, err);
  if (r == 0 && msg->type != type) {
    if (fd && *fd >= 0) {
      close(*fd);
      *fd = -1;
    }
    return BERTH_ERR(err, "%s: unexpected message %#x", c->what, (unsigned) msg->type);
  }
  return r;
}

int berth_child_wait(struct berth_child *c, berth_error_t *err)
{
  struct berth_sync_msg msg;
  int status = 0;
  int r = recv_report(c, &msg, NULL, &status, err);
  if (r == 1)
    r = berth_child_status_error(c->what, status, err);
  else if (r == 0 && msg.type != BERTH_CHILD_DONE)
    r = BERTH_ERR(err, "%s: unexpected message %#x", c->what, (unsigned) msg.type);
  berth_child_release(c);
  return r;
}

int berth_child_run(const char *what, berth_child_fn *fn, void *data, berth_error_t *err)
{
  struct berth_child c;
  if (berth_child_start(what, fn, data, &c, err) < 0)
    return -1;
  return berth_child_wait(&c, err);
}

void berth_child_release(struct berth_child *c)
{
  if (c->sock >= 0)
    close(c->sock);
  if (c->pid > 0)
    child_reap(c->pid);
  c->sock = -1;
  c->pid = -1;
}

void berth_child_hold(int sock)
{
  char b;
  while (recv(sock, &b, 1, 0) < 0 && errno == EINTR)
    ;
}
