/* The MCP core: JSON-RPC envelope checks, the lifecycle, dispatch, and
 * the server's notifications. The methods on profiles are in
 * mcp_methods.c. */
#include "roster_mcp.h"

#include <jansson.h>
#include <string.h>

#include "mcp_internal.h"
#include "roster_base.h"
#include "roster_json.h"
#include "roster_snapshot.h"

static const char *const VERSIONS[] = {ROSTER_MCP_PROTOCOL_LATEST, "2025-06-18"};
static const char *const LEVELS[] = {"debug", "info",     "notice", "warning",
                                     "error", "critical", "alert",  "emergency"};

int roster_mcp_session_new(struct roster_mcp_session **out, const struct roster_mcp_opts *opts)
{
    struct roster_mcp_session *s = roster_calloc(1, sizeof(*s));
    if (!s)
        return ROSTER_ENOMEM;
    s->opts = *opts;
    if (s->opts.page_size == 0)
        s->opts.page_size = ROSTER_MCP_PAGE_SIZE;
    if (s->opts.page_size > ROSTER_MCP_PAGE_MAX)
        s->opts.page_size = ROSTER_MCP_PAGE_MAX;
    if (!s->opts.server_version)
        s->opts.server_version = "0";
    s->level = ROSTER_MCP_WARNING;
    *out = s;
    return 0;
}

void roster_mcp_session_free(struct roster_mcp_session *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nsubs; i++)
        roster_free(s->subs[i]);
    roster_free(s);
}

int roster_mcp_session_initialized(const struct roster_mcp_session *s)
{
    return s->initialized;
}

const char *roster_mcp_session_version(const struct roster_mcp_session *s)
{
    return s->version;
}

void mcp_fail(struct mcp_err *e, int code, const char *msg, json_t *data)
{
    e->code = code;
    snprintf(e->msg, sizeof(e->msg), "%s", msg);
    json_decref(e->data);
    e->data = data;
}

void mcp_safe_name(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    for (; in && *in && n + 1 < cap && n < 64; in++) {
        char c = *in;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_' || c == '.' || c == '/' || c == ':' || c == '{' || c == '}';
        out[n++] = ok ? c : '?';
    }
    if (cap)
        out[n] = 0;
}

/* {"jsonrpc":"2.0","id":id,"error":{code,message[,data]}}; takes data.
 * json_pack's "o" takes its value even when the pack fails. */
static json_t *error_reply(const json_t *id, int code, const char *msg, json_t *data)
{
    json_t *err = json_pack("{s:i, s:s}", "code", code, "message", msg);
    if (err && data && roster_json_set(err, "data", data) < 0) {
        json_decref(err);
        err = NULL;
    } else if (!err) {
        json_decref(data);
    }
    return err ? json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id",
                           id ? (json_t *)id : json_null(), "error", err)
               : NULL;
}

static json_t *result_reply(const json_t *id, json_t *result)
{
    return result ? json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", (json_t *)id, "result",
                              result)
                  : NULL;
}

/* A notification without params. */
static void notify(struct roster_mcp_session *s, const char *method)
{
    json_t *m = json_pack("{s:s, s:s}", "jsonrpc", "2.0", "method", method);
    if (m && s->opts.notify)
        s->opts.notify(s->opts.ctx, m);
    json_decref(m);
}

/* One with params (taken; NULL: a failed constructor, nothing is sent). */
static void notify_with(struct roster_mcp_session *s, const char *method, json_t *params)
{
    json_t *m =
        params ? json_pack("{s:s, s:s, s:o}", "jsonrpc", "2.0", "method", method, "params", params)
               : NULL;
    if (m && s->opts.notify)
        s->opts.notify(s->opts.ctx, m);
    json_decref(m);
}

static json_t *initialize(struct roster_mcp_session *s, const struct roster_snapshot *snap,
                          const json_t *params, struct mcp_err *e)
{
    (void)snap;
    const char *want = json_string_value(json_object_get(params, "protocolVersion"));
    if (!want) {
        mcp_fail(e, ROSTER_MCP_INVALID_PARAMS, "initialize needs a protocolVersion string", NULL);
        return NULL;
    }
    if (s->initialized) {
        mcp_fail(e, ROSTER_MCP_INVALID_REQUEST, "the session is already initialized", NULL);
        return NULL;
    }
    const char *v = VERSIONS[0];
    for (size_t i = 0; i < sizeof(VERSIONS) / sizeof(VERSIONS[0]); i++)
        if (strcmp(want, VERSIONS[i]) == 0)
            v = VERSIONS[i];
    json_t *r =
        json_pack("{s:s, s:{s:{s:b}, s:{s:b, s:b}, s:{}, s:{}}, s:{s:s, s:s, s:s}, s:s}",
                  "protocolVersion", v, "capabilities", "prompts", "listChanged", 1, "resources",
                  "subscribe", 1, "listChanged", 1, "completions", "logging", "serverInfo", "name",
                  "rosterd", "title", "roster", "version", s->opts.server_version, "instructions",
                  "Each prompt is a worker profile (name = profile id) rendered with its declared "
                  "variables as arguments; resources roster://profiles/{id} (JSON), "
                  "roster://profiles/{id}/prompt (Markdown) and roster://profiles/{id}/{view}.");
    if (r) {
        snprintf(s->version, sizeof(s->version), "%s", v);
        s->initialized = 1;
    }
    return r;
}

