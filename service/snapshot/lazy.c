/* Rendering a profile's representations on first use (roster_snapshot.h):
 * the snapshot keeps the parsed files and the resolution, and a request
 * for a representation not built yet renders it from them. */
#include "snapshot_internal.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "roster_base.h"
#include "roster_doc.h"
#include "roster_index.h"
#include "roster_json.h"
#include "roster_resolve.h"
#include "roster_text.h"

#define CT_JSON "application/json"
#define CT_MARKDOWN "text/markdown; charset=utf-8"

static const char *rep_name(int which)
{
    return which == ROSTER_REP_PROMPT_JSON ? "prompt.json"
                                           : roster_view_name((enum roster_view)which);
}

void roster_rep_tag(const char *key, int which, char hex[65])
{
    char in[160];
    int n = snprintf(in, sizeof(in), "%.64s:%s", key, rep_name(which));
    roster_sha256_hex(in, n > 0 ? (size_t)n : 0, hex);
}

/* 32 hex digits: the lineage digest and the representation's name. */
void roster_sprofile_tag(const struct roster_sprofile *sp, int which, char hex[65])
{
    roster_rep_tag(sp->key, which, hex);
}

void roster_sprofile_etag(const struct roster_sprofile *sp, int which, int gz, char *out,
                          size_t cap)
{
    char hex[65];
    roster_sprofile_tag(sp, which, hex);
    snprintf(out, cap, "\"%.32s%s\"", hex, gz ? "-gz" : "");
}

int roster_sprofile_set_digest(const struct roster_sprofile *sp, json_t *o)
{
    char d[80];
    snprintf(d, sizeof(d), "sha256:%s", sp->good_key);
    return roster_json_set(o, "digest", json_string(d)) < 0 ? ROSTER_ENOMEM : 0;
}

int roster_snapshot_rep_json(struct roster_rep *r, const json_t *j, const char *tag)
{
    size_t len = 0;
    char *s = j ? roster_render_dump(j, &len) : NULL;
    return roster_rep_init(r, s, len, CT_JSON, tag);
}

