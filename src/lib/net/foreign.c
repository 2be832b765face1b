/* iptables' FORWARD chains as libnftables lists them in JSON (iptables-nft keeps them in
 * "table ip filter" / "table ip6 filter"): their policy, and the rules berth put there. Pure. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "net/net.h"

static void add_handle(struct berth_net_foreign *f, int k, json_int_t h)
{
  f->handles[k] = xreallocarray(f->handles[k], f->n_handles[k] + 1, sizeof *f->handles[k]);
  f->handles[k][f->n_handles[k]++] = (uint64_t) h;
}

static bool is_forward(json_t *o, const char *family)
{
  const char *fam = json_string_value(json_object_get(o, "family"));
  const char *table = json_string_value(json_object_get(o, "table"));
  const char *name = json_string_value(json_object_get(o, json_object_get(o, "chain") ? "chain" : "name"));
  return fam && table && name && strcmp(fam, family) == 0 && strcmp(table, "filter") == 0 &&
         strcmp(name, "FORWARD") == 0;
}

int berth_net_foreign_parse(int k, const char *text, struct berth_net_foreign *f, berth_error_t *err)
{
  static const char *const fam[2] = { "ip", "ip6" };
  if (k < 0 || k > 1)
    return BERTH_ERR(err, "nftables listing: bad family index %d", k);
  json_error_t je;
  json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
  json_t *items = json_object_get(root, "nftables");
  if (!json_is_array(items)) {
    json_decref(root);
    return BERTH_ERR(err, "nftables listing: not libnftables' JSON (%s)",
                     root ? "no \"nftables\" array" : je.text);
  }
  size_t i;
  json_t *it;
  json_array_foreach (items, i, it) {
    json_t *chain = json_object_get(it, "chain"), *rule = json_object_get(it, "rule");
    if (json_is_object(chain) && is_forward(chain, fam[k]) && json_object_get(chain, "hook")) {
      f->has_forward[k] = true;
      const char *policy = json_string_value(json_object_get(chain, "policy"));
      f->forward_drop[k] = policy != NULL && strcmp(policy, "drop") == 0;
    } else if (json_is_object(rule) && is_forward(rule, fam[k])) {
      const char *comment = json_string_value(json_object_get(rule, "comment"));
      json_t *h = json_object_get(rule, "handle");
      if (comment && strcmp(comment, BERTH_NET_NFT_COMMENT) == 0 && json_is_integer(h) &&
          json_integer_value(h) > 0)
        add_handle(f, k, json_integer_value(h));
    }
  }
  json_decref(root);
  return 0;
}

void berth_net_foreign_free(struct berth_net_foreign *f)
{
  for (int k = 0; k < 2; k++) {
    free(f->handles[k]);
    f->handles[k] = NULL;
    f->n_handles[k] = 0;
  }
}
