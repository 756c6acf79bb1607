/* Shared by the HTTP modules (http.c, http_send.c, http_routes.c). */
#ifndef ROSTER_HTTP_INTERNAL_H
#define ROSTER_HTTP_INTERNAL_H

#include <microhttpd.h>
#include <stdatomic.h>
#include <stddef.h>

#include "roster_http.h"
#include "roster_httpparse.h"
#include "roster_metrics.h"
#include "roster_snapshot.h"

/* The longest request target served (path and query): longer ones get a
 * 414 problem. Every query the contract admits fits (16 parameters of at
 * most 1 KiB each need percent-encoding to exceed it). */
#define ROSTER_TARGET_MAX 8192
/* libmicrohttpd's per-connection memory holds the request line, the header
 * fields and then the response header: it is --max-request-bytes plus room
 * for the response header, so that every request up to that size reaches
 * our handler and gets a problem+json 414 or 431 with the common headers
 * (the default, 64 KiB, covers every target up to 64 KiB); only a larger one
 * gets libmicrohttpd's own bare 414/431. libmicrohttpd 0.9.75 zeroes the
 * whole pool between keep-alive requests: the throughput this costs, and
 * what a smaller --max-request-bytes buys back, are in docs/performance.md. */
#define ROSTER_RESPONSE_HEADER_ROOM (8 * 1024)
/* The largest request body (POST .../prompt): a larger Content-Length is
 * answered 413 before the body is read; a chunked body that grows past it
 * is read to its end without being kept (libmicrohttpd 0.9.75 cannot
 * answer in the middle of a body) and then answered 413, unless it goes
 * on past ROSTER_BODY_DISCARD_MAX, when the connection is dropped. */
#define ROSTER_BODY_MAX ((size_t)1 << 20)
#define ROSTER_BODY_DISCARD_MAX ((size_t)16 << 20)

struct roster_server {
    struct MHD_Daemon *daemon;
    struct roster_server_config cfg;
    struct roster_metrics *metrics;
    _Atomic(struct roster_snapshot *) current;
    atomic_int acquiring; /* requests between loading and referencing current */
    atomic_int draining;
    atomic_int reload_requested;
    unsigned port;
    MHD_socket listen_fd; /* returned by quiesce; closed after stop */
    char cache_control[64];
    char boot_id[17];
    atomic_ullong next_request;
    atomic_long in_flight; /* requests between the URI callback and completion */
    struct roster_mcp_hub *mcp; /* the /mcp sessions, or NULL when it is off */
    int loopback; /* bound to a loopback address */
};

/* One request. Created by the URI log callback (the only place MHD shows
 * the raw request target), freed by the completion callback. */
struct req {
    struct roster_server *srv;
    struct roster_snapshot *snap;
    size_t raw_len;
    int raw_truncated;
    char request_id[130];
    double t0;
    enum roster_route_kind route;
    enum roster_method method;
    unsigned status;
    size_t bytes;
    int seen; /* the first access-handler call happened */
    char allow[32]; /* Allow header of a 405 */
    int close; /* answer with Connection: close */
    const char *digest; /* the profile answered (hex, the snapshot's): Roster-Digest */
    /* Cache-Control of a representation sent (NULL: the server's,
     * --cache-max-age); versioned routes send theirs (immutable) */
    const char *cache_control;
    const char *vary; /* Vary of a representation sent (NULL: Accept-Encoding) */
    /* the body of a route that takes one (ROSTER_ROUTE_BODY), at most
     * ROSTER_BODY_MAX bytes, NUL-terminated; freed with the request */
    char *body;
    size_t body_len, body_cap;
    size_t body_seen; /* bytes received, kept or not */
    int body_ok; /* this request may carry a body */
    int body_oom; /* keeping it ran out of memory (answered 503) */
    char raw[]; /* the request target as received, NUL-terminated */
};

/* Sends a prebuilt representation (conditional GET, gzip, HEAD). */
enum MHD_Result roster_send_rep(struct req *rq, struct MHD_Connection *c,
                                const struct roster_rep *rep, const char *warning);
/* Sends a representation built for this request, with its own ETags:
 * rep (a roster_calloc'd one) is taken over and freed with the response. */
enum MHD_Result roster_send_rep_owned(struct req *rq, struct MHD_Connection *c,
                                      struct roster_rep *rep, const char *warning);
/* Sends bytes built for this request (taken over, freed by MHD). */
enum MHD_Result roster_send_dynamic(struct req *rq, struct MHD_Connection *c, unsigned status,
                                    const char *ctype, char *body, size_t len, int cacheable,
                                    const char *warning);
/* RFC 9457 problem: code names the type (urn:roster:problem:<code>).
 * extra (stolen, may be NULL) is merged into the body. */