static json_t *ping(struct roster_mcp_session *s, const struct roster_snapshot *snap,
                    const json_t *params, struct mcp_err *e)
{
    (void)s, (void)snap, (void)params, (void)e;
    return json_object();
}

static json_t *set_level(struct roster_mcp_session *s, const struct roster_snapshot *snap,
                         const json_t *params, struct mcp_err *e)
{
    (void)snap;
    const char *lv = json_string_value(json_object_get(params, "level"));
    for (size_t i = 0; lv && i < sizeof(LEVELS) / sizeof(LEVELS[0]); i++)
        if (strcmp(lv, LEVELS[i]) == 0) {
            s->level = (enum roster_mcp_level)i;
            return json_object();
        }
    mcp_fail(e, ROSTER_MCP_INVALID_PARAMS,
             "level must be one of debug, info, notice, warning, error, critical, alert, "
             "emergency",
             NULL);
    return NULL;
}

typedef json_t *(*method_fn)(struct roster_mcp_session *, const struct roster_snapshot *,
                             const json_t *, struct mcp_err *);

static const struct {
    const char *name;
    method_fn fn;
    int snapshot; /* needs the snapshot */
} METHODS[] = {
    {"initialize", initialize, 0},
    {"ping", ping, 0},
    {"logging/setLevel", set_level, 0},
    {"prompts/list", mcp_prompts_list, 1},
    {"prompts/get", mcp_prompts_get, 1},
    {"resources/list", mcp_resources_list, 1},
    {"resources/templates/list", mcp_resource_templates, 0},
    {"resources/read", mcp_resources_read, 1},
    {"resources/subscribe", mcp_subscribe, 1},
    {"resources/unsubscribe", mcp_unsubscribe, 0},
    {"completion/complete", mcp_complete, 1},
};

/* A request: the method's result, or its error. */
static json_t *request(struct roster_mcp_session *s, const struct roster_snapshot *snap,
                       const json_t *id, const char *method, const json_t *params)
{
    struct mcp_err e = {0};
    size_t i = 0, n = sizeof(METHODS) / sizeof(METHODS[0]);
    while (i < n && strcmp(METHODS[i].name, method) != 0)
        i++;
    if (i == n) {
        char name[80], msg[128];
        mcp_safe_name(method, name, sizeof(name));
        snprintf(msg, sizeof(msg), "Method not found: %s", name);
        return error_reply(id, ROSTER_MCP_METHOD_NOT_FOUND, msg, NULL);
    }
    if (!s->initialized && METHODS[i].fn != initialize && METHODS[i].fn != ping)
        return error_reply(id, ROSTER_MCP_INVALID_REQUEST,
                           "the session is not initialized: send initialize first", NULL);
    if (METHODS[i].snapshot && !snap)
        return error_reply(id, ROSTER_MCP_INTERNAL_ERROR, "the profiles are not loaded yet", NULL);
    json_t *empty = params ? NULL : json_object();
    json_t *res = METHODS[i].fn(s, snap, params ? params : empty, &e);
    json_decref(empty);
    if (res)
        return result_reply(id, res);
    if (e.code == 0)
        return error_reply(id, ROSTER_MCP_INTERNAL_ERROR, "out of memory", NULL);
    return error_reply(id, e.code, e.msg, e.data);
}

static void notification(struct roster_mcp_session *s, const char *method)
{
    if (strcmp(method, "notifications/initialized") == 0 && s->initialized)
        s->client_ready = 1;
    /* notifications/cancelled, roots/list_changed, ...: nothing to do, as
     * every request is answered before the next is read */
}

