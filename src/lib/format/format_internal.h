/* The template engine's parts: tokens (lex.c), the AST (parse.c, node.c), values and the
 * evaluator (value.c, exec.c, eval.c), functions (funcs.c, funcs_docker.c), Go's fmt (printf.c)
 * and encoding/json (json_go.c). */
#ifndef BERTH_FORMAT_INTERNAL_H
#define BERTH_FORMAT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "base/error.h"
#include "base/strbuf.h"
#include "format/format.h"

/* ---- tokens (Go's text/template/parse/lex.go) ---- */
enum tok_type {
  TOK_ERROR,
  TOK_EOF,
  TOK_TEXT,
  TOK_LEFT,   /* {{ */
  TOK_RIGHT,  /* }} */
  TOK_SPACE,  /* a run of spaces inside an action */
  TOK_FIELD,  /* .Name */
  TOK_IDENT,  /* a function's name */
  TOK_VAR,    /* $ or $name */
  TOK_DOT,    /* . */
  TOK_STRING, /* "quoted" */
  TOK_RAW,    /* `raw` */
  TOK_NUMBER,
  TOK_CHARCONST, /* 'x' */
  TOK_COMPLEX,
  TOK_BOOL,
  TOK_PIPE,
  TOK_LPAREN,
  TOK_RPAREN,
  TOK_DECLARE, /* := */
  TOK_ASSIGN,  /* = */
  TOK_CHAR,    /* any other printable ASCII character (',') */
  TOK_KEYWORD, /* keywords follow */
  TOK_BLOCK,
  TOK_BREAK,
  TOK_CONTINUE,
  TOK_DEFINE,
  TOK_ELSE,
  TOK_END,
  TOK_IF,
  TOK_NIL,
  TOK_RANGE,
  TOK_TEMPLATE,
  TOK_WITH,
};

struct tok {
  enum tok_type type;
  size_t pos, len; /* bytes of the template */
  char *msg;       /* TOK_ERROR: the lexer's message */
};

struct toks {
  struct tok *v;
  size_t n, cap;
};

/* all tokens of text, ending with TOK_EOF or TOK_ERROR */
void lex_template(const char *text, size_t len, struct toks *out);
void toks_release(struct toks *t);

/* ---- the AST (Go's parse/node.go) ---- */
enum node_type {
  N_LIST,
  N_TEXT,
  N_ACTION,
  N_IF,
  N_RANGE,
  N_WITH,
  N_BREAK,
  N_CONTINUE,
  N_PIPE,
  N_CMD,
  N_FIELD,
  N_VAR,
  N_CHAIN,
  N_DOT,
  N_NIL,
  N_BOOL,
  N_NUMBER,
  N_STRING,
  N_IDENT,
  N_END, /* {{end}} and {{else}}: only while parsing */
  N_ELSE,
};

struct node {
  enum node_type type;
  size_t pos;
  struct node **kids; /* LIST: its nodes; PIPE: commands; CMD: arguments */
  size_t nkids;
  struct node **decl; /* PIPE: the variables it declares ($x :=) or assigns ($x =) */
  size_t ndecl;
  bool is_assign;
  struct node *pipe;      /* ACTION, IF, RANGE, WITH */
  struct node *list;      /* IF, RANGE, WITH */
  struct node *else_list; /* IF, RANGE, WITH; NULL when none */
  struct node *term;      /* CHAIN: what the fields apply to */
  char **idents;          /* FIELD: A, B of .A.B; VAR: $x, A of $x.A; CHAIN: its fields; IDENT: the name */
  size_t nidents;
  char *text; /* TEXT: the text; STRING: the value */
  size_t len;
  char *orig; /* STRING, NUMBER: as written */
  bool b;     /* BOOL */
  bool is_int, is_float;
  long long i;
  double f;
};

struct node *node_new(enum node_type type, size_t pos);
void node_append(struct node ***v, size_t *n, struct node *kid);
/* append an identifier (taking s) */
void node_ident(struct node *n, char *s);
void node_free(struct node *n);
static inline void node_freep(struct node **n)
{
  node_free(*n);
  *n = NULL;
}
#define cleanup_node __attribute__((cleanup(node_freep)))
/* what Go's Node.String() prints: the context of an error message (<.Foo.Bar>) */
void node_string(const struct node *n, struct berth_strbuf *b);
/* strconv.Unquote of "...", `...` or '.' (a character's rune also in *rune_out); -1: invalid */
int go_unquote(const char *s, size_t len, struct berth_strbuf *out, long *rune_out);
int number_parse(const char *text, size_t len, bool charconst, struct node *n, berth_error_t *err) BERTH_WUR;

struct berth_format_template {
  char *text;
  struct node *root;
};

/* ---- values ---- */
/* where a value was found in the data: "Config", "Labels" (map rules match its end) */
struct vpath {
  const struct vpath *up;
  char *key;
};

struct val {
  json_t *j; /* a reference; NULL: Go's invalid value, "<no value>" */
  const struct vpath *path;
  bool row;   /* the row itself: its methods and its type's name apply */
  bool iface; /* read from a map or a slice: Go's type is interface {} until the command ends */
};

#define VAL_NONE ((struct val){ NULL, NULL, false, false })

static inline struct val val_take(json_t *j) { return (struct val){ j, NULL, false, false }; }
struct val val_ref(const struct val *v);
void val_release(struct val *v);
/* Go's type for messages: string, int, float64, bool, []interface {}, map[string]interface {} */
const char *val_type(const struct val *v, const struct berth_format_type *type);
/* Go's truth: false, 0, "", empty array or map, nil; *ok false when it has none */
bool val_truth(const struct val *v);

