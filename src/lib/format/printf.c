/* Go's fmt over JSON values: Sprint, Sprintln and Sprintf with Go's verbs (%v %+v %#v %T %s %q %d
 * %b %o %O %x %X %c %U %t %e %E %f %F %g %G), flags, widths and precisions (also '*' and [n]
 * argument indexes), and Go's complaints: %!d(string=x), %!s(MISSING), %!(EXTRA int=1). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "format/format_internal.h"

struct pp {
  struct berth_strbuf *b;
  bool minus, plus, sharp, space, zero;
  bool plus_v, sharp_v; /* %+v, %#v */
  bool has_wid, has_prec;
  int wid, prec;
};

static void print_arg(struct pp *p, const json_t *v, int verb, int depth);

static const char *type_name(const json_t *v)
{
  struct val tmp = { (json_t *) v, NULL, false, false };
  return v ? val_type(&tmp, NULL) : "<nil>";
}

static size_t rune_count(const char *s, size_t len)
{
  size_t n = 0;
  for (size_t i = 0; i < len; n++)
    utf8_next(s, len, &i);
  return n;
}

static void write_padding(struct pp *p, long n)
{
  for (; n > 0; n--)
    berth_strbuf_putc(p->b, p->zero ? '0' : ' ');
}

/* Go's fmt.pad: the width counts runes; '-' pads on the right */
static void pad(struct pp *p, const char *s, size_t len)
{
  long fill = p->has_wid ? (long) p->wid - (long) rune_count(s, len) : 0;
  if (!p->minus)
    write_padding(p, fill);
  berth_strbuf_append(p->b, s, len);
  if (p->minus) {
    bool z = p->zero;
    p->zero = false;
    write_padding(p, fill);
    p->zero = z;
  }
}

static void pad_str(struct pp *p, const char *s) { pad(p, s, strlen(s)); }

static void bad_verb(struct pp *p, const json_t *v, int verb)
{
  berth_strbuf_puts(p->b, "%!");
  utf8_put(p->b, verb);
  berth_strbuf_putc(p->b, '(');
  if (v) {
    berth_strbuf_printf(p->b, "%s=", type_name(v));
    print_arg(p, v, 'v', 0);
  } else {
    berth_strbuf_puts(p->b, "<nil>");
  }
  berth_strbuf_putc(p->b, ')');
}

static bool is_print(int r)
{
  if (r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0xad)
    return false;
  return !(r >= 0x2000 && r <= 0x200f) && !(r >= 0x2028 && r <= 0x202f) && !(r >= 0x205f && r <= 0x206f) &&
         r != 0xfeff && !(r >= 0xe000 && r <= 0xf8ff) && !(r >= 0xfff9 && r <= 0xfffb) && r != 0x3000;
}

static void quote_rune(struct berth_strbuf *b, int r, char quote, bool ascii_only)
{
  static const char esc_from[] = "\a\b\f\n\r\t\v", esc_to[] = "abfnrtv";
  if (r == quote || r == '\\') {
    berth_strbuf_putc(b, '\\');
    berth_strbuf_putc(b, (char) r);
  } else if (r < 0x80 ? is_print(r) : !ascii_only && is_print(r)) {
    utf8_put(b, r);
  } else if (r && r < 0x80 && strchr(esc_from, r)) {
    berth_strbuf_putc(b, '\\');
    berth_strbuf_putc(b, esc_to[strchr(esc_from, r) - esc_from]);
  } else if (r < ' ' || r == 0x7f) {
    berth_strbuf_printf(b, "\\x%02x", r);
  } else if (r < 0x10000) {
    berth_strbuf_printf(b, "\\u%04x", r);
  } else {
    berth_strbuf_printf(b, "\\U%08x", r);
  }
}

void go_quote(struct berth_strbuf *b, const char *s, size_t len, bool ascii_only)
{
  berth_strbuf_putc(b, '"');
  for (size_t i = 0; i < len;) {
    size_t start = i;
    int r = utf8_next(s, len, &i);
    if (r == 0xfffd && i - start == 1) /* a byte that is not UTF-8 */
      berth_strbuf_printf(b, "\\x%02x", (unsigned char) s[start]);
    else
      quote_rune(b, r, '"', ascii_only);
  }
  berth_strbuf_putc(b, '"');
}

