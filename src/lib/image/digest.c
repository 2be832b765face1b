#include "image/digest.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"

struct berth_digester {
  EVP_MD_CTX *ctx;
};

static void hex_encode(const unsigned char *md, size_t n, char *out)
{
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = hex[md[i] >> 4];
    out[2 * i + 1] = hex[md[i] & 0xf];
  }
  out[2 * n] = '\0';
}

berth_digester_t *berth_digester_new(void)
{
  berth_digester_t *d = xmalloc0(sizeof *d);
  d->ctx = EVP_MD_CTX_new();
  if (d->ctx == NULL || EVP_DigestInit_ex(d->ctx, EVP_sha256(), NULL) != 1)
    berth_oom();
  return d;
}

void berth_digester_update(berth_digester_t *d, const void *data, size_t len)
{
  if (len > 0 && EVP_DigestUpdate(d->ctx, data, len) != 1)
    berth_oom();
}

void berth_digester_final(berth_digester_t *d, char out[BERTH_DIGEST_LEN + 1])
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(d->ctx, md, &n) != 1 || n != 32)
    berth_oom();
  memcpy(out, "sha256:", 7);
  hex_encode(md, n, out + 7);
}

void berth_digester_free(berth_digester_t *d)
{
  if (d == NULL)
    return;
  EVP_MD_CTX_free(d->ctx);
  free(d);
}

void berth_digest_bytes(const void *data, size_t len, char out[BERTH_DIGEST_LEN + 1])
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) != 1 || n != 32)
    berth_oom();
  memcpy(out, "sha256:", 7);
  hex_encode(md, n, out + 7);
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
