/* The MCP methods on profiles: prompts (one per served profile, its
 * declared variables as arguments), resources (roster://profiles/...: the
 * bytes the REST API serves), subscriptions and completion. Lists page by
 * profile id, so a cursor stays meaningful across reloads. */
#include <jansson.h>
#include <string.h>

#include "mcp_internal.h"
#include "roster_base.h"
#include "roster_json.h"
#include "roster_render.h"
#include "roster_snapshot.h"
#include "roster_template.h"

#define URI_PREFIX "roster://profiles/"
#define ID_MAX 128
#define DESCRIPTION_MAX 300 /* bytes of a description made from the role statement */

const struct roster_sprofile *mcp_served(const struct roster_snapshot *snap, const char *id)
{
    size_t n = id ? strlen(id) : 0;
    const struct roster_sprofile *sp = n && n <= ID_MAX ? roster_snapshot_find(snap, id, n) : NULL;
    return sp && sp->ok ? sp : NULL;
}

/* The index of the first profile after the cursor (the last id of the
 * previous page); 0 without one. -1 with e set for a bad cursor. */
static int page_start(const struct roster_snapshot *snap, const json_t *params, size_t *start,
                      struct mcp_err *e)
{
    const json_t *c = json_object_get(params, "cursor");
    *start = 0;
    if (!c || json_is_null(c))
        return 0;
    const char *after = json_string_value(c);
    if (!after || !*after || strlen(after) > ID_MAX) {
        mcp_fail(e, ROSTER_MCP_INVALID_PARAMS, "invalid cursor", NULL);
        return -1;
    }
    size_t lo = 0, hi = snap->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(snap->profiles[mid].id, after) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *start = lo;
    return 0;
}

/* Collects up to per_page served profiles from start into out; sets
 * *more when served profiles remain after them. */
static size_t page(const struct roster_snapshot *snap, size_t start, size_t per_page,
                   const struct roster_sprofile **out, int *more)
{
    size_t k = 0, i = start;
    *more = 0;
    for (; i < snap->n; i++) {
        if (!snap->profiles[i].ok)
            continue;
        if (k == per_page) {
            *more = 1;
            break;
        }
        out[k++] = &snap->profiles[i];
    }
    return k;
}

/* The first sentence of text, at most DESCRIPTION_MAX bytes, cut on a
 * UTF-8 boundary. A new reference, NULL without one. */
static json_t *first_sentence(const char *text)
{
    size_t n = strlen(text), end = n;
    for (size_t i = 0; i + 1 < n; i++)
        if ((text[i] == '.' || text[i] == '!' || text[i] == '?') && text[i + 1] == ' ') {
            end = i + 1;
            break;
        }
    if (end > DESCRIPTION_MAX) {
        end = DESCRIPTION_MAX;
        while (end > 0 && ((unsigned char)text[end] & 0xC0) == 0x80)
            end--;
    }
    return end ? json_stringn(text, end) : NULL;
}

/* Never empty: the description, else the role statement's first
 * sentence, else the name, else the id. From the list summary the
 * snapshot keeps; only the fallback renders the profile. A new reference. */
json_t *mcp_description_of(const struct roster_snapshot *snap, const struct roster_sprofile *sp)
{
    const char *d = json_string_value(json_object_get(sp->summary, "description"));
    if (d && *d)
        return json_string(d);
    json_t *p = roster_snapshot_profile(snap, sp);
    const char *st = json_string_value(json_object_get(json_object_get(p, "role"), "statement"));
    json_t *r = st && *st ? first_sentence(st) : NULL;
    json_decref(p);
    if (r)
        return r;
    const char *name = json_string_value(json_object_get(sp->summary, "name"));
    return json_string(name && *name ? name : sp->id);
}

static json_t *title_of(const struct roster_sprofile *sp)
{
    const char *name = json_string_value(json_object_get(sp->summary, "name"));
    return json_string(name && *name ? name : sp->id);
}

/* The merged declarations of sp's template (made once per lineage and
 * shared), a new reference; an empty array when its declarations do not
 * hold (prompts/get then says why); NULL without memory. */
static json_t *declarations_of(const struct roster_snapshot *snap, const struct roster_sprofile *sp)
{
    const struct roster_template *t = NULL;
    int r = roster_snapshot_template(snap, sp, &t);
    if (r == ROSTER_ENOMEM)
        return NULL;
    return r == 0 ? roster_template_declarations(t) : json_array();
}

