/* Manifests, indexes and image configs: real-world documents (Docker v2.2 and OCI), the
 * canonical form we build (exact bytes pinned), round trips, and validation errors naming
 * the document and the JSON path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "image/manifest.h"
#include "unit.h"

#define D(c)                                                                                                 \
  "sha256:" c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c  \
    c c c c c c c c c c c c c c c c
#define DA D("a")
#define DB D("b")
#define DC D("c")
#define DD D("d")

/* as `docker manifest inspect -v` shows busybox's (digests shortened to repeated hex) */
static const char docker_manifest[] =
  "{\n"
  "   \"schemaVersion\": 2,\n"
  "   \"mediaType\": \"application/vnd.docker.distribution.manifest.v2+json\",\n"
  "   \"config\": {\n"
  "      \"mediaType\": \"application/vnd.docker.container.image.v1+json\",\n"
  "      \"size\": 1457,\n"
  "      \"digest\": \"" DA "\"\n"
  "   },\n"
  "   \"layers\": [\n"
  "      {\n"
  "         \"mediaType\": \"application/vnd.docker.image.rootfs.diff.tar.gzip\",\n"
  "         \"size\": 2591575,\n"
  "         \"digest\": \"" DB "\"\n"
  "      }\n"
  "   ]\n"
  "}\n";

static const char oci_manifest[] =
  "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
  "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" DA
  "\",\"size\":100},"
  "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" DB
  "\",\"size\":10,"
  "\"urls\":[\"https://example.com/l\"],\"annotations\":{\"z\":\"1\",\"a\":\"2\"}},"
  "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+zstd\",\"digest\":\"" DC "\",\"size\":20},"
  "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"" DD "\",\"size\":0}],"
  "\"annotations\":{\"org.opencontainers.image.created\":\"2024-01-01T00:00:00Z\"},"
  "\"unknownField\":{\"ignored\":true}}";

/* the canonical form of oci_manifest: Go struct order, annotations sorted, unknown fields dropped */
static const char oci_canonical[] =
  "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
  "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" DA
  "\",\"size\":100},"
  "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" DB
  "\",\"size\":10,"
  "\"urls\":[\"https://example.com/l\"],\"annotations\":{\"a\":\"2\",\"z\":\"1\"}},"
  "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+zstd\",\"digest\":\"" DC "\",\"size\":20},"
  "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"" DD "\",\"size\":0}],"
  "\"annotations\":{\"org.opencontainers.image.created\":\"2024-01-01T00:00:00Z\"}}";

static void test_manifest_parse(void **state)
{
  (void) state;
  struct berth_manifest *m = NULL;
  berth_error_t err = NULL;
  assert_int_equal(berth_manifest_parse(docker_manifest, strlen(docker_manifest), DA, &m, &err), 0);
  assert_int_equal(m->schema_version, 2);
  assert_string_equal(m->media_type, BERTH_MT_DOCKER_MANIFEST);
  assert_string_equal(m->config.media_type, BERTH_MT_DOCKER_CONFIG);
  assert_string_equal(m->config.digest, DA);
  assert_int_equal(m->config.size, 1457);
  assert_int_equal(m->n_layers, 1);
  assert_int_equal(m->layers[0].size, 2591575);
  assert_true(berth_manifest_is_image(m));
  enum berth_compression c;
  assert_int_equal(berth_layer_media_type_compression(m->layers[0].media_type, &c), 0);
  assert_int_equal(c, BERTH_COMPRESSION_GZIP);
  berth_manifest_free(m);

  assert_int_equal(berth_manifest_parse(oci_manifest, strlen(oci_manifest), NULL, &m, &err), 0);
  assert_int_equal(m->n_layers, 3);
  assert_string_equal(m->layers[0].urls[0], "https://example.com/l");
  assert_null(m->layers[0].urls[1]);
  assert_string_equal(berth_strmap_get(&m->layers[0].annotations, "z"), "1");
  assert_null(berth_strmap_get(&m->layers[0].annotations, "y"));
  assert_int_equal(berth_layer_media_type_compression(m->layers[1].media_type, &c), 0);
  assert_int_equal(c, BERTH_COMPRESSION_ZSTD);
  assert_int_equal(berth_layer_media_type_compression(m->layers[2].media_type, &c), 0);
  assert_int_equal(c, BERTH_COMPRESSION_NONE);
  assert_int_equal(berth_layer_media_type_compression("text/plain", &c), -1);
  size_t len = 0;
  cleanup_free char *built = berth_manifest_build(m, &len);
  assert_string_equal(built, oci_canonical);
  assert_int_equal(len, strlen(oci_canonical));
  berth_manifest_free(m);
  berth_manifest_free(NULL);

  /* canonical in, the same bytes out */
  assert_int_equal(berth_manifest_parse(built, len, NULL, &m, &err), 0);
  cleanup_free char *again = berth_manifest_build(m, NULL);
  assert_string_equal(again, built);
  berth_manifest_free(m);
}

