/* berth build [OPTIONS] PATH | - ; berth builder prune
 *
 * Progress goes to stderr, as BuildKit's: plain lines ("#2 [2/5] RUN mkdir /data", the step's
 * output as "#2 0.123 text", "#2 DONE 0.3s" or "#2 CACHED"), or on a terminal Docker's compact
 * view (one line a step, a running step's output below it, cleared once it is done). -q prints
 * the image id on stdout and nothing else. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "commands.h"
#include "engine/builds/builds.h"
#include "engine/format.h"
#include "image/layer.h"
#include "registry_opts.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
  (void) sig;
  interrupted = 1;
}

/* one step as shown: its #N, start, title and partial output line (steps of independent stages
 * run at once, so their events interleave) */
struct slot {
  size_t vertex;
  int64_t start;
  char *title;
  char line[4096];
  size_t linelen;
};

struct printer {
  bool tty, quiet;
  FILE *out;
  int64_t start;
  size_t nvertex;
  struct slot *slots; /* by step number */
  size_t nslots;
  size_t last;  /* tty: the step whose lines were printed last */
  size_t shown; /* tty: lines shown below it */
};

static struct slot *slot_of(struct printer *p, size_t step)
{
  if (step >= p->nslots) {
    p->slots = xreallocarray(p->slots, step + 1, sizeof *p->slots);
    memset(p->slots + p->nslots, 0, (step + 1 - p->nslots) * sizeof *p->slots);
    p->nslots = step + 1;
  }
  return &p->slots[step];
}

/* tty: another step's lines come after this one's: nothing of it is erased any more */
static void switch_to(struct printer *p, size_t step)
{
  if (p->last != step)
    p->shown = 0;
  p->last = step;
}

static void flush_line(struct printer *p, struct slot *s, bool force)
{
  if (s->linelen == 0 && !force)
    return;
  double t = (double) (berth_engine_now() - s->start) / 1e9;
  if (p->tty) {
    fprintf(p->out, " => => # %.*s\n", (int) s->linelen, s->line);
    p->shown++;
  } else {
    fprintf(p->out, "#%zu %.3f %.*s\n", s->vertex, t, (int) s->linelen, s->line);
  }
  s->linelen = 0;
}

static void output(struct printer *p, struct slot *s, const char *data, size_t len)
{
  for (size_t i = 0; i < len; i++) {
    if (data[i] == '\n' || s->linelen == sizeof s->line) {
      flush_line(p, s, data[i] == '\n');
      if (data[i] == '\n')
        continue;
    }
    if (data[i] != '\r')
      s->line[s->linelen++] = data[i];
  }
}

static void end_step(struct printer *p, struct slot *s, bool erase, const char *how)
{
  flush_line(p, s, false);
  double t = (double) (berth_engine_now() - s->start) / 1e9;
  if (p->tty) {
    if (erase) /* the step's line and its output, replaced by its summary */
      fprintf(p->out, "\033[%zuA\033[J", p->shown + 1);
    fprintf(p->out, " => %s%-60s %5.1fs\n", how, s->title ? s->title : "", t);
  } else if (strcmp(how, "CACHED ") == 0) {
    fprintf(p->out, "#%zu CACHED\n\n", s->vertex);
  } else {
    fprintf(p->out, "#%zu %s %.1fs\n\n", s->vertex, how, t);
  }
  p->shown = 0;
  fflush(p->out);
}

static void printer_free(struct printer *p)
{
  for (size_t i = 0; i < p->nslots; i++)
    free(p->slots[i].title);
  free(p->slots);
}

