/* libmicrohttpd setup, per-request lifecycle, request bodies, snapshot
 * swapping, logging. The response is always queued on the second
 * access-handler call (queuing on the first turns keep-alive off in MHD
 * 0.9.75), or for a request with a body on the call after its last piece,
 * except for requests we refuse outright, where closing the connection is
 * what we want. */
#include "http_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mcp_hub.h"
#include "roster_base.h"
#include "roster_log.h"
#include "roster_text.h"

/* A reference to the current snapshot without a lock: `acquiring` tells a
 * swapper that someone may hold the old pointer without a reference yet. */
static struct roster_snapshot *acquire(struct roster_server *s)
{
    atomic_fetch_add(&s->acquiring, 1);
    struct roster_snapshot *snap = atomic_load(&s->current);
    roster_snapshot_ref(snap);
    atomic_fetch_sub(&s->acquiring, 1);
    return snap;
}

void roster_server_swap(struct roster_server *s, struct roster_snapshot *snap)
{
    struct roster_snapshot *old = atomic_exchange(&s->current, snap);
    while (atomic_load(&s->acquiring) != 0)
        sched_yield();
    roster_mcp_hub_changed(s->mcp, old, snap);
    roster_snapshot_unref(old);
}

static int valid_request_id(const char *v)
{
    size_t n = strlen(v);
    if (n == 0 || n > 128)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == ':'))
            return 0;
    }
    return 1;
}

static void *uri_logger(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)c;
    struct roster_server *s = cls;
    size_t n = strlen(uri);
    int truncated = n > ROSTER_TARGET_MAX;
    if (truncated)
        n = ROSTER_TARGET_MAX;
    /* one allocation per request: the context and the raw target */
    struct req *rq = roster_malloc(sizeof(*rq) + n + 1);
    if (!rq)
        return NULL;
    memset(rq, 0, sizeof(*rq));
    rq->srv = s;
    rq->t0 = roster_now_mono();
    atomic_fetch_add(&s->in_flight, 1);
    rq->raw_truncated = truncated;
    rq->raw_len = n;
    memcpy(rq->raw, uri, n);
    rq->raw[rq->raw_len] = '\0';
    return rq;
}

struct header_scan {
    int content_lengths;
    int bad_name;
    size_t bytes; /* header fields as received: "name: value\r\n" each */
};

static int scan_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    struct header_scan *h = cls;
    h->bytes += strlen(key) + (value ? strlen(value) : 0) + 4;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
        h->content_lengths++;
    /* RFC 9112: a field name is a token; "Transfer-Encoding : chunked" is a
     * request-smuggling shape that libmicrohttpd 0.9.75 lets through */
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        if (*p <= ' ' || *p >= 0x7f || *p == ':')
            h->bad_name = 1;
    return MHD_YES;
}

/* Requests on this API carry no body: refuse any that might, except on a
 * route that takes one (body_ok: POST .../prompt), which may send
 * Content-Length or Transfer-Encoding: chunked, never both. */
static const char *body_problem(struct MHD_Connection *c, const struct header_scan *hs, int body_ok)
{
    const struct header_scan h = *hs;
    if (h.bad_name)
        return "a header field name contains white space or a control character";
    if (h.content_lengths > 1)
        return "more than one Content-Length header";
    const char *te =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    const char *len =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (body_ok) {
        if (te && len)
            return "Content-Length and Transfer-Encoding together are not allowed";
        if (te && strcasecmp(te, "chunked") != 0)
            return "the only Transfer-Encoding accepted is chunked";
        return NULL;
    }
    if (te)
        return "Transfer-Encoding is not allowed: requests carry no body";
    if (len && strcmp(len, "0") != 0)
        return "requests carry no body";
    return NULL;
}

/* 1 when a Content-Type value is application/json (charset, when given,
 * utf-8). */
