/* Route handlers: method and Accept checks, then a snapshot lookup. */
#include "http_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roster_base.h"
#include "roster_diag.h"
#include "roster_doc.h"
#include "roster_json.h"
#include "roster_query.h"
#include "roster_resolve.h"
#include "roster_scan.h"
#include "roster_template.h"
#include "roster_text.h"
#include "roster_version.h"
#include "http_admin.h"

#define CT_JSON "application/json"
/* A `fields` projection has its own media type, so that the contract can
 * give the full document and the projection each a complete schema (and
 * generated clients type the common case fully). Any Accept that admits
 * application/json admits it too. */
#define CT_PROJECTION "application/vnd.roster.projection+json"

static enum MHD_Result not_acceptable(struct req *rq, struct MHD_Connection *c, const char *types)
{
    char detail[200];
    snprintf(detail, sizeof(detail), "this resource is available as %s", types);
    return roster_send_problem(rq, c, MHD_HTTP_NOT_ACCEPTABLE, "not_acceptable", "Not acceptable",
                               detail, NULL);
}

static int accepts(struct MHD_Connection *c, const char *type)
{
    const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
    return roster_accept_quality(a, type) > 0;
}

/* JSON routes that take `fields` answer a projection in its own media type:
 * an Accept that admits either JSON type is fine. */
static int accepts_json_or_projection(struct MHD_Connection *c)
{
    return accepts(c, CT_JSON) || accepts(c, CT_PROJECTION);
}

static enum MHD_Result bad_query(struct req *rq, struct MHD_Connection *c, const char *why)
{
    return roster_send_problem(rq, c, MHD_HTTP_BAD_REQUEST, "invalid_query", "Invalid query", why,
                               NULL);
}

/* The answer to a parse_params failure: a parameter the route does not
 * take is `unknown_parameter`, anything else `invalid_query`. */
static enum MHD_Result query_problem(struct req *rq, struct MHD_Connection *c, int r,
                                     const char *why)
{
    if (r == ROSTER_ENOENT)
        return roster_send_problem(rq, c, MHD_HTTP_BAD_REQUEST, "unknown_parameter",
                                   "Unknown query parameter", why, NULL);
    return bad_query(rq, c, why);
}

/* Keys that may be given more than once: `fields=a&fields=b` is what
 * generated clients send for an array by default, `fields=a,b` what the
 * contract declares; both mean the same. */
static const char *const REPEATABLE[] = {"fields", NULL};

/* The query parameters the route table says a route takes. */
static const char *const *route_params(const struct roster_target *t)
{
    return roster_route_of(t->route)->params;
}

/* Parses the query; every key must be in `allowed` (NULL-terminated):
 * ROSTER_ENOENT for one that is not, ROSTER_EINVAL for a malformed query. */
static int parse_params(const struct roster_target *t, const char *const *allowed,
                        struct roster_param *p, size_t *n, char *buf, size_t cap, char *why,
                        size_t why_cap)
{
    *n = 0;
    if (!t->query || !t->query_len)
        return 0;
    if (roster_query_string_parse(t->query, t->query_len, p, n, buf, cap, why, why_cap) < 0)
        return ROSTER_EINVAL;
    const char *dup = roster_query_repeated(p, *n, REPEATABLE);
    if (dup) {
        snprintf(why, why_cap, "query parameter '%.64s' given more than once", dup);
        return ROSTER_EINVAL;
    }
    for (size_t i = 0; i < *n; i++) {
        const char *const *a = allowed;
        while (*a && strcmp(*a, p[i].key) != 0)
            a++;
        if (!*a) {
            snprintf(why, why_cap, "unknown query parameter '%.64s'", p[i].key);
            return ROSTER_ENOENT;
        }
    }
    return 0;
}

static const char *param(const struct roster_param *p, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(p[i].key, key) == 0)
            return p[i].value;
    return NULL;
}

/* Splits every `fields` value ("a,b,c", in place) into field names checked
 * by valid(); an empty element ("a,,b", "a,") is an error, as the
 * contract's pattern says. */