static void progress(void *data, const struct berth_builds_event *ev)
{
  struct printer *p = data;
  if (p->quiet)
    return;
  struct slot *s = slot_of(p, ev->step);
  bool erase = p->tty && p->last == ev->step;
  if (ev->kind != BERTH_BUILDS_EV_WARNING && ev->kind != BERTH_BUILDS_EV_IMAGE)
    switch_to(p, ev->step);
  switch (ev->kind) {
  case BERTH_BUILDS_EV_STEP:
    free(s->title);
    s->title = xstrndup(ev->text, ev->len);
    s->start = berth_engine_now();
    s->vertex = ++p->nvertex;
    s->linelen = 0;
    p->shown = 0;
    if (p->tty)
      fprintf(p->out, " => %s\n", s->title);
    else
      fprintf(p->out, "#%zu %s\n", s->vertex, s->title);
    break;
  case BERTH_BUILDS_EV_OUTPUT: output(p, s, ev->text, ev->len); break;
  case BERTH_BUILDS_EV_CACHED: end_step(p, s, erase, "CACHED "); break;
  case BERTH_BUILDS_EV_DONE: end_step(p, s, erase, p->tty ? "" : "DONE"); break;
  case BERTH_BUILDS_EV_ERROR:
    flush_line(p, s, false);
    fprintf(p->out, "#%zu ERROR: %.*s\n", s->vertex, (int) ev->len, ev->text);
    p->shown = 0;
    break;
  case BERTH_BUILDS_EV_WARNING: fprintf(p->out, "WARNING: %.*s\n", (int) ev->len, ev->text); break;
  case BERTH_BUILDS_EV_IMAGE:
    if (ev->text == NULL) {
      s->vertex = ++p->nvertex;
      fprintf(p->out, "#%zu exporting to image\n#%zu writing image %s done\n", s->vertex, s->vertex,
              ev->image);
    } else {
      fprintf(p->out, "#%zu naming to %.*s done\n", s->vertex, (int) ev->len, ev->text);
    }
    break;
  }
  fflush(p->out);
}

/* all of fd (stdin) */
static BERTH_WUR int slurp(int fd, char **data, size_t *len, berth_error_t *err)
{
  size_t cap = 1 << 16, n = 0;
  char *buf = xmalloc(cap);
  for (;;) {
    if (n == cap)
      buf = xrealloc(buf, cap *= 2);
    ssize_t got = read(fd, buf + n, cap - n);
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0) {
      free(buf);
      return BERTH_ERR_ERRNO(err, "read standard input");
    }
    if (got == 0)
      break;
    n += (size_t) got;
  }
  *data = buf;
  *len = n;
  return 0;
}

static bool looks_like_archive(const char *h, size_t n)
{
  const unsigned char *u = (const unsigned char *) h;
  return (n >= 2 && u[0] == 0x1f && u[1] == 0x8b) || (n >= 3 && memcmp(h, "BZh", 3) == 0) ||
         (n >= 6 && memcmp(h,
                           "\xfd"
                           "7zXZ\0",
                           6) == 0) ||
         (n >= 4 && memcmp(h, "\x28\xb5\x2f\xfd", 4) == 0) || (n >= 262 && memcmp(h + 257, "ustar", 5) == 0);
}

