/* Building a snapshot: index, resolve, render every representation once.
 * Last known good: a profile that was served by the previous snapshot and
 * is now invalid keeps its previous content, marked stale, with the new
 * diagnostics. */
#include "roster_snapshot.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "roster_base.h"
#include "roster_diag.h"
#include "roster_doc.h"
#include "roster_index.h"
#include "roster_json.h"
#include "roster_scan.h"
#include "roster_map.h"
#include "roster_render.h"
#include "roster_resolve.h"
#include "roster_template.h"
#include "roster_text.h"
#include "snapshot_internal.h"

static int haystack_add(struct roster_buf *b, const char *s, size_t n)
{
    size_t at = b->len;
    int r = roster_buf_append(b, s, n);
    if (r == 0)
        r = roster_buf_putc(b, '\n');
    for (size_t k = at; r == 0 && k < b->len; k++)
        if (b->data[k] >= 'A' && b->data[k] <= 'Z')
            b->data[k] = (char)(b->data[k] - 'A' + 'a');
    return r;
}

static int haystack_key(struct roster_buf *b, const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? haystack_add(b, v, strlen(v)) : 0;
}

/* The search text goes to sp's cache, which owns it (and shares it with
 * the next snapshot when the lineage is unchanged). */
static int haystack_take(struct roster_sprofile *sp, struct roster_buf *b, int r)
{
    char *h = r == 0 ? roster_buf_steal(b, NULL) : NULL;
    if (r == 0 && !h)
        r = ROSTER_ENOMEM;
    if (h) {
        roster_cache_keep_haystack(sp->cache, h);
        sp->haystack = h;
    }
    roster_buf_release(b);
    return r;
}

/* Lower-cased id, name, description, competency names, section titles:
 * from the resolved profile, without rendering it. */
static int haystack_resolved(struct roster_sprofile *sp, const struct roster_profile *p)
{
    struct roster_buf b;
    roster_buf_init(&b, (size_t)16 << 20);
    static const char *const keys[] = {"id", "name", "description", NULL};
    int r = 0;
    for (const char *const *k = keys; *k && r == 0; k++)
        r = haystack_key(&b, sp->summary, *k);
    for (size_t k = 0; r == 0 && k < p->nsecs; k++)
        if (p->secs[k].sec->terms) /* "name\n" each */
            r = haystack_add(&b, p->secs[k].sec->terms, strlen(p->secs[k].sec->terms) - 1);
    for (size_t k = 0; r == 0 && k < p->nsecs; k++)
        r = haystack_add(&b, p->secs[k].sec->title, strlen(p->secs[k].sec->title));
    return haystack_take(sp, &b, r);
}

/* The same from a rendered profile object (stale profiles). */
static int haystack_rendered(struct roster_sprofile *sp, const json_t *profile)
{
    struct roster_buf b;
    roster_buf_init(&b, (size_t)16 << 20);
    static const char *const keys[] = {"id", "name", "description", NULL};
    int r = 0;
    for (const char *const *k = keys; *k && r == 0; k++)
        r = haystack_key(&b, profile, *k);
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(profile, "competencies"), i, it)
    {
        if (r == 0)
            r = haystack_key(&b, it, "name");
    }
    json_array_foreach(json_object_get(profile, "sections"), i, it)
    {
        if (r == 0)
            r = haystack_key(&b, it, "title");
    }
    return haystack_take(sp, &b, r);
}

/* The lineage digest: the renderer's format, the Markdown mode, each file
 * of the lineage (path and sha256, root first) and the profile's own
 * diagnostics: everything a representation of the profile is made from. */
