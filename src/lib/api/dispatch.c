/* The handlers of the route table (routes_internal.h), and the endpoints berth does not serve. */
#include "api/conn.h"

static api_handler *const handlers[API_N_ROUTES] = {
#define API_HANDLER_ROW(id, method, pattern, flags) [API_##id] = api_h_##id,
  API_ROUTES(API_HANDLER_ROW)
#undef API_HANDLER_ROW
};

enum MHD_Result api_dispatch(struct api_req *r)
{
  if (r->m.route < 0 || r->m.route >= API_N_ROUTES)
    return api_reply_error(r, 404, "page not found");
  return handlers[r->m.route](r);
}

api_begin_fn *api_begin_of(int route)
{
  switch (route) {
  case API_CTR_ARCHIVE_PUT: return api_begin_CTR_ARCHIVE_PUT;
  case API_IMG_LOAD: return api_begin_IMG_LOAD;
  case API_IMG_CREATE: return api_begin_IMG_CREATE;
  case API_BUILD: return api_begin_BUILD;
  default: return NULL;
  }
}

/* answered before dispatch (finish() in conn.c), here for the table's sake */
#define API_UNSUPPORTED_HANDLER(id)                                                                          \
  enum MHD_Result api_h_##id(struct api_req *r)                                                              \
  {                                                                                                          \
    return api_reply_error(r, 501, "%s is not supported by berth", r->m.name);                               \
  }
API_UNSUPPORTED_HANDLER(BUILD_PRUNE)
API_UNSUPPORTED_HANDLER(IMG_SEARCH)
API_UNSUPPORTED_HANDLER(VOL_UPDATE)
API_UNSUPPORTED_HANDLER(DISTRIBUTION)
API_UNSUPPORTED_HANDLER(SESSION)
API_UNSUPPORTED_HANDLER(GRPC)
API_UNSUPPORTED_HANDLER(SWARM)
API_UNSUPPORTED_HANDLER(SWARM_ANY)
API_UNSUPPORTED_HANDLER(NODES)
API_UNSUPPORTED_HANDLER(SERVICES)
API_UNSUPPORTED_HANDLER(TASKS)
API_UNSUPPORTED_HANDLER(SECRETS)
API_UNSUPPORTED_HANDLER(CONFIGS)
API_UNSUPPORTED_HANDLER(PLUGINS)
API_UNSUPPORTED_HANDLER(PLUGINS_ANY)