/* --output type=local,dest=DIR | type=tar,dest=FILE|- | DIR */
static BERTH_WUR int export_output(struct berth_engine *e, const char *spec, const char *id,
                                   berth_error_t *err)
{
  cleanup_free char *copy = xstrdup(spec);
  const char *type = "local", *dest = NULL;
  if (strchr(spec, '=') == NULL) {
    dest = copy;
  } else {
    char *save = NULL;
    for (char *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
      if (berth_str_has_prefix(kv, "type="))
        type = kv + 5;
      else if (berth_str_has_prefix(kv, "dest="))
        dest = kv + 5;
      else
        return BERTH_ERR(err, "--output `%s`: unknown key `%s`", spec, kv);
    }
  }
  if (dest == NULL)
    return BERTH_ERR(err, "--output `%s`: no dest", spec);
  if (strcmp(type, "tar") == 0) {
    cleanup_close int fd = strcmp(dest, "-") == 0
                             ? dup(STDOUT_FILENO)
                             : open(dest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
      return BERTH_ERR_ERRNO(err, "--output: open `%s`", dest);
    return berth_images_export(e, id, fd, err);
  }
  if (strcmp(type, "local") != 0)
    return BERTH_ERR(err, "--output `%s`: type `%s` is not local or tar", spec, type);
  if (berth_mkdir_p(dest, 0755, err) < 0)
    return -1;
  cleanup_close int tmp = memfd_create("berth-output", MFD_CLOEXEC);
  cleanup_close int dir = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (tmp < 0 || dir < 0)
    return BERTH_ERR_ERRNO(err, "--output: `%s`", dest);
  if (berth_images_export(e, id, tmp, err) < 0)
    return -1;
  if (lseek(tmp, 0, SEEK_SET) < 0)
    return BERTH_ERR_ERRNO(err, "rewind");
  return berth_tar_extract(tmp, dir, err);
}

struct build_cli {
  const char **tags, **build_args, **labels, **secrets, **outputs, **cache_from;
  const char *file, *target, *iidfile, *progress, *network, *platform, *runtime;
  bool no_cache, pull, quiet;
};

static int64_t source_date_epoch(const struct build_cli *c)
{
  const char *v = getenv("SOURCE_DATE_EPOCH");
  for (size_t i = 0; c->build_args && c->build_args[i]; i++)
    if (berth_str_has_prefix(c->build_args[i], "SOURCE_DATE_EPOCH="))
      v = c->build_args[i] + strlen("SOURCE_DATE_EPOCH=");
  int64_t n;
  return v && *v && berth_parse_i64(v, &n) == 0 && n >= 0 ? n : -1;
}

static BERTH_WUR int run_build(struct cmd_ctx *ctx, struct build_cli *c, struct reg_cli *rc,
                               berth_error_t *err)
{
  const char *path = ctx->argv[0];
  cleanup_free char *stdin_data = NULL;
  size_t stdin_len = 0;
  cleanup_close int ctx_fd = -1;
  struct berth_builds_opts o = { .context_fd = -1,
                                 .tags = (char *const *) c->tags,
                                 .build_args = (char *const *) c->build_args,
                                 .labels = (char *const *) c->labels,
                                 .cache_from = (char *const *) c->cache_from,
                                 .secrets = (char *const *) c->secrets,
                                 .target = c->target,
                                 .network = c->network,
                                 .runtime = c->runtime,
                                 .no_cache = c->no_cache,
                                 .pull = c->pull,
                                 .source_date_epoch = source_date_epoch(c),
                                 .cancel = &interrupted };
  char empty[] = "/tmp/berth-build-XXXXXX";
  bool made_empty = false;
  if (strcmp(path, "-") == 0 || (c->file && strcmp(c->file, "-") == 0)) {
    if (slurp(STDIN_FILENO, &stdin_data, &stdin_len, err) < 0)
      return -1;
  }
  if (strcmp(path, "-") == 0 && looks_like_archive(stdin_data, stdin_len)) {
    ctx_fd = memfd_create("berth-context", MFD_CLOEXEC);
    if (ctx_fd < 0 || berth_write_all(ctx_fd, stdin_data, stdin_len) < 0 || lseek(ctx_fd, 0, SEEK_SET) < 0)
      return BERTH_ERR_ERRNO(err, "the build context");
    o.context_fd = ctx_fd;
    o.dockerfile = c->file;
  } else if (strcmp(path, "-") == 0) { /* a Dockerfile alone: an empty context */
    if (mkdtemp(empty) == NULL)
      return BERTH_ERR_ERRNO(err, "mkdtemp");
    made_empty = true;
    o.context_dir = empty;
    o.dockerfile_text = stdin_data;
    o.dockerfile_len = stdin_len;
  } else {
    o.context_dir = path;
    if (c->file && strcmp(c->file, "-") == 0) {
      o.dockerfile_text = stdin_data;
      o.dockerfile_len = stdin_len;
    } else {
      o.dockerfile = c->file;
    }
  }
  struct printer p = { .out = stderr, .quiet = c->quiet, .start = berth_engine_now() };
  p.tty = c->progress ? strcmp(c->progress, "tty") == 0 : isatty(STDERR_FILENO);
  o.progress = progress;
  o.progress_data = &p;
  struct berth_transfer_opts t;
  struct berth_engine *e = NULL;
  berth_digest_t id;
  int r = reg_cli_transfer(rc, true, &t, err);
  if (r == 0) {
    t.progress_fd = c->quiet ? -1 : STDERR_FILENO;
    t.tty = false;
    o.transfer = &t;
    r = cli_open_engine(ctx, &e, err);
  }
  struct sigaction sa = { .sa_handler = on_signal }, old_int, old_term;
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  if (r == 0)
    r = berth_builds_run(e, &o, id, err);
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGTERM, &old_term, NULL);
  for (size_t i = 0; r == 0 && c->outputs && c->outputs[i]; i++)
    r = export_output(e, c->outputs[i], id, err);
  if (r == 0 && c->iidfile && berth_write_file_atomic(c->iidfile, id, strlen(id), 0644, err) < 0)
    r = -1;
  if (r == 0 && c->quiet)
    printf("%s\n", id);
  printer_free(&p);
  berth_engine_close(e);
  if (made_empty)
    rmdir(empty);
  return r;
}