static void test_manifest_build(void **state)
{
  (void) state;
  /* a manifest made in code: insertion order of annotations does not matter */
  char *a = NULL, *b = NULL;
  for (int round = 0; round < 2; round++) {
    struct berth_manifest m = { .schema_version = 2, .media_type = (char *) BERTH_MT_OCI_MANIFEST };
    m.config.media_type = (char *) BERTH_MT_OCI_CONFIG;
    strcpy(m.config.digest, DA);
    m.config.size = 7;
    struct berth_descriptor layer = { .media_type = (char *) BERTH_MT_OCI_LAYER_GZIP, .size = 9 };
    strcpy(layer.digest, DB);
    m.layers = &layer;
    m.n_layers = 1;
    if (round == 0) {
      berth_strmap_set(&m.annotations, "a", "x");
      berth_strmap_set(&m.annotations, "b", "y");
    } else {
      berth_strmap_set(&m.annotations, "b", "y");
      berth_strmap_set(&m.annotations, "a", "z");
      berth_strmap_set(&m.annotations, "a", "x"); /* replaces */
    }
    assert_int_equal(m.annotations.n, 2);
    char *s = berth_manifest_build(&m, NULL);
    if (round)
      b = s;
    else
      a = s;
    berth_strmap_release(&m.annotations);
  }
  assert_string_equal(a, b);
  assert_non_null(strstr(a, "\"annotations\":{\"a\":\"x\",\"b\":\"y\"}"));
  char d1[BERTH_DIGEST_LEN + 1], d2[BERTH_DIGEST_LEN + 1];
  berth_digest_bytes(a, strlen(a), d1);
  berth_digest_bytes(b, strlen(b), d2);
  assert_string_equal(d1, d2);
  free(a);
  free(b);
}

struct bad {
  const char *json;
  const char *msg;
};

#define CFG                                                                                                  \
  "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" DA "\",\"size\":1}"
#define LAYER(d)                                                                                             \
  "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" d "\",\"size\":1}"

