/* The template engine against Go: text/template's semantics (the expected outputs and messages
 * below were produced by Go's text/template with docker/cli's functions over the same JSON), the
 * examples of Docker's documentation (docs.docker.com "Format command and log output", the
 * --format sections of docker ps, docker images and docker inspect) and docker/cli's own
 * formatter and tabwriter tests. Messages differ from Go's in one way only: a parse error names
 * the column too ("template: :1:2: function ..."). */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "format/format.h"

static json_t *parse_json(const char *s)
{
  json_error_t je;
  json_t *j = json_loads(s, JSON_DECODE_ANY, &je);
  if (j == NULL)
    fail_msg("bad JSON in the test: %s", je.text);
  return j;
}

/* run tmpl on data; want_err NULL: it must succeed with want, else fail with exactly want_err
 * (the output before the error must still be want) */
static void check(const char *tmpl, const char *data, const struct berth_format_type *type, const char *want,
                  const char *want_err)
{
  json_t *j = data ? parse_json(data) : NULL;
  struct berth_format_template *t = NULL;
  berth_error_t err = NULL;
  struct berth_strbuf out = BERTH_STRBUF_INIT;
  berth_strbuf_grow(&out, 1);
  out.buf[0] = '\0';
  int r = berth_format_parse(tmpl, &t, &err);
  if (r == 0)
    r = berth_format_exec(t, j, type, &out, &err);
  if (want_err == NULL && r < 0)
    fail_msg("template %s: unexpected error: %s", tmpl, err->msg);
  if (want_err && r == 0)
    fail_msg("template %s: no error, output \"%s\", want error \"%s\"", tmpl, out.buf, want_err);
  if (want_err && strcmp(err->msg, want_err) != 0)
    fail_msg("template %s:\n  error \"%s\"\n  want  \"%s\"", tmpl, err->msg, want_err);
  if (out.len != strlen(want) || memcmp(out.buf, want, out.len) != 0)
    fail_msg("template %s:\n  output \"%s\"\n  want   \"%s\"", tmpl, out.buf, want);
  berth_error_release(&err);
  berth_strbuf_release(&out);
  berth_format_free(t);
  if (j)
    json_decref(j);
}

