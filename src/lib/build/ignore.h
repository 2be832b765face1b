/* .dockerignore, with Docker's pattern rules (moby/patternmatcher; pure, fuzzed): one pattern a
 * line, `#` comments, surrounding white space trimmed, each pattern cleaned (filepath.Clean: `.`
 * and `..` resolved, duplicate and trailing slashes removed, a leading `/` dropped); `*` any
 * run of characters but `/`, `?` one of them, `[a-z]` classes, `\` escapes, `**` any number of
 * directories (also none); `!pattern` re-includes what an earlier pattern excluded. A path is
 * excluded when the last pattern that matches it, or one of its parent directories, is not an
 * exception. And paths as the builder handles them: cleaned, relative, never escaping. */
#ifndef BERTH_BUILD_IGNORE_H
#define BERTH_BUILD_IGNORE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

struct berth_ignore;

/* the file's text (NULL, len 0: no file, nothing excluded) */
int berth_ignore_parse(const char *text, size_t len, struct berth_ignore **out, berth_error_t *err) BERTH_WUR;
void berth_ignore_free(struct berth_ignore *ig);
/* is path (relative to the context, cleaned, '/'-separated) excluded */
bool berth_ignore_match(const struct berth_ignore *ig, const char *path);
/* are there exceptions (then an excluded directory may still hold included files) */
bool berth_ignore_has_exceptions(const struct berth_ignore *ig);

/* Go's filepath.Clean: "" -> ".", "a//b/../c/" -> "a/c", "/../x" -> "/x", "../a" stays */
char *berth_build_path_clean(const char *path);
/* a path given in the build (a COPY source, a bind source): cleaned and made relative to the
 * root it names ("/a/b" and "a/b" both "a/b"; "/" and "." are "."); NULL when it climbs above
 * that root ("../x", "a/../../x") */
char *berth_build_path_inside(const char *path);
/* a Go filepath.Match pattern (as COPY sources take them) matched against a name; malformed
 * patterns do not match */
bool berth_build_glob_match(const char *pattern, const char *name);
/* does the string have glob characters (* ? [) */
bool berth_build_has_glob(const char *s);

#endif