static const struct bad bad_manifests[] = {
  { "not json", "manifest " DA ":1:3: invalid JSON" },
  { "[]", "manifest " DA ": expected a JSON object" },
  { "{\"schemaVersion\":2,\"schemaVersion\":2," CFG ",\"layers\":[]}", "duplicate object key" },
  { "{" CFG ",\"layers\":[]}", "manifest " DA ": schemaVersion: missing" },
  { "{\"schemaVersion\":1,\"fsLayers\":[]}", "Docker schema 1 manifests are not supported" },
  { "{\"schemaVersion\":3," CFG ",\"layers\":[]}", "schemaVersion: expected 2, got 3" },
  { "{\"schemaVersion\":\"2\"," CFG ",\"layers\":[]}", "schemaVersion: expected an integer, got a string" },
  { "{\"schemaVersion\":2,\"layers\":[]}", "manifest " DA ": config: missing" },
  { "{\"schemaVersion\":2," CFG "}", "layers: missing" },
  { "{\"schemaVersion\":2," CFG ",\"layers\":[" LAYER(DB) "," LAYER(DC) "," LAYER("sha256:abc") "]}",
    "manifest " DA ": layers[2].digest: not a sha256 digest: expected 64 hex characters, got 3" },
  { "{\"schemaVersion\":2," CFG ",\"layers\":[" LAYER("md5:00") "]}",
    "layers[0].digest: not a sha256 digest: unsupported algorithm `md5`" },
  { "{\"schemaVersion\":2," CFG ",\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\","
    "\"digest\":\"" DB "\",\"size\":-1}]}",
    "layers[0].size: -1 is out of range" },
  { "{\"schemaVersion\":2," CFG ",\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\","
    "\"digest\":\"" DB "\"}]}",
    "layers[0].size: missing" },
  { "{\"schemaVersion\":2," CFG ",\"layers\":[{\"mediaType\":\"text/plain\",\"digest\":\"" DB
    "\",\"size\":1}]}",
    "layers[0].mediaType: `text/plain` is not a layer media type" },
  { "{\"schemaVersion\":2," CFG ",\"layers\":[{\"mediaType\":\"nonsense\",\"digest\":\"" DB
    "\",\"size\":1}]}",
    "layers[0].mediaType: `nonsense` is not a media type" },
  { "{\"schemaVersion\":2," CFG ",\"layers\":[1]}", "layers[0]: expected a descriptor object" },
  { "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\"," CFG ",\"layers\":[]}",
    "mediaType: `application/vnd.oci.image.index.v1+json` is an index, not an image manifest" },
  { "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\"," CFG
    ",\"layers\":[]}",
    "config.mediaType: `application/vnd.oci.image.config.v1+json` in a Docker manifest" },
  { "{\"schemaVersion\":2," CFG ",\"layers\":[],\"annotations\":{\"k\":1}}",
    "annotations.k: expected a string, got an integer" },
};

static void test_manifest_errors(void **state)
{
  (void) state;
  for (size_t i = 0; i < BERTH_N_ELEMENTS(bad_manifests); i++) {
    struct berth_manifest *m = NULL;
    berth_error_t err = NULL;
    const char *j = bad_manifests[i].json;
    if (berth_manifest_parse(j, strlen(j), DA, &m, &err) == 0) {
      print_error("parsed: %s\n", j);
      fail();
    }
    assert_null(m);
    if (strstr(err->msg, bad_manifests[i].msg) == NULL) {
      print_error("case %zu: `%s` lacks `%s`\n", i, err->msg, bad_manifests[i].msg);
      fail();
    }
    berth_error_release(&err);
  }
}

static const char manifest_list[] =
  "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.list.v2+json\","
  "\"manifests\":["
  "{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"size\":528,\"digest\":\"" DA
  "\","
  "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},"
  "{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"size\":527,\"digest\":\"" DB
  "\","
  "\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v7\"}},"
  "{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"size\":527,\"digest\":\"" DC
  "\","
  "\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}},"
  "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"size\":527,\"digest\":\"" DD "\","
  "\"platform\":{\"architecture\":\"amd64\",\"os\":\"windows\",\"os.version\":\"10.0.17763.1879\","
  "\"os.features\":[\"win32k\"]}}]}";