enum MHD_Result roster_send_problem(struct req *rq, struct MHD_Connection *c, unsigned status,
                                    const char *code, const char *title, const char *detail,
                                    void *extra_json);
/* A redirect (3xx) to location with a problem-shaped body as
 * roster_send_problem makes (code, detail, extra), no-store. */
enum MHD_Result roster_send_redirect(struct req *rq, struct MHD_Connection *c, unsigned status,
                                     const char *location, const char *code, const char *title,
                                     const char *detail, void *extra_json);
/* 204 / 405 with Allow. */
enum MHD_Result roster_send_allow(struct req *rq, struct MHD_Connection *c, unsigned status,
                                  const char *allow);

/* Server-Sent Events streams (http_events.c, and MCP's in mcp_hub.c): a
 * content reader's copy of the rest of src (*off bytes of it sent) into
 * buf, at most max; and the headers every stream answer carries. */
ssize_t roster_sse_copy(char *buf, size_t max, const char *src, size_t len, size_t *off);
void roster_sse_headers(struct MHD_Response *resp);

/* Installs the SSE clients' hooks (wake, reap) into the event ring. */
void roster_http_events_bind(struct roster_events *ev);

/* Route handlers (http_routes.c). */
enum MHD_Result roster_route(struct req *rq, struct MHD_Connection *c);

/* Headers every response carries: request id, CORS, Connection: close
 * while draining. */
int roster_common_headers(struct req *rq, struct MHD_Connection *c, struct MHD_Response *resp);

/* The route handlers (http_routes.c), named in the route table. */
int roster_route_profiles(struct req *rq, struct MHD_Connection *c, const struct roster_target *t);
int roster_route_profile(struct req *rq, struct MHD_Connection *c, const struct roster_target *t);
int roster_route_prompt(struct req *rq, struct MHD_Connection *c, const struct roster_target *t);
int roster_route_facets(struct req *rq, struct MHD_Connection *c, const struct roster_target *t);
int roster_route_diagnostics(struct req *rq, struct MHD_Connection *c,
                             const struct roster_target *t);
int roster_route_events(struct req *rq, struct MHD_Connection *c, const struct roster_target *t);
int roster_route_reload(struct req *rq, struct MHD_Connection *c, const struct roster_target *t);
int roster_route_text(struct req *rq, struct MHD_Connection *c, const struct roster_target *t);
int roster_route_json(struct req *rq, struct MHD_Connection *c, const struct roster_target *t);
int roster_route_mcp(struct req *rq, struct MHD_Connection *c, const struct roster_target *t);
/* GET /v1/profiles/{id}/versions, .../versions/{digest}[/prompt] (http_versions.c) */
int roster_route_versions(struct req *rq, struct MHD_Connection *c, const struct roster_target *t);
int roster_route_version(struct req *rq, struct MHD_Connection *c, const struct roster_target *t);
/* A stored version of profile id (hex: 64 digits) from --history-dir,
 * verified (http_versions.c): 0 with *v (roster_history_version_release);
 * ROSTER_ENOENT (no store, or not stored) and ROSTER_EIO (stored but
 * failing verification: logged once) with detail for a 404; ROSTER_ENOMEM. */
struct roster_history_version;
int roster_version_load(struct req *rq, const char *id, const char *hex,
                        struct roster_history_version *v, char *detail, size_t cap);
int roster_route_version_diff(struct req *rq, struct MHD_Connection *c,
                              const struct roster_target *t);

/* Helpers of http_routes.c that the other route modules share. */
struct roster_param;
/* Parses t's query against the parameters its route takes:
 * ROSTER_ENOENT (a parameter it does not take), ROSTER_EINVAL (malformed),
 * with why; answer either with roster_http_query_problem. */
int roster_http_params(const struct roster_target *t, struct roster_param *p, size_t *n, char *buf,
                       size_t cap, char *why, size_t why_cap);
const char *roster_http_param(const struct roster_param *p, size_t n, const char *key);
enum MHD_Result roster_http_query_problem(struct req *rq, struct MHD_Connection *c, int r,
                                          const char *why);
/* The quality the request's Accept gives type (0: not acceptable). */
int roster_http_accept_quality(struct MHD_Connection *c, const char *type);
enum MHD_Result roster_http_not_acceptable(struct req *rq, struct MHD_Connection *c,
                                           const char *types);
/* 404 profile_not_found for id, with the closest served ids. */
enum MHD_Result roster_http_not_found(struct req *rq, struct MHD_Connection *c, const char *id);

/* 1 when origin is listed in list (comma-separated, "*" for any; NULL or
 * "" lists none). */
int roster_origin_listed(const char *list, const char *origin);

#endif
