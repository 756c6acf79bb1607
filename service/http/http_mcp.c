/* POST, GET and DELETE /mcp: the MCP Streamable HTTP transport (protocol
 * revision 2025-11-25, also 2025-06-18). Every request is checked in the
 * same order: Origin (403), bearer token (401), MCP-Protocol-Version (400),
 * then the session (400 without one, 404 for an unknown one). Errors of
 * the transport are JSON-RPC error objects with id null, the status
 * saying which; a request's own errors are JSON-RPC errors in a 200.
 * docs/mcp.md. */
#include "http_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_admin.h"
#include "mcp_hub.h"
#include "roster_base.h"
#include "roster_text.h"

static const char *const VERSIONS[] = {ROSTER_MCP_PROTOCOL_LATEST, "2025-06-18"};

/* Sends body (taken; NULL: no body) as application/json with the
 * transport's headers. */
static enum MHD_Result send_json(struct req *rq, struct MHD_Connection *c, unsigned status,
                                 char *body, const char *session, const char *extra_name,
                                 const char *extra_value)
{
    size_t len = body ? strlen(body) : 0;
    struct MHD_Response *resp =
        body ? MHD_create_response_from_buffer_with_free_callback(len, body, roster_free)
             : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        roster_free(body);
        return MHD_NO;
    }
    int ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") == MHD_YES;
    if (body)
        ok = ok && MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                           "application/json") == MHD_YES;
    if (session)
        ok = ok && MHD_add_response_header(resp, "Mcp-Session-Id", session) == MHD_YES;
    if (extra_name)
        ok = ok && MHD_add_response_header(resp, extra_name, extra_value) == MHD_YES;
    enum MHD_Result r = MHD_NO;
    if (ok && roster_common_headers(rq, c, resp) == 0) {
        rq->status = status;
        rq->bytes = len;
        r = MHD_queue_response(c, status, resp);
    }
    MHD_destroy_response(resp);
    return r;
}

/* A transport error: {"jsonrpc":"2.0","id":null,"error":{code,message}}. */
static enum MHD_Result fail(struct req *rq, struct MHD_Connection *c, unsigned status, int code,
                            const char *msg)
{
    json_t *o = json_pack("{s:s, s:n, s:{s:i, s:s}}", "jsonrpc", "2.0", "id", "error", "code", code,
                          "message", msg);
    char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!body)
        return MHD_NO;
    const char *hn = NULL, *hv = NULL;
    if (status == MHD_HTTP_UNAUTHORIZED)
        hn = "WWW-Authenticate", hv = "Bearer realm=\"rosterd-mcp\"";
    else if (status == MHD_HTTP_SERVICE_UNAVAILABLE || status == MHD_HTTP_TOO_MANY_REQUESTS)
        hn = "Retry-After", hv = "1";
    return send_json(rq, c, status, body, NULL, hn, hv);
}

/* "http://localhost:6274", "https://127.0.0.1", "http://[::1]:80": a
 * browser page served from this machine. */
static int local_origin(const char *o)
{
    const char *p = strncmp(o, "http://", 7) == 0    ? o + 7
                    : strncmp(o, "https://", 8) == 0 ? o + 8
                                                     : NULL;
    if (!p)
        return 0;
    static const char *const hosts[] = {"localhost", "127.0.0.1", "[::1]"};
    for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
        size_t n = strlen(hosts[i]);
        if (strncasecmp(p, hosts[i], n) != 0)
            continue;
        const char *q = p + n;
        if (!*q)
            return 1;
        if (*q != ':' || !q[1])
            return 0;
        for (q++; *q; q++)
            if (*q < '0' || *q > '9')
                return 0;
        return 1;
    }
    return 0;
}

/* The checks every /mcp request passes first; NULL when it passes, else
 * the status and message to answer with. */