static void test_index(void **state)
{
  (void) state;
  struct berth_index *ix = NULL;
  berth_error_t err = NULL;
  assert_int_equal(berth_index_parse(manifest_list, strlen(manifest_list), "busybox", &ix, &err), 0);
  assert_int_equal(ix->n_manifests, 4);
  assert_string_equal(ix->manifests[3].platform->os_version, "10.0.17763.1879");
  assert_string_equal(ix->manifests[3].platform->os_features[0], "win32k");
  assert_string_equal(berth_index_find(ix, "linux", "amd64", NULL)->digest, DA);
  assert_string_equal(berth_index_find(ix, "linux", "arm", "v7")->digest, DB);
  assert_null(berth_index_find(ix, "linux", "arm", "v6"));
  assert_string_equal(berth_index_find(ix, "linux", "arm64", NULL)->digest, DC);
  assert_string_equal(berth_index_find(ix, "linux", "amd64", "v3")->digest, DA); /* no variant: any */
  assert_null(berth_index_find(ix, "linux", "s390x", NULL));
  cleanup_free char *built = berth_index_build(ix, NULL);
  berth_index_free(ix);
  assert_int_equal(berth_index_parse(built, strlen(built), NULL, &ix, &err), 0);
  cleanup_free char *again = berth_index_build(ix, NULL);
  assert_string_equal(built, again);
  assert_non_null(strstr(built, "\"platform\":{\"architecture\":\"amd64\",\"os\":\"windows\",\"os.version\":"
                                "\"10.0.17763.1879\",\"os.features\":[\"win32k\"]}"));
  berth_index_free(ix);
  berth_index_free(NULL);

  const struct bad bad[] = {
    { "{\"schemaVersion\":2}", "index busybox: manifests: missing" },
    { "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"a/b\",\"digest\":\"" DA "\",\"size\":1,"
      "\"platform\":{\"architecture\":\"amd64\"}}]}",
      "index busybox: manifests[0].platform.os: missing" },
    { "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"manifests\":[]}",
      "is an image manifest, not an index" },
    { "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"a/b\",\"digest\":\"sha256:\",\"size\":1}]}",
      "manifests[0].digest: not a sha256 digest" },
  };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(bad); i++) {
    assert_int_equal(berth_index_parse(bad[i].json, strlen(bad[i].json), "busybox", &ix, &err), -1);
    unit_assert_error_contains(&err, bad[i].msg);
  }
}

static void test_doc_kind(void **state)
{
  (void) state;
  enum berth_doc_kind k;
  berth_error_t err = NULL;
  assert_int_equal(berth_doc_kind(manifest_list, strlen(manifest_list), NULL, &k, &err), 0);
  assert_int_equal(k, BERTH_DOC_INDEX);
  assert_int_equal(berth_doc_kind(docker_manifest, strlen(docker_manifest), NULL, &k, &err), 0);
  assert_int_equal(k, BERTH_DOC_MANIFEST);
  const char *shape_manifest = "{\"schemaVersion\":2,\"config\":{}}";
  assert_int_equal(berth_doc_kind(shape_manifest, strlen(shape_manifest), NULL, &k, &err), 0);
  assert_int_equal(k, BERTH_DOC_MANIFEST);
  const char *shape_index = "{\"schemaVersion\":2,\"manifests\":[]}";
  assert_int_equal(berth_doc_kind(shape_index, strlen(shape_index), NULL, &k, &err), 0);
  assert_int_equal(k, BERTH_DOC_INDEX);
  const char *s1 = "{\"schemaVersion\":1,\"fsLayers\":[]}";
  assert_int_equal(berth_doc_kind(s1, strlen(s1), "x", &k, &err), -1);
  unit_assert_error_contains(&err, "manifest x: Docker schema 1 manifests are not supported");
  const char *other = "{\"mediaType\":\"text/html\"}";
  assert_int_equal(berth_doc_kind(other, strlen(other), NULL, &k, &err), -1);
  unit_assert_error_contains(&err, "manifest: mediaType: unsupported media type `text/html`");
  assert_int_equal(berth_doc_kind("{}", 2, NULL, &k, &err), -1);
  unit_assert_error_contains(&err, "neither an image manifest nor an index");
  assert_int_equal(berth_doc_kind("<html>", 6, NULL, &k, &err), -1);
  unit_assert_error_contains(&err, "invalid JSON");
}