/* ---- the evaluator ---- */
struct var {
  const char *name;
  struct val v;
};

struct exec {
  const struct berth_format_template *t;
  const struct berth_format_type *type;
  struct berth_strbuf *out;
  bool header;    /* Docker's table header: HeaderFunctions, .Label gives a column title */
  void *row_data; /* for the methods; NULL: the type's data */
  struct var *vars;
  size_t nvars, capvars;
  const struct node *at; /* the node evaluated, for messages */
  struct vpath **paths;  /* every vpath made, freed at the end */
  size_t npaths, cappaths;
  size_t steps;
};

int exec_template(const struct berth_format_template *t, json_t *data, const struct berth_format_type *type,
                  bool header, void *row_data, struct berth_strbuf *out, berth_error_t *err) BERTH_WUR;
/* the innermost variable of that name, NULL when none */
struct val *exec_var(struct exec *s, const char *name);

/* "template: :L:C: executing "" at <node>: msg"; returns -1 */
int exec_errorf(struct exec *s, berth_error_t *err, const char *fmt, ...) BERTH_PRINTF(3, 4);
/* wrap an error from a function or method: "... at <node>: error calling name: msg" */
int exec_wrap(struct exec *s, berth_error_t *err, const char *name);
const struct vpath *exec_path(struct exec *s, const struct vpath *up, const char *key);
/* is the object at this path a Go map (missing keys are <no value>) or a struct? */
bool exec_is_map(const struct exec *s, const struct val *v);
bool exec_map_of_strings(const struct exec *s, const struct val *v);

int exec_pipeline(struct exec *s, const struct val *dot, const struct node *pipe, struct val *out,
                  berth_error_t *err) BERTH_WUR;
int exec_command(struct exec *s, const struct val *dot, const struct node *cmd, struct val *final,
                 struct val *out, berth_error_t *err) BERTH_WUR;
int exec_arg(struct exec *s, const struct val *dot, const struct node *n, struct val *out,
             berth_error_t *err) BERTH_WUR;

/* ---- functions ---- */
typedef int (*func_fn)(struct exec *s, const char *name, struct val *args, size_t n, struct val *out,
                       berth_error_t *err);
struct func;
const struct func *func_find(const char *name);
/* call f with the arguments of cmd (a command, or a function's name alone) and the value piped in;
 * and/or get their arguments unevaluated, every other function gets them evaluated and checked */
int func_call(struct exec *s, const struct func *f, const struct val *dot, const struct node *cmd,
              struct val *final, struct val *out, berth_error_t *err) BERTH_WUR;
/* eq, ne, lt, le, gt, ge (compare.c) */
int fn_compare(struct exec *s, const char *name, struct val *args, size_t n, struct val *out,
               berth_error_t *err) BERTH_WUR;
/* Docker's functions (funcs_docker.c) */
int fn_json(struct exec *s, const char *name, struct val *args, size_t n, struct val *out,
            berth_error_t *err) BERTH_WUR;
int fn_split(struct exec *s, const char *name, struct val *args, size_t n, struct val *out,
             berth_error_t *err) BERTH_WUR;
int fn_join(struct exec *s, const char *name, struct val *args, size_t n, struct val *out,
            berth_error_t *err) BERTH_WUR;
int fn_title(struct exec *s, const char *name, struct val *args, size_t n, struct val *out,
             berth_error_t *err) BERTH_WUR;
int fn_lower(struct exec *s, const char *name, struct val *args, size_t n, struct val *out,
             berth_error_t *err) BERTH_WUR;
int fn_upper(struct exec *s, const char *name, struct val *args, size_t n, struct val *out,
             berth_error_t *err) BERTH_WUR;
int fn_pad(struct exec *s, const char *name, struct val *args, size_t n, struct val *out,
           berth_error_t *err) BERTH_WUR;
int fn_truncate(struct exec *s, const char *name, struct val *args, size_t n, struct val *out,
                berth_error_t *err) BERTH_WUR;

/* ---- Go's fmt ---- */
/* fmt.Sprint, Sprintln, Sprintf of values (NULL: nil) */
void go_sprint(struct berth_strbuf *b, json_t *const *v, size_t n);
void go_sprintln(struct berth_strbuf *b, json_t *const *v, size_t n);
void go_sprintf(struct berth_strbuf *b, const char *format, size_t len, json_t *const *v, size_t n);
/* %v of one value */
void go_print_value(struct berth_strbuf *b, const json_t *v);
/* strconv.FormatFloat(f, fmt, -1, 64): the shortest digits that read back as f ('g' as %v) */
void go_format_float(struct berth_strbuf *b, double f, char fmt);
/* strconv.Quote */
void go_quote(struct berth_strbuf *b, const char *s, size_t len, bool ascii_only);

/* ---- Go's encoding/json, as Docker's `json` function writes it (no HTML escaping) ---- */
enum {
  GOJSON_SORT_ALL = 1, /* every object is a Go map (else a struct where the map rules say so) */
  GOJSON_HTML = 2,     /* < > & as \u003c...: what a type's own MarshalJSON (json.Marshal) writes */
};
void go_json_encode(struct berth_strbuf *b, const json_t *v, struct exec *s, const struct vpath *path,
                    unsigned flags);

/* ---- UTF-8 ---- */
/* decode one rune at s[*i] (len bytes); invalid bytes are U+FFFD, one byte long */
int utf8_next(const char *s, size_t len, size_t *i);
void utf8_put(struct berth_strbuf *b, int r);
/* display width of a rune as go-runewidth counts it (East Asian wide: 2; combining: 0) */
int rune_width(int r);

#endif