static const struct {
  const char *tmpl, *data, *out, *err;
} go_cases[] = {
  { "{{.a.b}}", "{\"a\":{\"b\":[1,\"x\",null]}}", "[1 x <nil>]", NULL },
  { "{{.missing}} {{.a.missing}}", "{\"a\":{}}", "<no value> <no value>", NULL },
  { "{{index .m \"zz\"}}|{{index .m \"k\"}}", "{\"m\":{\"k\":\"v\"}}", "<no value>|v", NULL },
  { "{{.n}} {{.f}} {{.big}} {{.small}}", "{\"n\":1234567,\"f\":1234567.5,\"big\":1e21,\"small\":0.00001}",
    "1234567 1.2345675e+06 1e+21 1e-05", NULL },
  { "{{.arr}} {{.m}}", "{\"arr\":[1,2.5,\"s\",null,{\"k\":1}],\"m\":{\"b\":1,\"a\":\"x\"}}",
    "[1 2.5 s <nil> map[k:1]] map[a:x b:1]", NULL },
  { "{{range .a}}[{{.}}]{{end}}", "{\"a\":[1,\"two\",3.5,true,null]}", "[1][two][3.5][true][<no value>]",
    NULL },
  { "{{range $i, $e := .a}}{{$i}}={{$e}} {{end}}", "{\"a\":[\"x\",\"y\"]}", "0=x 1=y ", NULL },
  { "{{range $k, $v := .m}}{{$k}}:{{$v}};{{end}}", "{\"m\":{\"b\":2,\"a\":1,\"c\":[1]}}", "a:1;b:2;c:[1];",
    NULL },
  { "{{range .a}}x{{else}}empty{{end}}|{{range .missing}}x{{else}}none{{end}}", "{\"a\":[]}", "empty|none",
    NULL },
  { "{{range $i, $e := .a}}{{if eq $i 1}}{{continue}}{{end}}{{if eq $i 3}}{{break}}{{end}}{{$e}}{{end}}",
    "{\"a\":[0,1,2,3,4]}", "02", NULL },
  { "{{if .t}}yes{{else}}no{{end}} {{if .f}}yes{{else if .t}}elif{{end}}", "{\"t\":true,\"f\":false}",
    "yes elif", NULL },
  { "{{with .m}}{{.a}}{{end}}{{with .z}}x{{else}}none{{end}}", "{\"m\":{\"a\":1}}", "1none", NULL },
  { "{{$x := 5}}{{$x}} {{$x = \"s\"}}{{$x}} {{$}}", "{\"k\":1}", "5 s map[k:1]", NULL },
  { "{{$x := 1}}{{range .a}}{{$x = .}}{{end}}{{$x}}", "{\"a\":[7,8]}", "8", NULL },
  { "{{- \"a\" -}}   {{- \"b\" }}  c  {{ \"d\" -}}  e", "{}", "ab  c  de", NULL },
  { "a {{/* comment */}} b {{- /* c2 */ -}} c", "{}", "a  bc", NULL },
  { "{{printf \"%s %d %v %q %t %x %X %f %e %g\" \"s\" 42 1.5 \"q\\n\" true 255 255 3.25 1234.5678 0.000012}}",
    "{}", "s 42 1.5 \"q\\n\" true ff FF 3.250000 1.234568e+03 1.2e-05", NULL },
  { "{{printf \"%5s|%-5s|%05d|%+d|% d|%x|%#x|%#o|%o|%b\" \"ab\" \"ab\" 42 42 42 -255 255 8 8 5}}", "{}",
    "   ab|ab   |00042|+42| 42|-ff|0xff|010|10|101", NULL },
  { "{{printf \"%.2s|%.3f|%8.3f|%-8.3f|%08.3f|%+.1e\" \"h\xc3"
    "\xa9"
    "llo\" 3.14159 3.14159 3.14159 -3.14159 12345.678}}",
    "{}",
    "h\xc3"
    "\xa9"
    "|3.142|   3.142|3.142   |-003.142|+1.2e+04",
    NULL },
  { "{{printf \"%d %s\" \"str\" 5}} {{printf \"%d\"}} {{printf \"x\" 1 \"a\"}}", "{}",
    "%!d(string=str) %!s(int=5) %!d(MISSING) x%!(EXTRA int=1, string=a)", NULL },
  { "{{printf \"%v %v %v\" .a .m .n}}", "{\"a\":[1,\"b\",null],\"m\":{\"z\":1,\"a\":[2]},\"n\":null}",
    "[1 b <nil>] map[a:[2] z:1] <nil>", NULL },
  { "{{printf \"%#v %T %T\" .a .m 1.5}}", "{\"a\":[1,\"b\"],\"m\":{\"z\":1}}",
    "[]interface {}{1, \"b\"} map[string]interface {} float64", NULL },
  { "{{printf \"%[2]d %[1]d\" 1 2}} {{printf \"%*d|%-*d|%.*f\" 5 1 5 2 2 3.14159}}", "{}",
    "2 1     1|2    |3.14", NULL },
  { "{{printf \"%c %q %U %#U\" 65 66 67 233}} {{printf \"%%\"}} {{printf \"%z\" 1}}", "{}",
    "A 'B' U+0043 U+00E9 '\xc3"
    "\xa9"
    "' % %!z(int=1)",
    NULL },
  { "{{print \"a\" 1 2 \"b\" nil}} {{println 1 \"a\" 2}}", "{}", "a1 2b<nil> 1 a 2\n", NULL },
  { "{{eq 1 1}} {{eq 1 2 3 1}} {{eq \"a\" \"a\"}} {{ne 1 2}} {{lt 1 2}} {{le 2 2}} {{gt \"b\" \"a\"}} {{ge "
    "1.5 2.5}}",
    "{}", "true true true true true true true false", NULL },
  { "{{eq .missing \"x\"}} {{eq .missing .missing2}}", "{}", "false true", NULL },
  { "{{and 1 0 2}} {{or 0 \"\" \"x\"}} {{and 1 2}} {{or 0 \"\"}} {{not 0}} {{not \"x\"}}", "{}",
    "0 x 2  true false", NULL },
  { "{{if and .a (not .b)}}ok{{end}}", "{\"a\":1,\"b\":0}", "ok", NULL },
  { "{{index .a 1}} {{index .s 0}} {{index .n \"a\" 1}}", "{\"a\":[1,2],\"s\":\"A\",\"n\":{\"a\":[5,6]}}",
    "2 65 6", NULL },
  { "{{slice .s 1 3}} {{slice .a 1}} {{len .s}} {{len .a}} {{len .m}}",
    "{\"s\":\"abcdef\",\"a\":[1,2,3],\"m\":{\"a\":1}}", "bc [2 3] 6 3 1", NULL },
  { "{{json .}}",
    "{\"b\":{\"y\":1,\"x\":\"<&>\"},\"a\":[1,2.5,null],\"s\":\"q\\\"\\n\\u0001\xc3"
    "\xa9"
    "\"}",
    "{\"a\":[1,2.5,null],\"b\":{\"x\":\"<&>\",\"y\":1},\"s\":\"q\\\"\\n\\u0001\xc3"
    "\xa9"
    "\"}",
    NULL },
  { "{{join .a \",\"}} {{join .m \"-\"}} {{join .n \",\"}}",
    "{\"a\":[\"x\",1,null,2.5],\"m\":{\"b\":\"z\",\"a\":\"y\"}}", "x,1,<nil>,2.5 y-z ", NULL },
  { "{{split \"a,b,,c\" \",\"}} {{split \"abc\" \"\"}} {{len (split \"a b\" \" \")}}", "{}",
    "[a b  c] [a b c] 2", NULL },
  { "{{title \"hello wORLD foo_bar x-y\"}} {{upper \"abc\xc3"
    "\xa9"
    "\"}} {{lower \"ABC\"}}",
    "{}",
    "Hello WORLD Foo_bar X-Y ABC\xc3"
    "\x89"
    " abc",
    NULL },
  { "{{pad \"x\" 2 3}}|{{pad \"\" 2 3}}|{{truncate \"abcdef\" 3}} {{truncate \"ab\" 5}}", "{}",
    "  x   ||abc ab", NULL },
  { "{{.a | printf \"%s-%s\" \"x\"}} {{\"x\" | printf \"%s\"}} {{.a | len}}", "{\"a\":\"A\"}", "x-A x 1",
    NULL },
  { "{{(index .a 0).b}} {{(.m).x}}", "{\"a\":[{\"b\":\"B\"}],\"m\":{\"x\":1}}", "B 1", NULL },
  { "{{printf \"%d\" 0x1F}} {{printf \"%d\" 0o17}} {{printf \"%d\" 1_000}} {{printf \"%d\" 'a'}} {{printf "
    "\"%v\" 1e3}}",
    "{}", "31 15 1000 97 1000", NULL },
  { "{{printf \"%s\" `raw\\n`}} {{\"esc\\t\\x41\\u00e9\\101\"}}", "{}",
    "raw\\n esc\tA\xc3"
    "\xa9"
    "A",
    NULL },
  { "{{html \"<a href='x'>&</a>\"}} {{urlquery \"a b&c=d/\xc3"
    "\xa9"
    "\"}} {{js \"a'b\\\"c<d>\"}}",
    "{}", "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt; a+b%26c%3Dd%2F%C3%A9 a\\'b\\\"c\\u003Cd\\u003E", NULL },
  { "{{.x.y}}", "{\"x\":null}", "",
    "template: :1:4: executing \"\" at <.x.y>: nil pointer evaluating interface {}.y" },
  { "{{range .s}}x{{end}}", "{\"s\":\"str\"}", "",
    "template: :1:8: executing \"\" at <.s>: range can't iterate over str" },
  { "{{eq 1 1.0}}", "{}", "",
    "template: :1:2: executing \"\" at <eq 1 1.0>: error calling eq: incompatible types for comparison" },
  { "{{lt .missing 1}}", "{}", "",
    "template: :1:2: executing \"\" at <lt .missing 1>: error calling lt: invalid type for comparison" },
  { "{{index .a 5}}", "{\"a\":[1,2]}", "",
    "template: :1:2: executing \"\" at <index .a 5>: error calling index: index out of range: 5" },
  { "{{index .a \"x\"}}", "{\"a\":[1,2]}", "",
    "template: :1:2: executing \"\" at <index .a \"x\">: error calling index: cannot index slice/array with "
    "type string" },
  { "{{upper 5}}", "{}", "", "template: :1:8: executing \"\" at <5>: expected string; found 5" },
  { "{{upper .missing}}", "{}", "",
    "template: :1:8: executing \"\" at <.missing>: invalid value; expected string" },
  { "{{truncate \"abc\" \"x\"}}", "{}", "",
    "template: :1:17: executing \"\" at <\"x\">: expected integer; found \"x\"" },
  { "{{join .s \",\"}}", "{\"s\":\"str\"}", "",
    "template: :1:2: executing \"\" at <join .s \",\">: error calling join: expected slice, got string" },
  { "{{.a.b.c}}", "{\"a\":{\"b\":\"str\"}}", "",
    "template: :1:4: executing \"\" at <.a.b.c>: can't evaluate field c in type interface {}" },
  { "{{.a 1}}", "{\"a\":1}", "",
    "template: :1:2: executing \"\" at <.a>: a is not a method but has arguments" },
  { "{{nil}}", "{}", "", "template: :1:2: executing \"\" at <nil>: nil is not a command" },
  { "{{(1).x}}", "{}", "", "template: :1:3: executing \"\" at <1>: can't evaluate field x in type int" },
  { "{{and}}", "{}", "",
    "template: :1:2: executing \"\" at <and>: wrong number of args for and: want at least 1 got 0" },
  { "{{eq 1}}", "{}", "",
    "template: :1:2: executing \"\" at <eq 1>: error calling eq: missing argument for comparison" },
  { "{{not 1 2}}", "{}", "",
    "template: :1:2: executing \"\" at <not>: wrong number of args for not: want 1 got 2" },
  { "{{pad \"x\" -1 0}}", "{}", "",
    "template: :1:2: executing \"\" at <pad \"x\" -1 0>: error calling pad: strings: negative Repeat count" },
  { "{{truncate \"x\" -1}}", "{}", "",
    "template: :1:2: executing \"\" at <truncate \"x\" -1>: error calling truncate: runtime error: slice "
    "bounds out of range [:-1]" },
  { "{{9223372036854775808}}", "{}", "",
    "template: :1:2: executing \"\" at <9223372036854775808>: 9223372036854775808 overflows int" },
  { "{{printf \"%v\" 9223372036854775807}}", "{}", "9223372036854775807", NULL },
  { "{{nofunc}}", "{}", "", "template: :1:2: function \"nofunc\" not defined" },
  { "{{if}}", "{}", "", "template: :1:4: missing value for if" },
  { "{{end}}", "{}", "", "template: :1:5: unexpected {{end}}" },
  { "{{range .a}}", "{}", "", "template: :1:12: unexpected EOF" },
  { "{{.a", "{}", "", "template: :1:4: unclosed action" },
  { "{{\"unterminated}}", "{}", "", "template: :1:2: unterminated quoted string" },
  { "{{$undefined}}", "{}", "", "template: :1:2: undefined variable \"$undefined\"" },
  { "{{. | 1}}", "{}", "", "template: :1:7: non executable command in pipeline stage 2" },
  { "{{/* unclosed }}", "{}", "", "template: :1:2: unclosed comment" },
  { "{{1 2}}", "{}", "", "template: :1:2: executing \"\" at <1>: can't give argument to non-function 1" },
  { "{{(1 2)}}", "{}", "", "template: :1:3: executing \"\" at <1>: can't give argument to non-function 1" },
  { "{{.a b}}", "{\"a\":1}", "", "template: :1:5: function \"b\" not defined" },
  { "{{\"\\z\"}}", "{}", "", "template: :1:2: invalid syntax" },
  { "{{'ab'}}", "{}", "", "template: :1:2: malformed character constant: 'ab'" },
  { "{{1-2}}", "{}", "", "template: :1:2: bad number syntax: \"1-2\"" },
  { "{{range $i, $x, $y := .a}}{{end}}", "{\"a\":[1,2]}", "",
    "template: :1:14: too many declarations in range" },
  { "{{if 1}}{{break}}{{end}}", "{}", "", "template: :1:15: {{break}} outside {{range}}" },
  { "{{if .a}}x{{else}}y{{else}}z{{end}}", "{}", "", "template: :1:25: expected end; found {{else}}" },
};