static const char *gate(struct req *rq, struct MHD_Connection *c, unsigned *status)
{
    const struct roster_server_config *cfg = &rq->srv->cfg;
    const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
    if (origin && !roster_origin_listed(cfg->mcp_allowed_origins, origin) &&
        !(rq->srv->loopback && local_origin(origin))) {
        *status = MHD_HTTP_FORBIDDEN;
        return "Forbidden: this Origin is not allowed (--mcp-allowed-origins)";
    }
    if (cfg->mcp_token) {
        const char *auth =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
        if (!auth || strncasecmp(auth, "Bearer ", 7) != 0 ||
            !roster_token_equal(auth + 7, cfg->mcp_token)) {
            *status = MHD_HTTP_UNAUTHORIZED;
            return "Unauthorized: send Authorization: Bearer <token> (--mcp-token-file)";
        }
    }
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "MCP-Protocol-Version");
    if (v) {
        size_t i = 0, n = sizeof(VERSIONS) / sizeof(VERSIONS[0]);
        while (i < n && strcmp(v, VERSIONS[i]) != 0)
            i++;
        if (i == n) {
            *status = MHD_HTTP_BAD_REQUEST;
            return "Bad Request: unsupported MCP-Protocol-Version "
                   "(supported: " ROSTER_MCP_PROTOCOL_LATEST ", 2025-06-18)";
        }
    }
    return NULL;
}

/* The session a request names (held), or NULL after answering. */
static struct mcp_sess *session_of(struct req *rq, struct MHD_Connection *c, enum MHD_Result *r)
{
    const char *id = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Mcp-Session-Id");
    if (!id || !*id) {
        *r = fail(rq, c, MHD_HTTP_BAD_REQUEST, ROSTER_MCP_INVALID_REQUEST,
                  "Bad Request: Mcp-Session-Id header is required (send initialize first)");
        return NULL;
    }
    struct mcp_sess *s = roster_mcp_hub_find(rq->srv->mcp, id);
    if (!s) {
        *r = fail(rq, c, MHD_HTTP_NOT_FOUND, ROSTER_MCP_SESSION_NOT_FOUND,
                  "Session not found: it ended or expired; initialize a new one");
        return NULL;
    }
    /* after initialize the header, when sent, must say what was agreed */
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "MCP-Protocol-Version");
    char agreed[16];
    roster_mcp_sess_version(s, agreed, sizeof(agreed));
    if (v && agreed[0] && strcmp(v, agreed) != 0) {
        roster_mcp_hub_release(rq->srv->mcp, s);
        char msg[160];
        snprintf(msg, sizeof(msg),
                 "Bad Request: MCP-Protocol-Version %s differs from the version this session "
                 "negotiated (%s)",
                 v, agreed);
        *r = fail(rq, c, MHD_HTTP_BAD_REQUEST, ROSTER_MCP_INVALID_REQUEST, msg);
        return NULL;
    }
    return s;
}

static int is_initialize(const json_t *msg)
{
    const char *m = json_string_value(json_object_get(msg, "method"));
    return m && strcmp(m, "initialize") == 0 && json_object_get(msg, "id");
}

/* An initialize answered by a core session that never enters the table:
 * its error when the core refuses it (sent here, 1), else 0 (nothing sent)
 * and only then may it take a place in the table, which can evict an idle
 * session. The core decides what is valid; initialize is cheap to answer
 * twice. */
static int refused_initialize(struct req *rq, struct MHD_Connection *c, const json_t *msg,
                              enum MHD_Result *r)
{
    struct roster_mcp_opts mo = {.server_version = rq->srv->cfg.server_version};
    struct roster_mcp_session *tmp = NULL;
    json_t *resp =
        roster_mcp_session_new(&tmp, &mo) == 0 ? roster_mcp_handle(tmp, rq->snap, msg) : NULL;
    roster_mcp_session_free(tmp);
    if (resp && !json_object_get(resp, "error")) {
        json_decref(resp);
        return 0;
    }
    char *body = resp ? json_dumps(resp, JSON_COMPACT) : NULL;
    json_decref(resp);
    *r = body ? send_json(rq, c, MHD_HTTP_OK, body, NULL, NULL, NULL)
              : fail(rq, c, MHD_HTTP_SERVICE_UNAVAILABLE, ROSTER_MCP_INTERNAL_ERROR,
                     "Service Unavailable: out of memory");
    return 1;
}

