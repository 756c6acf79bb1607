/* Building and queuing responses. Prebuilt bodies are wrapped in a
 * per-request MHD_Response with MHD_RESPMEM_PERSISTENT (no copy); only the
 * headers are per request. */
#include "http_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "roster_base.h"
#include "roster_text.h"

/* The allowed origin for this request, or NULL when CORS does not apply. */
static const char *cors_origin(struct req *rq, struct MHD_Connection *c)
{
    const char *list = rq->srv->cfg.cors_origins;
    if (!list || !*list)
        return NULL;
    const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
    return origin && roster_origin_listed(list, origin) ? origin : NULL;
}

int roster_origin_listed(const char *list, const char *origin)
{
    if (!list)
        return 0;
    size_t olen = strlen(origin);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        while (n && *p == ' ')
            p++, n--;
        while (n && p[n - 1] == ' ')
            n--;
        if ((n == 1 && *p == '*') || (n == olen && memcmp(p, origin, n) == 0))
            return 1;
        if (!e)
            break;
        p = e + 1;
    }
    return 0;
}

int roster_common_headers(struct req *rq, struct MHD_Connection *c, struct MHD_Response *resp)
{
    int ok = MHD_add_response_header(resp, "X-Request-Id", rq->request_id) == MHD_YES;
    ok = ok && MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff") == MHD_YES;
    /* which snapshot answered: ETags no longer say (they are content-addressed) */
    if (rq->snap)
        ok = ok && MHD_add_response_header(resp, "Roster-Generation", rq->snap->generation_text) ==
                       MHD_YES;
    if (rq->digest) {
        char d[80];
        snprintf(d, sizeof(d), "sha256:%s", rq->digest);
        ok = ok && MHD_add_response_header(resp, "Roster-Digest", d) == MHD_YES;
    }
    const char *origin = cors_origin(rq, c);
    if (origin) {
        ok = ok && MHD_add_response_header(resp, "Access-Control-Allow-Origin", origin) == MHD_YES;
        ok = ok && MHD_add_response_header(
                       resp, "Access-Control-Expose-Headers",
                       "ETag, X-Request-Id, Warning, Roster-Generation, Roster-Digest, "
                       "Mcp-Session-Id") == MHD_YES;
        ok = ok && MHD_add_response_header(resp, "Vary", "Origin") == MHD_YES;
    }
    if (rq->close || atomic_load(&rq->srv->draining))
        ok = ok && MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close") == MHD_YES;
    return ok ? 0 : -1;
}

static enum MHD_Result queue(struct req *rq, struct MHD_Connection *c, unsigned status,
                             struct MHD_Response *resp, size_t bytes)
{
    if (!resp)
        return MHD_NO;
    enum MHD_Result r = MHD_NO;
    if (roster_common_headers(rq, c, resp) == 0) {
        rq->status = status;
        rq->bytes = rq->method == ROSTER_M_HEAD ? 0 : bytes;
        r = MHD_queue_response(c, status, resp);
    }
    MHD_destroy_response(resp);
    return r;
}

/* MHD's release of a response built for one request: the rep goes too. */
static void free_owned(void *cls)
{
    struct roster_rep *rep = cls;
    roster_rep_release(rep);
    roster_free(rep);
}

/* Queues one variant of rep (gzip when the client accepts it and it is
 * smaller). owned: rep was allocated for this request and is freed with
 * the response. */