/* a Docker image config as `docker save` writes it (trimmed), with the fields berth ignores */
static const char docker_config[] =
  "{\"architecture\":\"amd64\",\"config\":{\"Hostname\":\"\",\"User\":\"nobody\",\"AttachStdin\":false,"
  "\"ExposedPorts\":{\"8080/tcp\":{},\"53/udp\":{},\"80\":{}},"
  "\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"EMPTY=\"],"
  "\"Cmd\":[\"sh\"],\"Image\":\"sha256:1\",\"Volumes\":{\"/data\":{},\"/cache\":{}},\"WorkingDir\":\"/srv\","
  "\"Entrypoint\":null,\"OnBuild\":null,\"Labels\":{\"maintainer\":\"me\",\"a\":\"b\"},\"StopSignal\":"
  "\"SIGQUIT\"},"
  "\"container\":\"abc\",\"container_config\":{\"Cmd\":[\"/bin/sh\",\"-c\",\"#(nop) CMD [\\\"sh\\\"]\"]},"
  "\"created\":\"2023-05-19T20:19:23.938000123Z\",\"docker_version\":\"20.10.23\","
  "\"history\":[{\"created\":\"2023-05-19T20:19:23.62Z\",\"created_by\":\"/bin/sh -c #(nop) ADD file:1 in / "
  "\"},"
  "{\"created\":\"2023-05-19T20:19:23.938+02:00\",\"created_by\":\"/bin/sh -c #(nop)  CMD [\\\"sh\\\"]\","
  "\"empty_layer\":true,\"comment\":\"c\",\"author\":\"a\"}],"
  "\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" DA "\"]}}";

static const char config_canonical[] =
  "{\"created\":\"2023-05-19T20:19:23.938000123Z\",\"architecture\":\"amd64\",\"os\":\"linux\","
  "\"config\":{\"User\":\"nobody\",\"ExposedPorts\":{\"53/udp\":{},\"80\":{},\"8080/tcp\":{}},"
  "\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/"
  "bin\",\"EMPTY=\"],\"Cmd\":[\"sh\"],"
  "\"Volumes\":{\"/cache\":{},\"/data\":{}},\"WorkingDir\":\"/"
  "srv\",\"Labels\":{\"a\":\"b\",\"maintainer\":\"me\"},"
  "\"StopSignal\":\"SIGQUIT\"},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" DA "\"]},"
  "\"history\":[{\"created\":\"2023-05-19T20:19:23.62Z\",\"created_by\":\"/bin/sh -c #(nop) ADD file:1 in / "
  "\"},"
  "{\"created\":\"2023-05-19T20:19:23.938+02:00\",\"created_by\":\"/bin/sh -c #(nop)  CMD [\\\"sh\\\"]\","
  "\"author\":\"a\",\"comment\":\"c\",\"empty_layer\":true}]}";

static void test_config(void **state)
{
  (void) state;
  struct berth_image_config *c = NULL;
  berth_error_t err = NULL;
  assert_int_equal(berth_image_config_parse(docker_config, strlen(docker_config), DA, &c, &err), 0);
  assert_string_equal(c->architecture, "amd64");
  assert_string_equal(c->os, "linux");
  assert_string_equal(c->config.user, "nobody");
  assert_string_equal(c->config.exposed_ports[0], "53/udp");
  assert_string_equal(c->config.exposed_ports[2], "8080/tcp");
  assert_string_equal(c->config.env[1], "EMPTY=");
  assert_null(c->config.entrypoint);
  assert_string_equal(c->config.cmd[0], "sh");
  assert_string_equal(c->config.volumes[0], "/cache");
  assert_string_equal(c->config.working_dir, "/srv");
  assert_string_equal(berth_strmap_get(&c->config.labels, "maintainer"), "me");
  assert_string_equal(c->config.stop_signal, "SIGQUIT");
  assert_int_equal(c->n_diff_ids, 1);
  assert_int_equal(c->n_history, 2);
  assert_false(c->history[0].empty_layer);
  assert_true(c->history[1].empty_layer);
  assert_string_equal(c->history[1].author, "a");
  size_t len = 0;
  cleanup_free char *built = berth_image_config_build(c, &len);
  assert_string_equal(built, config_canonical);
  struct berth_manifest *m = NULL;
  assert_int_equal(berth_manifest_parse(docker_manifest, strlen(docker_manifest), NULL, &m, &err), 0);
  assert_int_equal(berth_manifest_check_config(m, c, "busybox", &err), 0);
  berth_image_config_free(c);
  assert_int_equal(berth_image_config_parse(built, len, NULL, &c, &err), 0);
  cleanup_free char *again = berth_image_config_build(c, NULL);
  assert_string_equal(again, built);
  c->n_diff_ids = 0;
  assert_int_equal(berth_manifest_check_config(m, c, "busybox", &err), -1);
  unit_assert_error_contains(&err, "image busybox: the manifest has 1 layers but the config 0 diff IDs");
  c->n_diff_ids = 1;
  berth_image_config_free(c);
  berth_image_config_free(NULL);
  berth_manifest_free(m);

  /* the minimum */
  const char *min =
    "{\"architecture\":\"arm64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
  assert_int_equal(berth_image_config_parse(min, strlen(min), NULL, &c, &err), 0);
  cleanup_free char *mb = berth_image_config_build(c, NULL);
  assert_string_equal(mb, "{\"architecture\":\"arm64\",\"os\":\"linux\",\"config\":{},"
                          "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}");
  berth_image_config_free(c);
}

