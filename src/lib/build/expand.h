/* Variable expansion in the words of Dockerfile instructions, as BuildKit's shell lexer does it
 * (pure; fuzzed with the parser):
 *   $V ${V}            the value ("" when unset)
 *   ${V:-w} ${V-w}     w when V is unset or empty (:-) / unset (-)
 *   ${V:+w} ${V+w}     w when V is set and not empty (:+) / set (+), else ""
 *   ${V:?m} ${V?m}     an error "V: m" when V is unset (or empty, :?)
 *   ${V#p} ${V##p}     V without its shortest / longest prefix matching the pattern p
 *   ${V%p} ${V%%p}     ... suffix
 *   ${V/p/r} ${V//p/r} the first / every match of p replaced by r
 * with 'single quotes' literal, "double quotes" expanding (\" \$ and \\ escaped inside), the
 * escape character (\ or `) escaping the next one outside quotes, and quotes removed. Words
 * mode (EXPOSE, the shell form's word lists) splits at unquoted white space, expansions
 * included; word mode keeps the text whole. */
#ifndef BERTH_BUILD_EXPAND_H
#define BERTH_BUILD_EXPAND_H

#include <stdbool.h>

#include "base/error.h"

/* the value of a variable, NULL when it is unset */
typedef const char *berth_build_lookup_fn(void *data, const char *name);

/* the word, expanded and unquoted */
int berth_build_expand_word(const char *word, char escape, berth_build_lookup_fn *lookup, void *data,
                            char **out, berth_error_t *err) BERTH_WUR;
/* the text, expanded, unquoted and split into words (NULL-terminated) */
int berth_build_expand_words(const char *text, char escape, berth_build_lookup_fn *lookup, void *data,
                             char ***out, berth_error_t *err) BERTH_WUR;

/* a here-document body: variables expanded, quotes and escapes kept as written */
int berth_build_expand_heredoc(const char *body, berth_build_lookup_fn *lookup, void *data, char **out,
                               berth_error_t *err) BERTH_WUR;

/* a lookup over "K=V" strings (the last one of a name wins): data is a NULL-terminated char ** */
const char *berth_build_lookup_env(void *data, const char *name);

#endif