static int split_fields(struct roster_param *p, size_t np, const char **out, size_t *n,
                        int (*valid)(const char *), char *why, size_t why_cap)
{
    *n = 0;
    for (size_t i = 0; i < np; i++) {
        if (strcmp(p[i].key, "fields") != 0)
            continue;
        for (char *f = (char *)p[i].value; f;) {
            char *e = strchr(f, ',');
            if (e)
                *e = '\0';
            if (!*f) {
                snprintf(why, why_cap, "fields has an empty element");
                return -1;
            }
            if (!valid(f)) {
                snprintf(why, why_cap, "unknown field '%.64s' in fields", f);
                return -1;
            }
            if (*n == ROSTER_QUERY_MAX_FIELDS) {
                snprintf(why, why_cap, "too many fields");
                return -1;
            }
            out[(*n)++] = f;
            f = e ? e + 1 : NULL;
        }
    }
    return 0;
}

static enum MHD_Result send_json_as(struct req *rq, struct MHD_Connection *c, json_t *j,
                                    const char *ctype, int cacheable, const char *warning)
{
    size_t len = 0;
    char *body = j ? roster_render_dump(j, &len) : NULL;
    json_decref(j);
    return roster_send_dynamic(rq, c, MHD_HTTP_OK, ctype, body, len, cacheable, warning);
}

/* A JSON body with another status than 200: never cached. */
static enum MHD_Result send_json_status(struct req *rq, struct MHD_Connection *c, unsigned status,
                                        json_t *j)
{
    size_t len = 0;
    char *body = j ? roster_render_dump(j, &len) : NULL;
    json_decref(j);
    return roster_send_dynamic(rq, c, status, CT_JSON, body, len, 0, NULL);
}

static enum MHD_Result send_json(struct req *rq, struct MHD_Connection *c, json_t *j, int cacheable)
{
    return send_json_as(rq, c, j, CT_JSON, cacheable, NULL);
}

int roster_route_profiles(struct req *rq, struct MHD_Connection *c, const struct roster_target *t)
{
    const char *const *allowed = route_params(t);
    struct roster_param p[ROSTER_QUERY_MAX_PARAMS];
    char buf[ROSTER_TARGET_MAX + 64], why[200], after[ROSTER_TARGET_MAX];
    size_t n;
    int r = parse_params(t, allowed, p, &n, buf, sizeof(buf), why, sizeof(why));
    if (r < 0)
        return query_problem(rq, c, r, why);
    int projecting = param(p, n, "fields") != NULL;
    if (projecting ? !accepts_json_or_projection(c) : !accepts(c, CT_JSON))
        return not_acceptable(rq, c, projecting ? CT_PROJECTION : CT_JSON);
    if (n == 0)
        return roster_send_rep(rq, c, &rq->snap->list_default, NULL);
    struct roster_list_query q = {.limit = ROSTER_LIST_DEFAULT_LIMIT};
    q.category = param(p, n, "category");
    q.role = param(p, n, "role");
    q.extends = param(p, n, "extends");
    q.q = param(p, n, "q");
    const char *limit = param(p, n, "limit"), *cursor = param(p, n, "cursor");
    if (limit) {
        unsigned long v;
        if (roster_query_integer(limit, 1, ROSTER_LIST_MAX_LIMIT, &v) < 0) {
            snprintf(why, sizeof(why), "limit must be a whole number from 1 to %d",
                     ROSTER_LIST_MAX_LIMIT);
            return bad_query(rq, c, why);
        }
        q.limit = v;
    }
    if (cursor) {
        if (roster_cursor_decode(cursor, after, sizeof(after)) < 0)
            return bad_query(rq, c, "cursor is not one this server issued");
        q.after = after;
    }
    if (split_fields(p, n, q.fields, &q.nfields, roster_query_summary_field, why, sizeof(why)) < 0)
        return bad_query(rq, c, why);
    return send_json_as(rq, c, roster_query_list(rq->snap, &q), q.nfields ? CT_PROJECTION : CT_JSON,
                        1, NULL);
}