static void fmt_string(struct pp *p, const char *s, size_t len, int verb)
{
  struct berth_strbuf t = BERTH_STRBUF_INIT;
  if (p->has_prec) { /* at most prec runes */
    size_t i = 0;
    for (int n = 0; n < p->prec && i < len; n++)
      utf8_next(s, len, &i);
    len = i;
  }
  switch (verb) {
  case 'v':
    if (p->sharp_v) {
      go_quote(&t, s, len, false);
      pad(p, t.buf, t.len);
    } else {
      pad(p, s, len);
    }
    break;
  case 's': pad(p, s, len); break;
  case 'q': go_quote(&t, s, len, p->plus), pad(p, t.buf, t.len); break;
  case 'x':
  case 'X':
    if (p->sharp)
      berth_strbuf_puts(&t, verb == 'x' ? "0x" : "0X");
    for (size_t i = 0; i < len; i++) {
      if (i && p->space)
        berth_strbuf_puts(&t, p->sharp ? (verb == 'x' ? " 0x" : " 0X") : " ");
      berth_strbuf_printf(&t, verb == 'x' ? "%02x" : "%02X", (unsigned char) s[i]);
    }
    pad(p, t.len ? t.buf : "", t.len);
    break;
  default: {
    json_t *j = json_stringn_nocheck(s, len);
    bad_verb(p, j, verb);
    json_decref(j);
  }
  }
  berth_strbuf_release(&t);
}

/* Go's fmtInteger */
static void fmt_integer(struct pp *p, long long v, int base, int verb, bool upper)
{
  unsigned long long u = v < 0 ? 0ULL - (unsigned long long) v : (unsigned long long) v;
  bool neg = v < 0;
  if (p->has_prec && p->prec == 0 && u == 0) {
    bool z = p->zero;
    p->zero = false;
    write_padding(p, p->has_wid ? p->wid : 0);
    p->zero = z;
    return;
  }
  int prec = p->has_prec ? p->prec : p->zero && p->has_wid ? p->wid - (neg || p->plus || p->space) : 0;
  char digits[70];
  size_t n = 0;
  const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  do
    digits[n++] = set[u % (unsigned) base];
  while ((u /= (unsigned) base) > 0);
  struct berth_strbuf t = BERTH_STRBUF_INIT;
  if (neg)
    berth_strbuf_putc(&t, '-');
  else if (p->plus)
    berth_strbuf_putc(&t, '+');
  else if (p->space)
    berth_strbuf_putc(&t, ' ');
  if (p->sharp && base == 2)
    berth_strbuf_puts(&t, "0b");
  else if (p->sharp && base == 16)
    berth_strbuf_puts(&t, upper ? "0X" : "0x");
  if (verb == 'O')
    berth_strbuf_puts(&t, "0o");
  bool octal_zero = p->sharp && base == 8 && verb != 'O';
  for (long z = prec - (long) n; z > 0; z--, octal_zero = false)
    berth_strbuf_putc(&t, '0');
  if (octal_zero && digits[n - 1] != '0')
    berth_strbuf_putc(&t, '0');
  while (n > 0)
    berth_strbuf_putc(&t, digits[--n]);
  bool z = p->zero;
  p->zero = false;
  pad(p, t.buf, t.len);
  p->zero = z;
  berth_strbuf_release(&t);
}

static void fmt_rune(struct pp *p, long long v, int verb)
{
  int r = v < 0 || v > 0x10ffff ? 0xfffd : (int) v;
  struct berth_strbuf t = BERTH_STRBUF_INIT;
  if (verb == 'c') {
    utf8_put(&t, r);
  } else if (verb == 'q') {
    berth_strbuf_putc(&t, '\'');
    quote_rune(&t, r, '\'', p->plus);
    berth_strbuf_putc(&t, '\'');
  } else { /* U */
    berth_strbuf_printf(&t, "U+%04llX", (unsigned long long) v);
    if (p->sharp && is_print(r)) {
      berth_strbuf_puts(&t, " '");
      utf8_put(&t, r);
      berth_strbuf_putc(&t, '\'');
    }
  }
  bool z = p->zero;
  p->zero = false;
  pad(p, t.buf, t.len);
  p->zero = z;
  berth_strbuf_release(&t);
}

static void fmt_int(struct pp *p, long long v, int verb)
{
  switch (verb) {
  case 'v':
  case 'd': fmt_integer(p, v, 10, verb, false); break;
  case 'b': fmt_integer(p, v, 2, verb, false); break;
  case 'o':
  case 'O': fmt_integer(p, v, 8, verb, false); break;
  case 'x': fmt_integer(p, v, 16, verb, false); break;
  case 'X': fmt_integer(p, v, 16, verb, true); break;
  case 'c':
  case 'q':
  case 'U': fmt_rune(p, v, verb); break;
  default: {
    json_t *j = json_integer(v);
    bad_verb(p, j, verb);
    json_decref(j);
  }
  }
}

