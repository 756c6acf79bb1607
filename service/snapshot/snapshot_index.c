/* Snapshot-wide documents, rendered once: the default listing, facets and
 * diagnostics (all, and per severity). */
#include "snapshot_internal.h"

#include <jansson.h>
#include <string.h>

#include "roster_base.h"
#include "roster_json.h"
#include "roster_diag.h"
#include "roster_query.h"

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
