/* Snapshot-wide documents, rendered once: the default listing, facets and
 * diagnostics (all, and per severity); and the file stem aliases. */
#include "snapshot_internal.h"

#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "roster_base.h"
#include "roster_json.h"
#include "roster_diag.h"
#include "roster_doc.h"
#include "roster_index.h"
#include "roster_map.h"
#include "roster_query.h"
#include "roster_text.h"

/* A snapshot-wide document: its ETag is the hash of its bytes. */
static int rep_from(struct roster_rep *r, json_t *j)
{
    int e = roster_snapshot_rep_json(r, j, NULL);
    json_decref(j);
    return e;
}

static int count(json_t *obj, const char *key)
{
    if (!key)
        return 0;
    json_t *v = json_object_get(obj, key);
    json_int_t n = v ? json_integer_value(v) : 0;
    return json_object_set_new(obj, key, json_integer(n + 1));
}

static json_t *facets(const struct roster_snapshot *s)
{
    json_t *cat = json_object(), *role = json_object(), *ext = json_object();
    int bad = !cat || !role || !ext;
    for (size_t i = 0; !bad && i < s->n; i++) {
        const struct roster_sprofile *sp = &s->profiles[i];
        if (!sp->ok)
            continue;
        bad |= count(cat, json_string_value(json_object_get(sp->summary, "category")));
        bad |= count(role, json_string_value(json_object_get(sp->summary, "role")));
        for (size_t k = 0; k < sp->nparents; k++)
            bad |= count(ext, sp->parents[k]);
    }
    return json_pack("{s:o, s:o, s:o}", "categories", cat, "roles", role, "extends",
                     roster_json_unless(bad, ext));
}

/* {"items", "total", "counts"} of the diagnostics of one severity (or all
 * when sev < 0). */
static json_t *diag_doc(const struct roster_snapshot *s, int sev)
{
    json_t *items = json_array(), *counts = json_object();
    int bad = !items || !counts;
    size_t i;
    json_t *g;
    json_array_foreach(s->diag_items, i, g)
    {
        const char *name = json_string_value(json_object_get(g, "severity"));
        if (sev >= 0 && strcmp(name, roster_severity_name((enum roster_severity)sev)) != 0)
            continue;
        bad |= json_array_append(items, g);
    }
    for (int k = 0; k < 3 && !bad; k++)
        bad |= json_object_set_new(counts, roster_severity_name((enum roster_severity)k),
                                   json_integer((json_int_t)s->diag_counts[k]));
    return json_pack("{s:o, s:I, s:o}", "items", items, "total", (json_int_t)json_array_size(items),
                     "counts", roster_json_unless(bad, counts));
}

int roster_snapshot_build_indexes(struct roster_snapshot *s, const struct roster_diags *diags)
{
    s->diag_items = json_array();
    if (!s->diag_items)
        return ROSTER_ENOMEM;
    for (size_t i = 0; i < roster_diags_count(diags); i++) {
        const struct roster_diag *g = roster_diags_get(diags, i);
        s->diag_counts[g->severity]++;
        if (json_array_append_new(s->diag_items, roster_diag_to_json(g)))
            return ROSTER_ENOMEM;
    }
    struct roster_list_query q = {.limit = ROSTER_LIST_DEFAULT_LIMIT};
    int r = rep_from(&s->list_default, roster_query_list(s, &q));
    if (r == 0)
        r = rep_from(&s->facets, facets(s));
    if (r == 0)
        r = rep_from(&s->diagnostics, diag_doc(s, -1));
    for (int k = 0; k < 3 && r == 0; k++)
        r = rep_from(&s->diagnostics_sev[k], diag_doc(s, k));
    return r;
}

/* The alias of the stem whose files are, by path, first, next[first], ...
 * (count of them): the profile the one file serves, or the candidates. 0
 * with a->profile and a->candidates NULL when it stands for nothing
 * servable (its file lost its id to another file, or has no valid id). */
static int alias_of(const struct roster_snapshot *s, const struct roster_index *ix, size_t first,
                    const size_t *next, size_t count, struct roster_alias *a)
{
    a->nfiles = count;
    if (count == 1) {
        const struct roster_doc *d = ix->docs[first];
        const struct roster_sprofile *sp =
            d->duplicate ? NULL : roster_snapshot_find(s, d->id, strlen(d->id));
        if (sp && strcmp(sp->file, d->relpath) == 0)
            a->profile = sp;
        return 0;
    }
    a->candidates = json_array();
    int bad = !a->candidates;
    for (size_t k = first; !bad && k != SIZE_MAX; k = next[k]) {
        const struct roster_doc *d = ix->docs[k];
        if (json_array_size(a->candidates) == ROSTER_ALIAS_MAX_CANDIDATES)
            break;
        /* ids are ASCII; a path that is not UTF-8 cannot be a JSON string */
        if (roster_utf8_check(d->relpath, strlen(d->relpath)) != strlen(d->relpath))
            continue;
        bad = roster_json_push(a->candidates,
                               json_pack("{s:s, s:s}", "id", d->id, "file", d->relpath));
    }
    if (bad) {
        json_decref(a->candidates);
        a->candidates = NULL;
    }
    return bad ? ROSTER_ENOMEM : 0;
}

int roster_snapshot_build_aliases(struct roster_snapshot *s, const struct roster_index *ix)
{
    size_t n = ix->ndocs;
    /* stem -> its first file (index + 1); the files of a stem are chained
     * in path order through next, so the whole build is one pass */
    struct roster_map *first = roster_map_new(n);
    size_t *next = roster_malloc((n ? n : 1) * sizeof(size_t));
    size_t *last = roster_malloc((n ? n : 1) * sizeof(size_t));
    size_t *count = roster_calloc(n ? n : 1, sizeof(size_t));
    s->aliases = roster_calloc(n ? n : 1, sizeof(*s->aliases));
    s->by_stem = roster_map_new(n);
    int r = first && next && last && count && s->aliases && s->by_stem ? 0 : ROSTER_ENOMEM;
    for (size_t i = 0; r == 0 && i < n; i++) {
        const char *stem = ix->docs[i]->stem;
        next[i] = SIZE_MAX;
        /* a stem that is not an id cannot be asked for (400 invalid_id) */
        if (!roster_id_valid(stem, strlen(stem)))
            continue;
        size_t f = (size_t)(uintptr_t)roster_map_get(first, stem, strlen(stem));
        if (f) {
            next[last[f - 1]] = i;
            last[f - 1] = i;
            count[f - 1]++;
            continue;
        }
        r = roster_map_put(first, stem, strlen(stem), (void *)(uintptr_t)(i + 1));
        last[i] = i;
        count[i] = 1;
    }
    for (size_t i = 0; r == 0 && i < n; i++) {
        const char *stem = ix->docs[i]->stem;
        /* an id always wins over a stem: such a name is never an alias */
        if (!count[i] || roster_snapshot_find(s, stem, strlen(stem)))
            continue;
        struct roster_alias *a = &s->aliases[s->naliases];
        r = alias_of(s, ix, i, next, count[i], a);
        if (r == 0 && (a->profile || a->candidates)) {
            s->naliases++;
            r = roster_map_put(s->by_stem, stem, strlen(stem), a);
        }
    }
    roster_map_free(first);
    roster_free(next);
    roster_free(last);
    roster_free(count);
    return r;
}

const struct roster_alias *roster_snapshot_alias(const struct roster_snapshot *s, const char *name,
                                                 size_t len)
{
    return s->by_stem ? roster_map_get(s->by_stem, name, len) : NULL;
}
