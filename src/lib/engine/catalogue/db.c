/* The catalogue handle: open, pragmas, transactions and the statement helpers of db_internal.h. */
#include "engine/catalogue/catalogue.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/catalogue/db_internal.h"

int db_error(struct berth_db *db, berth_error_t *err, const char *what)
{
  int code = sqlite3_extended_errcode(db->h);
  if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED)
    return BERTH_ERR(err, "catalogue `%s`: %s: still busy after %d ms (another berth command holds it)",
                     db->path, what, db->busy_timeout_ms);
  return BERTH_ERR(err, "catalogue `%s`: %s: %s", db->path, what, sqlite3_errmsg(db->h));
}

/* The open catalogues of this process, so that db_cleanup_stmt, which has only the statement,
 * finds the cache it came from (sqlite3_db_handle gives the connection). A process opens one or
 * two; the lock is for the threads of a pull. */
static struct berth_db *open_dbs[8];
static pthread_mutex_t open_dbs_lock = PTHREAD_MUTEX_INITIALIZER;

static void register_db(struct berth_db *db, bool add)
{
  pthread_mutex_lock(&open_dbs_lock);
  for (size_t i = 0; i < BERTH_N_ELEMENTS(open_dbs); i++)
    if (open_dbs[i] == (add ? NULL : db)) {
      open_dbs[i] = add ? db : NULL;
      db->registered = add; /* no room: this one prepares and finalizes as before */
      break;
    }
  pthread_mutex_unlock(&open_dbs_lock);
}

static uint64_t sql_hash(const char *s)
{
  uint64_t h = 1469598103934665603ULL; /* FNV-1a */
  for (; *s; s++)
    h = (h ^ (unsigned char) *s) * 1099511628211ULL;
  return h;
}

/* a cached statement of this text that nobody holds, or a new one (cached while there is room) */
static int prepare_cached(struct berth_db *db, const char *sql, sqlite3_stmt **st)
{
  uint64_t h = sql_hash(sql);
  for (size_t i = 0; i < db->ncache; i++) {
    struct db_cached_stmt *c = &db->cache[i];
    if (!c->busy && c->hash == h && strcmp(c->sql, sql) == 0) {
      c->busy = true;
      *st = c->st;
      return SQLITE_OK;
    }
  }
  int rc = sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
  if (rc == SQLITE_OK && *st && db->registered && db->ncache < DB_STMT_CACHE)
    db->cache[db->ncache++] = (struct db_cached_stmt){ xstrdup(sql), h, *st, true };
  return rc;
}

void db_cleanup_stmt(sqlite3_stmt **st)
{
  if (*st == NULL)
    return;
  sqlite3 *h = sqlite3_db_handle(*st);
  bool cached = false;
  pthread_mutex_lock(&open_dbs_lock);
  for (size_t i = 0; i < BERTH_N_ELEMENTS(open_dbs) && !cached; i++) {
    struct berth_db *db = open_dbs[i];
    for (size_t k = 0; db && db->h == h && k < db->ncache && !cached; k++)
      if (db->cache[k].st == *st) {
        sqlite3_reset(*st);
        sqlite3_clear_bindings(*st);
        db->cache[k].busy = false;
        cached = true;
      }
  }
  pthread_mutex_unlock(&open_dbs_lock);
  if (!cached)
    sqlite3_finalize(*st);
  *st = NULL;
}

static int vprepare(struct berth_db *db, sqlite3_stmt **st, berth_error_t *err, const char *sql,
                    const char *types, va_list ap)
{
  *st = NULL;
  if (prepare_cached(db, sql, st) != SQLITE_OK)
    return db_error(db, err, "prepare statement");
  int rc = SQLITE_OK;
  for (int i = 0; types && types[i] && rc == SQLITE_OK; i++) {
    switch (types[i]) {
    case 's': {
      const char *s = va_arg(ap, const char *);
      rc = s ? sqlite3_bind_text(*st, i + 1, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(*st, i + 1);
      break;
    }
    case 'i': rc = sqlite3_bind_int64(*st, i + 1, va_arg(ap, int64_t)); break;
    case 'u': rc = sqlite3_bind_int64(*st, i + 1, (int64_t) va_arg(ap, uint64_t)); break;
    default: rc = SQLITE_MISUSE; break;
    }
  }
  if (rc != SQLITE_OK) {
    db_cleanup_stmt(st);
    return db_error(db, err, "bind parameters");
  }
  return 0;
}

int db_prepare(struct berth_db *db, sqlite3_stmt **st, berth_error_t *err, const char *sql, const char *types,
               ...)
{
  va_list ap;
  va_start(ap, types);
  int r = vprepare(db, st, err, sql, types, ap);
  va_end(ap);
  return r;
}

int db_step(struct berth_db *db, sqlite3_stmt *st, berth_error_t *err)
{
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    return 1;
  if (rc == SQLITE_DONE)
    return 0;
  return db_error(db, err, "run statement");
}

int db_exec(struct berth_db *db, berth_error_t *err, const char *sql, const char *types, ...)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  va_list ap;
  va_start(ap, types);
  int r = vprepare(db, &st, err, sql, types, ap);
  va_end(ap);
  if (r < 0)
    return -1;
  while ((r = db_step(db, st, err)) > 0)
    ;
  if (r < 0)
    return -1;
  return sqlite3_changes(db->h);
}