static int json_content_type(const char *v)
{
    static const char want[] = "application/json";
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = strcspn(v, ";");
    size_t m = n;
    while (m && (v[m - 1] == ' ' || v[m - 1] == '\t'))
        m--;
    if (m != sizeof(want) - 1 || strncasecmp(v, want, m) != 0)
        return 0;
    for (const char *p = v + n; *p == ';';) {
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        size_t k = strcspn(p, ";");
        if (k >= 8 && strncasecmp(p, "charset=", 8) == 0) {
            const char *cs = p + 8;
            size_t cn = k - 8;
            while (cn && (cs[cn - 1] == ' ' || cs[cn - 1] == '\t'))
                cn--;
            if (cn >= 2 && cs[0] == '"' && cs[cn - 1] == '"')
                cs++, cn -= 2;
            if (cn != 5 || strncasecmp(cs, "utf-8", 5) != 0)
                return 0;
        }
        p += k;
    }
    return 1;
}

/* A request refused for its size before it is read: the problem names the
 * limit, and the connection closes after it. */
static enum MHD_Result too_large(struct req *rq, struct MHD_Connection *c, unsigned status,
                                 const char *code, const char *title, const char *what,
                                 size_t limit)
{
    char detail[160];
    snprintf(detail, sizeof(detail), "%s %zu bytes", what, limit);
    rq->close = 1;
    return roster_send_problem(rq, c, status, code, title, detail, NULL);
}

/* First call of a request that may carry a body: what the header fields
 * say decides (413, 415) before a byte of it is read. */
static enum MHD_Result body_start(struct req *rq, struct MHD_Connection *c)
{
    const char *len =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    unsigned long long n = 0;
    if (len) {
        char *end = NULL;
        errno = 0;
        n = strtoull(len, &end, 10);
        if (errno || end == len || *end)
            n = ULLONG_MAX; /* libmicrohttpd refused malformed ones already */
    }
    if (n > ROSTER_BODY_MAX)
        return too_large(rq, c, MHD_HTTP_CONTENT_TOO_LARGE, "body_too_large",
                         "Request body too large", "the request body is larger than",
                         ROSTER_BODY_MAX);
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    const char *ce =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_ENCODING);
    char why[200];
    why[0] = '\0';
    if (!ct) {
        snprintf(why, sizeof(why), "the body must be sent with Content-Type: application/json");
    } else if (!json_content_type(ct)) {
        size_t ctlen = strlen(ct);
        snprintf(why, sizeof(why), "Content-Type %.*s is not accepted: send application/json",
                 (int)roster_utf8_check(ct, ctlen < 80 ? ctlen : 80), ct);
    } else if (ce && strcasecmp(ce, "identity") != 0) {
        snprintf(why, sizeof(why), "the body must be sent without a Content-Encoding");
    }
    if (why[0]) {
        rq->close = 1;
        return roster_send_problem(rq, c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                                   "Unsupported media type", why, NULL);
    }
    if (n) {
        rq->body = roster_malloc((size_t)n + 1);
        rq->body_cap = rq->body ? (size_t)n + 1 : 0;
    }
    return MHD_YES;
}

/* Keeps one piece of the body, up to ROSTER_BODY_MAX bytes in all. */
static enum MHD_Result body_append(struct req *rq, const char *data, size_t n)
{
    rq->body_seen = n > ROSTER_BODY_DISCARD_MAX - rq->body_seen ? ROSTER_BODY_DISCARD_MAX + 1
                                                                : rq->body_seen + n;
    if (rq->body_seen > ROSTER_BODY_DISCARD_MAX) {
        rq->status = MHD_HTTP_CONTENT_TOO_LARGE; /* what the log and metrics say */
        return MHD_NO; /* still coming long after the cap: drop the connection */
    }
    if (rq->body_seen > ROSTER_BODY_MAX) {
        roster_free(rq->body); /* answered 413 once it ends */
        rq->body = NULL;
        rq->body_len = rq->body_cap = 0;
        return MHD_YES;
    }
    if (rq->body_len + n + 1 > rq->body_cap) {
        size_t cap = rq->body_cap ? rq->body_cap : 4096;
        while (cap < rq->body_len + n + 1)
            cap *= 2;
        if (cap > ROSTER_BODY_MAX + 1)
            cap = ROSTER_BODY_MAX + 1;
        char *b = roster_realloc(rq->body, cap);
        if (!b) {
            rq->body_oom = 1;
            return MHD_YES;
        }
        rq->body = b;
        rq->body_cap = cap;
    }
    memcpy(rq->body + rq->body_len, data, n);
    rq->body_len += n;
    rq->body[rq->body_len] = '\0';
    return MHD_YES;
}