static enum MHD_Result not_found(struct req *rq, struct MHD_Connection *c, const char *id)
{
    /* the (at most) three closest served ids within edit distance 3, in one
     * pass: the bounded distance gives up after a few rows for ids that
     * are not close, so a 404 stays cheap with thousands of profiles */
    struct roster_nearest nr;
    roster_text_nearest_init(&nr, id, strlen(id), 3);
    for (size_t i = 0; i < rq->snap->n; i++)
        if (rq->snap->profiles[i].ok)
            roster_text_nearest_offer(&nr, rq->snap->profiles[i].id);
    json_t *sugg = json_array();
    for (size_t k = 0; sugg && k < nr.n; k++)
        json_array_append_new(sugg, json_string(nr.best[k]));
    char detail[200];
    snprintf(detail, sizeof(detail), "no profile has the id '%s'", id);
    json_t *extra = json_object();
    if (extra && sugg)
        json_object_set_new(extra, "suggestions", json_incref(sugg));
    json_decref(sugg);
    return roster_send_problem(rq, c, MHD_HTTP_NOT_FOUND, "profile_not_found", "Profile not found",
                               detail, extra);
}

static enum MHD_Result invalid_profile(struct req *rq, struct MHD_Connection *c,
                                       const struct roster_sprofile *sp)
{
    char detail[300];
    snprintf(detail, sizeof(detail), "profile '%s' (%s) has errors and is not served", sp->id,
             sp->file);
    json_t *extra = json_pack("{s:O,s:s}", "diagnostics", sp->diagnostics, "file", sp->file);
    return roster_send_problem(rq, c, MHD_HTTP_NOT_FOUND, "profile_invalid", "Profile invalid",
                               detail, extra);
}

/* A file stem that is no profile's id (what `extends` accepts too): 308 to
 * the profile's canonical path, the view and the query kept; a stem that
 * several files share is a 404 naming them. */
static enum MHD_Result send_alias(struct req *rq, struct MHD_Connection *c,
                                  const struct roster_target *t, const struct roster_alias *a)
{
    char detail[400];
    if (!a->profile) {
        snprintf(detail, sizeof(detail),
                 "no profile has the id '%s', and %zu files have the name '%s.md': ask for one "
                 "of them by its id",
                 t->id, a->nfiles, t->id);
        return roster_send_problem(rq, c, MHD_HTTP_NOT_FOUND, "profile_not_found",
                                   "Profile not found", detail,
                                   json_pack("{s:O}", "candidates", a->candidates));
    }
    char location[ROSTER_TARGET_MAX + 256];
    int n = snprintf(location, sizeof(location), "/v1/profiles/%s%s%s%s%.*s", a->profile->id,
                     t->route == ROSTER_ROUTE_VIEW ? "/" : "",
                     t->route == ROSTER_ROUTE_VIEW ? t->view : "", t->query ? "?" : "",
                     t->query ? (int)t->query_len : 0, t->query ? t->query : "");
    if (n < 0 || (size_t)n >= sizeof(location))
        return roster_send_problem(rq, c, MHD_HTTP_URI_TOO_LONG, "uri_too_long",
                                   "Request target too long", "the redirect target is too long",
                                   NULL);
    snprintf(detail, sizeof(detail),
             "'%s' is the file name of profile '%s' (%s); its id is the canonical name", t->id,
             a->profile->id, a->profile->file);
    return roster_send_redirect(rq, c, MHD_HTTP_PERMANENT_REDIRECT, location, "profile_alias",
                                "Profile alias", detail,
                                json_pack("{s:s,s:s,s:s}", "canonical_id", a->profile->id, "file",
                                          a->profile->file, "location", location));
}

