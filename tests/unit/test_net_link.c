/* src/lib/net, the executors, as root inside network namespaces the test makes (a forked child
 * unshares one as its "host" and one for the "container"): the link plan over rtnetlink, the
 * nftables table and iptables' FORWARD chain, the resolver. Nothing touches the machine's own
 * links or rules. Skipped without root. */
#include "unit.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <nftables/libnftables.h>
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
#include "base/strutil.h"
#include "linux/namespaces.h"
#include "net/net.h"

#define CHECK(c)                                                                                             \
  do {                                                                                                       \
    if (!(c)) {                                                                                              \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);                                  \
      _exit(1);                                                                                              \
    }                                                                                                        \
  } while (0)
#define OK(call)                                                                                             \
  do {                                                                                                       \
    berth_error_t e_ = NULL;                                                                                 \
    if ((call) < 0) {                                                                                        \
      fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call, e_ ? e_->msg : "failed");                \
      _exit(1);                                                                                              \
    }                                                                                                        \
  } while (0)
#define E (&e_)

static struct berth_net_addr A(const char *s) {
  struct berth_net_addr a;
  berth_error_t err = NULL;
  CHECK(berth_net_addr_parse(s, &a, &err) == 0);
  return a;
}

static struct berth_net_prefix
P(const char *s) {
  struct berth_net_prefix p;
  berth_error_t err = NULL;
  CHECK(berth_net_prefix_parse(s, &p, &err) == 0);
  return p;
}

/* run fn in a child inside a fresh network namespace (lo up); the test passes when it exits 0 */
static void
in_netns(void (*fn)(void))
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
    fn();
    _exit(0);
  }
  int st = 0;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 0);
}

/* a second namespace for the "container": its fd; we stay where we were */
static int new_ctr_netns(void)
{
  int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  CHECK(self >= 0 && unshare(CLONE_NEWNET) == 0);
  int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  CHECK(fd >= 0 && setns(self, CLONE_NEWNET) == 0);
  close(self);
  return fd;
}

static void setup_attach(struct berth_net_bridge *br, struct berth_net_attachment *at, const char *veth,
                         const char *addr)
{
  memset(br, 0, sizeof *br);
  br->name = "berthT";
  br->n_subnets = 1;
  br->subnet[0] = P("10.123.0.0/24");
  br->gateway[0] = A("10.123.0.1");
  memset(at, 0, sizeof *at);
  snprintf(at->host_if, sizeof at->host_if, "%s", veth);
  snprintf(at->ctr_if, sizeof at->ctr_if, "eth0");
  at->addr[0] = A(addr);
  at->default_route = true;
  berth_ipam_mac(&at->addr[0], at->mac);
}