int cmd_build(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  struct reg_cli rc;
  reg_cli_init(&rc, argc, argv);
  struct build_cli c = { 0 };
  const struct berth_cli_opt opts[] = {
    { "build-arg", 0, BERTH_CLI_STRINGS, &c.build_args, "list", "Set build-time variables" },
    { "cache-from", 0, BERTH_CLI_STRINGS, &c.cache_from, "stringArray",
      "Images to consider as cache sources (built by berth: their steps' keys are in their config)" },
    { "file", 'f', BERTH_CLI_STRING, &c.file, "string",
      "Name of the Dockerfile (default: \"PATH/Dockerfile\")" },
    { "iidfile", 0, BERTH_CLI_STRING, &c.iidfile, "string", "Write the image ID to the file" },
    { "label", 0, BERTH_CLI_STRINGS, &c.labels, "list", "Set metadata for an image" },
    { "network", 0, BERTH_CLI_STRING, &c.network, "string",
      "Set the networking mode for the RUN instructions during build (host, none)" },
    { "no-cache", 0, BERTH_CLI_BOOL, &c.no_cache, NULL, "Do not use cache when building the image" },
    { "output", 'o', BERTH_CLI_STRINGS, &c.outputs, "stringArray",
      "Output destination (format: \"type=local,dest=path\", \"type=tar,dest=path\")" },
    { "platform", 0, BERTH_CLI_STRING, &c.platform, "string",
      "Set target platform for build (the host's only)" },
    { "progress", 0, BERTH_CLI_STRING, &c.progress, "string",
      "Set type of progress output (\"auto\", \"plain\", \"tty\")" },
    { "pull", 0, BERTH_CLI_BOOL, &c.pull, NULL, "Always attempt to pull a newer version of the image" },
    { "quiet", 'q', BERTH_CLI_BOOL, &c.quiet, NULL,
      "Suppress the build output and print image ID on success" },
    { "runtime", 0, BERTH_CLI_STRING, &c.runtime, "string",
      "The OCI runtime of RUN steps: a name in PATH or an absolute path (default berth-runtime)" },
    { "secret", 0, BERTH_CLI_STRINGS, &c.secrets, "stringArray",
      "Secret to expose to the build (format: \"id=mysecret[,src=/local/secret]\")" },
    { "tag", 't', BERTH_CLI_STRINGS, &c.tags, "list",
      "Name and optionally a tag in the \"name:tag\" format" },
    { "target", 0, BERTH_CLI_STRING, &c.target, "string", "Set the target build stage to build" },
    REG_CLI_OPTS(&rc),
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r = cli_parse(ctx, argc, argv, opts, "berth build [OPTIONS] PATH | -",
                    "Build an image from a Dockerfile", err);
  if (r == 0 && cli_want_args(ctx, 1, 1, "PATH | -", err) < 0)
    r = -1;
  if (r == 0 && c.progress && strcmp(c.progress, "plain") != 0 && strcmp(c.progress, "tty") != 0 &&
      strcmp(c.progress, "auto") != 0) {
    ctx->usage_error = true;
    r = BERTH_ERR(err, "--progress: `%s` is not auto, plain or tty", c.progress);
  }
  if (r == 0 && c.progress && strcmp(c.progress, "auto") == 0)
    c.progress = NULL;
  if (r == 0 && c.network && strcmp(c.network, "host") != 0 && strcmp(c.network, "none") != 0 &&
      strcmp(c.network, "default") != 0) {
    ctx->usage_error = true;
    r = BERTH_ERR(err, "--network: `%s` is not host or none", c.network);
  }
  if (r == 0 && c.network && strcmp(c.network, "default") == 0)
    c.network = NULL;
  if (r == 0)
    r = run_build(ctx, &c, &rc, err);
  free(c.tags);
  free(c.build_args);
  free(c.labels);
  free(c.secrets);
  free(c.outputs);
  reg_cli_release(&rc);
  return r > 0 ? 0 : r;
}

int cmd_builder_prune(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  bool force = false, all = false;
  const struct berth_cli_opt opts[] = {
    { "all", 'a', BERTH_CLI_BOOL, &all, NULL, "Remove all unused build cache, not just dangling ones" },
    { "force", 'f', BERTH_CLI_BOOL, &force, NULL, "Do not prompt for confirmation" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r = cli_parse(ctx, argc, argv, opts, "berth builder prune [OPTIONS]", "Remove build cache", err);
  if (r != 0 || cli_want_args(ctx, 0, 0, "", err) < 0)
    return r > 0 ? 0 : -1;
  if (!force && !cli_confirm("WARNING! This will remove all dangling build cache."))
    return 0;
  struct berth_engine *e = NULL;
  uint64_t entries = 0, reclaimed = 0;
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  r = berth_builds_prune(e, &entries, &reclaimed, err);
  berth_engine_close(e);
  if (r < 0)
    return -1;
  cleanup_free char *size = berth_fmt_size(reclaimed);
  printf("Deleted build cache objects: %llu\nTotal:\t%s\n", (unsigned long long) entries, size);
  return 0;
}
