/* The admin endpoint and the embedded OpenAPI document. */
#ifndef ROSTER_HTTP_ADMIN_H
#define ROSTER_HTTP_ADMIN_H

#include "http_internal.h"

/* POST /v1/admin/reload: 403 when no token is configured, 401 without a
 * bearer token, 403 with a wrong one, 202 when the reload is scheduled. */
enum MHD_Result roster_admin_reload(struct req *rq, struct MHD_Connection *c);
/* Constant-time comparison of a presented token with the configured one. */
int roster_token_equal(const char *given, const char *want);
/* GET /v1/events (http_events.c). */
enum MHD_Result roster_events_route(struct req *rq, struct MHD_Connection *c);
/* GET /openapi.yaml: the contract compiled into the binary. */
const struct roster_rep *roster_openapi_rep(void);

extern const char roster_openapi_yaml[];
extern const size_t roster_openapi_yaml_len;

#endif