static int lineage_key(struct roster_sprofile *sp, const struct roster_profile *p, int strict)
{
    struct roster_buf b;
    roster_buf_init(&b, (size_t)16 << 20);
    int r = roster_buf_printf(&b, "%s\nstrict=%d\n", ROSTER_RENDER_FORMAT, strict);
    for (size_t c = 0; r == 0 && c < p->nchain; c++)
        r = roster_buf_printf(&b, "%s\n%s\n", p->chain[c]->relpath, p->chain[c]->sha256);
    char *diags = r == 0 ? json_dumps(sp->diagnostics, JSON_COMPACT) : NULL;
    if (r == 0)
        r = diags ? roster_buf_puts(&b, diags) : ROSTER_ENOMEM;
    if (r == 0) {
        roster_sha256_hex(b.data, b.len, sp->key);
        memcpy(sp->good_key, sp->key, sizeof(sp->key));
    }
    roster_free(diags);
    roster_buf_release(&b);
    return r < 0 ? r : 0;
}

static json_t *file_diagnostics(const struct roster_diags *d, const char *file)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < roster_diags_count(d); i++) {
        const struct roster_diag *g = roster_diags_get(d, i);
        if (g->file && strcmp(g->file, file) == 0 &&
            json_array_append_new(a, roster_diag_to_json(g))) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static int set_parents(struct roster_sprofile *sp, struct roster_doc **parents, size_t n)
{
    sp->parents = roster_calloc(n ? n : 1, sizeof(char *));
    if (!sp->parents)
        return ROSTER_ENOMEM;
    for (size_t k = 0; k < n; k++) {
        sp->parents[k] = roster_strndup(parents[k]->id, strlen(parents[k]->id));
        if (!sp->parents[k])
            return ROSTER_ENOMEM;
        sp->nparents++;
    }
    return 0;
}

/* The version's files and since when this process has served it: kept
 * from the previous snapshot while the digest is the same (the history
 * store and GET .../versions report them). */
static int version_files(struct roster_sprofile *sp, const struct roster_profile *p,
                         const struct roster_sprofile *old, double now)
{
    if (old && old->ok && old->lineage_files && strcmp(old->good_key, sp->good_key) == 0) {
        sp->lineage_files = json_incref(old->lineage_files);
        sp->first_seen = old->first_seen;
        return 0;
    }
    sp->first_seen = now;
    sp->lineage_files = json_array();
    int r = sp->lineage_files ? 0 : ROSTER_ENOMEM;
    for (size_t c = 0; r == 0 && c < p->nchain; c++)
        r = roster_json_push(sp->lineage_files, json_pack("{s:s,s:s}", "path", p->chain[c]->relpath,
                                                          "sha256", p->chain[c]->sha256));
    return r < 0 ? ROSTER_ENOMEM : 0;
}

static int build_ok(struct roster_sprofile *sp, const struct roster_profile *p, int strict,
                    const struct roster_sprofile *old, double now)
{
    sp->ok = 1;
    sp->resolved = p;
    int r = set_parents(sp, p->parents, p->nparents);
    /* the same documents merged the same way with the same diagnostics:
     * the same digest, without hashing it again */
    if (r == 0 && p->carried && old && old->ok && !old->stale &&
        json_equal(old->diagnostics, sp->diagnostics))
        memcpy(sp->key, old->key, sizeof(sp->key));
    else if (r == 0)
        r = lineage_key(sp, p, strict);
    memcpy(sp->good_key, sp->key, sizeof(sp->key));
    if (r == 0)
        r = version_files(sp, p, old, now);
    if (r < 0)
        return r;
    /* the same lineage: the same summary, search text and rendered bytes */
    if (old && old->cache && !old->stale && strcmp(old->key, sp->key) == 0) {
        sp->summary = json_incref(old->summary);
        sp->cache = roster_cache_ref(old->cache);
        sp->haystack = old->haystack; /* the shared cache's */
        return 0;
    }
    sp->summary = roster_render_summary_of(p);
    sp->cache = roster_cache_new();
    r = sp->summary && sp->cache ? roster_sprofile_set_digest(sp, sp->summary) : ROSTER_ENOMEM;
    return r == 0 ? haystack_resolved(sp, p) : r;
}

/* A stale profile's representations, rendered now from the last good
 * version's (which the previous snapshot renders if it had not yet). */
static int stale_reps(const struct roster_snapshot *prev, const struct roster_sprofile *old,
                      struct roster_sprofile *sp, json_t *profile)
{
    int r = 0;
    char tag[65];
    for (int k = 0; k < ROSTER_REP_COUNT && r == 0; k++) {
        const struct roster_rep *o = NULL;
        struct roster_rep *rep = roster_calloc(1, sizeof(*rep));
        roster_sprofile_tag(sp, k, tag);
        if (!rep)
            return ROSTER_ENOMEM;
        if (k == ROSTER_VIEW_PROFILE) {
            r = roster_snapshot_rep_json(rep, profile, tag);
        } else if (k == ROSTER_VIEW_PROMPT || k == ROSTER_VIEW_SOURCE ||
                   k == ROSTER_REP_PROMPT_JSON) {
            r = roster_snapshot_rep(prev, old, k, &o);
            if (r == 0)
                r = roster_rep_init(rep, roster_strndup(o->body, o->len), o->len, o->ctype, tag);
        } else {
            json_t *j = roster_render_view(profile, (enum roster_view)k);
            r = roster_snapshot_rep_json(rep, j, tag);
            json_decref(j);
        }
        r = r == 0 ? roster_cache_put(sp->cache, k, rep) : r;
        if (r < 0) {
            roster_rep_release(rep);
            roster_free(rep);
        }
    }
    return r;
}

/* The cache of the last good version of old (old's own, or the one it
 * kept when it went stale) with the representations a client can pin by
 * its digest (GET .../versions/{digest}: the profile and the prompt, as
 * Markdown and JSON) rendered: the same bytes as when it was current. */
static struct roster_cache *good_cache_of(const struct roster_snapshot *prev,
                                          const struct roster_sprofile *old)
{
    if (old->stale)
        return roster_cache_ref(old->good_cache);
    static const int pinned[] = {ROSTER_VIEW_PROFILE, ROSTER_VIEW_PROMPT, ROSTER_REP_PROMPT_JSON};
    const struct roster_rep *rep;
    for (size_t k = 0; k < sizeof(pinned) / sizeof(pinned[0]); k++)
        if (roster_snapshot_rep(prev, old, pinned[k], &rep) < 0)
            return NULL;
    return roster_cache_ref(old->cache);
}

/* Last known good: serve the previous version, stale, with new diagnostics. */
static int build_stale(struct roster_sprofile *sp, const struct roster_snapshot *prev,
                       const struct roster_sprofile *old)
{
    sp->ok = 1;
    sp->stale = 1;
    sp->lineage_files = json_incref(old->lineage_files);
    sp->first_seen = old->first_seen;
    /* a copy of the last good object (never parsed back from its bytes:
     * jansson's parser drops characters when memory runs out) */
    json_t *was = roster_snapshot_profile(prev, old);
    json_t *profile = was ? json_deep_copy(was) : NULL;
    json_decref(was);
    int r = profile ? 0 : ROSTER_ENOMEM;
    if (r == 0 && (json_object_set_new(profile, "stale", json_true()) ||
                   json_object_set(profile, "diagnostics", sp->diagnostics)))
        r = ROSTER_ENOMEM;
    if (r == 0) {
        sp->parents = roster_calloc(old->nparents ? old->nparents : 1, sizeof(char *));
        r = sp->parents ? 0 : ROSTER_ENOMEM;
        for (size_t k = 0; r == 0 && k < old->nparents; k++) {
            sp->parents[k] = roster_strndup(old->parents[k], strlen(old->parents[k]));
            r = sp->parents[k] ? 0 : ROSTER_ENOMEM;
            sp->nparents += r == 0;
        }
    }
    if (r == 0) {
        /* the last good digest, this state and these diagnostics */
        char *diags = json_dumps(sp->diagnostics, JSON_COMPACT);
        struct roster_buf b;
        roster_buf_init(&b, (size_t)16 << 20);
        memcpy(sp->good_key, old->good_key, sizeof(sp->good_key));
        r = diags ? roster_buf_printf(&b, "%s\nstale\n%s", sp->good_key, diags) : ROSTER_ENOMEM;
        if (r == 0)
            roster_sha256_hex(b.data, b.len, sp->key);
        roster_buf_release(&b);
        roster_free(diags);
    }
    if (r == 0) {
        sp->summary = roster_render_summary(profile);
        sp->cache = roster_cache_new();
        r = sp->summary && sp->cache ? roster_sprofile_set_digest(sp, sp->summary) : ROSTER_ENOMEM;
    }
    if (r == 0)
        r = haystack_rendered(sp, profile);
    if (r == 0)
        r = stale_reps(prev, old, sp, profile);
    /* POST .../prompt renders with the last good template: made now, while
     * the last good resolution is alive, and kept with its cache, which
     * also serves the last good version by its digest */
    const struct roster_template *t = NULL;
    if (r == 0) {
        (void)roster_snapshot_template(prev, old, &t); /* none: POST answers 500 */
        sp->good_cache = good_cache_of(prev, old);
        r = sp->good_cache ? 0 : ROSTER_ENOMEM;
    }
    sp->stale_profile = profile;
    return r < 0 ? r : 0;
}

/* Why a stale profile is stale, in words, from the error diagnostics that
 * made it unresolvable: its own file's, and through extends.parent_invalid
 * its parents' in turn (at most one more level per hop). */
#define STALE_REASON_MAX 480 /* bytes of reason in the Warning header */
#define STALE_MESSAGE_MAX 200 /* bytes of one diagnostic's message */

static int describe_file(struct roster_buf *b, const struct roster_snapshot *s, const json_t *diags,
                         int depth);

/* The first "quoted" name in a resolver message when what follows it is
 * `after` (`extends "x": ...`, `parent "x" (file) ...`); 0 when it is not
 * (a name with a quote in it): the message is then used as it is. */
static int quoted_name(const char *msg, const char *after, const char **name, int *len)
{
    const char *a = msg ? strchr(msg, '"') : NULL;
    const char *e = a ? strchr(a + 1, '"') : NULL;
    if (!e || e - a - 1 > 4096 || strncmp(e + 1, after, strlen(after)) != 0)
        return 0;
    *name = a + 1;
    *len = (int)(e - a - 1);
    return 1;
}

static int is_resolver_code(const char *code)
{
    static const char *const codes[] = {"extends.missing",        "extends.ambiguous",
                                        "extends.parent_invalid", "extends.cycle",
                                        "extends.too_deep",       NULL};
    for (const char *const *c = codes; *c; c++)
        if (strcmp(code, *c) == 0)
            return 1;
    return 0;
}

/* `file:line: message` of the first of the file's own errors (not the
 * resolver's), and how many more there are; 0 when there are none. */
static size_t own_errors(const json_t *diags, const json_t **first)
{
    size_t i, n = 0;
    const json_t *g;
    *first = NULL;
    json_array_foreach(diags, i, g)
    {
        const char *sev = json_string_value(json_object_get(g, "severity"));
        const char *code = json_string_value(json_object_get(g, "code"));
        if (!sev || strcmp(sev, "error") != 0 || !code || is_resolver_code(code))
            continue;
        if (!n++)
            *first = g;
    }
    return n;
}

static int put_own_errors(struct roster_buf *b, const json_t *first, size_t n)
{
    const char *file = json_string_value(json_object_get(first, "file"));
    const char *msg = json_string_value(json_object_get(first, "message"));
    json_int_t line = json_integer_value(json_object_get(first, "line"));
    int r = roster_buf_printf(b, "has errors (%s", file ? file : "?");
    if (r == 0 && line > 0)
        r = roster_buf_printf(b, ":%lld", (long long)line);
    if (r == 0)
        r = roster_buf_printf(b, ": %.*s", STALE_MESSAGE_MAX, msg ? msg : "");
    if (r == 0 && n > 1)
        r = roster_buf_printf(b, "; and %zu more", n - 1);
    return r == 0 ? roster_buf_putc(b, ')') : r;
}

/* One resolver diagnostic: what it says about the profile whose parent is
 * named in it. depth 0: the stale profile itself. */
static int describe_resolver(struct roster_buf *b, const struct roster_snapshot *s,
                             const char *code, const char *msg, int depth)
{
    const char *name;
    int len;
    const char *who = depth ? "its parent" : "parent";
    if (strcmp(code, "extends.missing") == 0 && quoted_name(msg, ": ", &name, &len))
        return roster_buf_printf(b, "%s %.*s is missing", who, len, name);
    if (strcmp(code, "extends.ambiguous") == 0 && quoted_name(msg, " matches ", &name, &len))
        return roster_buf_printf(b, "%s %.*s matches several files", who, len, name);
    if (strcmp(code, "extends.parent_invalid") == 0 && quoted_name(msg, " (", &name, &len)) {
        const struct roster_sprofile *p = roster_snapshot_find(s, name, (size_t)len);
        int r = roster_buf_printf(b, "%s %.*s ", who, len, name);
        if (r == 0 && p && depth < ROSTER_MAX_HOPS)
            r = describe_file(b, s, p->diagnostics, depth + 1);
        else if (r == 0)
            r = roster_buf_puts(b, "has errors");
        return r;
    }
    return roster_buf_printf(b, "%.*s", STALE_MESSAGE_MAX, msg ? msg : code);
}

/* Why the profile with these (own file's) diagnostics is not resolved:
 * "the profile file has errors (...)" or the resolver's causes, joined by
 * "; ". At depth > 0 it continues "parent X ": "has errors (...)" or
 * "cannot be resolved: its parent Y is missing". */
static int describe_file(struct roster_buf *b, const struct roster_snapshot *s, const json_t *diags,
                         int depth)
{
    const json_t *first;
    size_t own = own_errors(diags, &first);
    if (own) {
        int r = depth ? 0 : roster_buf_puts(b, "the profile file ");
        return r == 0 ? put_own_errors(b, first, own) : r;
    }
    int r = depth ? roster_buf_puts(b, "cannot be resolved: ") : 0;
    size_t i, n = 0;
    const json_t *g;
    json_array_foreach(diags, i, g)
    {
        const char *sev = json_string_value(json_object_get(g, "severity"));
        const char *code = json_string_value(json_object_get(g, "code"));
        if (r < 0 || !sev || strcmp(sev, "error") != 0 || !code)
            continue;
        if (n++)
            r = roster_buf_puts(b, "; ");
        if (r == 0)
            r = describe_resolver(b, s, code, json_string_value(json_object_get(g, "message")),
                                  depth);
    }
    if (r == 0 && !n) /* its errors were dropped (over ROSTER_DIAGS_MAX) */
        r = roster_buf_puts(b, depth ? "has errors" : "the profile has errors");
    return r;
}

/* The Warning header of a stale profile: warn-code 299, the agent, and a
 * quoted-string of printable ASCII (quotes and backslashes escaped, other
 * bytes '?'), the reason cut at STALE_REASON_MAX bytes. */
static int stale_warning(struct roster_sprofile *sp, const struct roster_snapshot *s)
{
    struct roster_buf why, w;
    roster_buf_init(&why, 2 * STALE_REASON_MAX);
    roster_buf_init(&w, (size_t)8 << 10);
    int r = describe_file(&why, s, sp->diagnostics, 0);
    int cut = r == ROSTER_E2BIG || why.len > STALE_REASON_MAX;
    if (r == ROSTER_E2BIG)
        r = 0;
    if (r == 0)
        r = roster_buf_puts(&w, "299 rosterd \"stale: ");
    size_t n = why.len > STALE_REASON_MAX ? STALE_REASON_MAX : why.len;
    for (size_t k = 0; r == 0 && k < n; k++) {
        unsigned char c = (unsigned char)why.data[k];
        if (c >= 0x80 && (c & 0xc0) == 0x80)
            continue; /* a UTF-8 continuation byte: its lead byte became '?' */
        if (c == '"' || c == '\\')
            r = roster_buf_putc(&w, '\\');
        if (r == 0)
            r = roster_buf_putc(&w, c >= 0x80 ? '?' : c < 0x20 || c == 0x7f ? ' ' : (char)c);
    }
    if (r == 0)
        r = roster_buf_puts(&w, cut ? "...; serving its last good version\""
                                    : "; serving its last good version\"");
    if (r == 0) {
        sp->stale_warning = roster_buf_steal(&w, NULL);
        r = sp->stale_warning ? 0 : ROSTER_ENOMEM;
    }
    roster_buf_release(&why);
    roster_buf_release(&w);
    return r;
}

static int cmp_sprofile(const void *a, const void *b)
{
    return strcmp(((const struct roster_sprofile *)a)->id, ((const struct roster_sprofile *)b)->id);
}

static int build_profiles(struct roster_snapshot *s, struct roster_index *ix,
                          struct roster_resolution *res, const struct roster_snapshot *prev,
                          int strict)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    double now = (double)ts.tv_sec + (double)(ts.tv_nsec / 1000000) / 1000.0; /* ms */
    s->profiles = roster_calloc(ix->ndocs ? ix->ndocs : 1, sizeof(*s->profiles));
    if (!s->profiles)
        return ROSTER_ENOMEM;
    for (size_t i = 0; i < ix->ndocs; i++) {
        struct roster_doc *d = ix->docs[i];
        if (d->duplicate)
            continue; /* the id belongs to the file that sorts first */
        struct roster_sprofile *sp = &s->profiles[s->n++];
        sp->id = roster_strndup(d->id, strlen(d->id));
        sp->file = roster_strndup(d->relpath, strlen(d->relpath));
        sp->source_sha256 = roster_strndup(d->sha256, strlen(d->sha256));
        sp->diagnostics = file_diagnostics(ix->diags, d->relpath);
        if (!sp->id || !sp->file || !sp->source_sha256 || !sp->diagnostics)
            return ROSTER_ENOMEM;
        int r = 0;
        const struct roster_sprofile *old =
            prev ? roster_snapshot_find(prev, d->id, strlen(d->id)) : NULL;
        if (res->profiles[i].ok) {
            r = build_ok(sp, &res->profiles[i], strict, old, now);
            s->carried += old && sp->cache == old->cache;
        } else if (old && old->ok && strcmp(old->file, d->relpath) == 0) {
            r = build_stale(sp, prev, old);
        }
        if (r < 0)
            return r;
        s->served += sp->ok;
        s->stale += sp->stale;
        s->invalid += !sp->ok; /* not served: errors and no last good version */
    }
    qsort(s->profiles, s->n, sizeof(*s->profiles), cmp_sprofile);
    s->by_id = roster_map_new(s->n);
    if (!s->by_id)
        return ROSTER_ENOMEM;
    for (size_t i = 0; i < s->n; i++) {
        int r =
            roster_map_put(s->by_id, s->profiles[i].id, strlen(s->profiles[i].id), &s->profiles[i]);
        if (r < 0)
            return r;
    }
    /* with every profile in place: a stale one's reason may name its parents' */
    for (size_t i = 0; i < s->n; i++) {
        int r = s->profiles[i].stale ? stale_warning(&s->profiles[i], s) : 0;
        if (r < 0)
            return r;
    }
    return 0;
}