int roster_route_profile(struct req *rq, struct MHD_Connection *c, const struct roster_target *t)
{
    const char *id = t->id;
    const struct roster_sprofile *sp = roster_snapshot_find(rq->snap, t->id, t->id_len);
    enum roster_view v = ROSTER_VIEW_PROFILE;
    if (t->route == ROSTER_ROUTE_VIEW &&
        (roster_view_parse(t->view, t->view_len, &v) < 0 || v == ROSTER_VIEW_PROFILE)) {
        char names[256], detail[300];
        roster_view_names(names, sizeof(names), 1u << ROSTER_VIEW_PROFILE);
        snprintf(detail, sizeof(detail), "views are %s", names);
        return roster_send_problem(rq, c, MHD_HTTP_NOT_FOUND, "route_not_found", "Route not found",
                                   detail, NULL);
    }
    struct roster_param p[ROSTER_QUERY_MAX_PARAMS];
    char buf[ROSTER_TARGET_MAX + 64], why[200];
    size_t n;
    const char *const *allowed = roster_route_params(roster_route_of(t->route), (int)v);
    int r = parse_params(t, allowed, p, &n, buf, sizeof(buf), why, sizeof(why));
    if (r < 0)
        return query_problem(rq, c, r, why);
    int json_view = v != ROSTER_VIEW_PROMPT && v != ROSTER_VIEW_SOURCE;
    int projecting = param(p, n, "fields") != NULL;
    if (json_view && projecting && !accepts_json_or_projection(c))
        return not_acceptable(rq, c, CT_PROJECTION);
    if (json_view && !projecting && !accepts(c, CT_JSON))
        return not_acceptable(rq, c, CT_JSON);
    int prompt_json = 0;
    if (v == ROSTER_VIEW_PROMPT) {
        const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
        int qm = roster_accept_quality(a, "text/markdown"), qj = roster_accept_quality(a, CT_JSON);
        if (qm == 0 && qj == 0)
            return not_acceptable(rq, c, "text/markdown or application/json");
        prompt_json = qj > qm;
    }
    if (v == ROSTER_VIEW_SOURCE && !accepts(c, "text/markdown"))
        return not_acceptable(rq, c, "text/markdown");
    enum roster_scope scope = ROSTER_SCOPE_ALL;
    const char *scope_s = param(p, n, "scope");
    if (scope_s && roster_scope_parse(scope_s, &scope) < 0)
        return bad_query(rq, c, "scope must be own, inherited or all");
    const struct roster_alias *alias = sp ? NULL : roster_snapshot_alias(rq->snap, id, t->id_len);
    if (alias)
        return send_alias(rq, c, t, alias);
    if (!sp)
        return not_found(rq, c, id);
    if (!sp->ok)
        return invalid_profile(rq, c, sp);
    rq->digest = sp->good_key;
    const char *warning = sp->stale ? sp->stale_warning : NULL;
    const char *fields[ROSTER_QUERY_MAX_FIELDS];
    size_t nf = 0;
    if (projecting &&
        split_fields(p, n, fields, &nf, roster_query_profile_field, why, sizeof(why)) < 0)
        return bad_query(rq, c, why);
    if (projecting || scope != ROSTER_SCOPE_ALL) {
        /* made for this request: the items in scope, then the projection */
        json_t *o = roster_snapshot_scoped(rq->snap, sp, v, scope);
        json_t *part = o && projecting ? roster_query_project(o, fields, nf) : json_incref(o);
        json_decref(o);
        return send_json_as(rq, c, part, projecting ? CT_PROJECTION : CT_JSON, 1, warning);
    }
    /* rendered on first use and cached */
    const struct roster_rep *rep = NULL;
    int which = prompt_json ? ROSTER_REP_PROMPT_JSON : (int)v;
    if (roster_snapshot_rep(rq->snap, sp, which, &rep) < 0)
        return roster_send_problem(rq, c, MHD_HTTP_SERVICE_UNAVAILABLE, "out_of_memory",
                                   "Out of memory", "the server is out of memory", NULL);
    return roster_send_rep(rq, c, rep, warning);
}

/* ---- POST /v1/profiles/{id}/prompt: the prompt with variables filled in -- */

#define CT_MARKDOWN "text/markdown; charset=utf-8"

/* How many bytes of s (n long) a detail may quote: at most max, and never
 * a cut UTF-8 sequence (an invalid string would sink the problem). */
static int clip(const char *s, size_t n, size_t max)
{
    return (int)roster_utf8_check(s, n < max ? n : max);
}

