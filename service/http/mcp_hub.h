/* The sessions of the MCP Streamable HTTP transport (http_mcp.c): a
 * bounded table of MCP sessions by id, each with its server-to-client
 * message ring and at most one open SSE stream (GET /mcp). docs/mcp.md. */
#ifndef ROSTER_MCP_HUB_H
#define ROSTER_MCP_HUB_H

#include <stddef.h>
#include <stdint.h>

#include "http_internal.h"
#include "roster_mcp.h"

#define ROSTER_MCP_SESSION_ID_LEN 32 /* hex digits of 128 random bits */
#define ROSTER_MCP_RING 64 /* server messages kept per session for its stream */
#define ROSTER_MCP_FRAME_MAX (64 * 1024) /* larger notifications are not sent */
#define ROSTER_MCP_MAX_PENDING 16 /* requests of one session in flight */
#define ROSTER_MCP_HEARTBEAT_S 15 /* a comment line on idle streams */

struct roster_mcp_hub;
/* One session, held by a request (roster_mcp_hub_find / _create) until
 * roster_mcp_hub_release. */
struct mcp_sess;

struct roster_mcp_hub_config {
    size_t max_sessions;
    size_t max_streams; /* open GET streams, all sessions together */
    unsigned idle_timeout; /* seconds without a request or an open stream */
    const char *server_version;
};

int roster_mcp_hub_new(struct roster_mcp_hub **out, const struct roster_mcp_hub_config *cfg);
/* After the daemon stopped (no stream can be read any more). */
void roster_mcp_hub_free(struct roster_mcp_hub *h);
/* Ends every stream (before the daemon stops: suspended connections are
 * resumed so that they can close). */
void roster_mcp_hub_close(struct roster_mcp_hub *h);
size_t roster_mcp_hub_count(struct roster_mcp_hub *h);

/* A new session (held): ROSTER_EBUSY when the table is full even after
 * reaping idle ones, ROSTER_ENOMEM. */
int roster_mcp_hub_create(struct roster_mcp_hub *h, struct mcp_sess **out);
/* The session with this id (held), or NULL. */
struct mcp_sess *roster_mcp_hub_find(struct roster_mcp_hub *h, const char *id);
void roster_mcp_hub_release(struct roster_mcp_hub *h, struct mcp_sess *s);
/* Removes a session from the table (its stream ends); 0, or -1 when
 * there is none with that id. */
int roster_mcp_hub_end(struct roster_mcp_hub *h, const char *id);
const char *roster_mcp_sess_id(const struct mcp_sess *s);
/* The id of the last server message queued for the session's stream
 * (0: none yet). */
uint64_t roster_mcp_sess_last_message(struct mcp_sess *s);
/* The protocol version the session negotiated ("" before initialize). */
void roster_mcp_sess_version(struct mcp_sess *s, char *out, size_t cap);

/* Answers one message on a held session (serialized per session):
 * the response (caller owns) or NULL. ROSTER_EBUSY in *busy when the
 * session already has ROSTER_MCP_MAX_PENDING requests in flight. */
json_t *roster_mcp_hub_handle(struct roster_mcp_hub *h, struct mcp_sess *s,
                              const struct roster_snapshot *snap, const json_t *msg, int *busy);

/* The same serialized into out (roster_mcp_answer): 1 a response, 0 none,
 * negative without memory; *busy as above. */
int roster_mcp_hub_answer(struct roster_mcp_hub *h, struct mcp_sess *s,
                          const struct roster_snapshot *snap, const json_t *msg,
                          struct roster_buf *out, int *busy);

/* Opens the session's SSE stream on conn (a previous one ends), from the
 * message after `last` when have_last, else from the first one no stream
 * has taken. 1 queued, 0 queuing failed (drop the connection),
 * ROSTER_EBUSY when max_streams are open, ROSTER_ENOMEM (nothing queued:
 * answer them). */
int roster_mcp_hub_stream(struct roster_mcp_hub *h, struct mcp_sess *s, struct req *rq,
                          struct MHD_Connection *conn, uint64_t last, int have_last);

/* After a reload, before old is released: each session's notifications. */
void roster_mcp_hub_changed(struct roster_mcp_hub *h, const struct roster_snapshot *old,
                            const struct roster_snapshot *new);
/* roster_mcp_log on every session (those whose level allows it send). */
void roster_mcp_hub_log(struct roster_mcp_hub *h, enum roster_mcp_level level, const json_t *data);
/* Periodic: idle sessions are removed, hung-up streams end, idle streams
 * get a heartbeat. now: roster_now_mono(). */
void roster_mcp_hub_tick(struct roster_mcp_hub *h, double now);

#endif
