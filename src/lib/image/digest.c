#include "image/digest.h"

#include <stdlib.h>
#include <string.h>

#include "base/sha256.h"
#include "base/xalloc.h"

struct berth_digester {
  struct berth_sha256_ctx ctx;
};

static void format(const uint8_t md[BERTH_SHA256_LEN], char out[BERTH_DIGEST_LEN + 1])
{
  char hex[BERTH_SHA256_HEX_LEN + 1];
  memcpy(out, "sha256:", 7);
  memcpy(out + 7, berth_sha256_hex(md, hex), BERTH_SHA256_HEX_LEN + 1);
}

berth_digester_t *berth_digester_new(void)
{
  berth_digester_t *d = xmalloc0(sizeof *d);
  berth_sha256_init(&d->ctx);
  return d;
}

void berth_digester_update(berth_digester_t *d, const void *data, size_t len)
{
  berth_sha256_update(&d->ctx, data, len);
}

void berth_digester_final(berth_digester_t *d, char out[BERTH_DIGEST_LEN + 1])
{
  uint8_t md[BERTH_SHA256_LEN];
  berth_sha256_final(&d->ctx, md);
  format(md, out);
}

void berth_digester_free(berth_digester_t *d) { free(d); }

void berth_digest_bytes(const void *data, size_t len, char out[BERTH_DIGEST_LEN + 1])
{
  uint8_t md[BERTH_SHA256_LEN];
  berth_sha256(data, len, md);
  format(md, out);
}

int berth_digest_validate(const char *digest, berth_error_t *err)
{
  if (digest == NULL || *digest == '\0')
    return BERTH_ERR(err, "empty digest");
  const char *colon = strchr(digest, ':');
  if (colon == NULL)
    return BERTH_ERR(err, "digest `%s`: missing algorithm (expected sha256:<64 hex>)", digest);
  if ((size_t) (colon - digest) != 6 || strncmp(digest, "sha256", 6) != 0)
    return BERTH_ERR(err, "digest `%s`: unsupported algorithm `%.*s` (only sha256)", digest,
                     (int) (colon - digest), digest);
  const char *hex = colon + 1;
  size_t n = strlen(hex);
  for (size_t i = 0; i < n; i++) {
    char c = hex[i];
    if ((c < '0' || c > '9') && (c < 'a' || c > 'f'))
      return BERTH_ERR(err, "digest `%s`: %s at offset %zu", digest,
                       (c >= 'A' && c <= 'F') ? "upper-case hex" : "not a hex character", 7 + i);
  }
  if (n != 64)
    return BERTH_ERR(err, "digest `%s`: expected 64 hex characters, got %zu", digest, n);
  return 0;
}

const char *berth_digest_hex(const char *digest)
{
  const char *colon = strchr(digest, ':');
  return colon ? colon + 1 : digest;
}