static const char *json_kind(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

/* The values the body gives ({"variables": {...}}; the object may be left
 * out), borrowed from *doc, which the caller frees. NULL with code and why
 * set when the body is not such an object (400). */
static const json_t *body_values(const struct req *rq, json_t **doc, const char **code, char *why,
                                 size_t cap)
{
    *doc = NULL;
    *code = "invalid_body";
    if (!rq->body_len) {
        snprintf(why, cap,
                 "the request body is empty: send a JSON object such as {\"variables\": {}}");
        return NULL;
    }
    json_error_t e;
    json_t *d = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &e);
    if (!d) {
        *code = json_error_code(&e) == json_error_out_of_memory ? "out_of_memory" : "invalid_json";
        snprintf(why, cap, "the body is not valid JSON: %.*s (line %d, column %d)",
                 clip(e.text, strlen(e.text), 120), e.text, e.line, e.column);
        return NULL;
    }
    *doc = d;
    if (!json_is_object(d)) {
        snprintf(why, cap, "the body must be a JSON object, not %s", json_kind(d));
        return NULL;
    }
    const char *k;
    json_t *v;
    json_object_foreach(d, k, v)
    {
        if (strcmp(k, "variables") != 0) {
            snprintf(why, cap, "unknown key \"%.*s\" in the body: it takes only \"variables\"",
                     clip(k, strlen(k), 64), k);
            return NULL;
        }
    }
    json_t *vars = json_object_get(d, "variables");
    if (!vars && roster_json_set(d, "variables", json_object()) == 0)
        vars = json_object_get(d, "variables");
    if (!vars) {
        snprintf(why, cap, "out of memory");
        *code = "out_of_memory";
        return NULL;
    }
    if (!json_is_object(vars)) {
        snprintf(why, cap, "\"variables\" must be an object of names to strings, not %s",
                 json_kind(vars));
        return NULL;
    }
    if (json_object_size(vars) > ROSTER_TEMPLATE_MAX_VARS) {
        snprintf(why, cap, "\"variables\" has %zu entries; a profile declares at most %d",
                 json_object_size(vars), ROSTER_TEMPLATE_MAX_VARS);
        return NULL;
    }
    return vars;
}

/* The lineage the prompt document shows: the last good one of a stale
 * profile (whose template that is). A new reference, or NULL. */
static json_t *lineage_of(const struct roster_sprofile *sp)
{
    if (sp->stale_profile)
        return json_incref(json_object_get(sp->stale_profile, "lineage"));
    const struct roster_profile *p = sp->resolved;
    json_t *a = p ? json_array() : NULL;
    for (size_t k = p ? p->nchain : 0; a && k-- > 0;)
        if (roster_json_push(a, json_string(p->chain[k]->id)) < 0) {
            json_decref(a);
            a = NULL;
        }
    return a;
}

/* {"id","lineage","prompt","sha256","variables"} as compact JSON and a
 * newline, as roster_render_dump would print it, with the prompt written by
 * the template (its text was escaped once, when the template was made):
 * a request escapes and hashes only its values. NULL without memory. */
static char *prompt_json(const struct roster_sprofile *sp, const struct roster_template *tmpl,
                         const json_t *resolved, size_t *len)
{
    struct roster_buf b;
    char hex[65];
    json_t *lineage = lineage_of(sp);
    char *lj = lineage ? json_dumps(lineage, JSON_COMPACT) : NULL;
    char *vj = json_dumps(resolved, JSON_COMPACT);
    roster_buf_init(&b, ROSTER_RENDER_MAX_BYTES);
    /* ids are [a-z0-9._-]: a JSON string as they are */
    int r = lj && vj
                ? roster_buf_printf(&b, "{\"id\":\"%s\",\"lineage\":%s,\"prompt\":", sp->id, lj)
                : ROSTER_ENOMEM;
    if (r == 0)
        r = roster_template_render_json(tmpl, resolved, &b, hex);
    if (r == 0)
        r = roster_buf_printf(&b, ",\"sha256\":\"%s\",\"variables\":%s}\n", hex, vj);
    json_decref(lineage);
    roster_free(lj);
    roster_free(vj);
    if (r < 0) {
        roster_buf_release(&b);
        return NULL;
    }
    return roster_buf_steal(&b, len);
}

