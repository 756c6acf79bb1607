/* The Model Context Protocol core (protocol revision 2025-11-25, also
 * 2025-06-18), independent of any transport: one parsed JSON-RPC message
 * and a session in, the response object (or NULL) out; server
 * notifications go through a hook. The stdio transport (app/mcp_stdio.c)
 * and a Streamable HTTP transport feed it the same way. docs/mcp.md. */
#ifndef ROSTER_MCP_H
#define ROSTER_MCP_H

#include <stddef.h>

struct roster_snapshot;
typedef struct json_t json_t;

#define ROSTER_MCP_PROTOCOL_LATEST "2025-11-25"
#define ROSTER_MCP_MAX_MESSAGE (1024 * 1024) /* bytes of one message */
#define ROSTER_MCP_MAX_RESPONSE ((size_t)64 << 20) /* bytes of one serialized response */
#define ROSTER_MCP_PAGE_SIZE 100 /* items of a list page (default) */
#define ROSTER_MCP_PAGE_MAX 1000
#define ROSTER_MCP_MAX_SUBSCRIPTIONS 256 /* per session */
#define ROSTER_MCP_MAX_COMPLETIONS 100 /* values of one completion (the spec's cap) */

/* JSON-RPC and MCP error codes. */
#define ROSTER_MCP_PARSE_ERROR (-32700)
#define ROSTER_MCP_INVALID_REQUEST (-32600)
#define ROSTER_MCP_METHOD_NOT_FOUND (-32601)
#define ROSTER_MCP_INVALID_PARAMS (-32602)
#define ROSTER_MCP_INTERNAL_ERROR (-32603)
#define ROSTER_MCP_RESOURCE_NOT_FOUND (-32002)
#define ROSTER_MCP_SESSION_NOT_FOUND (-32001) /* Streamable HTTP: unknown session */

struct roster_mcp_opts {
    const char *server_version; /* serverInfo.version */
    size_t page_size; /* 0: ROSTER_MCP_PAGE_SIZE; at most ROSTER_MCP_PAGE_MAX */
    /* Sends a server notification (a complete JSON-RPC message, borrowed
     * for the call) to this session's client; may be NULL. */
    void (*notify)(void *ctx, const json_t *msg);
    void *ctx;
};

/* One client's state: negotiated version, initialized, log level,
 * subscriptions. Not thread-safe: the transport calls one session's
 * functions from one thread at a time. */
struct roster_mcp_session;

int roster_mcp_session_new(struct roster_mcp_session **out, const struct roster_mcp_opts *opts);
void roster_mcp_session_free(struct roster_mcp_session *s);
/* 1 after a successful initialize. */
int roster_mcp_session_initialized(const struct roster_mcp_session *s);
/* The protocol version agreed at initialize ("" before). */
const char *roster_mcp_session_version(const struct roster_mcp_session *s);

/* Answers one JSON-RPC message (any JSON value: a non-object gets an
 * Invalid Request error) against snap (NULL: no snapshot yet, requests
 * that need one fail with an internal error). Returns the response, a new
 * reference the caller owns, or NULL for notifications and client
 * responses, which get none. Never fails silently: without memory the
 * answer is a prebuilt-size error object, or NULL when even that fails. */
json_t *roster_mcp_handle(struct roster_mcp_session *s, const struct roster_snapshot *snap,
                          const json_t *msg);
/* The same response serialized as json_dumps(JSON_COMPACT) would write it,
 * appended to out: 1 when there is a response, 0 when there is none (a
 * notification), negative without memory. prompts/get and resources/read,
 * mostly one long string each, are written without building objects for
 * them (the prompt's text escaped once per template, a representation's
 * once per snapshot): what the HTTP transport sends. */
struct roster_buf;
int roster_mcp_answer(struct roster_mcp_session *s, const struct roster_snapshot *snap,
                      const json_t *msg, struct roster_buf *out);
/* The same for the text of one message (len bytes, not NUL-terminated):
 * Parse error (-32700, id null) for text that is not JSON, Invalid Request
 * for text over ROSTER_MCP_MAX_MESSAGE bytes. */
json_t *roster_mcp_handle_text(struct roster_mcp_session *s, const struct roster_snapshot *snap,
                               const char *text, size_t len);

/* After a reload: notifications/resources/updated for every subscribed
 * URI whose bytes differ between old and new (by their content-addressed
 * ETags, nothing is rendered), and notifications/prompts/list_changed and
 * notifications/resources/list_changed when the set of served profiles
 * changed. Nothing before the session is initialized. */
void roster_mcp_snapshot_changed(struct roster_mcp_session *s, const struct roster_snapshot *old,
                                 const struct roster_snapshot *new);

/* Log levels of logging/setLevel (RFC 5424 order). */
enum roster_mcp_level {
    ROSTER_MCP_DEBUG,
    ROSTER_MCP_INFO,
    ROSTER_MCP_NOTICE,
    ROSTER_MCP_WARNING,
    ROSTER_MCP_ERROR,
    ROSTER_MCP_CRITICAL,
    ROSTER_MCP_ALERT,
    ROSTER_MCP_EMERGENCY,
};
/* Sends notifications/message {level, logger: "rosterd", data} when the
 * session is initialized and level is at least the client's level
 * (default: warning). data is borrowed. */
void roster_mcp_log(struct roster_mcp_session *s, enum roster_mcp_level level, const json_t *data);

#endif