void db_col_digest(sqlite3_stmt *st, int col, berth_digest_t out)
{
  const unsigned char *s = sqlite3_column_text(st, col);
  out[0] = '\0';
  if (s)
    snprintf(out, sizeof(berth_digest_t), "%s", (const char *) s);
}

char *db_col_strdup(sqlite3_stmt *st, int col)
{
  const unsigned char *s = sqlite3_column_text(st, col);
  return xstrdup(s ? (const char *) s : "");
}

int db_collect_strings(struct berth_db *db, char ***out, berth_error_t *err, const char *sql,
                       const char *types, ...)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  va_list ap;
  va_start(ap, types);
  int r = vprepare(db, &st, err, sql, types, ap);
  va_end(ap);
  if (r < 0)
    return -1;
  cleanup_strv char **v = xcalloc(1, sizeof *v);
  while ((r = db_step(db, st, err)) > 0) {
    cleanup_free char *s = db_col_strdup(st, 0);
    v = berth_strv_append(v, s);
  }
  if (r < 0)
    return -1;
  *out = steal_ptr(v);
  return 0;
}

int db_query_i64(struct berth_db *db, int64_t *out, berth_error_t *err, const char *sql, const char *types,
                 ...)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  va_list ap;
  va_start(ap, types);
  int r = vprepare(db, &st, err, sql, types, ap);
  va_end(ap);
  if (r < 0)
    return -1;
  r = db_step(db, st, err);
  if (r < 0)
    return -1;
  *out = r > 0 ? sqlite3_column_int64(st, 0) : 0;
  return 0;
}

int db_require_tx(struct berth_db *db, const char *what, berth_error_t *err)
{
  if (!berth_db_in_transaction(db))
    return BERTH_ERR(err, "catalogue `%s`: %s outside a transaction", db->path, what);
  return 0;
}

/* Durability (docs/design/catalogue.md, "Transactions and concurrency"): WAL with
 * synchronous=NORMAL, so a commit is a write(2) into the WAL and no fsync; a crash of berth
 * loses nothing (the WAL is in the page cache), a power loss may forget the last commits but
 * never corrupts. Where the order rule needs a commit on disk before a file operation —
 * deleting rows that name files (blobs, extracted layers, volumes), whose files go after the
 * commit — the update hook marks the transaction and berth_db_commit syncs the WAL. */
static void on_update(void *data, int op, const char *dbname, const char *table, sqlite3_int64 rowid)
{
  struct berth_db *db = data;
  (void) dbname;
  (void) rowid;
  if (op == SQLITE_DELETE &&
      (strcmp(table, "blobs") == 0 || strcmp(table, "layers") == 0 || strcmp(table, "volumes") == 0))
    db->sync_commit = true;
}

static BERTH_WUR int apply_pragmas(struct berth_db *db, berth_error_t *err)
{
  /* journal_mode answers with a row: the mode in effect */
  cleanup_stmt sqlite3_stmt *st = NULL;
  if (db_prepare(db, &st, err, "PRAGMA journal_mode=WAL", "") < 0 || db_step(db, st, err) < 0)
    return -1;
  const unsigned char *mode = sqlite3_column_text(st, 0);
  if (mode == NULL || strcmp((const char *) mode, "wal") != 0)
    return BERTH_ERR(err, "catalogue `%s`: cannot switch to WAL mode (got `%s`)", db->path,
                     mode ? (const char *) mode : "");
  if (db_exec(db, err, "PRAGMA foreign_keys=ON", "") < 0 ||
      db_exec(db, err, "PRAGMA synchronous=NORMAL", "") < 0)
    return -1;
  /* Every berth command is a short-lived connection: the last one to close would checkpoint
   * (two fsyncs) and delete the WAL, which the next command creates again. The WAL stays; the
   * first command to open it then rebuilds its index by reading it (~2.5 us a page), so the
   * automatic checkpoint at commit keeps it short: 256 pages, 1 MiB. */
  if (sqlite3_db_config(db->h, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL) != SQLITE_OK ||
      sqlite3_wal_autocheckpoint(db->h, 256) != SQLITE_OK)
    return db_error(db, err, "configure");
  sqlite3_update_hook(db->h, on_update, db);
  return 0;
}

/* The catalogue holds every container's environment (passwords, tokens): root's alone. SQLite
 * makes the -wal and -shm files with the database file's mode; a store made before this had
 * them 0644, so all three are tightened. */
