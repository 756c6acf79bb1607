/* The versions of a profile (docs/versions.md, "History"):
 *   GET /v1/profiles/{id}/versions                 newest first, cursor paging
 *   GET /v1/profiles/{id}/versions/{digest}        the profile JSON, pinned
 *   GET /v1/profiles/{id}/versions/{digest}/prompt the prompt (Markdown or JSON)
 * A pinned version is the bytes its digest names, forever: the current
 * one comes from the snapshot (the same bytes by construction), any other
 * from the history store, verified on every read. A stored file that
 * fails verification is never served: 404 (or, in a listing, `skipped`),
 * and one warning line per file. */
#include "http_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roster_base.h"
#include "roster_history.h"
#include "roster_json.h"
#include "roster_log.h"
#include "roster_query.h"

#define CT_JSON "application/json"
#define CT_MARKDOWN "text/markdown; charset=utf-8"
/* a version's bytes never change: caches may keep them for a year */
#define IMMUTABLE "public, max-age=31536000, immutable"

/* One warning per corrupt file per process, not one per request. */
static void warn_corrupt(struct roster_history *h, const char *file, const char *reason)
{
    if (roster_history_first_report(h, file))
        roster_log(ROSTER_LOG_WARN, "history_corrupt", "code", 's', "history.corrupt", "file", 's',
                   file, "reason", 's', reason, "history_dir", 's', roster_history_dir(h),
                   ROSTER_LOG_END);
}

static enum MHD_Result out_of_memory(struct req *rq, struct MHD_Connection *c)
{
    return roster_send_problem(rq, c, MHD_HTTP_SERVICE_UNAVAILABLE, "out_of_memory",
                               "Out of memory", "the server is out of memory", NULL);
}

/* ---- GET /v1/profiles/{id}/versions ---------------------------------- */

/* Whether a is after b in the listing's order (newest first: first_seen,
 * then digest, descending). */
static int after(const struct roster_history_entry *a, double fs, const char *hex)
{
    return a->first_seen < fs || (a->first_seen == fs && strcmp(a->digest, hex) < 0);
}

/* The opaque cursor of an entry: its place in that order. */
static int cursor_of(const struct roster_history_entry *e, char *out, size_t cap)
{
    char text[128];
    snprintf(text, sizeof(text), "v1:%.17g:%s", e->first_seen, e->digest);
    return roster_cursor_encode(text, out, cap);
}

static int cursor_parse(const char *cursor, double *fs, char hex[65])
{
    char text[128], *end = NULL;
    size_t len = 0;
    if (roster_cursor_decode_text(cursor, text, sizeof(text), &len) < 0 ||
        strncmp(text, "v1:", 3) != 0)
        return -1;
    char *colon = strrchr(text, ':');
    if (colon == text + 2 || roster_history_digest_parse(colon + 1, strlen(colon + 1), hex) < 0 ||
        strlen(colon + 1) != 64)
        return -1;
    *colon = '\0';
    *fs = strtod(text + 3, &end);
    return end == colon && end != text + 3 && *fs >= 0 && *fs < 1e11 ? 0 : -1;
}

/* The current version of sp joins the stored ones (when it is not stored
 * yet, or there is no store): its first_seen is when this process first
 * served it. *v grows by one; 0 or ROSTER_ENOMEM. */
static int add_current(const struct roster_sprofile *sp, struct roster_history_entry **v, size_t *n,
                       double now)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*v)[i].digest, sp->good_key) == 0)
            return 0;
    struct roster_history_entry *g = roster_realloc(*v, (*n + 1) * sizeof(**v));
    if (!g)
        return ROSTER_ENOMEM;
    *v = g;
    memcpy(g[*n].digest, sp->good_key, 65);
    g[*n].first_seen = sp->first_seen;
    g[*n].last_seen = now;
    (*n)++;
    return 0;
}

static int cmp_newest(const void *a, const void *b)
{
    const struct roster_history_entry *x = a, *y = b;
    if (x->first_seen != y->first_seen)
        return x->first_seen < y->first_seen ? 1 : -1;
    return -strcmp(x->digest, y->digest);
}

struct listing {
    const struct roster_sprofile *sp; /* served, or NULL */
    const char *id;
    struct roster_history *h;
    json_t *items, *skipped;
    double now;
};