static void set_request_id(struct req *rq, struct MHD_Connection *c)
{
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Request-Id");
    if (v && valid_request_id(v)) {
        snprintf(rq->request_id, sizeof(rq->request_id), "%s", v);
        return;
    }
    unsigned long long n = atomic_fetch_add(&rq->srv->next_request, 1);
    snprintf(rq->request_id, sizeof(rq->request_id), "%s-%012llx", rq->srv->boot_id, n);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    (void)cls;
    (void)url;
    struct req *rq = *con_cls;
    if (!rq)
        return MHD_NO; /* out of memory in the URI callback: drop the connection */
    if (!rq->seen) {
        rq->seen = 1;
        rq->method = roster_method_of(method);
        set_request_id(rq, c);
        struct header_scan hs = {0};
        MHD_get_connection_values(c, MHD_HEADER_KIND, (MHD_KeyValueIterator)scan_header, &hs);
        if (rq->raw_truncated)
            return too_large(rq, c, MHD_HTTP_URI_TOO_LONG, "uri_too_long",
                             "Request target too long", "the request target is longer than",
                             ROSTER_TARGET_MAX);
        size_t line = strlen(method) + rq->raw_len + strlen(version) + 4;
        if (line + hs.bytes > rq->srv->cfg.max_request_bytes)
            return too_large(rq, c, MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE, "headers_too_large",
                             "Request header fields too large",
                             "the request line and header fields are longer than",
                             rq->srv->cfg.max_request_bytes);
        if (rq->method == ROSTER_M_POST) {
            struct roster_target t;
            roster_target_parse(rq->raw, rq->raw_len, &t);
            rq->body_ok = t.entry && (t.entry->flags & ROSTER_ROUTE_BODY);
            if (rq->body_ok)
                rq->route = t.route;
        }
        const char *why = body_problem(c, &hs, rq->body_ok);
        if (why) {
            int header = strncmp(why, "a header", 8) == 0;
            if (!rq->body_ok)
                rq->route = ROSTER_ROUTE_NOT_FOUND;
            rq->close = 1;
            return roster_send_problem(
                rq, c, MHD_HTTP_BAD_REQUEST, header ? "bad_header" : "body_not_allowed",
                header ? "Malformed header" : "Request body not allowed", why, NULL);
        }
        return rq->body_ok ? body_start(rq, c) : MHD_YES;
    }
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (rq->body_ok)
            return body_append(rq, upload, n);
        return roster_send_problem(rq, c, MHD_HTTP_BAD_REQUEST, "body_not_allowed",
                                   "Request body not allowed", "requests carry no body", NULL);
    }
    if (rq->body_seen > ROSTER_BODY_MAX) {
        char detail[120];
        snprintf(detail, sizeof(detail), "the request body is larger than %zu bytes",
                 ROSTER_BODY_MAX);
        return roster_send_problem(rq, c, MHD_HTTP_CONTENT_TOO_LARGE, "body_too_large",
                                   "Request body too large", detail, NULL);
    }
    if (rq->body_oom)
        return roster_send_problem(rq, c, MHD_HTTP_SERVICE_UNAVAILABLE, "out_of_memory",
                                   "Out of memory", "the server is out of memory", NULL);
    rq->snap = acquire(rq->srv);
    return roster_route(rq, c);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct roster_server *s = cls;
    struct req *rq = *con_cls;
    if (!rq)
        return;
    double dt = roster_now_mono() - rq->t0;
    unsigned status = rq->status;
    if (!status)
        status = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? 200 : 400;
    roster_metrics_request(s->metrics, rq->route, rq->method, status, dt);
    if (roster_log_enabled(ROSTER_LOG_INFO)) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        char addr[INET6_ADDRSTRLEN + 8] = "-";
        if (ci && ci->client_addr) {
            const struct sockaddr *sa = ci->client_addr;
            if (sa->sa_family == AF_INET)
                inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, addr, sizeof(addr));
            else if (sa->sa_family == AF_INET6)
                inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, addr,
                          sizeof(addr));
        }
        const char *q = memchr(rq->raw, '?', rq->raw_len);
        char path[512];
        size_t plen = q ? (size_t)(q - rq->raw) : rq->raw_len;
        snprintf(path, sizeof(path), "%.*s", (int)(plen > 500 ? 500 : plen), rq->raw);
        roster_log(ROSTER_LOG_INFO, "request", "method", 's', roster_method_name(rq->method),
                   "path", 's', path, "route", 's', roster_route_name(rq->route), "status", 'u',
                   (unsigned long long)status, "bytes", 'u', (unsigned long long)rq->bytes,
                   "duration_us", 'u', (unsigned long long)(dt * 1e6), "request_id", 's',
                   rq->request_id[0] ? rq->request_id : "-", "remote", 's', addr, "completed", 'b',
                   toe == MHD_REQUEST_TERMINATED_COMPLETED_OK, ROSTER_LOG_END);
    }
    roster_snapshot_unref(rq->snap);
    roster_free(rq->body);
    roster_free(rq);
    *con_cls = NULL;
    atomic_fetch_sub(&s->in_flight, 1);
}

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    roster_log(ROSTER_LOG_WARN, "http_library", "message", 's', msg, ROSTER_LOG_END);
}