/* text/template semantics over plain JSON (every object a map[string]interface{}) */
static void test_go_semantics(void **state)
{
  for (size_t i = 0; i < BERTH_N_ELEMENTS(go_cases); i++)
    check(go_cases[i].tmpl, go_cases[i].data, NULL, go_cases[i].out, go_cases[i].err);
}

/* a container as inspect shows it; Labels, Networks and Ports are Go maps, the rest structs */
static const char container_doc[] =
  "{\"Id\":\"3b2cbf074c99\",\"Name\":\"/database\",\"Args\":[\"-c\",\"echo hi\"],"
  "\"LogPath\":\"/var/lib/berth/containers/3b2cbf074c99/3b2cbf074c99-json.log\","
  "\"Config\":{\"Image\":\"redis:7\",\"Labels\":{\"com.example.vendor\":\"ACME\",\"app\":\"web\"},"
  "\"Env\":[\"PATH=/usr/bin\",\"A=1\"]},"
  "\"NetworkSettings\":{\"Networks\":{\"bridge\":{\"IPAddress\":\"172.17.0.2\",\"MacAddress\":\"02:42:ac:11:"
  "00:02\"}},"
  "\"Ports\":{\"6379/tcp\":null,\"8787/tcp\":[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"8787\"}]}},"
  "\"Mounts\":[{\"Type\":\"volume\",\"Name\":\"data\",\"Source\":\"/var/lib/berth/volumes/data/_data\","
  "\"Destination\":\"/data\"}],\"SizeRootFs\":123125760,\"SizeRw\":8192,\"State\":{\"Health\":null}}";

