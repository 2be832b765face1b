/* The resolver (berth_dns_serve) over UDP and TCP, inside a network namespace the test makes:
 * names of the file, forwarding to an upstream (another resolver), failover, SERVFAIL, the end
 * when the names file goes. Skipped without root. */
#include "unit.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "linux/namespaces.h"
#include "net/net.h"

#define CHECK(c)                                                                                             \
  do {                                                                                                       \
    if (!(c)) {                                                                                              \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);                                  \
      _exit(1);                                                                                              \
    }                                                                                                        \
  } while (0)

static struct berth_net_addr A(const char *s) {
  struct berth_net_addr a;
  berth_error_t err = NULL;
  CHECK(berth_net_addr_parse(s, &a, &err) == 0);
  return a;
}

/* a resolver on addr:5300 in a child; returns when it listens */
static pid_t
start_server(const char *addr, const char *names, const char *upstream, uint16_t up_port)
{
  int p[2];
  CHECK(pipe2(p, O_CLOEXEC) == 0);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    close(p[0]);
    struct berth_dns_server_opts o = { .n_listen = 1, .port = 5300, .names_path = names, .ready_fd = p[1] };
    o.listen[0] = A(addr);
    if (upstream) {
      o.upstream[0] = A(upstream);
      o.upstream_port[0] = up_port;
      o.n_upstream = 1;
    }
    berth_error_t err = NULL;
    _exit(berth_dns_serve(&o, &err) < 0 ? 1 : 0);
  }
  close(p[1]);
  char buf[256] = "";
  ssize_t n = read(p[0], buf, sizeof buf - 1);
  close(p[0]);
  if (n <= 0 || strcmp(buf, "ok\n") != 0)
    fprintf(stderr, "resolver on %s: %s\n", addr, buf);
  CHECK(n > 0 && strcmp(buf, "ok\n") == 0);
  return pid;
}

static size_t make_query(uint8_t *buf, uint16_t id, const char *name, uint16_t type)
{
  size_t n = 12;
  memset(buf, 0, 12);
  buf[0] = (uint8_t) (id >> 8);
  buf[1] = (uint8_t) id;
  buf[2] = 0x01;
  buf[5] = 1;
  for (const char *p = name; *p;) {
    size_t l = strcspn(p, ".");
    buf[n++] = (uint8_t) l;
    memcpy(buf + n, p, l);
    n += l;
    p += l + (p[l] == '.');
  }
  buf[n++] = 0;
  buf[n++] = (uint8_t) (type >> 8);
  buf[n++] = (uint8_t) type;
  buf[n++] = 0;
  buf[n++] = 1;
  return n;
}

/* ask server:5300; the rcode, and the first answer's rdata as text into out */
static int ask(const char *server, bool tcp, const char *name, uint16_t type, char *out, size_t cap)
{
  uint8_t q[512], r[1024];
  size_t qn = make_query(q, 0x4242, name, type);
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(5300) };
  inet_pton(AF_INET, server, &sa.sin_addr);
  int fd = socket(AF_INET, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
  struct timeval tv = { .tv_sec = 20 };
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  CHECK(connect(fd, (struct sockaddr *) &sa, sizeof sa) == 0);
  ssize_t n;
  if (tcp) {
    uint8_t pre[2] = { 0, (uint8_t) qn };
    CHECK(write(fd, pre, 2) == 2 && write(fd, q, qn) == (ssize_t) qn);
    size_t have = 0;
    while (have < 2 || have < 2 + (size_t) (r[0] << 8 | r[1])) {
      n = read(fd, r + have, sizeof r - have);
      CHECK(n > 0);
      have += (size_t) n;
    }
    memmove(r, r + 2, have - 2);
    n = (ssize_t) have - 2;
  } else {
    CHECK(send(fd, q, qn, 0) == (ssize_t) qn);
    n = recv(fd, r, sizeof r, 0);
  }
  close(fd);
  CHECK(n >= 12 && r[0] == 0x42 && r[1] == 0x42 && (r[2] & 0x80));
  out[0] = '\0';
  unsigned ancount = (unsigned) (r[6] << 8 | r[7]);
  if (ancount > 0) {
    const uint8_t *rr = r + qn; /* the question is echoed as sent */
    uint16_t rtype = (uint16_t) (rr[2] << 8 | rr[3]), rdlen = (uint16_t) (rr[10] << 8 | rr[11]);
    if (rtype == 1 || rtype == 28)
      inet_ntop(rtype == 1 ? AF_INET : AF_INET6, rr + 12, out, (socklen_t) cap);
    else
      snprintf(out, cap, "%.*s", rdlen > 1 ? rdlen - 2 : 0, (const char *) rr + 13); /* one label */
  }
  return r[3] & 0xf;
}