/* a datagram from inside ctr_fd to the gateway: the source address the host sees */
static void udp_from_ctr(int ctr_fd, const char *expect_src)
{
  int rx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in gw = { .sin_family = AF_INET, .sin_port = htons(9999) };
  inet_pton(AF_INET, "10.123.0.1", &gw.sin_addr);
  CHECK(rx >= 0 && bind(rx, (struct sockaddr *) &gw, sizeof gw) == 0);
  int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  CHECK(setns(ctr_fd, CLONE_NEWNET) == 0);
  int tx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  CHECK(setns(self, CLONE_NEWNET) == 0);
  close(self);
  CHECK(sendto(tx, "hi", 2, 0, (struct sockaddr *) &gw, sizeof gw) == 2);
  struct sockaddr_in from;
  socklen_t fl = sizeof from;
  char buf[8];
  struct timeval tv = { .tv_sec = 5 };
  setsockopt(rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  CHECK(recvfrom(rx, buf, sizeof buf, 0, (struct sockaddr *) &from, &fl) == 2);
  char src[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &from.sin_addr, src, sizeof src);
  if (strcmp(src, expect_src) != 0)
    fprintf(stderr, "source %s, expected %s\n", src, expect_src);
  CHECK(strcmp(src, expect_src) == 0);
  close(tx);
  close(rx);
}

static void attach_body(void)
{
  int ctr = new_ctr_netns();
  struct berth_net_bridge br;
  struct berth_net_attachment at;
  setup_attach(&br, &at, "bvtest-0", "10.123.0.2");
  struct berth_net_plan p;
  OK(berth_net_plan_attach(&br, &at, &p, E));
  OK(berth_net_plan_run(&p, ctr, E));
  CHECK(berth_net_link_exists("berthT") && berth_net_link_exists("bvtest-0"));
  udp_from_ctr(ctr, "10.123.0.2");
  /* a second container on the same bridge; the bridge is reused */
  int ctr2 = new_ctr_netns();
  setup_attach(&br, &at, "bvtest-1", "10.123.0.3");
  berth_net_plan_free(&p);
  OK(berth_net_plan_attach(&br, &at, &p, E));
  OK(berth_net_plan_run(&p, ctr2, E));
  udp_from_ctr(ctr2, "10.123.0.3");
  /* a veth name taken: an error, and nothing of that run is left (the bridge stays: not made by it) */
  int ctr3 = new_ctr_netns();
  berth_error_t err = NULL;
  CHECK(berth_net_plan_run(&p, ctr3, &err) < 0);
  CHECK(strstr(err->msg, "a link of that name exists") != NULL);
  berth_error_release(&err);
  char **names = NULL;
  OK(berth_net_links_list("bvtest", false, &names, E));
  CHECK(berth_strv_len(names) == 2);
  berth_strv_free(names);
  /* down: listed only without up_only */
  OK(berth_net_link_set_down("bvtest-1", E));
  OK(berth_net_links_list("bvtest", true, &names, E));
  CHECK(berth_strv_len(names) == 1 && strcmp(names[0], "bvtest-0") == 0);
  berth_strv_free(names);
  OK(berth_net_link_set_down("nosuchlink", E));
  /* the bridge goes only once unused */
  bool removed = true;
  OK(berth_net_bridge_remove_unused("berthT", &removed, E));
  CHECK(!removed);
  OK(berth_net_link_delete("bvtest-0", E));
  OK(berth_net_link_delete("bvtest-0", E)); /* missing: fine */
  OK(berth_net_link_delete_in(ctr2, "eth0", E));
  CHECK(!berth_net_link_exists("bvtest-1")); /* its peer went with it */
  OK(berth_net_bridge_remove_unused("berthT", &removed, E));
  CHECK(removed && !berth_net_link_exists("berthT"));
  berth_net_plan_free(&p);
}

static void test_attach(void **state) { in_netns(attach_body); }

static void failed_run_body(void)
{
  int ctr = new_ctr_netns();
  struct berth_net_bridge br;
  struct berth_net_attachment at;
  setup_attach(&br, &at, "bvfail-0", "10.123.0.2");
  /* the container already has an eth0 (a bridge made in there): the veth fails, and the bridge
   * this run made on the host goes too */
  int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  struct berth_net_op op = { .kind = BERTH_NET_OP_BRIDGE, .ifname = "eth0" };
  struct berth_net_plan one = { &op, 1 };
  CHECK(setns(ctr, CLONE_NEWNET) == 0);
  OK(berth_net_plan_run(&one, -1, E));
  CHECK(setns(self, CLONE_NEWNET) == 0);
  close(self);
  struct berth_net_plan p;
  OK(berth_net_plan_attach(&br, &at, &p, E));
  berth_error_t err = NULL;
  CHECK(berth_net_plan_run(&p, ctr, &err) < 0);
  CHECK(strstr(err->msg, "create veth bvfail-0") != NULL);
  berth_error_release(&err);
  CHECK(!berth_net_link_exists("bvfail-0") && !berth_net_link_exists("berthT"));
  berth_net_plan_free(&p);
}

static void test_failed_run(void **state) { in_netns(failed_run_body); }

/* the JSON of `list chain ip filter FORWARD`, parsed */
static void list_forward(struct berth_net_foreign *f)
{
  struct nft_ctx *c = nft_ctx_new(NFT_CTX_DEFAULT);
  nft_ctx_buffer_output(c);
  nft_ctx_buffer_error(c);
  nft_ctx_output_set_flags(c, NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE);
  memset(f, 0, sizeof *f);
  CHECK(nft_run_cmd_from_buffer(c, "list chain ip filter FORWARD") == 0);
  berth_error_t err = NULL;
  CHECK(berth_net_foreign_parse(0, nft_ctx_get_output_buffer(c), f, &err) == 0);
  nft_ctx_free(c);
}

static void nft_body(void)
{
  struct berth_net_rs_net net = { .bridge = "berthT", .n_subnets = 1 };
  net.subnet[0] = P("10.123.0.0/24");
  struct berth_net_rs_port port = {
    .bridge = "berthT", .host_port = 8080, .ctr_ip = A("10.123.0.2"), .ctr_port = 80
  };
  struct berth_net_ruleset rs = { &net, 1, &port, 1 };
  cleanup_free char *script = berth_net_ruleset_render(&rs);
  const char *bridges[] = { "berthT" };
  bool exists = false;
  /* no iptables chain: only our table */
  OK(berth_net_nft_apply(script, bridges, 1, E));
  OK(berth_net_nft_table_exists(&exists, E));
  CHECK(exists);
  OK(berth_net_nft_apply(script, bridges, 1, E)); /* again: replaced, not doubled */
  /* a FORWARD chain with policy drop (as iptables-nft makes it): our accept rules go in once */
  struct nft_ctx *c = nft_ctx_new(NFT_CTX_DEFAULT);
  CHECK(nft_run_cmd_from_buffer(c,
                                "add table ip filter\nadd chain ip filter FORWARD { type filter hook forward "
                                "priority 0; policy drop; }\nadd rule ip filter FORWARD counter") == 0);
  nft_ctx_free(c);
  OK(berth_net_nft_apply(script, bridges, 1, E));
  OK(berth_net_nft_apply(script, bridges, 1, E));
  struct berth_net_foreign f;
  list_forward(&f);
  CHECK(f.has_forward[0] && f.forward_drop[0] && f.n_handles[0] == 2);
  berth_net_foreign_free(&f);
  /* nothing in use: the table and our rules go; iptables' own rule stays */
  struct berth_net_ruleset none = { 0 };
  cleanup_free char *empty = berth_net_ruleset_render(&none);
  OK(berth_net_nft_apply(empty, NULL, 0, E));
  OK(berth_net_nft_table_exists(&exists, E));
  CHECK(!exists);
  list_forward(&f);
  CHECK(f.has_forward[0] && f.n_handles[0] == 0);
  berth_net_foreign_free(&f);
  OK(berth_net_nft_apply(empty, NULL, 0, E)); /* absent already: still fine */
  /* a broken script: an error from libnftables, and the old state stays */
  OK(berth_net_nft_apply(script, bridges, 1, E));
  berth_error_t err = NULL;
  CHECK(berth_net_nft_apply("table inet berth { chain x { bogus } }\n", bridges, 1, &err) < 0);
  CHECK(strstr(err->msg, "nftables: apply berth's ruleset") != NULL);
  berth_error_release(&err);
  OK(berth_net_nft_table_exists(&exists, E));
  CHECK(exists);
}

static void test_nft(void **state) { in_netns(nft_body); }

static void port_body(void)
{
  struct berth_net_addr lo = A("127.0.0.1"), any = { 0 };
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(8080) };
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  CHECK(bind(fd, (struct sockaddr *) &sa, sizeof sa) == 0 && listen(fd, 1) == 0);
  berth_error_t err = NULL;
  CHECK(berth_net_port_probe(&lo, 8080, BERTH_NET_TCP, &err) < 0);
  CHECK(strstr(err->msg, "port 8080/tcp is already in use on the host at 127.0.0.1") != NULL);
  berth_error_release(&err);
  CHECK(berth_net_port_probe(&any, 8080, BERTH_NET_TCP, &err) < 0); /* every address includes it */
  berth_error_release(&err);
  OK(berth_net_port_probe(&any, 8080, BERTH_NET_UDP, E)); /* another protocol */
  /* choose: a range skips the port in use and one published by another container */
  struct berth_net_port taken = { .host_port = 8081 };
  struct berth_net_port p = { .host_port = 8080, .host_port_end = 8090, .ctr_port = 80 };
  OK(berth_net_port_choose(&p, &taken, 1, E));
  CHECK(p.host_port == 8082 && p.host_port_end == 0);
  struct berth_net_port q = { .host_port = 8081, .ctr_port = 80 };
  CHECK(berth_net_port_choose(&q, &taken, 1, &err) < 0);
  CHECK(strstr(err->msg, "already published by another container") != NULL);
  berth_error_release(&err);
  struct berth_net_port r = { .ctr_port = 80 };
  OK(berth_net_port_choose(&r, NULL, 0, E));
  CHECK(r.host_port != 0);
  close(fd);
}

static void test_ports(void **state) { in_netns(port_body); }

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_attach),
    cmocka_unit_test(test_failed_run),
    cmocka_unit_test(test_nft),
    cmocka_unit_test(test_ports),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