static const struct berth_format_map container_maps[] = {
  { "Config.Labels", true },
  { "NetworkSettings.Networks", false },
  { "NetworkSettings.Ports", false },
  { NULL, false },
};
static const struct berth_format_type container_type = { .maps = container_maps };

/* docker inspect -f: the documented examples, and the errors of a struct's missing field */
static void test_docker_inspect_examples(void **state)
{
  static const struct {
    const char *tmpl, *out, *err;
  } cases[] = {
    /* docs.docker.com, docker inspect */
    { "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", "172.17.0.2", NULL },
    { "{{range .NetworkSettings.Networks}}{{.MacAddress}}{{end}}", "02:42:ac:11:00:02", NULL },
    { "{{.LogPath}}", "/var/lib/berth/containers/3b2cbf074c99/3b2cbf074c99-json.log", NULL },
    { "{{.Config.Image}}", "redis:7", NULL },
    { "{{range $p, $conf := .NetworkSettings.Ports}} {{$p}} -> {{with $conf}}{{(index . 0).HostPort}}"
      "{{else}}none{{end}} {{end}}",
      " 6379/tcp -> none  8787/tcp -> 8787 ", NULL },
    { "{{(index (index .NetworkSettings.Ports \"8787/tcp\") 0).HostPort}}", "8787", NULL },
    { "{{ .SizeRootFs }} {{ .SizeRw }}", "123125760 8192", NULL },
    /* a struct keeps its fields' order, a map is sorted */
    { "{{json .Config}}",
      "{\"Image\":\"redis:7\",\"Labels\":{\"app\":\"web\",\"com.example.vendor\":\"ACME\"},"
      "\"Env\":[\"PATH=/usr/bin\",\"A=1\"]}",
      NULL },
    /* docs.docker.com, Format command and log output */
    { "{{join .Args \" , \"}}", "-c , echo hi", NULL },
    { "{{json .Mounts}}",
      "[{\"Type\":\"volume\",\"Name\":\"data\",\"Source\":\"/var/lib/berth/volumes/data/_data\","
      "\"Destination\":\"/data\"}]",
      NULL },
    { "{{lower .Name}} {{title .Name}} {{upper .Name}}", "/database /Database /DATABASE", NULL },
    { "{{split .Config.Image \":\"}}", "[redis 7]", NULL },
    { "{{range .NetworkSettings.Networks}}{{println .IPAddress}}{{end}}", "172.17.0.2\n", NULL },
    /* maps: a missing key is <no value>, or "" through index for map[string]string */
    { "{{.Config.Labels.app}}|{{.Config.Labels.nope}}|{{index .Config.Labels \"nope\"}}|", "web|<no value>||",
      NULL },
    { "{{.NetworkSettings.Networks.host}}", "<no value>", NULL },
    /* structs: a missing field is an error naming the position */
    { "{{.Config.Imag}}", "",
      "template: :1:9: executing \"\" at <.Config.Imag>: map has no entry for key \"Imag\"" },
    { "id {{.Foo.Bar}}", "id ",
      "template: :1:9: executing \"\" at <.Foo.Bar>: map has no entry for key \"Foo\"" },
    { "{{.NetworkSettings.Networks.bridge.Gateway}}", "",
      "template: :1:18: executing \"\" at <.NetworkSettings.Networks.bridge.Gateway>: map has no entry for "
      "key "
      "\"Gateway\"" },
    { "{{.State.Health.Status}}", "",
      "template: :1:8: executing \"\" at <.State.Health.Status>: nil pointer evaluating interface "
      "{}.Status" },
    { "{{.Name.First}}", "",
      "template: :1:7: executing \"\" at <.Name.First>: can't evaluate field First in type interface {}" },
    { "{{len .Foo}}", "", "template: :1:6: executing \"\" at <.Foo>: map has no entry for key \"Foo\"" },
  };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(cases); i++)
    check(cases[i].tmpl, container_doc, &container_type, cases[i].out, cases[i].err);
}