static enum MHD_Result render_prompt(struct req *rq, struct MHD_Connection *c,
                                     const struct roster_target *t)
{
    const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
    int qm = roster_accept_quality(a, "text/markdown"), qj = roster_accept_quality(a, CT_JSON);
    if (qm == 0 && qj == 0)
        return not_acceptable(rq, c, "text/markdown or application/json");
    const struct roster_sprofile *sp = roster_snapshot_find(rq->snap, t->id, t->id_len);
    const struct roster_alias *alias =
        sp ? NULL : roster_snapshot_alias(rq->snap, t->id, t->id_len);
    if (alias)
        return send_alias(rq, c, t, alias);
    if (!sp)
        return not_found(rq, c, t->id);
    if (!sp->ok)
        return invalid_profile(rq, c, sp);
    rq->digest = sp->good_key;
    json_t *doc = NULL, *resolved = NULL, *problems = NULL;
    const char *code = NULL;
    char why[300];
    const json_t *values = body_values(rq, &doc, &code, why, sizeof(why));
    enum MHD_Result r;
    if (!values) {
        r = strcmp(code, "out_of_memory") == 0
                ? roster_send_problem(rq, c, MHD_HTTP_SERVICE_UNAVAILABLE, code, "Out of memory",
                                      "the server is out of memory", NULL)
                : roster_send_problem(rq, c, MHD_HTTP_BAD_REQUEST, code,
                                      strcmp(code, "invalid_json") == 0 ? "Invalid JSON"
                                                                        : "Invalid request body",
                                      why, NULL);
        goto out_doc;
    }
    const struct roster_template *tmpl = NULL;
    int e = roster_snapshot_template(rq->snap, sp, &tmpl);
    if (e == ROSTER_ENOMEM) {
        r = roster_send_problem(rq, c, MHD_HTTP_SERVICE_UNAVAILABLE, "out_of_memory",
                                "Out of memory", "the server is out of memory", NULL);
        goto out_doc;
    }
    if (e < 0) {
        snprintf(why, sizeof(why), "the template of profile '%s' (%s) cannot be made", sp->id,
                 sp->file);
        r = roster_send_problem(rq, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "template_unavailable",
                                "Template unavailable", why, NULL);
        goto out_doc;
    }
    e = roster_template_bind(tmpl, values, &resolved, &problems);
    if (e == ROSTER_EINVAL) {
        roster_template_summary(problems, why, sizeof(why));
        r = roster_send_problem(rq, c, MHD_HTTP_UNPROCESSABLE_CONTENT, "invalid_variables",
                                "Invalid variables", why, json_pack("{s:o}", "errors", problems));
        goto out_doc;
    }
    const char *warning = sp->stale ? sp->stale_warning : NULL;
    size_t len = 0;
    if (e == 0 && qj > qm) {
        char *body = prompt_json(sp, tmpl, resolved, &len);
        r = roster_send_dynamic(rq, c, MHD_HTTP_OK, CT_JSON, body, len, 0, warning);
        goto out_resolved;
    }
    /* the Markdown (roster_send_dynamic answers 503 for NULL); never cached */
    char *text = e == 0 ? roster_template_render(tmpl, resolved, &len) : NULL;
    r = roster_send_dynamic(rq, c, MHD_HTTP_OK, CT_MARKDOWN, text, len, 0, warning);
out_resolved:
    json_decref(resolved);
out_doc:
    json_decref(doc);
    return r;
}

int roster_route_prompt(struct req *rq, struct MHD_Connection *c, const struct roster_target *t)
{
    /* the prompt view's own target: GET and HEAD are that view, and an
     * alias redirects to .../prompt */
    struct roster_target v = *t;
    v.route = ROSTER_ROUTE_VIEW;
    v.view_len =
        (size_t)snprintf(v.view, sizeof(v.view), "%s", roster_view_name(ROSTER_VIEW_PROMPT));
    if (rq->method != ROSTER_M_POST)
        return roster_route_profile(rq, c, &v);
    return render_prompt(rq, c, &v);
}

