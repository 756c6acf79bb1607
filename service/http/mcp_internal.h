/* Shared between mcp.c (envelope, lifecycle, dispatch) and mcp_methods.c
 * (the methods on profiles). */
#ifndef ROSTER_MCP_INTERNAL_H
#define ROSTER_MCP_INTERNAL_H

#include <stddef.h>

#include "roster_mcp.h"

struct roster_mcp_session {
    struct roster_mcp_opts opts;
    int initialized; /* initialize answered */
    int client_ready; /* notifications/initialized received */
    char version[16]; /* negotiated */
    enum roster_mcp_level level; /* notifications/message at or above */
    char *subs[ROSTER_MCP_MAX_SUBSCRIPTIONS]; /* subscribed URIs (roster_malloc) */
    size_t nsubs;
};

/* A method's error: code, message, optional data (owned). */
struct mcp_err {
    int code;
    char msg[512];
    json_t *data;
};

/* Sets e (taking data). */
void mcp_fail(struct mcp_err *e, int code, const char *msg, json_t *data);
/* A client-given name made safe to quote in a message: at most 64 bytes,
 * anything but [A-Za-z0-9._/:{}-] as '?'. */
void mcp_safe_name(const char *in, char *out, size_t cap);
/* The ETag of the bytes a roster:// URI names in snap, into out ("" when
 * it names nothing there). */
void mcp_uri_etag(const struct roster_snapshot *snap, const char *uri, char *out, size_t cap);

struct roster_sprofile;
struct roster_buf;
/* The served profile with this id (a prompt name), or NULL. */
const struct roster_sprofile *mcp_served(const struct roster_snapshot *snap, const char *id);
/* The representation a roster:// URI names: 0 with *sp and *which, or -1. */
int mcp_parse_uri(const struct roster_snapshot *snap, const char *uri,
                  const struct roster_sprofile **sp, int *which);
/* A prompt's description, never empty (a new reference, NULL without
 * memory). */
json_t *mcp_description_of(const struct roster_snapshot *snap, const struct roster_sprofile *sp);
/* The mimeType of a representation. */
const char *mcp_mime_of(int which);
/* prompts/get and resources/read answered as bytes (mcp_fast.c): 0 when
 * the whole response was appended to b; 1 when the request is not one it
 * answers (another method, or anything that is an error: the object path
 * answers it, with the same errors); ROSTER_ENOMEM. */
int mcp_fast_answer(struct roster_mcp_session *s, const struct roster_snapshot *snap,
                    const json_t *msg, struct roster_buf *b);

/* Methods: a new result object, or NULL with e set (e->code 0: out of
 * memory). params is an object. */
#define MCP_METHOD(name)                                                                           \
    json_t *name(struct roster_mcp_session *s, const struct roster_snapshot *snap,                 \
                 const json_t *params, struct mcp_err *e)
MCP_METHOD(mcp_prompts_list);
MCP_METHOD(mcp_prompts_get);
MCP_METHOD(mcp_resources_list);
MCP_METHOD(mcp_resource_templates);
MCP_METHOD(mcp_resources_read);
MCP_METHOD(mcp_subscribe);
MCP_METHOD(mcp_unsubscribe);
MCP_METHOD(mcp_complete);

#endif
