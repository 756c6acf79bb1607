/* Building a snapshot: index, resolve, render every representation once.
 * Last known good: a profile that was served by the previous snapshot and
 * is now invalid keeps its previous content, marked stale, with the new
 * diagnostics. */
#include "roster_snapshot.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "roster_base.h"
#include "roster_diag.h"
#include "roster_doc.h"
#include "roster_index.h"
#include "roster_scan.h"
#include "roster_map.h"
#include "roster_render.h"
#include "roster_resolve.h"
#include "snapshot_internal.h"

#define CT_JSON "application/json"
#define CT_MARKDOWN "text/markdown; charset=utf-8"

static int rep_json(struct roster_rep *r, const json_t *j, uint64_t gen)
{
    size_t len = 0;
    char *s = j ? roster_render_dump(j, &len) : NULL;
    return roster_rep_init(r, s, len, CT_JSON, gen);
}

static int rep_copy(struct roster_rep *r, const char *s, size_t len, const char *ct, uint64_t gen)
{
    return roster_rep_init(r, roster_strndup(s, len), len, ct, gen);
}

/* Lower-cased id, name, description, competency names, section titles. */
static int make_haystack(struct roster_sprofile *sp)
{
    struct roster_buf b;
    roster_buf_init(&b, (size_t)16 << 20);
    const json_t *p = sp->profile;
    static const char *const keys[] = {"id", "name", "description", NULL};
    int r = 0;
    for (const char *const *k = keys; *k && r == 0; k++) {
        const char *v = json_string_value(json_object_get(p, *k));
        if (v)
            r = roster_buf_printf(&b, "%s\n", v);
    }
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(p, "competencies"), i, it)
    {
        const char *v = json_string_value(json_object_get(it, "name"));
        if (v && r == 0)
            r = roster_buf_printf(&b, "%s\n", v);
    }
    json_array_foreach(json_object_get(p, "sections"), i, it)
    {
        const char *v = json_string_value(json_object_get(it, "title"));
        if (v && r == 0)
            r = roster_buf_printf(&b, "%s\n", v);
    }
    for (size_t k = 0; r == 0 && k < b.len; k++)
        if (b.data[k] >= 'A' && b.data[k] <= 'Z')
            b.data[k] = (char)(b.data[k] - 'A' + 'a');
    if (r == 0)
        sp->haystack = roster_buf_steal(&b, NULL);
    roster_buf_release(&b);
    return r < 0 ? r : (sp->haystack ? 0 : ROSTER_ENOMEM);
}