static BERTH_WUR int private_files(const char *path, berth_error_t *err)
{
  static const char *const suffixes[] = { "", "-wal", "-shm" };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(suffixes); i++) {
    cleanup_free char *p = xasprintf("%s%s", path, suffixes[i]);
    int flags = O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | (i == 0 ? O_CREAT : 0);
    cleanup_close int fd = open(p, flags, 0600);
    struct stat st;
    if (fd < 0 && i > 0 && errno == ENOENT)
      continue;
    if (fd < 0 || fstat(fd, &st) < 0)
      return BERTH_ERR_ERRNO(err, "open `%s`", p);
    if ((st.st_mode & 077) && fchmod(fd, st.st_mode & 0700) < 0)
      return BERTH_ERR_ERRNO(err, "make `%s` private", p);
  }
  return 0;
}

int berth_db_open(const char *path, int busy_timeout_ms, struct berth_db **out, berth_error_t *err)
{
  if (private_files(path, err) < 0)
    return -1;
  struct berth_db *db = xmalloc0(sizeof *db);
  db->path = xstrdup(path);
  db->busy_timeout_ms = busy_timeout_ms > 0 ? busy_timeout_ms : 60000;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  if (sqlite3_open_v2(path, &db->h, flags, NULL) != SQLITE_OK) {
    if (db->h == NULL)
      berth_oom();
    db_error(db, err, "open");
    berth_db_close(db);
    return -1;
  }
  sqlite3_busy_timeout(db->h, db->busy_timeout_ms);
  register_db(db, true);
  if (apply_pragmas(db, err) < 0 || db_migrate(db, err) < 0) {
    berth_db_close(db);
    return -1;
  }
  *out = db;
  return 0;
}

void berth_db_close(struct berth_db *db)
{
  if (db == NULL)
    return;
  if (db->h) {
    berth_db_rollback(db);
    if (db->registered)
      register_db(db, false);
    for (size_t i = 0; i < db->ncache; i++) {
      sqlite3_finalize(db->cache[i].st);
      free(db->cache[i].sql);
    }
    sqlite3_close_v2(db->h);
  }
  free(db->path);
  free(db);
}

int berth_db_schema_version(struct berth_db *db, berth_error_t *err)
{
  int64_t v = 0;
  if (db_query_i64(db, &v, err, "PRAGMA user_version", "") < 0)
    return -1;
  return (int) v;
}

bool berth_db_in_transaction(struct berth_db *db) { return sqlite3_get_autocommit(db->h) == 0; }

int berth_db_begin(struct berth_db *db, berth_error_t *err)
{
  if (berth_db_in_transaction(db))
    return BERTH_ERR(err, "catalogue `%s`: a transaction is already open", db->path);
  db->sync_commit = false;
  return db_exec(db, err, "BEGIN IMMEDIATE", "") < 0 ? -1 : 0;
}

/* fdatasync the WAL, as synchronous=FULL does at every commit */
static BERTH_WUR int sync_wal(struct berth_db *db, berth_error_t *err)
{
  sqlite3_file *wal = NULL;
  if (sqlite3_file_control(db->h, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal) != SQLITE_OK || wal == NULL ||
      wal->pMethods == NULL)
    return BERTH_ERR(err, "catalogue `%s`: sync the write-ahead log: no log file", db->path);
  int rc = wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL);
  if (rc != SQLITE_OK)
    return BERTH_ERR(err, "catalogue `%s`: sync the write-ahead log: %s", db->path, sqlite3_errstr(rc));
  return 0;
}

int berth_db_commit(struct berth_db *db, berth_error_t *err)
{
  bool sync = db->sync_commit;
  db->sync_commit = false;
  if (db_exec(db, err, "COMMIT", "") < 0) {
    berth_db_rollback(db);
    return -1;
  }
  return sync ? sync_wal(db, err) : 0;
}

void berth_db_rollback(struct berth_db *db)
{
  db->sync_commit = false;
  if (berth_db_in_transaction(db))
    sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
}

int berth_db_verify(struct berth_db *db, char ***problems, berth_error_t *err)
{
  cleanup_strv char **v = NULL;
  if (db_collect_strings(db, &v, err, "PRAGMA integrity_check", "") < 0)
    return -1;
  if (v[0] && strcmp(v[0], "ok") == 0 && v[1] == NULL) {
    free(v[0]);
    v[0] = NULL;
  }
  cleanup_stmt sqlite3_stmt *st = NULL;
  if (db_prepare(db, &st, err, "PRAGMA foreign_key_check", "") < 0)
    return -1;
  int r;
  while ((r = db_step(db, st, err)) > 0) {
    cleanup_free char *line = xasprintf(
      "table `%s` row %lld refers to a missing row of `%s`", (const char *) sqlite3_column_text(st, 0),
      (long long) sqlite3_column_int64(st, 1), (const char *) sqlite3_column_text(st, 2));
    v = berth_strv_append(v, line);
  }
  if (r < 0)
    return -1;
  *problems = steal_ptr(v);
  return 0;
}