/* C's printf of the verb (Go's agrees once it has a precision) */
static void c_float(struct berth_strbuf *b, char conv, bool sharp, int prec, double v)
{
  switch (conv) {
  case 'e': sharp ? berth_strbuf_printf(b, "%#.*e", prec, v) : berth_strbuf_printf(b, "%.*e", prec, v); break;
  case 'E': sharp ? berth_strbuf_printf(b, "%#.*E", prec, v) : berth_strbuf_printf(b, "%.*E", prec, v); break;
  case 'f': sharp ? berth_strbuf_printf(b, "%#.*f", prec, v) : berth_strbuf_printf(b, "%.*f", prec, v); break;
  case 'G': sharp ? berth_strbuf_printf(b, "%#.*G", prec, v) : berth_strbuf_printf(b, "%.*G", prec, v); break;
  default: sharp ? berth_strbuf_printf(b, "%#.*g", prec, v) : berth_strbuf_printf(b, "%.*g", prec, v); break;
  }
}

/* Go's fmt.fmtFloat: the number, then the sign placed before zero padding */
static void fmt_float(struct pp *p, double v, int verb)
{
  struct berth_strbuf num = BERTH_STRBUF_INIT;
  int prec = p->has_prec ? p->prec : (verb == 'f' || verb == 'F' || verb == 'e' || verb == 'E') ? 6 : -1;
  char conv = verb == 'v' ? 'g' : verb == 'F' ? 'f' : (char) verb;
  if (isnan(v) || isinf(v)) {
    const char *s = isnan(v) ? (p->plus    ? "+NaN"
                                : p->space ? " NaN"
                                           : "NaN")
                    : v > 0  ? (p->plus    ? "+Inf"
                                : p->space ? " Inf"
                                           : "+Inf")
                             : "-Inf";
    bool z = p->zero;
    p->zero = false;
    pad_str(p, s);
    p->zero = z;
    return;
  }
  if (prec < 0 && conv == 'g') {
    go_format_float(&num, v, 'g');
  } else if (prec < 0 && conv == 'G') {
    go_format_float(&num, v, 'g');
    for (char *c = num.buf; *c; c++)
      *c = *c == 'e' ? 'E' : *c;
  } else {
    c_float(&num, conv, p->sharp, prec < 0 ? 6 : prec, v);
  }
  const char *digits = num.buf;
  char sign = digits[0] == '-' ? '-' : p->plus ? '+' : p->space ? ' ' : 0;
  if (digits[0] == '-')
    digits++;
  if (sign && p->zero && p->has_wid && (size_t) p->wid > strlen(digits) + 1) {
    berth_strbuf_putc(p->b, sign);
    write_padding(p, p->wid - (long) strlen(digits) - 1);
    berth_strbuf_puts(p->b, digits);
  } else {
    struct berth_strbuf t = BERTH_STRBUF_INIT;
    if (sign)
      berth_strbuf_putc(&t, sign);
    berth_strbuf_puts(&t, digits);
    pad(p, t.buf, t.len);
    berth_strbuf_release(&t);
  }
  berth_strbuf_release(&num);
}

static void print_array(struct pp *p, const json_t *v, int verb, int depth)
{
  if (p->sharp_v) {
    berth_strbuf_puts(p->b, "[]interface {}{");
  } else {
    berth_strbuf_putc(p->b, '[');
  }
  for (size_t i = 0; i < json_array_size(v); i++) {
    if (i)
      berth_strbuf_puts(p->b, p->sharp_v ? ", " : " ");
    print_arg(p, json_array_get(v, i), verb, depth + 1);
  }
  berth_strbuf_putc(p->b, p->sharp_v ? '}' : ']');
}