/* A stored file that fails: named once in `skipped` (a current version's
 * file fails both in the listing and when its item is verified). */
static int skip(struct listing *l, const char *file, const char *reason)
{
    size_t i;
    json_t *s;
    warn_corrupt(l->h, file, reason);
    json_array_foreach(l->skipped, i, s)
    {
        const char *f = json_string_value(json_object_get(s, "file"));
        if (f && strcmp(f, file) == 0)
            return 0;
    }
    if (json_array_size(l->skipped) >= ROSTER_HISTORY_SKIPS_MAX)
        return 0;
    return roster_json_push(l->skipped, json_pack("{s:s,s:s,s:s}", "file", file, "code",
                                                  "history.corrupt", "reason", reason));
}

/* One item: verified from the store (a stored version that fails is
 * skipped, unless it is current: then the snapshot has it). 1 listed, 0
 * skipped, negative without memory. */
static int list_item(struct listing *l, const struct roster_history_entry *e)
{
    int current = l->sp && strcmp(e->digest, l->sp->good_key) == 0;
    struct roster_history_version v;
    struct roster_error err;
    roster_error_clear(&err);
    memset(&v, 0, sizeof(v));
    int r = l->h ? roster_history_load(l->h, l->id, e->digest, &v, &err) : ROSTER_ENOENT;
    if (r == ROSTER_ENOMEM)
        return r;
    if (r == ROSTER_EIO && skip(l, err.file, err.msg) < 0)
        return ROSTER_ENOMEM;
    if (r < 0 && !current)
        return 0; /* corrupt, or removed since it was listed */
    char digest[80], link[ROSTER_ID_MAX_BUF + 120];
    snprintf(digest, sizeof(digest), "sha256:%s", e->digest);
    snprintf(link, sizeof(link), "/v1/profiles/%s/versions/%s", l->id, digest);
    json_t *lineage = r == 0 ? json_incref(v.lineage) : json_incref(l->sp->lineage_files);
    double first = r == 0 ? v.first_seen : e->first_seen;
    json_t *item =
        json_pack("{s:s,s:f,s:f,s:b,s:o,s:s}", "digest", digest, "first_seen", first, "last_seen",
                  current  ? (l->now > first ? l->now : first)
                  : r == 0 ? v.last_seen
                           : e->last_seen,
                  "current", current, "lineage", lineage, "link", link);
    roster_history_version_release(&v);
    return roster_json_push(l->items, item) < 0 ? ROSTER_ENOMEM : 1;
}

/* The page: the entries after the cursor, up to limit listed. */
static json_t *page(struct listing *l, const struct roster_history_entry *v, size_t n, size_t limit,
                    int have_cursor, double cfs, const char *chex)
{
    size_t i = 0, listed = 0;
    while (have_cursor && i < n && !after(&v[i], cfs, chex))
        i++;
    const struct roster_history_entry *last = NULL;
    for (; i < n && listed < limit; i++) {
        int r = list_item(l, &v[i]);
        if (r < 0)
            return NULL;
        listed += (size_t)r;
        last = &v[i];
    }
    char next[400];
    json_t *nc = json_null();
    if (i < n && last && cursor_of(last, next, sizeof(next)) == 0)
        nc = json_string(next);
    return nc;
}