json_t *roster_mcp_handle(struct roster_mcp_session *s, const struct roster_snapshot *snap,
                          const json_t *msg)
{
    if (json_is_array(msg))
        return error_reply(NULL, ROSTER_MCP_INVALID_REQUEST,
                           "batches (JSON arrays) are not part of this protocol revision", NULL);
    if (!json_is_object(msg))
        return error_reply(NULL, ROSTER_MCP_INVALID_REQUEST, "a message is a JSON object", NULL);
    const json_t *id = json_object_get(msg, "id");
    const json_t *method = json_object_get(msg, "method");
    const json_t *params = json_object_get(msg, "params");
    if (id && !json_is_string(id) && !json_is_integer(id))
        return error_reply(NULL, ROSTER_MCP_INVALID_REQUEST, "id must be a string or an integer",
                           NULL);
    if (!json_is_string(json_object_get(msg, "jsonrpc")) ||
        strcmp(json_string_value(json_object_get(msg, "jsonrpc")), "2.0") != 0)
        return error_reply(id, ROSTER_MCP_INVALID_REQUEST, "jsonrpc must be \"2.0\"", NULL);
    if (!method) {
        /* a response from the client: this server sends no requests */
        if (id && (json_object_get(msg, "result") || json_object_get(msg, "error")))
            return NULL;
        return error_reply(id, ROSTER_MCP_INVALID_REQUEST, "method is missing", NULL);
    }
    if (!json_is_string(method))
        return error_reply(id, ROSTER_MCP_INVALID_REQUEST, "method must be a string", NULL);
    if (params && !json_is_object(params))
        return id ? error_reply(id, ROSTER_MCP_INVALID_PARAMS, "params must be an object", NULL)
                  : NULL;
    if (!id) {
        notification(s, json_string_value(method));
        return NULL;
    }
    return request(s, snap, id, json_string_value(method), params);
}

int roster_mcp_answer(struct roster_mcp_session *s, const struct roster_snapshot *snap,
                      const json_t *msg, struct roster_buf *out)
{
    int r = mcp_fast_answer(s, snap, msg, out);
    if (r <= 0)
        return r == 0 ? 1 : r;
    json_t *resp = roster_mcp_handle(s, snap, msg);
    if (!resp)
        return 0;
    char *d = json_dumps(resp, JSON_COMPACT);
    json_decref(resp);
    r = d ? roster_buf_puts(out, d) : ROSTER_ENOMEM;
    roster_free(d);
    return r < 0 ? r : 1;
}

json_t *roster_mcp_handle_text(struct roster_mcp_session *s, const struct roster_snapshot *snap,
                               const char *text, size_t len)
{
    if (len > ROSTER_MCP_MAX_MESSAGE)
        return error_reply(NULL, ROSTER_MCP_INVALID_REQUEST,
                           "message larger than 1048576 bytes (ROSTER_MCP_MAX_MESSAGE)", NULL);
    json_error_t je;
    json_t *msg = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!msg) {
        char why[200];
        snprintf(why, sizeof(why), "Parse error: %s (at byte %d)", je.text, je.position);
        json_t *r = error_reply(NULL, ROSTER_MCP_PARSE_ERROR, why, NULL);
        /* je.text may quote invalid bytes: answer without them */
        return r ? r : error_reply(NULL, ROSTER_MCP_PARSE_ERROR, "Parse error", NULL);
    }
    json_t *r = roster_mcp_handle(s, snap, msg);
    json_decref(msg);
    return r;
}

void roster_mcp_log(struct roster_mcp_session *s, enum roster_mcp_level level, const json_t *data)
{
    if (!s->initialized || level < s->level || (unsigned)level >= 8)
        return;
    notify_with(s, "notifications/message",
                json_pack("{s:s, s:s, s:O}", "level", LEVELS[level], "logger", "rosterd", "data",
                          (json_t *)data));
}

/* 1 when the served ids of a and b differ. */
static int set_changed(const struct roster_snapshot *a, const struct roster_snapshot *b)
{
    size_t i = 0, j = 0;
    for (;;) {
        while (i < a->n && !a->profiles[i].ok)
            i++;
        while (j < b->n && !b->profiles[j].ok)
            j++;
        if (i == a->n || j == b->n)
            return i != a->n || j != b->n;
        if (strcmp(a->profiles[i].id, b->profiles[j].id) != 0)
            return 1;
        i++, j++;
    }
}

void roster_mcp_snapshot_changed(struct roster_mcp_session *s, const struct roster_snapshot *old,
                                 const struct roster_snapshot *new)
{
    if (!s->initialized || !old || !new)
        return;
    for (size_t i = 0; i < s->nsubs; i++) {
        char a[128] = "", b[128] = "";
        mcp_uri_etag(old, s->subs[i], a, sizeof(a));
        mcp_uri_etag(new, s->subs[i], b, sizeof(b));
        if (strcmp(a, b) != 0)
            notify_with(s, "notifications/resources/updated",
                        json_pack("{s:s}", "uri", s->subs[i]));
    }
    if (set_changed(old, new)) {
        notify(s, "notifications/prompts/list_changed");
        notify(s, "notifications/resources/list_changed");
    }
}