/* docker ps's rows: every field is a method of *formatter.ContainerContext, Label takes a key */
static json_t *ctr_label(json_t *row, const char *const *args, void *data, berth_error_t *err)
{
  json_t *labels = json_object_get(row, "LabelMap");
  json_t *v = json_object_get(labels, args[0]);
  return json_string(v ? json_string_value(v) : "");
}

static const struct berth_format_method ctr_methods[] = {
  { "Label", 1, ctr_label },
  { NULL, 0, NULL },
};
static const struct berth_format_type ctr_type = { .name = "*formatter.ContainerContext",
                                                   .methods = ctr_methods,
                                                   .sorted_json = true };

static json_t *ctr_header(void)
{
  return parse_json(
    "{\"ID\":\"CONTAINER ID\",\"Names\":\"NAMES\",\"Image\":\"IMAGE\",\"Command\":\"COMMAND\","
    "\"CreatedAt\":\"CREATED AT\",\"RunningFor\":\"CREATED\",\"Ports\":\"PORTS\",\"State\":\"STATE\","
    "\"Status\":\"STATUS\",\"Size\":\"SIZE\",\"Labels\":\"LABELS\",\"Mounts\":\"MOUNTS\","
    "\"LocalVolumes\":\"LOCAL VOLUMES\",\"Networks\":\"NETWORKS\"}");
}

static json_t *ctr_row(const char *id, const char *name, const char *labels, const char *label_map)
{
  char *s = xasprintf(
    "{\"ID\":\"%s\",\"Names\":\"%s\",\"Image\":\"ubuntu\",\"Command\":\"\\\"\\\"\","
    "\"CreatedAt\":\"2024-05-01 10:00:00 +0000 UTC\",\"RunningFor\":\"24 hours ago\",\"Ports\":\"\","
    "\"State\":\"running\",\"Status\":\"\",\"Size\":\"0B\",\"Labels\":\"%s\",\"Mounts\":\"\","
    "\"LocalVolumes\":\"0\",\"Networks\":\"bridge\",\"LabelMap\":%s}",
    id, name, labels, label_map);
  json_t *j = parse_json(s);
  free(s);
  return j;
}

/* the whole of Docker's formatter.Context: rows, then the header and the tabwriter */
static char *write_rows(const char *format, const struct berth_format_type *type, json_t *header,
                        json_t **rows, size_t n, berth_error_t *err)
{
  struct berth_format_writer w;
  char *out = NULL;
  if (berth_format_writer_init(&w, format, type, header, err) < 0)
    return NULL;
  size_t i = 0;
  for (; i < n; i++)
    if (berth_format_writer_add(&w, rows[i], err) < 0)
      break;
  if (i == n) {
    struct berth_strbuf b = BERTH_STRBUF_INIT;
    berth_strbuf_grow(&b, 1);
    b.buf[0] = '\0';
    berth_format_writer_finish(&w, &b);
    out = berth_strbuf_detach(&b);
  }
  berth_format_writer_release(&w);
  return out;
}

static void check_rows(const char *format, json_t **rows, size_t n, const char *want, const char *want_err)
{
  json_t *header = ctr_header();
  berth_error_t err = NULL;
  char *out = write_rows(format, &ctr_type, header, rows, n, &err);
  if (want_err) {
    if (out || strcmp(err->msg, want_err) != 0)
      fail_msg("format %s: error \"%s\", want \"%s\"", format, err ? err->msg : "(none)", want_err);
    berth_error_release(&err);
  } else if (out == NULL || strcmp(out, want) != 0) {
    fail_msg("format %s:\n  output \"%s\"\n  want   \"%s\"", format, out ? out : err->msg, want);
  }
  free(out);
  json_decref(header);
}