int roster_route_versions(struct req *rq, struct MHD_Connection *c, const struct roster_target *t)
{
    struct roster_param p[ROSTER_QUERY_MAX_PARAMS];
    char buf[ROSTER_TARGET_MAX + 64], why[200], chex[65];
    size_t np = 0;
    int r = roster_http_params(t, p, &np, buf, sizeof(buf), why, sizeof(why));
    if (r < 0)
        return roster_http_query_problem(rq, c, r, why);
    if (!roster_http_accept_quality(c, CT_JSON))
        return roster_http_not_acceptable(rq, c, CT_JSON);
    unsigned long limit = ROSTER_LIST_DEFAULT_LIMIT;
    const char *ls = roster_http_param(p, np, "limit"), *cs = roster_http_param(p, np, "cursor");
    if (ls && roster_query_integer(ls, 1, ROSTER_LIST_MAX_LIMIT, &limit) < 0) {
        snprintf(why, sizeof(why), "limit must be a whole number from 1 to %d",
                 ROSTER_LIST_MAX_LIMIT);
        return roster_http_query_problem(rq, c, ROSTER_EINVAL, why);
    }
    double cfs = 0;
    if (cs && cursor_parse(cs, &cfs, chex) < 0)
        return roster_http_query_problem(rq, c, ROSTER_EINVAL,
                                         "cursor is not one this server issued");
    struct roster_history *h = rq->srv->cfg.history;
    const struct roster_sprofile *sp = roster_snapshot_find(rq->snap, t->id, t->id_len);
    struct listing l = {.sp = sp && sp->ok ? sp : NULL,
                        .id = t->id,
                        .h = h,
                        .items = json_array(),
                        .skipped = json_array(),
                        /* the snapshot's build time: the latest that served
                         * the current version, and the same in every answer of
                         * a generation (a stable ETag, 304s) */
                        .now = rq->snap->built_at};
    struct roster_history_entry *v = NULL;
    struct roster_history_skips sk = {0};
    struct roster_error err;
    roster_error_clear(&err);
    size_t n = 0;
    enum MHD_Result out;
    r = h ? roster_history_list(h, t->id, &v, &n, &sk, &err) : ROSTER_ENOENT;
    if (r == ROSTER_ENOENT && !l.sp) { /* neither served nor stored (also: invalid) */
        out = roster_http_not_found(rq, c, t->id);
        goto done;
    }
    if (r == ROSTER_EIO) /* the directory is unreadable: say so, list the current one */
        (void)roster_history_skip_add(&sk, err.file, err.msg);
    if (r == ROSTER_ENOMEM || !l.items || !l.skipped ||
        (l.sp && add_current(l.sp, &v, &n, l.now) < 0)) {
        out = out_of_memory(rq, c);
        goto done;
    }
    if (n)
        qsort(v, n, sizeof(*v), cmp_newest);
    int bad = 0;
    for (size_t i = 0; i < sk.n && !bad; i++)
        bad = skip(&l, sk.v[i].file, sk.v[i].reason) < 0;
    json_t *next = bad ? NULL : page(&l, v, n, limit, cs != NULL, cfs, chex);
    if (!next) {
        out = out_of_memory(rq, c);
        goto done;
    }
    if (l.sp)
        rq->digest = l.sp->good_key;
    json_t *doc = json_pack("{s:s,s:b,s:O,s:o,s:O}", "id", t->id, "history", h != NULL, "items",
                            l.items, "next_cursor", next, "skipped", l.skipped);
    size_t len = 0;
    char *body = doc ? roster_render_dump(doc, &len) : NULL;
    json_decref(doc);
    out = roster_send_dynamic(rq, c, MHD_HTTP_OK, CT_JSON, body, len, 1, NULL);
done:
    json_decref(l.items);
    json_decref(l.skipped);
    roster_history_skips_release(&sk);
    roster_free(v);
    return out;
}

/* ---- GET /v1/profiles/{id}/versions/{digest}[/prompt] ----------------- */

static enum MHD_Result version_not_found(struct req *rq, struct MHD_Connection *c,
                                         const char *detail)
{
    return roster_send_problem(rq, c, MHD_HTTP_NOT_FOUND, "version_not_found", "Version not found",
                               detail, NULL);
}

/* A stored version's part as a representation with the version's ETag. */
static enum MHD_Result send_stored(struct req *rq, struct MHD_Connection *c,
                                   struct roster_history_version *v, enum roster_history_part part,
                                   int which, const char *ctype)
{
    size_t len = 0;
    char tag[65];
    char *body = roster_history_version_take(v, part, &len);
    struct roster_rep *rep = body ? roster_calloc(1, sizeof(*rep)) : NULL;
    roster_rep_tag(v->digest, which, tag);
    if (!rep || roster_rep_init(rep, body, len, ctype, tag) < 0) {
        if (!rep)
            roster_free(body);
        else
            roster_rep_release(rep);
        roster_free(rep);
        return out_of_memory(rq, c);
    }
    return roster_send_rep_owned(rq, c, rep, NULL);
}

/* What a pinned answer carries: immutable caching, the digest, and Vary
 * on Accept where the type follows it (the prompt). hex is the handler's:
 * unpinned once the answer is queued. */