static json_t *arguments_of(const struct roster_snapshot *snap, const struct roster_sprofile *sp)
{
    json_t *decl = declarations_of(snap, sp), *args = decl ? json_array() : NULL;
    size_t i;
    const json_t *v;
    json_array_foreach(args ? decl : NULL, i, v)
    {
        json_t *a = json_object();
        const json_t *d = json_object_get(v, "description");
        int bad = !a || roster_json_set(a, "name", json_deep_copy(json_object_get(v, "name"))) ||
                  (json_is_string(d) && roster_json_set(a, "description", json_deep_copy(d))) ||
                  roster_json_set(a, "required",
                                  json_boolean(json_is_true(json_object_get(v, "required"))));
        if (bad)
            json_decref(a);
        if (bad || roster_json_push(args, a)) {
            json_decref(args);
            args = NULL;
            break;
        }
    }
    json_decref(decl);
    return args;
}

static json_t *prompt_entry(const struct roster_snapshot *snap, const struct roster_sprofile *sp)
{
    json_t *o = json_object();
    if (!o || roster_json_set(o, "name", json_string(sp->id)) ||
        roster_json_set(o, "title", title_of(sp)) ||
        roster_json_set(o, "description", mcp_description_of(snap, sp)) ||
        roster_json_set(o, "arguments", arguments_of(snap, sp))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* {key: [...], nextCursor?} from one page of entries made by each(). */
static json_t *list(struct roster_mcp_session *s, const struct roster_snapshot *snap,
                    const json_t *params, struct mcp_err *e, const char *key, size_t per_profile,
                    int (*each)(const struct roster_snapshot *, const struct roster_sprofile *,
                                json_t *))
{
    size_t start, per_page = s->opts.page_size / per_profile;
    if (per_page == 0)
        per_page = 1;
    if (page_start(snap, params, &start, e) < 0)
        return NULL;
    const struct roster_sprofile **got = roster_calloc(per_page, sizeof(*got));
    int more = 0;
    size_t n = got ? page(snap, start, per_page, got, &more) : 0;
    json_t *items = got ? json_array() : NULL, *r = items ? json_object() : NULL;
    int bad = !r;
    for (size_t i = 0; !bad && i < n; i++)
        bad = each(snap, got[i], items) < 0;
    if (!bad) {
        bad = roster_json_set(r, key, items);
        items = NULL;
    }
    if (!bad && more && n)
        bad = roster_json_set(r, "nextCursor", json_string(got[n - 1]->id));
    if (bad) {
        json_decref(r);
        r = NULL;
    }
    json_decref(items);
    roster_free(got);
    return r;
}

static int each_prompt(const struct roster_snapshot *snap, const struct roster_sprofile *sp,
                       json_t *items)
{
    return roster_json_push(items, prompt_entry(snap, sp));
}

MCP_METHOD(mcp_prompts_list)
{
    return list(s, snap, params, e, "prompts", 1, each_prompt);
}

static void unknown_prompt(struct mcp_err *e, const char *name)
{
    char safe[80], msg[160];
    mcp_safe_name(name, safe, sizeof(safe));
    snprintf(msg, sizeof(msg), "unknown prompt '%s'", safe);
    mcp_fail(e, ROSTER_MCP_INVALID_PARAMS, msg, json_pack("{s:s}", "reason", "unknown_prompt"));
}

/* The rendered prompt text of sp with values (a new buffer), or NULL with
 * e set. */
static char *render(const struct roster_snapshot *snap, const struct roster_sprofile *sp,
                    const json_t *values, size_t *len, struct mcp_err *e)
{
    const struct roster_template *t = NULL;
    json_t *resolved = NULL, *problems = NULL;
    int r = roster_snapshot_template(snap, sp, &t);
    if (r == ROSTER_ENOMEM)
        return NULL;
    if (r < 0) {
        mcp_fail(e, ROSTER_MCP_INTERNAL_ERROR, "the profile's template cannot be made", NULL);
        return NULL;
    }
    r = roster_template_bind(t, values, &resolved, &problems);
    if (r == ROSTER_EINVAL) {
        char msg[400];
        roster_template_summary(problems, msg, sizeof(msg));
        mcp_fail(e, ROSTER_MCP_INVALID_PARAMS, msg,
                 json_pack("{s:s, s:o}", "reason", "invalid_arguments", "errors", problems));
        return NULL;
    }
    char *text = r == 0 ? roster_template_render(t, resolved, len) : NULL;
    json_decref(resolved);
    return text;
}

MCP_METHOD(mcp_prompts_get)
{
    (void)s;
    const char *name = json_string_value(json_object_get(params, "name"));
    const json_t *args = json_object_get(params, "arguments");
    const struct roster_sprofile *sp = mcp_served(snap, name);
    if (!name) {
        mcp_fail(e, ROSTER_MCP_INVALID_PARAMS, "prompts/get needs a name string", NULL);
        return NULL;
    }
    if (!sp) {
        unknown_prompt(e, name);
        return NULL;
    }
    if (args && !json_is_null(args) && !json_is_object(args)) {
        mcp_fail(e, ROSTER_MCP_INVALID_PARAMS, "arguments must be an object of strings", NULL);
        return NULL;
    }
    json_t *empty = json_is_object(args) ? NULL : json_object();
    size_t len = 0;
    char *text = render(snap, sp, empty ? empty : args, &len, e);
    json_decref(empty);
    if (!text)
        return NULL;
    json_t *r = json_pack("{s:o, s:[{s:s, s:{s:s, s:o}}]}", "description",
                          mcp_description_of(snap, sp), "messages", "role", "user", "content",
                          "type", "text", "text", json_stringn(text, len));
    roster_free(text);
    return r;
}

/* The representation a roster:// URI names: 0 with *sp and *which, or -1. */
int mcp_parse_uri(const struct roster_snapshot *snap, const char *uri,
                  const struct roster_sprofile **sp, int *which)
{
    size_t plen = sizeof(URI_PREFIX) - 1;
    if (!uri || strncmp(uri, URI_PREFIX, plen) != 0)
        return -1;
    const char *id = uri + plen, *slash = strchr(id, '/');
    size_t idlen = slash ? (size_t)(slash - id) : strlen(id);
    if (idlen == 0 || idlen > ID_MAX)
        return -1;
    const struct roster_sprofile *p = roster_snapshot_find(snap, id, idlen);
    enum roster_view v = ROSTER_VIEW_PROFILE;
    if (!p || !p->ok)
        return -1;
    if (slash && (roster_view_parse(slash + 1, strlen(slash + 1), &v) < 0 ||
                  v == ROSTER_VIEW_SOURCE || v == ROSTER_VIEW_PROFILE))
        return -1;
    *sp = p;
    *which = (int)v;
    return 0;
}

void mcp_uri_etag(const struct roster_snapshot *snap, const char *uri, char *out, size_t cap)
{
    const struct roster_sprofile *sp;
    int which;
    out[0] = 0;
    if (mcp_parse_uri(snap, uri, &sp, &which) == 0)
        roster_sprofile_etag(sp, which, 0, out, cap);
}

const char *mcp_mime_of(int which)
{
    return which == ROSTER_VIEW_PROMPT ? "text/markdown" : "application/json";
}

static int each_resource(const struct roster_snapshot *snap, const struct roster_sprofile *sp,
                         json_t *items)
{
    char uri[sizeof(URI_PREFIX) + ID_MAX + 16], name[ID_MAX + 16], title[400];
    const char *t = json_string_value(json_object_get(sp->summary, "name"));
    snprintf(uri, sizeof(uri), URI_PREFIX "%s", sp->id);
    int bad = roster_json_push(items, json_pack("{s:s, s:s, s:o, s:o, s:s}", "uri", uri, "name",
                                                sp->id, "title", title_of(sp), "description",
                                                mcp_description_of(snap, sp), "mimeType",
                                                mcp_mime_of(ROSTER_VIEW_PROFILE)));
    snprintf(uri, sizeof(uri), URI_PREFIX "%s/prompt", sp->id);
    snprintf(name, sizeof(name), "%s/prompt", sp->id);
    if (snprintf(title, sizeof(title), "%s (prompt)", t && *t ? t : sp->id) >= (int)sizeof(title))
        snprintf(title, sizeof(title), "%s (prompt)", sp->id);
    bad = bad || roster_json_push(items, json_pack("{s:s, s:s, s:s, s:s, s:s}", "uri", uri, "name",
                                                   name, "title", title, "description",
                                                   "The profile's composed prompt (Markdown), "
                                                   "placeholders unrendered",
                                                   "mimeType", mcp_mime_of(ROSTER_VIEW_PROMPT)));
    return bad ? -1 : 0;
}

MCP_METHOD(mcp_resources_list)
{
    return list(s, snap, params, e, "resources", 2, each_resource);
}

MCP_METHOD(mcp_resource_templates)
{
    (void)s, (void)snap, (void)params, (void)e;
    char views[256], desc[400];
    roster_view_names(views, sizeof(views),
                      (1u << ROSTER_VIEW_SOURCE) | (1u << ROSTER_VIEW_PROFILE) |
                          (1u << ROSTER_VIEW_PROMPT));
    snprintf(desc, sizeof(desc), "One view of a profile (JSON): %s", views);
    return json_pack(
        "{s:[{s:s, s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:s, s:s}]}",
        "resourceTemplates", "uriTemplate", URI_PREFIX "{id}", "name", "profile", "title",
        "Worker profile", "description", "The resolved profile, as GET /v1/profiles/{id} serves it",
        "mimeType", "application/json", "uriTemplate", URI_PREFIX "{id}/prompt", "name", "prompt",
        "title", "Worker prompt", "description", "The profile's composed prompt (Markdown)",
        "mimeType", "text/markdown", "uriTemplate", URI_PREFIX "{id}/{view}", "name", "view",
        "title", "Profile view", "description", desc, "mimeType", "application/json");
}

static void unknown_uri(struct mcp_err *e, const char *uri)
{
    char safe[80], msg[160];
    mcp_safe_name(uri, safe, sizeof(safe));
    snprintf(msg, sizeof(msg), "Resource not found: %s", safe);
    mcp_fail(e, ROSTER_MCP_RESOURCE_NOT_FOUND, msg,
             uri ? json_pack("{s:s%}", "uri", uri, strnlen(uri, 2048)) : NULL);
}

/* The `uri` of params and what it names; NULL with e set when it is
 * missing (-32602) or names no resource (-32002). */
static const char *resource_of(const struct roster_snapshot *snap, const json_t *params,
                               const char *method, const struct roster_sprofile **sp, int *which,
                               struct mcp_err *e)
{
    const char *uri = json_string_value(json_object_get(params, "uri"));
    char msg[80];
    if (!uri) {
        snprintf(msg, sizeof(msg), "%s needs a uri string", method);
        mcp_fail(e, ROSTER_MCP_INVALID_PARAMS, msg, NULL);
        return NULL;
    }
    if (mcp_parse_uri(snap, uri, sp, which) < 0) {
        unknown_uri(e, uri);
        return NULL;
    }
    return uri;
}

MCP_METHOD(mcp_resources_read)
{
    (void)s;
    const struct roster_sprofile *sp;
    const struct roster_rep *rep = NULL;
    int which;
    const char *uri = resource_of(snap, params, "resources/read", &sp, &which, e);
    if (!uri)
        return NULL;
    if (roster_snapshot_rep(snap, sp, which, &rep) < 0)
        return NULL;
    return json_pack("{s:[{s:s, s:s, s:s%}]}", "contents", "uri", uri, "mimeType",
                     mcp_mime_of(which), "text", rep->body, rep->len);
}

MCP_METHOD(mcp_subscribe)
{
    const struct roster_sprofile *sp;
    int which;
    const char *uri = resource_of(snap, params, "resources/subscribe", &sp, &which, e);
    if (!uri)
        return NULL;
    for (size_t i = 0; i < s->nsubs; i++)
        if (strcmp(s->subs[i], uri) == 0)
            return json_object();
    if (s->nsubs == ROSTER_MCP_MAX_SUBSCRIPTIONS) {
        mcp_fail(e, ROSTER_MCP_INVALID_PARAMS, "too many subscriptions (at most 256)", NULL);
        return NULL;
    }
    char *copy = roster_strndup(uri, strlen(uri));
    json_t *r = copy ? json_object() : NULL;
    if (!r) {
        roster_free(copy);
        return NULL;
    }
    s->subs[s->nsubs++] = copy;
    return r;
}

MCP_METHOD(mcp_unsubscribe)
{
    (void)snap;
    const char *uri = json_string_value(json_object_get(params, "uri"));
    if (!uri) {
        mcp_fail(e, ROSTER_MCP_INVALID_PARAMS, "resources/unsubscribe needs a uri string", NULL);
        return NULL;
    }
    for (size_t i = 0; i < s->nsubs; i++)
        if (strcmp(s->subs[i], uri) == 0) {
            roster_free(s->subs[i]);
            s->subs[i] = s->subs[--s->nsubs];
            break;
        }
    return json_object();
}

/* Adds v to values when it starts with prefix (counting all in *total). */
static int offer(json_t *values, const char *v, const char *prefix, size_t *total)
{
    if (strncmp(v, prefix, strlen(prefix)) != 0)
        return 0;
    if ((*total)++ >= ROSTER_MCP_MAX_COMPLETIONS)
        return 0;
    return roster_json_push(values, json_string(v));
}

static int complete_prompt(const struct roster_snapshot *snap, const json_t *ref, const char *arg,
                           const char *prefix, json_t *values, size_t *total, struct mcp_err *e)
{
    const char *name = json_string_value(json_object_get(ref, "name"));
    const struct roster_sprofile *sp = mcp_served(snap, name);
    if (!sp) {
        unknown_prompt(e, name ? name : "");
        return -1;
    }
    json_t *decl = declarations_of(snap, sp);
    if (!decl)
        return -1;
    int bad = 0;
    size_t i, k;
    const json_t *v, *x;
    json_array_foreach(decl, i, v)
    {
        const char *vn = json_string_value(json_object_get(v, "name"));
        if (!vn || strcmp(vn, arg) != 0)
            continue;
        json_array_foreach(json_object_get(v, "enum"), k, x)
        {
            if (!bad && json_is_string(x))
                bad = offer(values, json_string_value(x), prefix, total) < 0;
        }
    }
    json_decref(decl);
    return bad ? -1 : 0;
}

static int complete_resource(const struct roster_snapshot *snap, const json_t *ref, const char *arg,
                             const char *prefix, json_t *values, size_t *total, struct mcp_err *e)
{
    const char *uri = json_string_value(json_object_get(ref, "uri"));
    if (!uri || strncmp(uri, URI_PREFIX, sizeof(URI_PREFIX) - 1) != 0) {
        unknown_uri(e, uri);
        return -1;
    }
    if (strcmp(arg, "id") == 0) {
        for (size_t i = 0; i < snap->n; i++)
            if (snap->profiles[i].ok && offer(values, snap->profiles[i].id, prefix, total) < 0)
                return -1;
    } else if (strcmp(arg, "view") == 0) {
        for (int v = 0; v < ROSTER_VIEW_COUNT; v++)
            if (v != ROSTER_VIEW_SOURCE && v != ROSTER_VIEW_PROFILE &&
                offer(values, roster_view_name((enum roster_view)v), prefix, total) < 0)
                return -1;
    }
    return 0;
}

MCP_METHOD(mcp_complete)
{
    (void)s;
    const json_t *ref = json_object_get(params, "ref"), *arg = json_object_get(params, "argument");
    const char *type = json_string_value(json_object_get(ref, "type"));
    const char *name = json_string_value(json_object_get(arg, "name"));
    const char *value = json_string_value(json_object_get(arg, "value"));
    if (!type || !name || !value) {
        mcp_fail(e, ROSTER_MCP_INVALID_PARAMS,
                 "completion/complete needs ref {type, ...} and argument {name, value} strings",
                 NULL);
        return NULL;
    }
    json_t *values = json_array();
    size_t total = 0;
    int r = -1;
    if (!values)
        return NULL;
    if (strcmp(type, "ref/prompt") == 0)
        r = complete_prompt(snap, ref, name, value, values, &total, e);
    else if (strcmp(type, "ref/resource") == 0)
        r = complete_resource(snap, ref, name, value, values, &total, e);
    else
        mcp_fail(e, ROSTER_MCP_INVALID_PARAMS, "ref.type must be ref/prompt or ref/resource", NULL);
    if (r < 0) {
        json_decref(values);
        return NULL;
    }
    return json_pack("{s:{s:o, s:I, s:b}}", "completion", "values", values, "total",
                     (json_int_t)total, "hasMore", total > json_array_size(values));
}