/* docker/cli's TestContainerContextWrite and TestContainerContextWriteWithNoContainers */
static void test_docker_cli_container_write(void **state)
{
  json_t *rows[2] = { ctr_row("containerID1", "foobar_baz", "", "{}"),
                      ctr_row("containerID2", "foobar_bar", "", "{}") };
  check_rows("{{InvalidFunction}}", rows, 2, NULL,
             "template parsing error: template: :1:2: function \"InvalidFunction\" not defined");
  check_rows("{{nil}}", rows, 2, NULL,
             "template parsing error: template: :1:2: executing \"\" at <nil>: nil is not a command");
  check_rows(
    "table {{.ID}}\\t{{.Image}}\\t{{.Command}}\\t{{.RunningFor}}\\t{{.Status}}\\t{{.Ports}}\\t{{.Names}}"
    "\\t{{.Size}}",
    rows, 2,
    "CONTAINER ID   IMAGE     COMMAND   CREATED        STATUS    PORTS     NAMES        SIZE\n"
    "containerID1   ubuntu    \"\"        24 hours ago                       foobar_baz   0B\n"
    "containerID2   ubuntu    \"\"        24 hours ago                       foobar_bar   0B\n",
    NULL);
  check_rows("table {{.Image}}", rows, 2, "IMAGE\nubuntu\nubuntu\n", NULL);
  check_rows("table {{.State}}", rows, 2, "STATE\nrunning\nrunning\n", NULL);
  check_rows("{{.Image}}", rows, 2, "ubuntu\nubuntu\n", NULL);
  check_rows(
    "container_id: {{.ID}}\nimage: {{.Image}}\ncommand: {{.Command}}\ncreated_at: {{.CreatedAt}}\n"
    "state: {{- pad .State 1 0}}\nstatus: {{- pad .Status 1 0}}\nnames: {{.Names}}\n"
    "labels: {{- pad .Labels 1 0}}\nports: {{- pad .Ports 1 0}}\n",
    rows, 1,
    "container_id: containerID1\nimage: ubuntu\ncommand: \"\"\ncreated_at: 2024-05-01 10:00:00 +0000 UTC\n"
    "state: running\nstatus:\nnames: foobar_baz\nlabels:\nports:\n\n",
    NULL);
  /* the header functions leave a column's title as it is; pad still pads it */
  check_rows(
    "table {{truncate .ID 5}}\\t{{json .Image}} {{.RunningFor}}/{{title .Status}}/{{pad .Ports 2 2}}."
    "{{upper .Names}} {{lower .Status}}",
    rows, 2,
    "CONTAINER ID   IMAGE CREATED/STATUS/  PORTS  .NAMES STATUS\n"
    "conta          \"ubuntu\" 24 hours ago//.FOOBAR_BAZ \n"
    "conta          \"ubuntu\" 24 hours ago//.FOOBAR_BAR \n",
    NULL);
  check_rows("table {{split .Image \":\"}}", rows, 2, "IMAGE\n[ubuntu]\n[ubuntu]\n", NULL);
  /* no containers: the header alone, at least minwidth 10 wide */
  check_rows("{{.Image}}", NULL, 0, "", NULL);
  check_rows("table {{.Image}}", NULL, 0, "IMAGE\n", NULL);
  check_rows("table {{.Image}}\\t{{.Size}}", NULL, 0, "IMAGE     SIZE\n", NULL);
  json_decref(rows[0]);
  json_decref(rows[1]);
}

/* docker ps --format examples (docs), the json directive, .Label and the errors of a row */
static void test_docker_ps_examples(void **state)
{
  json_t *rows[4] = {
    ctr_row("a87ecb4f327c", "web", "com.docker.swarm.node=ubuntu,com.docker.swarm.storage=ssd",
            "{\"com.docker.swarm.node\":\"ubuntu\",\"com.docker.swarm.storage\":\"ssd\"}"),
    ctr_row("01946d9d34d8", "db", "", "{}"),
    ctr_row("c1d3b0166030", "cache", "com.docker.swarm.node=debian,com.docker.swarm.cpu=6",
            "{\"com.docker.swarm.node\":\"debian\",\"com.docker.swarm.cpu\":\"6\"}"),
    ctr_row("41d50ecd2f57", "q",
            "com.docker.swarm.node=fedora,com.docker.swarm.cpu=3,com.docker.swarm.storage=ssd",
            "{\"com.docker.swarm.node\":\"fedora\"}"),
  };
  /* the docs show the CLI's old padding; today's tabwriter is (minwidth 10, padding 3) */
  check_rows(
    "table {{.ID}}\\t{{.Labels}}", rows, 4,
    "CONTAINER ID   LABELS\n"
    "a87ecb4f327c   com.docker.swarm.node=ubuntu,com.docker.swarm.storage=ssd\n"
    "01946d9d34d8   \n"
    "c1d3b0166030   com.docker.swarm.node=debian,com.docker.swarm.cpu=6\n"
    "41d50ecd2f57   com.docker.swarm.node=fedora,com.docker.swarm.cpu=3,com.docker.swarm.storage=ssd\n",
    NULL);
  check_rows("{{.ID}}: {{.Names}}", rows, 2, "a87ecb4f327c: web\n01946d9d34d8: db\n", NULL);
  check_rows("table {{.ID}}\\t{{.Label \"com.docker.swarm.node\"}}", rows, 3,
             "CONTAINER ID   node\na87ecb4f327c   ubuntu\n01946d9d34d8   \nc1d3b0166030   debian\n", NULL);
  check_rows("{{json .Names}} {{.Label \"com.docker.swarm.cpu\" | printf \"%q\"}}", rows + 2, 1,
             "\"cache\" \"6\"\n", NULL);
  check_rows(
    "{{.Foo}}", rows, 1, NULL,
    "template parsing error: template: :1:2: executing \"\" at <.Foo>: can't evaluate field Foo in type "
    "*formatter.ContainerContext");
  check_rows(
    "{{.Label}}", rows, 1, NULL,
    "template parsing error: template: :1:2: executing \"\" at <.Label>: wrong number of args for Label: "
    "want 1 got 0");
  check_rows(
    "{{.ID 1}}", rows, 1, NULL,
    "template parsing error: template: :1:2: executing \"\" at <.ID>: wrong number of args for ID: want 0 "
    "got 1");
  check_rows(
    "{{.Label 1}}", rows, 1, NULL,
    "template parsing error: template: :1:9: executing \"\" at <1>: wrong type for value; expected string; "
    "got int");
  check_rows(
    "{{.Names.First}}", rows, 1, NULL,
    "template parsing error: template: :1:8: executing \"\" at <.Names.First>: can't evaluate field First "
    "in type string");
  for (size_t i = 0; i < 4; i++)
    json_decref(rows[i]);
}