/* The answer to one message on s: 200 with the response, 202 without. */
static enum MHD_Result answer(struct req *rq, struct MHD_Connection *c, struct mcp_sess *s,
                              const json_t *msg, int created)
{
    struct roster_mcp_hub *h = rq->srv->mcp;
    int busy = 0;
    if (!created) {
        /* the bytes path (roster_mcp_answer): prompts/get and resources/read
         * are written without a jansson tree for their long strings */
        struct roster_buf b;
        roster_buf_init(&b, ROSTER_MCP_MAX_RESPONSE);
        int n = roster_mcp_hub_answer(h, s, rq->snap, msg, &b, &busy);
        size_t len = 0;
        char *body = n > 0 ? roster_buf_steal(&b, &len) : NULL;
        roster_buf_release(&b);
        if (busy)
            return fail(rq, c, MHD_HTTP_TOO_MANY_REQUESTS, ROSTER_MCP_INTERNAL_ERROR,
                        "Too Many Requests: this session has 16 requests in flight");
        if (n == 0) /* a notification or a client's response */
            return send_json(rq, c, MHD_HTTP_ACCEPTED, NULL, NULL, NULL, NULL);
        if (!body)
            return fail(rq, c, MHD_HTTP_SERVICE_UNAVAILABLE, ROSTER_MCP_INTERNAL_ERROR,
                        "Service Unavailable: out of memory");
        return send_json(rq, c, MHD_HTTP_OK, body, NULL, NULL, NULL);
    }
    json_t *resp = roster_mcp_hub_handle(h, s, rq->snap, msg, &busy);
    if (busy)
        return fail(rq, c, MHD_HTTP_TOO_MANY_REQUESTS, ROSTER_MCP_INTERNAL_ERROR,
                    "Too Many Requests: this session has 16 requests in flight");
    if (!resp) /* a notification or a client's response */
        return send_json(rq, c, MHD_HTTP_ACCEPTED, NULL, NULL, NULL, NULL);
    int ok = !json_object_get(resp, "error");
    char *body = json_dumps(resp, JSON_COMPACT);
    json_decref(resp);
    if (!body)
        return fail(rq, c, MHD_HTTP_SERVICE_UNAVAILABLE, ROSTER_MCP_INTERNAL_ERROR,
                    "Service Unavailable: out of memory");
    if (created && !ok) {
        /* a failed initialize leaves no session behind */
        roster_mcp_hub_end(h, roster_mcp_sess_id(s));
        return send_json(rq, c, MHD_HTTP_OK, body, NULL, NULL, NULL);
    }
    return send_json(rq, c, MHD_HTTP_OK, body, created ? roster_mcp_sess_id(s) : NULL, NULL, NULL);
}

static enum MHD_Result post(struct req *rq, struct MHD_Connection *c)
{
    const char *accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
    if (roster_accept_quality(accept, "application/json") == 0)
        return fail(rq, c, MHD_HTTP_NOT_ACCEPTABLE, ROSTER_MCP_INVALID_REQUEST,
                    "Not Acceptable: responses are application/json; send Accept: "
                    "application/json, text/event-stream");
    json_error_t je;
    json_t *msg = rq->body_len ? json_loadb(rq->body, rq->body_len,
                                            JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je)
                               : NULL;
    if (!msg) {
        char why[200];
        snprintf(why, sizeof(why), "Parse error: %s (at byte %d)",
                 rq->body_len ? je.text : "the body is empty", rq->body_len ? je.position : 0);
        why[roster_utf8_check(why, strlen(why))] = '\0';
        return fail(rq, c, MHD_HTTP_BAD_REQUEST, ROSTER_MCP_PARSE_ERROR, why);
    }
    if (!json_is_object(msg)) {
        json_decref(msg);
        return fail(rq, c, MHD_HTTP_BAD_REQUEST, ROSTER_MCP_INVALID_REQUEST,
                    "Invalid Request: a message is one JSON-RPC object (batches are not part of "
                    "this protocol revision)");
    }
    struct roster_mcp_hub *h = rq->srv->mcp;
    struct mcp_sess *s = NULL;
    enum MHD_Result r = MHD_NO;
    int created = 0;
    const char *sid = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Mcp-Session-Id");
    if (!sid && is_initialize(msg) && refused_initialize(rq, c, msg, &r)) {
        /* answered: no session made, none evicted */
    } else if (!sid && is_initialize(msg)) {
        int rc = roster_mcp_hub_create(h, &s);
        if (rc == ROSTER_EBUSY)
            r = fail(rq, c, MHD_HTTP_SERVICE_UNAVAILABLE, ROSTER_MCP_INTERNAL_ERROR,
                     "Service Unavailable: every MCP session is busy (--mcp-max-sessions)");
        else if (rc < 0)
            r = fail(rq, c, MHD_HTTP_SERVICE_UNAVAILABLE, ROSTER_MCP_INTERNAL_ERROR,
                     "Service Unavailable: out of memory");
        created = rc == 0;
    } else {
        s = session_of(rq, c, &r);
    }
    if (s) {
        r = answer(rq, c, s, msg, created);
        roster_mcp_hub_release(h, s);
    }
    json_decref(msg);
    return r;
}

