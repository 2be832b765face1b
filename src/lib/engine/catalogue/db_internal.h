/* Shared by engine/catalogue/ only: the handle and small statement helpers. */
#ifndef BERTH_ENGINE_CATALOGUE_DB_INTERNAL_H
#define BERTH_ENGINE_CATALOGUE_DB_INTERNAL_H

#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "engine/catalogue/catalogue.h"

/* A prepared statement kept for the next use of the same SQL text: preparing (parsing and
 * planning) cost more than running most of the catalogue's queries (45 % of the instructions of
 * the API's container list), and a command or connection asks the same few queries many times. */
struct db_cached_stmt {
  char *sql;
  uint64_t hash; /* of sql */
  sqlite3_stmt *st;
  bool busy; /* handed out; back in the cache (reset, unbound) at its db_cleanup_stmt */
};
#define DB_STMT_CACHE 64

struct berth_db {
  sqlite3 *h;
  char *path;
  int busy_timeout_ms;
  bool sync_commit; /* the open transaction deleted rows that name files: commit syncs the WAL */
  bool registered;  /* in db.c's table of open catalogues, so its statements can be cached */
  struct db_cached_stmt cache[DB_STMT_CACHE];
  size_t ncache;
};

/* the end of a statement's use: back into its catalogue's cache, or finalized */
void db_cleanup_stmt(sqlite3_stmt **st);
#define cleanup_stmt __attribute__((cleanup(db_cleanup_stmt)))

/* "catalogue `path`: <what>: <sqlite message>" */
int db_error(struct berth_db *db, berth_error_t *err, const char *what);
/* Prepare sql and bind the arguments described by types: 's' text (NULL binds NULL), 'i' int64_t,
 * 'u' uint64_t (stored as a signed 64-bit integer). */
int db_prepare(struct berth_db *db, sqlite3_stmt **st, berth_error_t *err, const char *sql, const char *types,
               ...) BERTH_WUR;
/* 1: a row is ready, 0: done, -1: error */
int db_step(struct berth_db *db, sqlite3_stmt *st, berth_error_t *err) BERTH_WUR;
/* run a statement that returns no rows; returns the number of changed rows (>= 0) */
int db_exec(struct berth_db *db, berth_error_t *err, const char *sql, const char *types, ...) BERTH_WUR;
/* a text column copied into a digest buffer ("" for NULL) */
void db_col_digest(sqlite3_stmt *st, int col, berth_digest_t out);
/* a text column as a malloc'd string ("" for NULL, never NULL) */
char *db_col_strdup(sqlite3_stmt *st, int col);
/* a single-column text query collected into a NULL-terminated vector */
int db_collect_strings(struct berth_db *db, char ***out, berth_error_t *err, const char *sql,
                       const char *types, ...) BERTH_WUR;
/* a single integer result (0 when no row) */
int db_query_i64(struct berth_db *db, int64_t *out, berth_error_t *err, const char *sql, const char *types,
                 ...) BERTH_WUR;
/* the schema and its migrations (db_schema.c); runs inside its own transactions */
int db_migrate(struct berth_db *db, berth_error_t *err) BERTH_WUR;
/* a change needs an open transaction (BEGIN IMMEDIATE): programming errors become errors */
int db_require_tx(struct berth_db *db, const char *what, berth_error_t *err) BERTH_WUR;

#endif