static enum MHD_Result send_variant(struct req *rq, struct MHD_Connection *c,
                                    const struct roster_rep *rep, const char *warning,
                                    struct roster_rep *owned)
{
    const char *ae =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);
    const struct roster_gz *z = NULL;
    if (roster_accepts_gzip(ae) && roster_rep_gzip(rep, &z) < 0) {
        if (owned)
            free_owned(owned);
        return roster_send_problem(rq, c, MHD_HTTP_SERVICE_UNAVAILABLE, "out_of_memory",
                                   "Out of memory", "the server is out of memory", NULL);
    }
    int gz = z != NULL;
    const char *etag = gz ? rep->etag_gz : rep->etag;
    const char *inm =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
    int not_modified = roster_etag_match(inm, etag);
    /* MHD sends no body with a 304 but does send Content-Length, which may
     * only be the length a 200 would have had: give it the real buffer */
    const char *data = gz ? z->data : rep->body;
    size_t len = gz ? z->len : rep->len;
    struct MHD_Response *resp;
    if (!data)
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    else if (owned)
        resp = MHD_create_response_from_buffer_with_free_callback_cls(len, (void *)(uintptr_t)data,
                                                                      free_owned, owned);
    else
        resp =
            MHD_create_response_from_buffer(len, (void *)(uintptr_t)data, MHD_RESPMEM_PERSISTENT);
    if (owned && (!resp || !data))
        free_owned(owned); /* not handed to MHD */
    if (!resp)
        return MHD_NO;
    int ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag) == MHD_YES &&
             MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
                                     rq->cache_control ? rq->cache_control
                                                       : rq->srv->cache_control) == MHD_YES &&
             MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY,
                                     rq->vary ? rq->vary : "Accept-Encoding") == MHD_YES;
    if (ok && !not_modified)
        ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, rep->ctype) == MHD_YES;

    if (ok && gz && !not_modified)
        ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip") == MHD_YES;
    if (ok && warning)
        ok = MHD_add_response_header(resp, "Warning", warning) == MHD_YES;
    if (!ok) {
        MHD_destroy_response(resp);
        return MHD_NO;
    }
    return queue(rq, c, not_modified ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK, resp,
                 not_modified ? 0 : len);
}

enum MHD_Result roster_send_rep(struct req *rq, struct MHD_Connection *c,
                                const struct roster_rep *rep, const char *warning)
{
    return send_variant(rq, c, rep, warning, NULL);
}

enum MHD_Result roster_send_rep_owned(struct req *rq, struct MHD_Connection *c,
                                      struct roster_rep *rep, const char *warning)
{
    return send_variant(rq, c, rep, warning, rep);
}

static enum MHD_Result send_bytes(struct req *rq, struct MHD_Connection *c, unsigned status,
                                  const char *ctype, char *body, size_t len, const char *allow,
                                  const char *location, const char *warning)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        roster_free(body);
        return MHD_NO;
    }
    int ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype) == MHD_YES &&
             MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") == MHD_YES;
    if (ok && allow)
        ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow) == MHD_YES;
    if (ok && location)
        ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, location) == MHD_YES;
    if (ok && warning)
        ok = MHD_add_response_header(resp, "Warning", warning) == MHD_YES;
    if (ok && status == MHD_HTTP_UNAUTHORIZED)
        ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                     "Bearer realm=\"rosterd\"") == MHD_YES;
    if (!ok) {
        MHD_destroy_response(resp);
        return MHD_NO;
    }
    return queue(rq, c, status, resp, len);
}

enum MHD_Result roster_send_dynamic(struct req *rq, struct MHD_Connection *c, unsigned status,
                                    const char *ctype, char *body, size_t len, int cacheable,
                                    const char *warning)
{
    if (!body)
        return roster_send_problem(rq, c, MHD_HTTP_SERVICE_UNAVAILABLE, "out_of_memory",
                                   "Out of memory", "the server is out of memory", NULL);
    if (!cacheable || status != MHD_HTTP_OK)
        return send_bytes(rq, c, status, ctype, body, len, NULL, NULL, warning);
    /* built for this request: hash and (when asked) compress here */
    struct roster_rep *rep = roster_calloc(1, sizeof(*rep));
    if (!rep || roster_rep_init(rep, body, len, ctype, NULL) < 0) {
        if (rep)
            roster_rep_release(rep);
        else
            roster_free(body);
        roster_free(rep);
        return roster_send_problem(rq, c, MHD_HTTP_SERVICE_UNAVAILABLE, "out_of_memory",
                                   "Out of memory", "the server is out of memory", NULL);
    }
    return send_variant(rq, c, rep, warning, rep);
}