/* libmicrohttpd's per-connection memory (see ROSTER_RESPONSE_HEADER_ROOM). */
static size_t pool_bytes(const struct roster_server_config *cfg)
{
    return cfg->max_request_bytes + ROSTER_RESPONSE_HEADER_ROOM;
}

static int is_loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
    return ss->ss_family == AF_INET6 &&
           IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

/* The /mcp sessions, unless they are off. */
static int start_mcp(struct roster_server *s, char *why, size_t why_cap)
{
    const struct roster_server_config *cfg = &s->cfg;
    if (!cfg->mcp_max_sessions)
        return 0;
    struct roster_mcp_hub_config hc = {
        .max_sessions = cfg->mcp_max_sessions,
        .max_streams = cfg->max_connections / 4 ? cfg->max_connections / 4 : 1,
        .idle_timeout = cfg->mcp_session_timeout,
        .server_version = cfg->server_version,
    };
    if (roster_mcp_hub_new(&s->mcp, &hc) < 0) {
        snprintf(why, why_cap, "out of memory");
        return ROSTER_ENOMEM;
    }
    return 0;
}

static int resolve_addr(const char *host, unsigned port, struct sockaddr_storage *ss, int *v6,
                        char *why, size_t why_cap)
{
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *res = NULL;
    char ps[16];
    snprintf(ps, sizeof(ps), "%u", port);
    int e = getaddrinfo(host, ps, &hints, &res);
    if (e != 0 || !res) {
        snprintf(why, why_cap, "cannot resolve listen address %s: %s", host, gai_strerror(e));
        return -1;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *v6 = res->ai_family == AF_INET6;
    freeaddrinfo(res);
    return 0;
}

int roster_server_start(struct roster_server **out, const struct roster_server_config *cfg,
                        struct roster_metrics *metrics, char *why, size_t why_cap)
{
    struct roster_server *s = roster_calloc(1, sizeof(*s));
    if (!s) {
        snprintf(why, why_cap, "out of memory");
        return ROSTER_ENOMEM;
    }
    s->cfg = *cfg;
    s->metrics = metrics;
    if (cfg->events)
        roster_http_events_bind(cfg->events);
    s->listen_fd = MHD_INVALID_SOCKET;
    if (cfg->cache_max_age)
        snprintf(s->cache_control, sizeof(s->cache_control), "public, max-age=%u",
                 cfg->cache_max_age);
    else
        snprintf(s->cache_control, sizeof(s->cache_control), "no-cache");
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(s->boot_id, sizeof(s->boot_id), "%08lx%04x", (unsigned long)ts.tv_sec,
             (unsigned)((ts.tv_nsec ^ getpid()) & 0xffff));
    struct sockaddr_storage ss;
    int v6 = 0;
    if (resolve_addr(cfg->host, cfg->port, &ss, &v6, why, why_cap) < 0) {
        roster_free(s);
        return ROSTER_EINVAL;
    }
    s->loopback = is_loopback(&ss);
    if (start_mcp(s, why, why_cap) < 0) {
        roster_free(s);
        return ROSTER_ENOMEM;
    }
    unsigned flags =
        MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    if (v6)
        flags |= MHD_USE_IPv6;
    /* a pool of one is no pool: MHD warns about it, so leave it out */
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_logger, s},
        {MHD_OPTION_SOCK_ADDR, 0, &ss},
        {MHD_OPTION_CONNECTION_LIMIT, (intptr_t)cfg->max_connections, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)cfg->connection_timeout, NULL},
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)pool_bytes(cfg), NULL},
        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)uri_logger, s},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)completed, s},
        {cfg->threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, (intptr_t)cfg->threads,
         NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    s->daemon = MHD_start_daemon(flags, (uint16_t)cfg->port, NULL, NULL, handler, s,
                                 MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    if (!s->daemon) {
        snprintf(why, why_cap, "cannot listen on %s:%u (address in use or not available)",
                 cfg->host, cfg->port);
        roster_mcp_hub_free(s->mcp);
        roster_free(s);
        return ROSTER_EIO;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : cfg->port;
    *out = s;
    return 0;
}

unsigned roster_server_port(const struct roster_server *s)
{
    return s->port;
}

void roster_server_drain(struct roster_server *s)
{
    atomic_store(&s->draining, 1);
}

void roster_server_quiesce(struct roster_server *s)
{
    atomic_store(&s->draining, 1);
    roster_mcp_hub_close(s->mcp); /* MCP streams end: their clients reconnect elsewhere */
    if (s->listen_fd == MHD_INVALID_SOCKET)
        s->listen_fd = MHD_quiesce_daemon(s->daemon);
}

long roster_server_in_flight(struct roster_server *s)
{
    return atomic_load(&s->in_flight);
}

unsigned roster_server_connections(struct roster_server *s)
{
    const union MHD_DaemonInfo *di =
        MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    return di ? di->num_connections : 0;
}

void roster_server_stop(struct roster_server *s)
{
    if (!s)
        return;
    roster_mcp_hub_close(s->mcp);
    MHD_stop_daemon(s->daemon);
    roster_mcp_hub_free(s->mcp);
    if (s->listen_fd != MHD_INVALID_SOCKET)
        close(s->listen_fd);
    roster_snapshot_unref(atomic_load(&s->current));
    roster_free(s);
}

void roster_server_mcp_log(struct roster_server *s, int error, const json_t *data)
{
    if (data)
        roster_mcp_hub_log(s->mcp, error ? ROSTER_MCP_ERROR : ROSTER_MCP_INFO, data);
}

void roster_server_tick(struct roster_server *s)
{
    roster_mcp_hub_tick(s->mcp, roster_now_mono());
}

int roster_server_take_reload_request(struct roster_server *s)
{
    return atomic_exchange(&s->reload_requested, 0);
}