/* Last-Event-ID of a session stream: the decimal id of a message. */
static int parse_last(const char *v, uint64_t *out)
{
    if (!*v || strlen(v) > 20)
        return -1;
    uint64_t n = 0;
    for (; *v; v++) {
        uint64_t d = (uint64_t)(*v - '0');
        if (*v < '0' || *v > '9' || n > (UINT64_MAX - d) / 10)
            return -1;
        n = n * 10 + d;
    }
    *out = n;
    return 0;
}

static enum MHD_Result get(struct req *rq, struct MHD_Connection *c)
{
    const char *accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
    if (!accept || roster_accept_quality(accept, "text/event-stream") == 0)
        return fail(rq, c, MHD_HTTP_NOT_ACCEPTABLE, ROSTER_MCP_INVALID_REQUEST,
                    "Not Acceptable: GET /mcp opens a stream: send Accept: text/event-stream");
    const char *lv = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Last-Event-ID");
    uint64_t last = 0;
    if (lv && *lv && parse_last(lv, &last) < 0)
        return fail(rq, c, MHD_HTTP_BAD_REQUEST, ROSTER_MCP_INVALID_REQUEST,
                    "Bad Request: Last-Event-ID must be the id of a message of this session "
                    "(digits)");
    if (atomic_load(&rq->srv->draining))
        return fail(rq, c, MHD_HTTP_SERVICE_UNAVAILABLE, ROSTER_MCP_INTERNAL_ERROR,
                    "Service Unavailable: the server is shutting down");
    enum MHD_Result r = MHD_NO;
    struct mcp_sess *s = session_of(rq, c, &r);
    if (!s)
        return r;
    int rc = roster_mcp_hub_stream(rq->srv->mcp, s, rq, c, last, lv && *lv);
    roster_mcp_hub_release(rq->srv->mcp, s); /* the stream holds its own */
    if (rc == ROSTER_EBUSY) {
        rq->close = 1;
        return fail(rq, c, MHD_HTTP_SERVICE_UNAVAILABLE, ROSTER_MCP_INTERNAL_ERROR,
                    "Service Unavailable: too many open MCP streams");
    }
    if (rc < 0)
        return fail(rq, c, MHD_HTTP_SERVICE_UNAVAILABLE, ROSTER_MCP_INTERNAL_ERROR,
                    "Service Unavailable: out of memory");
    return rc ? MHD_YES : MHD_NO;
}

static enum MHD_Result delete (struct req *rq, struct MHD_Connection *c) {
    enum MHD_Result r = MHD_NO; struct mcp_sess *s = session_of(rq, c, &r); if (!s) return r;
    char id[ROSTER_MCP_SESSION_ID_LEN + 1];
    snprintf(id, sizeof(id), "%s", roster_mcp_sess_id(s));
    roster_mcp_hub_release(rq->srv->mcp, s);
    if (roster_mcp_hub_end(rq->srv->mcp, id) < 0) /* ended meanwhile */
    return fail(rq, c, MHD_HTTP_NOT_FOUND, ROSTER_MCP_SESSION_NOT_FOUND,
                "Session not found: it ended or expired");
    return send_json(rq, c, MHD_HTTP_NO_CONTENT, NULL, NULL, NULL, NULL);
}

int roster_route_mcp(struct req *rq, struct MHD_Connection *c, const struct roster_target *t)
{
    (void)t;
    unsigned status = 0;
    const char *why = gate(rq, c, &status);
    if (why)
        return fail(rq, c, status, ROSTER_MCP_INVALID_REQUEST, why);
    switch (rq->method) {
    case ROSTER_M_POST:
        return post(rq, c);
    case ROSTER_M_GET:
        return get(rq, c);
    default:
        return delete (rq, c);
    }
}