static enum MHD_Result send_problem(struct req *rq, struct MHD_Connection *c, unsigned status,
                                    const char *code, const char *title, const char *detail,
                                    void *extra_json, const char *location)
{
    char type[96], instance[256];
    snprintf(type, sizeof(type), "urn:roster:problem:%s", code);
    const char *q = memchr(rq->raw, '?', rq->raw_len);
    size_t plen = q ? (size_t)(q - rq->raw) : rq->raw_len;
    snprintf(instance, sizeof(instance), "%.*s", (int)(plen > 250 ? 250 : plen), rq->raw);
    json_t *o = json_object();
    json_t *inst = json_string(instance); /* NULL when not UTF-8 */
    int bad = !o;
    bad = bad || json_object_set_new(o, "type", json_string(type));
    bad = bad || json_object_set_new(o, "title", json_string(title));
    bad = bad || json_object_set_new(o, "status", json_integer(status));
    bad = bad || json_object_set_new(o, "detail", json_string(detail));
    bad = bad || json_object_set_new(o, "instance", inst ? json_incref(inst) : json_null());
    bad = bad || json_object_set_new(o, "code", json_string(code));
    bad = bad || json_object_set_new(o, "request_id", json_string(rq->request_id));
    if (!bad && extra_json)
        bad = json_object_update(o, (json_t *)extra_json);
    json_decref(inst);
    json_decref((json_t *)extra_json);
    size_t len = 0;
    char *body = bad ? NULL : roster_render_dump(o, &len);
    json_decref(o);
    const char *allow = NULL;
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        allow = rq->allow[0] ? rq->allow : "GET, HEAD, OPTIONS";
    if (!body) {
        /* last resort: a fixed body that needs no allocation */
        static const char oom[] = "{\"type\":\"urn:roster:problem:out_of_memory\","
                                  "\"title\":\"Out of memory\",\"status\":503}\n";
        struct MHD_Response *resp =
            MHD_create_response_from_buffer(sizeof(oom) - 1, (void *)oom, MHD_RESPMEM_PERSISTENT);
        if (!resp)
            return MHD_NO;
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/problem+json");
        return queue(rq, c, MHD_HTTP_SERVICE_UNAVAILABLE, resp, sizeof(oom) - 1);
    }
    return send_bytes(rq, c, status, "application/problem+json", body, len, allow, location, NULL);
}

enum MHD_Result roster_send_problem(struct req *rq, struct MHD_Connection *c, unsigned status,
                                    const char *code, const char *title, const char *detail,
                                    void *extra_json)
{
    return send_problem(rq, c, status, code, title, detail, extra_json, NULL);
}

enum MHD_Result roster_send_redirect(struct req *rq, struct MHD_Connection *c, unsigned status,
                                     const char *location, const char *code, const char *title,
                                     const char *detail, void *extra_json)
{
    return send_problem(rq, c, status, code, title, detail, extra_json, location);
}

enum MHD_Result roster_send_allow(struct req *rq, struct MHD_Connection *c, unsigned status,
                                  const char *allow)
{
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED) {
        char detail[160];
        snprintf(detail, sizeof(detail), "this route allows %s", allow);
        snprintf(rq->allow, sizeof(rq->allow), "%s", allow);
        return roster_send_problem(rq, c, status, "method_not_allowed", "Method not allowed",
                                   detail, json_pack("{s:s}", "allow", allow));
    }
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
    if (cors_origin(rq, c)) {
        MHD_add_response_header(resp, "Access-Control-Allow-Methods", allow);
        MHD_add_response_header(resp, "Access-Control-Allow-Headers",
                                "Accept, Accept-Encoding, If-None-Match, X-Request-Id, "
                                "Authorization, Last-Event-ID, Content-Type, Mcp-Session-Id, "
                                "MCP-Protocol-Version");
        MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
    }
    return queue(rq, c, status, resp, 0);
}