static int key_cmp(const void *a, const void *b)
{
  return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* Go prints a map's keys in order */
static void print_object(struct pp *p, const json_t *v, int verb, int depth)
{
  size_t n = json_object_size(v), i = 0;
  const char **keys = xcalloc(n + 1, sizeof *keys), *k;
  json_t *e;
  json_object_foreach ((json_t *) v, k, e)
    keys[i++] = k;
  qsort(keys, n, sizeof *keys, key_cmp);
  berth_strbuf_puts(p->b, p->sharp_v ? "map[string]interface {}{" : "map[");
  for (i = 0; i < n; i++) {
    if (i)
      berth_strbuf_puts(p->b, p->sharp_v ? ", " : " ");
    if (p->sharp_v)
      go_quote(p->b, keys[i], strlen(keys[i]), false);
    else
      fmt_string(p, keys[i], strlen(keys[i]), verb);
    berth_strbuf_putc(p->b, ':');
    print_arg(p, json_object_get(v, keys[i]), verb, depth + 1);
  }
  berth_strbuf_putc(p->b, p->sharp_v ? '}' : ']');
  free(keys);
}

static void print_arg(struct pp *p, const json_t *v, int verb, int depth)
{
  if (v == NULL || json_is_null(v)) {
    if (verb == 'v' || verb == 'T')
      pad_str(p, depth > 0 && p->sharp_v ? "interface {}(nil)" : "<nil>");
    else
      bad_verb(p, NULL, verb);
    return;
  }
  if (verb == 'T') {
    pad_str(p, type_name(v));
    return;
  }
  switch (json_typeof(v)) {
  case JSON_TRUE:
  case JSON_FALSE:
    if (verb == 't' || verb == 'v')
      pad_str(p, json_is_true(v) ? "true" : "false");
    else
      bad_verb(p, v, verb);
    break;
  case JSON_INTEGER: fmt_int(p, json_integer_value(v), verb); break;
  case JSON_REAL:
    if (verb && strchr("vgGeEfF", verb))
      fmt_float(p, json_real_value(v), verb);
    else
      bad_verb(p, v, verb);
    break;
  case JSON_STRING: fmt_string(p, json_string_value(v), json_string_length(v), verb); break;
  case JSON_ARRAY: print_array(p, v, verb, depth); break;
  case JSON_OBJECT: print_object(p, v, verb, depth); break;
  case JSON_NULL: break;
  }
}

void go_print_value(struct berth_strbuf *b, const json_t *v)
{
  struct pp p = { .b = b };
  print_arg(&p, v, 'v', 0);
}

void go_sprint(struct berth_strbuf *b, json_t *const *v, size_t n)
{
  struct pp p = { .b = b };
  bool prev_string = false;
  for (size_t i = 0; i < n; i++) {
    bool is_string = v[i] && json_is_string(v[i]);
    if (i > 0 && !is_string && !prev_string)
      berth_strbuf_putc(b, ' ');
    print_arg(&p, v[i], 'v', 0);
    prev_string = is_string;
  }
}

void go_sprintln(struct berth_strbuf *b, json_t *const *v, size_t n)
{
  struct pp p = { .b = b };
  for (size_t i = 0; i < n; i++) {
    if (i > 0)
      berth_strbuf_putc(b, ' ');
    print_arg(&p, v[i], 'v', 0);
  }
  berth_strbuf_putc(b, '\n');
}

static bool too_large(long x) { return x > 1000000 || x < -1000000; }

/* Go's parsenum: digits at s[*i]; a crazy long number consumes the rest of the format (Go lets
 * 8 digits through, berth stops at a million, Go's own bound elsewhere) */
static bool parse_num(const char *s, size_t end, size_t *i, int *num)
{
  long n = 0;
  bool isnum = false;
  for (; *i < end && s[*i] >= '0' && s[*i] <= '9'; (*i)++) {
    n = n * 10 + (s[*i] - '0');
    if (too_large(n)) {
      *i = end;
      return false;
    }
    isnum = true;
  }
  *num = (int) n;
  return isnum;
}

struct args_state {
  json_t *const *v;
  size_t n;
  size_t argnum;
  bool reordered, good;
};

/* "[n]" at s[*i]: the next operand is the n-th; *found when there was one */
static bool arg_number(struct args_state *a, const char *s, size_t end, size_t *i)
{
  if (*i >= end || s[*i] != '[')
    return false;
  a->reordered = true;
  for (size_t j = *i + 1; j < end; j++)
    if (s[j] == ']') {
      size_t k = *i + 1;
      int idx;
      bool ok = parse_num(s, j, &k, &idx) && k == j;
      *i = j + 1;
      if (ok && idx >= 1 && (size_t) idx <= a->n) {
        a->argnum = (size_t) idx - 1;
        return true;
      }
      a->good = false;
      return ok;
    }
  (*i)++;
  a->good = false;
  return false;
}

/* a width or precision given by '*': the operand must be an int */
static bool int_from_arg(struct args_state *a, int *out)
{
  if (a->argnum >= a->n || a->v[a->argnum] == NULL || !json_is_integer(a->v[a->argnum])) {
    a->argnum += a->argnum < a->n;
    return false;
  }
  long long x = json_integer_value(a->v[a->argnum++]);
  if (x > 1000000 || x < -1000000)
    return false;
  *out = (int) x;
  return true;
}

static void parse_flags(struct pp *p, const char *s, size_t end, size_t *i)
{
  for (; *i < end; (*i)++) {
    switch (s[*i]) {
    case '#': p->sharp = true; break;
    case '0': p->zero = !p->minus; break;
    case '+': p->plus = true; break;
    case '-':
      p->minus = true;
      p->zero = false;
      break;
    case ' ': p->space = true; break;
    default: return;
    }
  }
}

/* width and precision, and the [n] that may come before the verb */
static void parse_width_prec(struct pp *p, struct args_state *a, const char *s, size_t end, size_t *i,
                             bool *after)
{
  if (*i < end && s[*i] == '*') {
    (*i)++;
    p->has_wid = int_from_arg(a, &p->wid);
    if (!p->has_wid)
      berth_strbuf_puts(p->b, "%!(BADWIDTH)");
    if (p->wid < 0) {
      p->wid = -p->wid;
      p->minus = true;
      p->zero = false;
    }
    *after = false;
  } else {
    p->has_wid = parse_num(s, end, i, &p->wid);
    if (*after && p->has_wid)
      a->good = false;
  }
  if (*i + 1 < end && s[*i] == '.') {
    (*i)++;
    if (*after)
      a->good = false;
    *after = arg_number(a, s, end, i);
    if (*i < end && s[*i] == '*') {
      (*i)++;
      p->has_prec = int_from_arg(a, &p->prec);
      if (p->prec < 0) {
        p->prec = 0;
        p->has_prec = false;
      }
      if (!p->has_prec)
        berth_strbuf_puts(p->b, "%!(BADPREC)");
      *after = false;
    } else {
      p->has_prec = parse_num(s, end, i, &p->prec);
      if (!p->has_prec) {
        p->prec = 0;
        p->has_prec = true;
      }
    }
  }
  if (!*after)
    *after = arg_number(a, s, end, i);
}

static void extra_args(struct pp *p, struct args_state *a)
{
  berth_strbuf_puts(p->b, "%!(EXTRA ");
  for (size_t i = a->argnum; i < a->n; i++) {
    if (i > a->argnum)
      berth_strbuf_puts(p->b, ", ");
    if (a->v[i] == NULL) {
      berth_strbuf_puts(p->b, "<nil>");
      continue;
    }
    struct pp q = { .b = p->b };
    berth_strbuf_printf(p->b, "%s=", type_name(a->v[i]));
    print_arg(&q, a->v[i], 'v', 0);
  }
  berth_strbuf_putc(p->b, ')');
}

/* one directive after its '%'; false at the end of the format */
static bool directive(struct berth_strbuf *b, struct args_state *a, const char *s, size_t end, size_t *i)
{
  struct pp p = { .b = b };
  parse_flags(&p, s, end, i);
  bool after = arg_number(a, s, end, i);
  parse_width_prec(&p, a, s, end, i, &after);
  if (*i >= end) {
    berth_strbuf_puts(b, "%!(NOVERB)");
    return false;
  }
  int verb = utf8_next(s, end, i);
  if (verb == '%') {
    berth_strbuf_putc(b, '%');
  } else if (!a->good) {
    berth_strbuf_puts(b, "%!");
    utf8_put(b, verb);
    berth_strbuf_puts(b, "(BADINDEX)");
  } else if (a->argnum >= a->n) {
    berth_strbuf_puts(b, "%!");
    utf8_put(b, verb);
    berth_strbuf_puts(b, "(MISSING)");
  } else {
    if (verb == 'v') {
      p.sharp_v = p.sharp;
      p.sharp = false;
      p.plus_v = p.plus;
      p.plus = false;
    }
    print_arg(&p, a->v[a->argnum++], verb, 0);
  }
  return true;
}

void go_sprintf(struct berth_strbuf *b, const char *format, size_t len, json_t *const *v, size_t n)
{
  struct args_state a = { .v = v, .n = n, .good = true };
  for (size_t i = 0; i < len;) {
    a.good = true;
    const char *pct = memchr(format + i, '%', len - i);
    size_t lit = pct ? (size_t) (pct - format) : len;
    berth_strbuf_append(b, format + i, lit - i);
    if (pct == NULL)
      break;
    i = lit + 1;
    if (!directive(b, &a, format, len, &i))
      break;
  }
  if (!a.reordered && a.argnum < n) {
    struct pp p = { .b = b };
    extra_args(&p, &a);
  }
}