#define ROOTFS "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}"
static const struct bad bad_configs[] = {
  { "{\"os\":\"linux\"," ROOTFS "}", "image config " DA ": architecture: missing" },
  { "{\"architecture\":\"amd64\"," ROOTFS "}", "os: missing" },
  { "{\"architecture\":\"amd64\",\"os\":\"linux\"}", "rootfs: missing" },
  { "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"x\",\"diff_ids\":[]}}",
    "rootfs.type: expected `layers`, got `x`" },
  { "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\"}}",
    "rootfs.diff_ids: missing" },
  { "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" DA
    "\",\"sha256:zz\"]}}",
    "image config " DA ": rootfs.diff_ids[1]: not a sha256 digest" },
  { "{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"yesterday\"," ROOTFS "}",
    "created: `yesterday` is not an RFC 3339 date-time" },
  { "{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2023-05-19 20:19:23Z\"," ROOTFS "}",
    "is not an RFC 3339 date-time" },
  { "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"ExposedPorts\":{\"http\":{}}}," ROOTFS "}",
    "config.ExposedPorts: `http` is not <port>" },
  { "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"ExposedPorts\":{\"70000/tcp\":{}}}," ROOTFS
    "}",
    "`70000/tcp` is not <port>" },
  { "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"ExposedPorts\":{\"80/tcp\":1}}," ROOTFS "}",
    "config.ExposedPorts.80/tcp: expected an empty object" },
  { "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[\"A=1\",\"=x\"]}," ROOTFS "}",
    "config.Env[1]: `=x` is not NAME=value" },
  { "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":\"sh\"}," ROOTFS "}",
    "config.Cmd: expected an array, got a string" },
  { "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[1]}," ROOTFS "}",
    "config.Cmd[0]: expected a string, got an integer" },
  { "{\"architecture\":\"amd64\",\"os\":\"linux\"," ROOTFS ",\"history\":[{\"empty_layer\":\"yes\"}]}",
    "history[0].empty_layer: expected a boolean, got a string" },
  { "{\"architecture\":\"amd64\",\"os\":\"linux\"," ROOTFS ",\"history\":[{\"created\":\"x\"}]}",
    "history[0].created: `x` is not an RFC 3339 date-time" },
};

static void test_config_errors(void **state)
{
  (void) state;
  for (size_t i = 0; i < BERTH_N_ELEMENTS(bad_configs); i++) {
    struct berth_image_config *c = NULL;
    berth_error_t err = NULL;
    const char *j = bad_configs[i].json;
    if (berth_image_config_parse(j, strlen(j), DA, &c, &err) == 0) {
      print_error("parsed: %s\n", j);
      fail();
    }
    assert_null(c);
    if (strstr(err->msg, bad_configs[i].msg) == NULL) {
      print_error("case %zu: `%s` lacks `%s`\n", i, err->msg, bad_configs[i].msg);
      fail();
    }
    berth_error_release(&err);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_manifest_parse),  cmocka_unit_test(test_manifest_build),
    cmocka_unit_test(test_manifest_errors), cmocka_unit_test(test_index),
    cmocka_unit_test(test_doc_kind),        cmocka_unit_test(test_config),
    cmocka_unit_test(test_config_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
