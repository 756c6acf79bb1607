/* Admin reload trigger and the OpenAPI document. */
#include "http_admin.h"

#include <pthread.h>
#include <string.h>
#include <strings.h>

#include "roster_base.h"

/* Constant-time comparison of a presented token with the configured one. */
int roster_token_equal(const char *given, const char *want)
{
    size_t gl = strlen(given), wl = strlen(want);
    /* compare over the configured length whatever the input, so timing
     * reveals neither the token nor how much of it matched */
    unsigned char diff = (unsigned char)(gl != wl);
    for (size_t i = 0; i < wl; i++)
        diff |= (unsigned char)(want[i] ^ (i < gl ? given[i] : 0));
    return diff == 0;
}

enum MHD_Result roster_admin_reload(struct req *rq, struct MHD_Connection *c)
{
    const char *token = rq->srv->cfg.admin_token;
    if (!token || !*token)
        return roster_send_problem(rq, c, MHD_HTTP_FORBIDDEN, "admin_disabled",
                                   "Admin endpoint disabled",
                                   "no admin token is configured (--admin-token-file or "
                                   "ROSTER_ADMIN_TOKEN)",
                                   NULL);
    const char *auth =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!auth || strncasecmp(auth, "Bearer ", 7) != 0 || !auth[7]) {
        return roster_send_problem(rq, c, MHD_HTTP_UNAUTHORIZED, "unauthorized", "Unauthorized",
                                   "send Authorization: Bearer <admin token>", NULL);
    }
    if (!roster_token_equal(auth + 7, token))
        return roster_send_problem(rq, c, MHD_HTTP_FORBIDDEN, "forbidden", "Forbidden",
                                   "the admin token is not valid", NULL);
    atomic_store(&rq->srv->reload_requested, 1);
    char *body = roster_strndup("{\"status\":\"accepted\"}\n", 22);
    return roster_send_dynamic(rq, c, MHD_HTTP_ACCEPTED, "application/json", body, 22, 0, NULL);
}

static struct roster_rep openapi;
static pthread_once_t openapi_once = PTHREAD_ONCE_INIT;

static void openapi_init(void)
{
    char *copy = roster_strndup(roster_openapi_yaml, roster_openapi_yaml_len);
    if (roster_rep_init(&openapi, copy, roster_openapi_yaml_len, "application/yaml", NULL) < 0)
        roster_rep_release(&openapi);
}

const struct roster_rep *roster_openapi_rep(void)
{
    pthread_once(&openapi_once, openapi_init);
    return &openapi;
}