int roster_route_diagnostics(struct req *rq, struct MHD_Connection *c,
                             const struct roster_target *t)
{
    const char *const *allowed = route_params(t);
    struct roster_param p[ROSTER_QUERY_MAX_PARAMS];
    char buf[ROSTER_TARGET_MAX + 64], why[200];
    size_t n;
    int r = parse_params(t, allowed, p, &n, buf, sizeof(buf), why, sizeof(why));
    if (r < 0)
        return query_problem(rq, c, r, why);
    if (!accepts(c, CT_JSON))
        return not_acceptable(rq, c, CT_JSON);
    const char *sev = param(p, n, "severity");
    if (!sev)
        return roster_send_rep(rq, c, &rq->snap->diagnostics, NULL);
    enum roster_severity s;
    if (roster_severity_parse(sev, &s) < 0)
        return bad_query(rq, c, "severity must be error, warning or info");
    return roster_send_rep(rq, c, &rq->snap->diagnostics_sev[s], NULL);
}

static enum MHD_Result plain_route(struct req *rq, struct MHD_Connection *c,
                                   const struct roster_target *t)
{
    if (t->route == ROSTER_ROUTE_HEALTH)
        return send_json(rq, c, json_pack("{s:s}", "status", "ok"), 0);
    if (t->route == ROSTER_ROUTE_VERSION)
        return send_json(rq, c,
                         json_pack("{s:s,s:s,s:s}", "name", "rosterd", "version", ROSTER_VERSION,
                                   "revision", ROSTER_REVISION),
                         0);
    if (t->route == ROSTER_ROUTE_READY) {
        const struct roster_progress *pg = rq->srv->cfg.progress;
        if (!rq->snap && pg && !atomic_load(&rq->srv->draining))
            return send_json_status(rq, c, MHD_HTTP_SERVICE_UNAVAILABLE,
                                    json_pack("{s:s,s:I,s:I}", "status", "starting", "indexed",
                                              (json_int_t)atomic_load(&pg->indexed), "total",
                                              (json_int_t)atomic_load(&pg->total)));
        if (!rq->snap || atomic_load(&rq->srv->draining))
            return roster_send_problem(
                rq, c, MHD_HTTP_SERVICE_UNAVAILABLE, "not_ready", "Not ready",
                rq->snap ? "the server is shutting down" : "no snapshot is loaded yet", NULL);
        const struct roster_snapshot *s = rq->snap;
        return send_json(rq, c,
                         json_pack("{s:s,s:I,s:{s:I,s:I,s:I}}", "status", "ready", "generation",
                                   (json_int_t)s->generation, "profiles", "served",
                                   (json_int_t)(s->served - s->stale), "invalid",
                                   (json_int_t)s->invalid, "stale", (json_int_t)s->stale),
                         0);
    }
    if (t->route == ROSTER_ROUTE_METRICS) {
        struct roster_buf b;
        roster_buf_init(&b, (size_t)8 << 20);
        int ready = rq->snap && !atomic_load(&rq->srv->draining);
        if (roster_metrics_render(rq->srv->metrics, rq->snap, ready, &b) < 0)
            roster_buf_release(&b);
        size_t len = 0;
        char *body = b.data ? roster_buf_steal(&b, &len) : NULL;
        return roster_send_dynamic(rq, c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
                                   body, len, 0, NULL);
    }
    return roster_send_rep(rq, c, roster_openapi_rep(), NULL);
}

int roster_route_facets(struct req *rq, struct MHD_Connection *c, const struct roster_target *t)
{
    (void)t;
    if (!accepts(c, CT_JSON))
        return not_acceptable(rq, c, CT_JSON);
    return roster_send_rep(rq, c, &rq->snap->facets, NULL);
}

int roster_route_reload(struct req *rq, struct MHD_Connection *c, const struct roster_target *t)
{
    (void)t;
    return roster_admin_reload(rq, c);
}

int roster_route_events(struct req *rq, struct MHD_Connection *c, const struct roster_target *t)
{
    (void)t;
    return roster_events_route(rq, c);
}

int roster_route_text(struct req *rq, struct MHD_Connection *c, const struct roster_target *t)
{
    if (t->route == ROSTER_ROUTE_OPENAPI && !accepts(c, "application/yaml") &&
        !accepts(c, "application/openapi+yaml"))
        return not_acceptable(rq, c, "application/yaml");
    if (t->route == ROSTER_ROUTE_METRICS && !accepts(c, "text/plain"))
        return not_acceptable(rq, c, "text/plain");
    return plain_route(rq, c, t);
}