int roster_snapshot_build(struct roster_snapshot **out, const struct roster_snapshot_opts *opts,
                          struct roster_error *err)
{
    double t0 = roster_now_mono();
    struct roster_index *ix = NULL;
    struct roster_resolution *res = NULL;
    /* files unchanged since the previous snapshot are not read again */
    struct roster_scan_opts so = {.strict_markdown = opts->strict_markdown,
                                  .threads = opts->index_threads,
                                  .previous = opts->previous ? opts->previous->ix : NULL,
                                  .progress = opts->progress,
                                  .cancel = opts->cancel};
    struct roster_snapshot *s = roster_calloc(1, sizeof(*s));
    if (!s)
        return roster_error_set(err, ROSTER_ENOMEM, NULL, 0, 0, "out of memory");
    s->refs = 1;
    s->generation = opts->generation;
    s->strict_markdown = opts->strict_markdown;
    snprintf(s->generation_text, sizeof(s->generation_text), "%llu",
             (unsigned long long)opts->generation);
    int r = roster_scan(&ix, opts->dir, &so, err);
    if (r < 0)
        goto out;
    r = roster_resolve_from(&res, ix, opts->previous ? opts->previous->res : NULL);
    if (r == 0)
        r = build_profiles(s, ix, res, opts->previous, opts->strict_markdown);
    if (r == 0)
        r = roster_snapshot_build_indexes(s, ix->diags);
    if (r == 0)
        r = roster_snapshot_build_aliases(s, ix);
    if (r < 0) {
        roster_error_set(err, r, opts->dir, 0, 0, "out of memory while building the snapshot");
        goto out;
    }
    s->ix = ix; /* kept: lazy rendering reads them */
    s->res = res;
    ix = NULL;
    res = NULL;
    if (opts->prerender) {
        r = roster_snapshot_prerender(s, opts->cancel);
        if (r < 0) {
            roster_error_set(err, r, opts->dir, 0, 0, "%s",
                             r == ROSTER_ECANCELED ? "cancelled" : "out of memory while rendering");
            goto out;
        }
    }
    s->build_seconds = roster_now_mono() - t0;
    s->built_at = (double)time(NULL);
    *out = s;
    s = NULL;
out:
    roster_resolution_free(res);
    roster_index_free(ix);
    roster_snapshot_unref(s);
    return r;
}

