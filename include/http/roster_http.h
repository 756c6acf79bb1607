/* The HTTP server: libmicrohttpd in thread-pool mode answering from the
 * current snapshot. The snapshot can be swapped at any time; requests keep
 * the one they started with. */
#ifndef ROSTER_HTTP_H
#define ROSTER_HTTP_H

#include <stddef.h>
#include <stdint.h>

struct roster_snapshot;
struct roster_metrics;
struct roster_server;
struct roster_events;
struct roster_progress;
struct roster_history;
typedef struct json_t json_t;

struct roster_server_config {
    const char *host; /* numeric address or name */
    unsigned port; /* 0: any free port */
    unsigned threads;
    unsigned max_connections;
    unsigned connection_timeout; /* seconds */
    size_t max_request_bytes; /* request line + headers (MHD memory pool) */
    unsigned cache_max_age; /* 0: "no-cache" */
    const char *cors_origins; /* comma-separated, "*" for any; NULL: off */
    const char *admin_token; /* NULL: admin endpoint disabled */
    struct roster_events *events; /* NULL: /v1/events answers 404 */
    /* how far the first snapshot is, for /ready while there is none (or NULL) */
    const struct roster_progress *progress;
    /* MCP over Streamable HTTP at /mcp (docs/mcp.md); 0 sessions: off (404) */
    size_t mcp_max_sessions;
    unsigned mcp_session_timeout; /* seconds a session may sit idle */
    const char *mcp_allowed_origins; /* comma-separated, "*" for any; NULL: none */
    const char *mcp_token; /* bearer token /mcp requires, or NULL */
    const char *server_version; /* MCP serverInfo.version */
    /* the history store (--history-dir) GET .../versions reads, or NULL:
     * only the current version of each profile is answered */
    struct roster_history *history;
};

int roster_server_start(struct roster_server **out, const struct roster_server_config *cfg,
                        struct roster_metrics *metrics, char *why, size_t why_cap);
unsigned roster_server_port(const struct roster_server *s);
/* Installs a new snapshot (takes the caller's reference); the old one is
 * released once no request can still be acquiring it. */
void roster_server_swap(struct roster_server *s, struct roster_snapshot *snap);
/* Readiness off; every response from now on carries Connection: close. */
void roster_server_drain(struct roster_server *s);
/* Stop accepting connections (the listener is closed at stop). */
void roster_server_quiesce(struct roster_server *s);
unsigned roster_server_connections(struct roster_server *s);
/* Requests received and not yet completed (idle keep-alive connections
 * are not counted). */
long roster_server_in_flight(struct roster_server *s);
void roster_server_stop(struct roster_server *s);
/* Periodic work (the serve loop calls it every tick): idle MCP sessions
 * expire, hung-up MCP streams end, idle ones get a heartbeat. */
void roster_server_tick(struct roster_server *s);
/* Tells every MCP session of a reload (notifications/message at info, or
 * error for a failed one; reload.h's roster_reload_report_json). data is
 * borrowed; NULL does nothing. */
void roster_server_mcp_log(struct roster_server *s, int error, const json_t *data);
/* Set by the admin endpoint; the serve loop polls it. */
int roster_server_take_reload_request(struct roster_server *s);

#endif