/* docker ps --format json: the row as docker marshals it (keys sorted, <>& escaped) */
static void test_docker_json_directive(void **state)
{
  json_t *row = parse_json("{\"Names\":\"boring_keldysh\",\"ID\":\"a762a2b37a1d\","
                           "\"Labels\":\"maintainer=NGINX Docker Maintainers <docker-maint@nginx.com>\"}");
  berth_error_t err = NULL;
  char *out = write_rows("json", &ctr_type, NULL, &row, 1, &err);
  assert_non_null(out);
  assert_string_equal(out, "{\"ID\":\"a762a2b37a1d\",\"Labels\":\"maintainer=NGINX Docker Maintainers "
                           "\\u003cdocker-maint@nginx.com\\u003e\",\"Names\":\"boring_keldysh\"}\n");
  free(out);
  /* a field of the row is a string: json writes it without escaping */
  out = write_rows("{{json .Labels}}", &ctr_type, NULL, &row, 1, &err);
  assert_string_equal(out, "\"maintainer=NGINX Docker Maintainers <docker-maint@nginx.com>\"\n");
  free(out);
  json_decref(row);
}

/* docker images --format examples (docs) */
static void test_docker_images_examples(void **state)
{
  static const char *const img[][3] = {
    { "77af4d6b9913", "<none>", "<none>" },
    { "b6fa739cedf5", "committ", "latest" },
    { "30557a29d5ab", "docker", "latest" },
    { "746b819f315e", "postgres", "9.3.5" },
  };
  json_t *rows[4];
  for (size_t i = 0; i < 4; i++) {
    rows[i] = json_object();
    json_object_set_new(rows[i], "ID", json_string(img[i][0]));
    json_object_set_new(rows[i], "Repository", json_string(img[i][1]));
    json_object_set_new(rows[i], "Tag", json_string(img[i][2]));
  }
  json_t *header = parse_json("{\"ID\":\"IMAGE ID\",\"Repository\":\"REPOSITORY\",\"Tag\":\"TAG\"}");
  static const struct berth_format_type image_type = { .name = "*formatter.imageContext",
                                                       .sorted_json = true };
  berth_error_t err = NULL;
  char *out = write_rows("{{.ID}}: {{.Repository}}", &image_type, header, rows, 4, &err);
  assert_string_equal(
    out, "77af4d6b9913: <none>\nb6fa739cedf5: committ\n30557a29d5ab: docker\n746b819f315e: postgres\n");
  free(out);
  out = write_rows("table {{.ID}}\\t{{.Repository}}\\t{{.Tag}}", &image_type, header, rows, 4, &err);
  assert_string_equal(out, "IMAGE ID       REPOSITORY   TAG\n"
                           "77af4d6b9913   <none>       <none>\n"
                           "b6fa739cedf5   committ      latest\n"
                           "30557a29d5ab   docker       latest\n"
                           "746b819f315e   postgres     9.3.5\n");
  free(out);
  for (size_t i = 0; i < 4; i++)
    json_decref(rows[i]);
  json_decref(header);
}