int roster_route_json(struct req *rq, struct MHD_Connection *c, const struct roster_target *t)
{
    if (!accepts(c, CT_JSON))
        return not_acceptable(rq, c, CT_JSON);
    return plain_route(rq, c, t);
}

enum MHD_Result roster_route(struct req *rq, struct MHD_Connection *c)
{
    struct roster_target t;
    roster_target_parse(rq->raw, rq->raw_len, &t);
    rq->route = t.route;
    /* the entry the path matched: an invalid id still gets its methods */
    const struct roster_route *rt = t.entry;
    if (!rt || (t.route == ROSTER_ROUTE_EVENTS && !rq->srv->cfg.events) ||
        (t.route == ROSTER_ROUTE_MCP && !rq->srv->mcp))
        return roster_send_problem(rq, c, MHD_HTTP_NOT_FOUND, "route_not_found", "Route not found",
                                   "no such route; see /openapi.yaml", NULL);
    if (rq->method == ROSTER_M_OPTIONS)
        return roster_send_allow(rq, c, MHD_HTTP_NO_CONTENT, rt->allow);
    int get = rq->method == ROSTER_M_GET || rq->method == ROSTER_M_HEAD;
    int allowed = (rt->flags & ROSTER_ROUTE_POST)       ? rq->method == ROSTER_M_POST
                  : (rt->flags & ROSTER_ROUTE_GET_POST) ? get || rq->method == ROSTER_M_POST
                  : (rt->flags & ROSTER_ROUTE_MCP_METHODS)
                      ? rq->method == ROSTER_M_GET || rq->method == ROSTER_M_POST ||
                            rq->method == ROSTER_M_DELETE
                      : get;
    if (!allowed)
        return roster_send_allow(rq, c, MHD_HTTP_METHOD_NOT_ALLOWED, rt->allow);
    if (t.route == ROSTER_ROUTE_BAD_ID)
        return roster_send_problem(rq, c, MHD_HTTP_BAD_REQUEST, "invalid_id", "Invalid id",
                                   "profile ids match " ROSTER_ID_PATTERN, NULL);
    if (!rt->params[0] && t.query_len) {
        /* a route that takes no parameters: say which one it got */
        struct roster_param p[ROSTER_QUERY_MAX_PARAMS];
        char buf[ROSTER_TARGET_MAX + 64], why[200];
        size_t n;
        int r = parse_params(&t, rt->params, p, &n, buf, sizeof(buf), why, sizeof(why));
        if (r < 0)
            return query_problem(rq, c, r, why);
    }
    if ((rt->flags & ROSTER_ROUTE_SNAPSHOT) && !rq->snap)
        return roster_send_problem(rq, c, MHD_HTTP_SERVICE_UNAVAILABLE, "not_ready", "Not ready",
                                   "no snapshot is loaded yet", NULL);
    return (enum MHD_Result)rt->handler(rq, c, &t);
}

/* ---- shared with the other route modules (http_internal.h) ------------ */

int roster_http_params(const struct roster_target *t, struct roster_param *p, size_t *n, char *buf,
                       size_t cap, char *why, size_t why_cap)
{
    return parse_params(t, route_params(t), p, n, buf, cap, why, why_cap);
}

const char *roster_http_param(const struct roster_param *p, size_t n, const char *key)
{
    return param(p, n, key);
}

enum MHD_Result roster_http_query_problem(struct req *rq, struct MHD_Connection *c, int r,
                                          const char *why)
{
    return query_problem(rq, c, r, why);
}

int roster_http_accept_quality(struct MHD_Connection *c, const char *type)
{
    return roster_accept_quality(
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT), type);
}

enum MHD_Result roster_http_not_acceptable(struct req *rq, struct MHD_Connection *c,
                                           const char *types)
{
    return not_acceptable(rq, c, types);
}

enum MHD_Result roster_http_not_found(struct req *rq, struct MHD_Connection *c, const char *id)
{
    return not_found(rq, c, id);
}