static void pinned(struct req *rq, const char *hex, int prompt)
{
    rq->cache_control = IMMUTABLE;
    rq->vary = prompt ? "Accept, Accept-Encoding" : NULL;
    rq->digest = hex;
}

static enum MHD_Result unpinned(struct req *rq, enum MHD_Result r)
{
    rq->digest = NULL;
    return r;
}

int roster_version_load(struct req *rq, const char *id, const char *hex,
                        struct roster_history_version *v, char *detail, size_t cap)
{
    struct roster_history *h = rq->srv->cfg.history;
    if (!h) {
        snprintf(detail, cap,
                 "profile '%s' has no version sha256:%s here: this server keeps no history "
                 "(--history-dir), only each profile's current version",
                 id, hex);
        return ROSTER_ENOENT;
    }
    struct roster_error err;
    roster_error_clear(&err);
    int r = roster_history_load(h, id, hex, v, &err);
    if (r == ROSTER_EIO) {
        warn_corrupt(h, err.file, err.msg);
        snprintf(detail, cap,
                 "version sha256:%s of profile '%s' is stored but fails verification (%.100s: "
                 "%.150s); it is not served",
                 hex, id, err.file, err.msg);
    } else if (r < 0 && r != ROSTER_ENOMEM) {
        snprintf(detail, cap, "profile '%s' has no stored version sha256:%s", id, hex);
        r = ROSTER_ENOENT;
    }
    return r;
}

int roster_route_version(struct req *rq, struct MHD_Connection *c, const struct roster_target *t)
{
    char hex[65], detail[800];
    int prompt = t->route == ROSTER_ROUTE_VERSION_PROMPT;
    int qm = prompt ? roster_http_accept_quality(c, "text/markdown") : 0;
    int qj = roster_http_accept_quality(c, CT_JSON);
    if (!prompt && !qj)
        return roster_http_not_acceptable(rq, c, CT_JSON);
    if (prompt && !qm && !qj)
        return roster_http_not_acceptable(rq, c, "text/markdown or application/json");
    if (roster_history_digest_parse(t->digest, t->digest_len, hex) < 0)
        return roster_send_problem(rq, c, MHD_HTTP_BAD_REQUEST, "invalid_digest", "Invalid digest",
                                   "a digest is sha256: and 64 hexadecimal digits (or the 64 "
                                   "digits alone)",
                                   NULL);
    enum roster_history_part part = !prompt   ? ROSTER_HISTORY_PROFILE
                                    : qj > qm ? ROSTER_HISTORY_PROMPT_JSON
                                              : ROSTER_HISTORY_PROMPT;
    int which = part == ROSTER_HISTORY_PROFILE  ? ROSTER_VIEW_PROFILE
                : part == ROSTER_HISTORY_PROMPT ? ROSTER_VIEW_PROMPT
                                                : ROSTER_REP_PROMPT_JSON;
    /* the current version: the snapshot's bytes, with or without a store */
    const struct roster_sprofile *sp = roster_snapshot_find(rq->snap, t->id, t->id_len);
    const struct roster_rep *rep = NULL;
    if (sp && sp->ok && strcmp(sp->good_key, hex) == 0) {
        int r = roster_snapshot_version_rep(rq->snap, sp, which, &rep);
        if (r == ROSTER_ENOMEM)
            return out_of_memory(rq, c);
        if (r == 0) {
            pinned(rq, hex, prompt);
            return unpinned(rq, roster_send_rep(rq, c, rep, NULL));
        }
    }
    struct roster_history *h = rq->srv->cfg.history;
    if (!sp && (!h || !roster_history_has_profile(h, t->id)))
        return roster_http_not_found(rq, c, t->id);
    struct roster_history_version v;
    int r = roster_version_load(rq, t->id, hex, &v, detail, sizeof(detail));
    if (r == ROSTER_ENOMEM)
        return out_of_memory(rq, c);
    if (r < 0)
        return version_not_found(rq, c, detail);
    pinned(rq, hex, prompt);
    enum MHD_Result out =
        send_stored(rq, c, &v, part, which, part == ROSTER_HISTORY_PROMPT ? CT_MARKDOWN : CT_JSON);
    roster_history_version_release(&v);
    return unpinned(rq, out);
}