/* Renders every representation of a served profile from its JSON object. */
static int render_reps(struct roster_sprofile *sp, const char *prompt, size_t prompt_len,
                       const char *source, size_t source_len, const json_t *prompt_doc,
                       uint64_t gen)
{
    int r = 0;
    for (int v = 0; v < ROSTER_VIEW_COUNT && r == 0; v++) {
        if (v == ROSTER_VIEW_PROMPT)
            r = rep_copy(&sp->reps[v], prompt, prompt_len, CT_MARKDOWN, gen);
        else if (v == ROSTER_VIEW_SOURCE)
            r = rep_copy(&sp->reps[v], source, source_len, CT_MARKDOWN, gen);
        else if (v == ROSTER_VIEW_PROFILE)
            r = rep_json(&sp->reps[v], sp->profile, gen);
        else {
            json_t *j = roster_render_view(sp->profile, (enum roster_view)v);
            r = rep_json(&sp->reps[v], j, gen);
            json_decref(j);
        }
    }
    if (r == 0)
        r = rep_json(&sp->prompt_json, prompt_doc, gen);
    if (r == 0) {
        sp->summary = roster_render_summary(sp->profile);
        if (!sp->summary)
            r = ROSTER_ENOMEM;
    }
    return r == 0 ? make_haystack(sp) : r;
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

static int build_ok(struct roster_sprofile *sp, const struct roster_profile *p,
                    const struct roster_diags *diags, uint64_t gen)
{
    sp->ok = 1;
    sp->profile = roster_render_profile(p, diags);
    json_t *prompt_doc = roster_render_prompt(p);
    int r = sp->profile && prompt_doc ? 0 : ROSTER_ENOMEM;
    if (r == 0)
        r = set_parents(sp, p->parents, p->nparents);
    char *prompt = r == 0 ? roster_profile_prompt(p) : NULL;
    if (r == 0 && !prompt)
        r = ROSTER_ENOMEM;
    if (r == 0)
        r = render_reps(sp, prompt, p->prompt_len, p->doc->raw, p->doc->raw_len, prompt_doc, gen);
    roster_free(prompt);
    json_decref(prompt_doc);
    return r;
}

/* Last known good: serve the previous version, stale, with new diagnostics. */
static int build_stale(struct roster_sprofile *sp, const struct roster_sprofile *old, uint64_t gen)
{
    sp->ok = 1;
    sp->stale = 1;
    sp->profile = json_deep_copy(old->profile);
    json_t *prompt_doc = json_loadb(old->prompt_json.body, old->prompt_json.len, 0, NULL);
    int r = sp->profile && prompt_doc ? 0 : ROSTER_ENOMEM;
    if (r == 0 && (json_object_set_new(sp->profile, "stale", json_true()) ||
                   json_object_set(sp->profile, "diagnostics", sp->diagnostics)))
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
    const struct roster_rep *pr = &old->reps[ROSTER_VIEW_PROMPT];
    const struct roster_rep *sr = &old->reps[ROSTER_VIEW_SOURCE];
    if (r == 0)
        r = render_reps(sp, pr->body, pr->len, sr->body, sr->len, prompt_doc, gen);
    json_decref(prompt_doc);
    return r;
}

static int cmp_sprofile(const void *a, const void *b)
{
    return strcmp(((const struct roster_sprofile *)a)->id, ((const struct roster_sprofile *)b)->id);
}

static int build_profiles(struct roster_snapshot *s, struct roster_index *ix,
                          struct roster_resolution *res, const struct roster_snapshot *prev)
{
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
        if (res->profiles[i].ok)
            r = build_ok(sp, &res->profiles[i], ix->diags, s->generation);
        else if (old && old->ok && strcmp(old->file, d->relpath) == 0)
            r = build_stale(sp, old, s->generation);
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
    return 0;
}

int roster_snapshot_build(struct roster_snapshot **out, const struct roster_snapshot_opts *opts,
                          struct roster_error *err)
{
    double t0 = roster_now_mono();
    struct roster_index *ix = NULL;
    struct roster_resolution *res = NULL;
    struct roster_index_opts io = {.strict_markdown = opts->strict_markdown};
    struct roster_snapshot *s = roster_calloc(1, sizeof(*s));
    if (!s)
        return roster_error_set(err, ROSTER_ENOMEM, NULL, 0, 0, "out of memory");
    s->refs = 1;
    s->generation = opts->generation;
    int r = roster_scan_dir(&ix, opts->dir, &io, err);
    if (r < 0)
        goto out;
    r = roster_resolve(&res, ix);
    if (r == 0)
        r = build_profiles(s, ix, res, opts->previous);
    if (r == 0)
        r = roster_snapshot_build_indexes(s, ix->diags);
    if (r < 0) {
        roster_error_set(err, r, opts->dir, 0, 0, "out of memory while building the snapshot");
        goto out;
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
    roster_free(sp->id);
    roster_free(sp->file);
    roster_free(sp->source_sha256);
    json_decref(sp->profile);
    json_decref(sp->summary);
    json_decref(sp->diagnostics);
    roster_free(sp->haystack);
    for (size_t k = 0; k < sp->nparents; k++)
        roster_free(sp->parents[k]);
    roster_free(sp->parents);
    for (int v = 0; v < ROSTER_VIEW_COUNT; v++)
        roster_rep_release(&sp->reps[v]);
    roster_rep_release(&sp->prompt_json);
}

void roster_snapshot_unref(struct roster_snapshot *s)
{
    if (!s || atomic_fetch_sub(&s->refs, 1) > 1)
        return;
    for (size_t i = 0; i < s->n; i++)
        sprofile_release(&s->profiles[i]);
    roster_free(s->profiles);
    roster_map_free(s->by_id);
    roster_rep_release(&s->list_default);
    roster_rep_release(&s->facets);
    roster_rep_release(&s->diagnostics);
    for (int k = 0; k < 3; k++)
        roster_rep_release(&s->diagnostics_sev[k]);
    json_decref(s->diag_items);
    roster_free(s);
}

const struct roster_sprofile *roster_snapshot_find(const struct roster_snapshot *s, const char *id,
                                                   size_t len)
{
    return roster_map_get(s->by_id, id, len);
}