struct roster_snapshot *roster_snapshot_ref(struct roster_snapshot *s)
{
    if (s)
        atomic_fetch_add(&s->refs, 1);
    return s;
}

/* Frees what sp holds (sp is an element of the snapshot's array). */
static void sprofile_release(struct roster_sprofile *sp)
{
    char *strings[] = {sp->id, sp->file, sp->source_sha256,
                       sp->stale_warning}; /* the haystack is the cache's */
    json_t *trees[] = {sp->summary, sp->stale_profile, sp->diagnostics, sp->lineage_files};
    for (size_t k = 0; k < sizeof(strings) / sizeof(strings[0]); k++)
        roster_free(strings[k]);
    for (size_t k = 0; k < sizeof(trees) / sizeof(trees[0]); k++)
        json_decref(trees[k]);
    roster_free_strv(sp->parents, sp->nparents);
    roster_cache_unref(sp->cache);
    roster_cache_unref(sp->good_cache);
}

void roster_snapshot_unref(struct roster_snapshot *s)
{
    if (!s || atomic_fetch_sub(&s->refs, 1) > 1)
        return;
    for (size_t i = 0; i < s->n; i++)
        sprofile_release(&s->profiles[i]);
    roster_free(s->profiles);
    roster_map_free(s->by_id);
    roster_map_free(s->by_stem);
    for (size_t i = 0; i < s->naliases; i++)
        json_decref(s->aliases[i].candidates);
    roster_free(s->aliases);
    roster_rep_release(&s->list_default);
    roster_rep_release(&s->facets);
    roster_rep_release(&s->diagnostics);
    for (int k = 0; k < 3; k++)
        roster_rep_release(&s->diagnostics_sev[k]);
    json_decref(s->diag_items);
    roster_resolution_free(s->res);
    roster_index_free(s->ix);
    roster_free(s);
}

const struct roster_sprofile *roster_snapshot_find(const struct roster_snapshot *s, const char *id,
                                                   size_t len)
{
    return roster_map_get(s->by_id, id, len);
}
