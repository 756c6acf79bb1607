/* Pure parsers for the HTTP layer: request targets, query strings and the
 * Accept, Accept-Encoding and If-None-Match headers. No allocation; every
 * input is bounded by the caller (MHD's request memory limit). */
#ifndef ROSTER_HTTPPARSE_H
#define ROSTER_HTTPPARSE_H

#include <stddef.h>

#include "roster_doc.h"

enum roster_route_kind {
    ROSTER_ROUTE_NOT_FOUND,
    ROSTER_ROUTE_BAD_ID, /* under /v1/profiles/ but the id is invalid */
    ROSTER_ROUTE_PROFILES,
    ROSTER_ROUTE_PROFILE,
    ROSTER_ROUTE_PROMPT, /* /v1/profiles/{id}/prompt: the prompt view, and POST renders it */
    ROSTER_ROUTE_VERSIONS, /* /v1/profiles/{id}/versions: the versions of a profile */
    ROSTER_ROUTE_VERSION_PROFILE, /* /v1/profiles/{id}/versions/{digest}: one, pinned */
    ROSTER_ROUTE_VERSION_PROMPT, /* /v1/profiles/{id}/versions/{digest}/prompt */
    ROSTER_ROUTE_VERSION_DIFF, /* /v1/profiles/{id}/versions/{digest}/diff/{other} */
    ROSTER_ROUTE_VIEW, /* /v1/profiles/{id}/{view} */
    ROSTER_ROUTE_FACETS,
    ROSTER_ROUTE_DIAGNOSTICS,
    ROSTER_ROUTE_EVENTS,
    ROSTER_ROUTE_RELOAD,
    ROSTER_ROUTE_OPENAPI,
    ROSTER_ROUTE_HEALTH,
    ROSTER_ROUTE_READY,
    ROSTER_ROUTE_METRICS,
    ROSTER_ROUTE_VERSION,
    ROSTER_ROUTE_MCP, /* /mcp: the MCP Streamable HTTP transport */
    ROSTER_ROUTE_COUNT
};

#define ROSTER_VIEW_NAME_MAX 32
/* The longest {digest} segment kept: "sha256:" and 64 hex digits. A longer
 * one matches the route with an empty digest (400 invalid_digest). */
#define ROSTER_DIGEST_SEG_MAX 71

struct roster_route;

struct roster_target {
    enum roster_route_kind route;
    char id[ROSTER_ID_MAX_BUF]; /* percent-decoded, NUL-terminated; "" when none */
    size_t id_len;
    char view[ROSTER_VIEW_NAME_MAX + 1]; /* percent-decoded, NUL-terminated */
    size_t view_len;
    /* the {digest} segment, percent-decoded, NUL-terminated, not checked
     * (the handler parses it); "" when none or not decodable */
    char digest[ROSTER_DIGEST_SEG_MAX + 1];
    size_t digest_len;
    char other[ROSTER_DIGEST_SEG_MAX + 1]; /* the {other} digest (the diff route), likewise */
    size_t other_len;
    const char *query; /* after '?', or NULL: a slice of the raw target */
    size_t query_len;
    const struct roster_route *entry; /* the table entry the path matched (also when the
                                         id is invalid), or NULL */
};

/* The route table: one declarative entry per route family, read by the
 * target parser, the router (methods, Allow, query parameters, whether the
 * snapshot is needed), the metrics labels and `rosterd routes` (which the
 * contract test compares with openapi/openapi.yaml). A new route is an
 * entry here plus a handler in http_routes.c. */
enum {
    ROSTER_ROUTE_SNAPSHOT = 1, /* answers from the snapshot: 503 before the first one */
    ROSTER_ROUTE_POST = 2, /* POST (and OPTIONS) instead of GET, HEAD (and OPTIONS) */
    ROSTER_ROUTE_GET_POST = 4, /* POST as well as GET, HEAD (and OPTIONS) */
    ROSTER_ROUTE_BODY = 8, /* a POST carries a JSON body (read up to ROSTER_BODY_MAX) */
    ROSTER_ROUTE_MCP_METHODS = 16, /* GET, POST, DELETE (and OPTIONS): no HEAD */
};

struct req;
struct MHD_Connection;
struct roster_target;
/* A route's handler (http/http_routes.c): checks and answers one request,
 * returning libmicrohttpd's MHD_Result. */
typedef int (*roster_route_fn)(struct req *rq, struct MHD_Connection *c,
                               const struct roster_target *t);

struct roster_route {
    enum roster_route_kind kind;
    const char *pattern; /* as in the contract; {id} a profile id, {view} a view name,
                            {digest} a version's digest */
    const char *metric; /* the `route` label of metrics and logs */
    const char *allow; /* the Allow header of OPTIONS and 405 */
    const char *const *params; /* the query parameters it takes (NULL-terminated) */
    unsigned flags;
    unsigned nseg; /* path segments in pattern (a target with another count is skipped) */
    roster_route_fn handler;
};

/* The table, in matching order; *n is set to its length. */
const struct roster_route *roster_routes(size_t *n);
/* The entry of a kind (BAD_ID: the profile route's), or NULL for NOT_FOUND. */
const struct roster_route *roster_route_of(enum roster_route_kind kind);
/* The query parameters rt takes for view v (the {view} route: `scope`
 * only on the views that have items, roster_scope_applies). */
const char *const *roster_route_params(const struct roster_route *rt, int view);

/* Splits and classifies a raw request target ("/v1/profiles/x?y=z"). The
 * id and view segments are percent-decoded (RFC 3986: "%61bc" is "abc")
 * and then validated, so an escape can never smuggle in '/', "..", NUL or
 * anything else an id may not contain. */
void roster_target_parse(const char *raw, size_t len, struct roster_target *out);
const char *roster_route_name(enum roster_route_kind r);

#define ROSTER_QUERY_MAX_PARAMS 16
#define ROSTER_QUERY_MAX_VALUE 1024

struct roster_param {
    const char *key; /* NUL-terminated, in the caller's buffer */
    const char *value;
};

/* Parses a raw query string into params (keys and values percent-decoded,
 * '+' as space) stored in buf, in order. Fails with a message in why on
 * invalid escapes, %00, invalid UTF-8 and over-long input. A key may occur
 * more than once: roster_query_repeated tells the caller. */
int roster_query_string_parse(const char *qs, size_t len, struct roster_param *params, size_t *n,
                              char *buf, size_t cap, char *why, size_t why_cap);
/* The first key that occurs more than once and is not listed in repeatable
 * (NULL-terminated, may be NULL), or NULL. */
const char *roster_query_repeated(const struct roster_param *p, size_t n,
                                  const char *const *repeatable);
/* An integer in [min, max] written as any JSON number whose value is that
 * integer ("10", "10.0", "1e1", also "010"): what JSON Schema's `type: integer` admits,
 * so a client validated against the contract is never refused here. */
int roster_query_integer(const char *s, unsigned long min, unsigned long max, unsigned long *out);

/* Quality (0..1000) an Accept header gives a media type ("type/subtype");
 * a missing or empty header accepts everything (1000). */
int roster_accept_quality(const char *header, const char *type);
/* 1 when Accept-Encoding admits gzip. */
int roster_accepts_gzip(const char *header);
/* 1 when If-None-Match lists etag (weak comparison) or is "*". */
int roster_etag_match(const char *header, const char *etag);

#endif
