/* berth login [OPTIONS] [SERVER] / berth logout [SERVER]: credentials checked against the
 * registry, then stored in auth.json (0600). The password comes from --password-stdin or a
 * prompt without echo; -p works but is seen by `ps`, as Docker warns. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "commands.h"
#include "registry_opts.h"

/* "https://127.0.0.1:5000/v2/" -> "127.0.0.1:5000"; no server: docker.io */
static char *server_name(const char *s)
{
  if (s == NULL)
    return xstrdup("docker.io");
  if (berth_str_has_prefix(s, "https://"))
    s += 8;
  else if (berth_str_has_prefix(s, "http://"))
    s += 7;
  char *name = xstrndup(s, strcspn(s, "/"));
  if (strcmp(name, "index.docker.io") == 0 || strcmp(name, "registry-1.docker.io") == 0) {
    free(name);
    name = xstrdup("docker.io");
  }
  return name;
}

/* a line from fd (the trailing newline dropped), at most 4 KiB */
static char *read_secret(int fd, berth_error_t *err)
{
  char buf[4097];
  ssize_t n = berth_read_all(fd, buf, sizeof buf - 1);
  if (n < 0)
    return BERTH_ERR_ERRNO(err, "read the password from stdin"), NULL;
  buf[n] = '\0';
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
    buf[--n] = '\0';
  char *s = xstrdup(buf);
  explicit_bzero(buf, sizeof buf);
  return s;
}

static char *prompt(const char *what, bool secret)
{
  fprintf(stderr, "%s: ", what);
  fflush(stderr);
  struct termios old, t;
  bool tty = secret && tcgetattr(STDIN_FILENO, &old) == 0;
  if (tty) {
    t = old;
    t.c_lflag &= ~(tcflag_t) ECHO;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &t);
  }
  char line[4096] = "";
  if (fgets(line, sizeof line, stdin) == NULL)
    line[0] = '\0';
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    fputc('\n', stderr);
  }
  line[strcspn(line, "\r\n")] = '\0';
  char *s = xstrdup(line);
  explicit_bzero(line, sizeof line);
  return s;
}

static int get_credentials(const char *user, const char *password, bool from_stdin,
                           struct berth_credentials *c, berth_error_t *err)
{
  if (from_stdin && password != NULL)
    return BERTH_ERR(err, "--password and --password-stdin are mutually exclusive");
  if (from_stdin && user == NULL)
    return BERTH_ERR(err, "must provide --username with --password-stdin");
  c->username = user ? xstrdup(user) : prompt("Username", false);
  if (from_stdin)
    c->password = read_secret(STDIN_FILENO, err);
  else if (password != NULL)
    c->password = xstrdup(password);
  else
    c->password = prompt("Password", true);
  if (c->password == NULL)
    return -1;
  if (c->username[0] == '\0' || c->password[0] == '\0')
    return BERTH_ERR(err, "username and password are required");
  return 0;
}

int cmd_login(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  struct reg_cli rc;
  reg_cli_init(&rc, argc, argv);
  const char *user = NULL, *password = NULL;
  bool from_stdin = false;
  const struct berth_cli_opt opts[] = {
    { "username", 'u', BERTH_CLI_STRING, &user, "string", "Username" },
    { "password", 'p', BERTH_CLI_STRING, &password, "string", "Password (seen by ps: use --password-stdin)" },
    { "password-stdin", 0, BERTH_CLI_BOOL, &from_stdin, NULL, "Take the password from stdin" },
    REG_CLI_OPTS(&rc),
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r = cli_parse(ctx, argc, argv, opts, "berth login [OPTIONS] [SERVER]", "Log in to a registry", err);
  if (r != 0 || cli_want_args(ctx, 0, 1, "[SERVER]", err) < 0)
    return r > 0 ? 0 : -1;
  if (password != NULL)
    fprintf(stderr, "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n");
  cleanup_free char *server = server_name(ctx->argc ? ctx->argv[0] : NULL);
  struct berth_credentials c = { 0 };
  struct berth_transfer_opts o;
  struct berth_registry *reg = NULL;
  r = get_credentials(user, password, from_stdin, &c, err);
  if (r == 0)
    r = reg_cli_transfer(&rc, true, &o, err);
  o.reg.creds = &c;
  if (r == 0)
    r = berth_registry_new(server, NULL, &o.reg, &reg, err);
  if (r == 0)
    r = berth_registry_check_login(reg, err);
  if (r == 0)
    r = berth_authfile_store(&o.reg.auth, server, &c, err);
  if (r == 0)
    printf("Login Succeeded\n");
  berth_registry_free(reg);
  berth_credentials_release(&c);
  reg_cli_release(&rc);
  return r;
}

int cmd_logout(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  const char *authfile = NULL;
  const struct berth_cli_opt opts[] = {
    { "authfile", 0, BERTH_CLI_STRING, &authfile, "path", "Path of the authentication file" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r = cli_parse(ctx, argc, argv, opts, "berth logout [SERVER]", "Log out from a registry", err);
  if (r != 0 || cli_want_args(ctx, 0, 1, "[SERVER]", err) < 0)
    return r > 0 ? 0 : -1;
  cleanup_free char *server = server_name(ctx->argc ? ctx->argv[0] : NULL);
  struct berth_auth_files f = { .authfile = authfile };
  r = berth_authfile_remove(&f, server, err);
  if (r < 0)
    return -1;
  if (r == 0)
    return BERTH_ERR(err, "not logged in to %s", server);
  printf("Removing login credentials for %s\n", server);
  return 0;
}