static void dns_body(void)
{
  char dir[] = "/tmp/berth-dns-XXXXXX", names[64], upnames[64], out[64];
  CHECK(mkdtemp(dir) != NULL);
  snprintf(names, sizeof names, "%s/names", dir);
  snprintf(upnames, sizeof upnames, "%s/upstream", dir);
  berth_error_t err = NULL;
  const char *t1 = "10.1.1.2 fd01::2 web alias1\n";
  const char *t2 = "10.9.9.9 outside.example\n";
  CHECK(berth_write_file_atomic(names, t1, strlen(t1), 0644, &err) == 0);
  CHECK(berth_write_file_atomic(upnames, t2, strlen(t2), 0644, &err) == 0);
  pid_t up = start_server("127.0.0.2", upnames, NULL, 0);
  pid_t srv = start_server("127.0.0.1", names, "127.0.0.2", 5300);
  for (int tcp = 0; tcp < 2; tcp++) {
    CHECK(ask("127.0.0.1", tcp, "web", 1, out, sizeof out) == 0 && strcmp(out, "10.1.1.2") == 0);
    CHECK(ask("127.0.0.1", tcp, "ALIAS1.", 28, out, sizeof out) == 0 && strcmp(out, "fd01::2") == 0);
    CHECK(ask("127.0.0.1", tcp, "2.1.1.10.in-addr.arpa", 12, out, sizeof out) == 0 &&
          strcmp(out, "web") == 0);
    CHECK(ask("127.0.0.1", tcp, "web", 15, out, sizeof out) == 0 && out[0] == '\0'); /* MX: ours, no data */
    /* not ours: the upstream's answer; unknown there too: its SERVFAIL (it has no upstream) */
    CHECK(ask("127.0.0.1", tcp, "outside.example", 1, out, sizeof out) == 0 && strcmp(out, "10.9.9.9") == 0);
    CHECK(ask("127.0.0.1", tcp, "nowhere.example", 1, out, sizeof out) == BERTH_DNS_SERVFAIL);
  }
  /* the names file changes: the next query sees it */
  const char *t3 = "10.1.1.3 web\n";
  CHECK(berth_write_file_atomic(names, t3, strlen(t3), 0644, &err) == 0);
  CHECK(ask("127.0.0.1", false, "web", 1, out, sizeof out) == 0 && strcmp(out, "10.1.1.3") == 0);
  /* an upstream that is not there (port unreachable): SERVFAIL, not a hang */
  pid_t lone = start_server("127.0.0.3", names, "127.0.0.4", 5300);
  CHECK(ask("127.0.0.3", false, "outside.example", 1, out, sizeof out) == BERTH_DNS_SERVFAIL);
  /* the names file goes: the resolvers end by themselves */
  CHECK(unlink(names) == 0);
  int st;
  CHECK(waitpid(srv, &st, 0) == srv && WIFEXITED(st) && WEXITSTATUS(st) == 0);
  CHECK(waitpid(lone, &st, 0) == lone && WIFEXITED(st) && WEXITSTATUS(st) == 0);
  /* SIGTERM ends one too */
  CHECK(kill(up, SIGTERM) == 0 && waitpid(up, &st, 0) == up && WIFEXITED(st) && WEXITSTATUS(st) == 0);
  unlink(upnames);
  rmdir(dir);
}

static void test_dns(void **state)
{
  if (geteuid() != 0) {
    skip();
    return;
  }
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    berth_error_t err = NULL;
    if (unshare(CLONE_NEWNET) < 0 || berth_netns_loopback_up(&err) < 0)
      _exit(3);
    dns_body();
    _exit(0);
  }
  int st = 0;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = { cmocka_unit_test(test_dns) };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