static const struct {
  const char *name;
  size_t minwidth, padding;
  const char *in, *out;
} tab_cases[] = {
  { "1a", 8, 1, "", "" },
  { "1b esc", 8, 1,
    "\xff"
    "\xff"
    "",
    "\xff"
    "\xff"
    "" },
  { "1c esc", 8, 1,
    "\xff"
    "\t\xff"
    "",
    "\xff"
    "\t\xff"
    "" },
  { "1d esc", 8, 1,
    "\xff"
    "\"foo\t\n\tbar\"\xff"
    "",
    "\xff"
    "\"foo\t\n\tbar\"\xff"
    "" },
  { "1e esc", 8, 1,
    "abc\xff"
    "\tdef",
    "abc\xff"
    "\tdef" },
  { "2", 8, 1, "\n\n\n", "\n\n\n" },
  { "3", 8, 1, "a\nb\nc", "a\nb\nc" },
  { "4a", 8, 1, "\t", "" },
  { "5", 8, 1, "*\t*", "*       *" },
  { "5b", 8, 1, "*\t*\n", "*       *\n" },
  { "5c", 8, 1, "*\t*\t", "*       *" },
  { "6", 8, 1, "\t\n", "        \n" },
  { "7a", 8, 1, "a) foo", "a) foo" },
  { "7b", 8, 1, "b) foo\tbar", "b) foo  bar" },
  { "7c", 8, 1, "c) foo\tbar\t", "c) foo  bar" },
  { "7d", 8, 1, "d) foo\tbar\n", "d) foo  bar\n" },
  { "7e", 8, 1, "e) foo\tbar\t\n", "e) foo  bar     \n" },
  { "8", 8, 1, "Hello, world!\n", "Hello, world!\n" },
  { "9a", 1, 0, "1\t2\t3\t4\n11\t222\t3333\t44444\n", "1 2  3   4\n11222333344444\n" },
  { "9c", 1, 0, "1\t2\t3\t4\f11\t222\t3333\t44444\n", "1234\n11222333344444\n" },
  { "10a", 5, 0, "1\t2\t3\t4\n", "1    2    3    4\n" },
  { "10b", 5, 0, "1\t2\t3\t4\t\n", "1    2    3    4    \n" },
  { "11", 8, 1,
    "\xe6"
    "\x9c"
    "\xac"
    "\tb\tc\naa\t\xe6"
    "\x9c"
    "\xac"
    "\xe6"
    "\x9c"
    "\xac"
    "\xe6"
    "\x9c"
    "\xac"
    "\tcccc\tddddd\naaa\tbbbb\n",
    "\xe6"
    "\x9c"
    "\xac"
    "      b       c\naa      \xe6"
    "\x9c"
    "\xac"
    "\xe6"
    "\x9c"
    "\xac"
    "\xe6"
    "\x9c"
    "\xac"
    "  cccc    ddddd\naaa     bbbb\n" },
  { "12b", 2, 0, "a\tb\tc\naa\tbbb\tcccc\naaa\tbbbb\n", "a  b  c\naa bbbcccc\naaabbbb\n" },
  { "12c", 8, 1, "a\tb\tc\naa\tbbb\tcccc\naaa\tbbbb\n",
    "a       b       c\naa      bbb     cccc\naaa     bbbb\n" },
  { "13a", 4, 1,
    "4444\t\xc3"
    "\xa6"
    "\xc2"
    "\x97"
    "\xc2"
    "\xa5"
    "\xc3"
    "\xa6"
    "\xc2"
    "\x9c"
    "\xc2"
    "\xac"
    "\xc3"
    "\xa8"
    "\xc2"
    "\xaa"
    "\xc2"
    "\x9e"
    "\t22\t1\t333\n999999999\t22\n7\t22\n\t\t\t88888888\n\n666666\t666666\t666666\t4444\n1\t1\t999999999\t000"
    "0000000\n",
    "4444      \xc3"
    "\xa6"
    "\xc2"
    "\x97"
    "\xc2"
    "\xa5"
    "\xc3"
    "\xa6"
    "\xc2"
    "\x9c"
    "\xc2"
    "\xac"
    "\xc3"
    "\xa8"
    "\xc2"
    "\xaa"
    "\xc2"
    "\x9e"
    " 22  1   333\n999999999 22\n7         22\n                  88888888\n\n666666 666666 666666    4444\n1 "
    "     1      999999999 0000000000\n" },
  { "13b", 4, 3,
    "4444\t333\t22\t1\t333\n999999999\t22\n7\t22\n\t\t\t88888888\n\n666666\t666666\t666666\t4444\n1\t1\t99999"
    "9999\t0000000000\n",
    "4444        333   22   1   333\n999999999   22\n7           22\n                    88888888\n\n666666  "
    " 666666   666666      4444\n1        1        999999999   0000000000\n" },
  { "15a", 4, 0, "a\t\tb", "a       b" },
};

/* docker/cli's tabwriter tests (those with flags 0; '.' padding shown as spaces) */
static void test_tabwriter(void **state)
{
  for (size_t i = 0; i < BERTH_N_ELEMENTS(tab_cases); i++) {
    struct berth_strbuf b = BERTH_STRBUF_INIT;
    berth_strbuf_grow(&b, 1);
    berth_format_tabwrite(tab_cases[i].in, strlen(tab_cases[i].in), tab_cases[i].minwidth,
                          tab_cases[i].padding, &b);
    if (b.len != strlen(tab_cases[i].out) || memcmp(b.buf, tab_cases[i].out, b.len) != 0)
      fail_msg("tabwriter case %s: got \"%.*s\"", tab_cases[i].name, (int) b.len, b.buf);
    berth_strbuf_release(&b);
  }
}

/* a template parsed once runs on many rows; limits hold against hostile templates */
static void test_limits(void **state)
{
  check("{{range .}}{{range $}}{{range $}}{{range $}}{{range $}}{{range $}}{{range $}}{{end}}{{end}}{{end}}"
        "{{end}}{{end}}{{end}}{{end}}",
        "[1,2,3,4,5,6,7,8,9,10]", NULL, "",
        "template: :1:19: executing \"\" at <$>: the template takes more than 1000000 steps");
  check("{{printf \"%1000001d\" 1}}", NULL, NULL, "%!(NOVERB)%!(EXTRA int=1)", NULL);
  check("{{pad \"x\" 2000000 0}}", NULL, NULL, "",
        "template: :1:2: executing \"\" at <pad \"x\" 2000000 0>: error calling pad: padding of 2000000 "
        "spaces is "
        "too large");
  struct berth_strbuf deep = BERTH_STRBUF_INIT;
  berth_strbuf_puts(&deep, "{{");
  for (int i = 0; i < 2000; i++)
    berth_strbuf_putc(&deep, '(');
  berth_strbuf_puts(&deep, "1");
  for (int i = 0; i < 2000; i++)
    berth_strbuf_putc(&deep, ')');
  berth_strbuf_puts(&deep, "}}");
  struct berth_format_template *t = NULL;
  berth_error_t err = NULL;
  assert_int_equal(berth_format_parse(deep.buf, &t, &err), -1);
  unit_assert_error_contains(&err, "max expression depth exceeded");
  berth_strbuf_release(&deep);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_go_semantics),
    cmocka_unit_test(test_docker_inspect_examples),
    cmocka_unit_test(test_docker_cli_container_write),
    cmocka_unit_test(test_docker_ps_examples),
    cmocka_unit_test(test_docker_json_directive),
    cmocka_unit_test(test_docker_images_examples),
    cmocka_unit_test(test_tabwriter),
    cmocka_unit_test(test_limits),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