json_t *roster_snapshot_profile(const struct roster_snapshot *s, const struct roster_sprofile *sp)
{
    if (sp->stale_profile)
        return json_incref(sp->stale_profile); /* with its last good digest */
    json_t *o = sp->resolved ? roster_render_profile(sp->resolved, s->ix->diags) : NULL;
    if (o && roster_sprofile_set_digest(sp, o) < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int roster_snapshot_template(const struct roster_snapshot *s, const struct roster_sprofile *sp,
                             const struct roster_template **out)
{
    (void)s;
    if (!sp->ok || !(sp->stale ? sp->good_cache : sp->cache))
        return ROSTER_ENOENT;
    return roster_cache_template(sp->stale ? sp->good_cache : sp->cache, sp->resolved, out);
}

json_t *roster_snapshot_scoped(const struct roster_snapshot *s, const struct roster_sprofile *sp,
                               enum roster_view v, enum roster_scope scope)
{
    json_t *whole = roster_snapshot_profile(s, sp);
    json_t *scoped = whole ? roster_render_scoped(whole, scope) : NULL;
    json_t *out = NULL;
    json_decref(whole);
    if (scoped)
        out = v == ROSTER_VIEW_PROFILE ? json_incref(scoped) : roster_render_view(scoped, v);
    json_decref(scoped);
    return out;
}

static _Atomic unsigned long long renders; /* representations built, process-wide */

unsigned long long roster_snapshot_renders(void)
{
    return atomic_load(&renders);
}

struct render_ctx {
    const struct roster_snapshot *s;
    const struct roster_sprofile *sp;
};

static int is_view(int which)
{
    return which != ROSTER_VIEW_PROFILE && which != ROSTER_VIEW_PROMPT &&
           which != ROSTER_VIEW_SOURCE && which != ROSTER_REP_PROMPT_JSON;
}

/* Every JSON view not built yet, from the profile object j: asking for one
 * view renders the profile once for all of them. Runs under the cache's
 * lock, so nobody else builds them meanwhile. */
static int other_views(const struct roster_sprofile *sp, const json_t *j, int done)
{
    char tag[65];
    for (int v = 0; v < ROSTER_VIEW_COUNT; v++) {
        if (v == done || !is_view(v) || roster_cache_peek(sp->cache, v))
            continue;
        struct roster_rep *rep = roster_calloc(1, sizeof(*rep));
        json_t *view = roster_render_view(j, (enum roster_view)v);
        roster_sprofile_tag(sp, v, tag);
        int r = rep ? roster_snapshot_rep_json(rep, view, tag) : ROSTER_ENOMEM;
        json_decref(view);
        if (r == 0)
            r = roster_cache_put(sp->cache, v, rep);
        if (r == 0)
            atomic_fetch_add(&renders, 1);
        if (r < 0) {
            if (rep)
                roster_rep_release(rep);
            roster_free(rep);
            return r;
        }
    }
    return 0;
}

/* Representation `which` of a served, non-stale profile, rendered now
 * into out: the one rendering path, for the cache (render) and for callers
 * that must not fill it (roster_snapshot_render). A JSON view is cut from
 * the whole profile object, which goes to *whole (a new reference) when
 * whole is not NULL, so the cache can cut the other views from it too. */
static int render_one(const struct roster_snapshot *s, const struct roster_sprofile *sp, int which,
                      struct roster_rep *out, json_t **whole)
{
    const struct roster_profile *p = sp->resolved;
    char tag[65];
    if (whole)
        *whole = NULL;
    if (!p)
        return ROSTER_EINVAL; /* stale profiles are rendered at build */
    roster_sprofile_tag(sp, which, tag);
    if (which == ROSTER_VIEW_PROMPT)
        return roster_rep_init(out, roster_profile_prompt(p), p->prompt_len, CT_MARKDOWN, tag);
    if (which == ROSTER_VIEW_SOURCE)
        return roster_rep_init(out, roster_strndup(p->doc->raw, p->doc->raw_len), p->doc->raw_len,
                               CT_MARKDOWN, tag);
    json_t *j =
        which == ROSTER_REP_PROMPT_JSON ? roster_render_prompt(p) : roster_snapshot_profile(s, sp);
    json_t *part = j && is_view(which) ? roster_render_view(j, (enum roster_view)which) : NULL;
    int r = is_view(which) && !part ? ROSTER_ENOMEM
                                    : roster_snapshot_rep_json(out, part ? part : j, tag);
    json_decref(part);
    if (r == 0 && whole && is_view(which))
        *whole = j;
    else
        json_decref(j);
    return r;
}

static int render(void *vctx, int which, struct roster_rep *out)
{
    struct render_ctx *x = vctx;
    json_t *j = NULL;
    int r = render_one(x->s, x->sp, which, out, &j);
    if (r == 0 && j)
        r = other_views(x->sp, j, which);
    if (r < 0 && out->body)
        roster_rep_release(out);
    if (r == 0)
        atomic_fetch_add(&renders, 1);
    json_decref(j);
    return r;
}

int roster_snapshot_render(const struct roster_snapshot *s, const struct roster_sprofile *sp,
                           int which, struct roster_rep *out)
{
    if (!sp->ok || sp->stale || !sp->cache || which < 0 || which >= ROSTER_REP_COUNT)
        return ROSTER_EINVAL;
    const struct roster_rep *have = roster_cache_peek(sp->cache, which);
    if (have) {
        char tag[65];
        roster_sprofile_tag(sp, which, tag);
        return roster_rep_init(out, roster_strndup(have->body, have->len), have->len, have->ctype,
                               tag);
    }
    return render_one(s, sp, which, out, NULL);
}

int roster_snapshot_rep(const struct roster_snapshot *s, const struct roster_sprofile *sp,
                        int which, const struct roster_rep **out)
{
    if (!sp->ok || !sp->cache || which < 0 || which >= ROSTER_REP_COUNT)
        return ROSTER_EINVAL;
    struct render_ctx x = {.s = s, .sp = sp};
    return roster_cache_get(sp->cache, which, render, &x, out);
}

int roster_snapshot_version_rep(const struct roster_snapshot *s, const struct roster_sprofile *sp,
                                int which, const struct roster_rep **out)
{
    if (!sp->ok || which < 0 || which >= ROSTER_REP_COUNT)
        return ROSTER_ENOENT;
    if (!sp->stale)
        return roster_snapshot_rep(s, sp, which, out);
    const struct roster_rep *r = sp->good_cache ? roster_cache_peek(sp->good_cache, which) : NULL;
    if (!r)
        return ROSTER_ENOENT;
    *out = r;
    return 0;
}

int roster_snapshot_prerender(const struct roster_snapshot *s, const _Atomic int *cancel)
{
    for (size_t i = 0; i < s->n; i++) {
        if (cancel && atomic_load(cancel))
            return ROSTER_ECANCELED;
        const struct roster_sprofile *sp = &s->profiles[i];
        const struct roster_rep *r;
        for (int k = 0; sp->ok && k < ROSTER_REP_COUNT; k++) {
            int e = roster_snapshot_rep(s, sp, k, &r);
            if (e < 0)
                return e;
        }
    }
    return 0;
}
