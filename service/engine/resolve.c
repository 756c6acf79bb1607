/* Resolving `extends` across the index: parent lookup (exact id, else a
 * unique file stem), then a topological pass (Kahn) that finalizes every
 * profile after its parents, so each failure has one specific cause. */
#include "roster_resolve.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "roster_base.h"
#include "roster_diag.h"
#include "roster_doc.h"
#include "roster_ignore.h"
#include "roster_index.h"
#include "roster_map.h"
#include "roster_text.h"
#include "resolve_internal.h"

enum { ST_PENDING, ST_OK, ST_FAILED };

struct node {
    size_t *parents; /* doc indices */
    size_t nparents;
    size_t *children;
    size_t nchildren, capchildren;
    size_t pending; /* parents not final yet */
    int state;
    int own_error; /* failed before resolution (parse error, bad extends) */
    unsigned hops;
    size_t order; /* position in the final topological order */
};

struct graph {
    struct roster_index *ix;
    struct node *nodes;
    struct roster_map *by_stem; /* stem -> first doc index + 1 */
    size_t *stem_count;
    struct roster_map *previous; /* id -> profile of the previous resolution */
};

static int error(struct graph *g, size_t i, const char *code, const char *fmt, const char *a,
                 const char *b)
{
    struct roster_doc *d = g->ix->docs[i];
    return roster_diags_add(g->ix->diags, ROSTER_SEV_ERROR, code, d->relpath,
                            d->extends_line ? d->extends_line : 1, 1, d->id, fmt, a, b);
}

/* "; did you mean ..." naming the ids and file names closest to a parent
 * name no profile has (bounded edit distance), or "" when none is close. */
static void suggest_parent(const struct graph *g, size_t self, const char *name, char *out,
                           size_t cap)
{
    size_t len = strlen(name), limit = len / 3 < 1 ? 1 : len / 3 > 3 ? 3 : len / 3;
    struct roster_nearest nr;
    roster_text_nearest_init(&nr, name, len, limit);
    for (size_t k = 0; k < g->ix->ndocs; k++) {
        if (k == self)
            continue;
        roster_text_nearest_offer(&nr, g->ix->docs[k]->id);
        roster_text_nearest_offer(&nr, g->ix->docs[k]->stem);
    }
    struct roster_buf b;
    roster_buf_init(&b, cap);
    out[0] = '\0';
    if (nr.n && roster_buf_puts(&b, "; did you mean ") == 0 &&
        roster_text_nearest_format(&nr, &b) == 0 && roster_buf_putc(&b, '?') == 0)
        snprintf(out, cap, "%s", b.data);
    roster_buf_release(&b);
}

/* Finds the parent named `name` for doc i; reports why when it cannot. */
static int lookup_parent(struct graph *g, size_t i, const char *name, size_t *out)
{
    struct roster_doc *p = roster_index_find(g->ix, name);
    if (p) {
        *out = p->pos;
        return 0;
    }
    size_t first = (size_t)(uintptr_t)roster_map_get(g->by_stem, name, strlen(name));
    if (!first) {
        char hint[3 * ROSTER_ID_MAX_BUF + 64];
        suggest_parent(g, i, name, hint, sizeof(hint));
        int r = error(g, i, "extends.missing",
                      "extends \"%s\": no profile has this id or file name%s", name, hint);
        return r < 0 ? r : 1;
    }
    if (g->stem_count[first - 1] > 1) {
        struct roster_buf b;
        roster_buf_init(&b, 4096);
        for (size_t k = 0; k < g->ix->ndocs; k++) {
            if (strcmp(g->ix->docs[k]->stem, name) != 0)
                continue;
            if (b.len)
                roster_buf_puts(&b, ", ");
            roster_buf_puts(&b, g->ix->docs[k]->relpath);
        }
        int r = error(g, i, "extends.ambiguous", "extends \"%s\" matches several files by name: %s",
                      name, b.data ? b.data : "");
        roster_buf_release(&b);
        return r < 0 ? r : 1;
    }
    *out = first - 1;
    return 0;
}

static int add_child(struct node *p, size_t child)
{
    if (p->nchildren == p->capchildren) {
        size_t cap = p->capchildren ? p->capchildren * 2 : 4;
        size_t *c = roster_realloc(p->children, cap * sizeof(*c));
        if (!c)
            return ROSTER_ENOMEM;
        p->children = c;
        p->capchildren = cap;
    }
    p->children[p->nchildren++] = child;
    return 0;
}

static int build_edges(struct graph *g, size_t i)
{
    struct roster_doc *d = g->ix->docs[i];
    struct node *n = &g->nodes[i];
    if (d->failed) {
        n->own_error = 1;
        return 0;
    }
    json_t *ext = json_object_get(d->meta, "extends");
    size_t count = json_is_string(ext) ? 1 : json_is_array(ext) ? json_array_size(ext) : 0;
    if (!count)
        return 0;
    n->parents = roster_calloc(count, sizeof(size_t));
    if (!n->parents)
        return ROSTER_ENOMEM;
    for (size_t k = 0; k < count; k++) {
        const char *name = json_string_value(json_is_string(ext) ? ext : json_array_get(ext, k));
        size_t p;
        int r = lookup_parent(g, i, name, &p);
        if (r < 0)
            return r;
        if (r > 0) {
            n->own_error = 1;
            continue;
        }
        n->parents[n->nparents++] = p;
        r = add_child(&g->nodes[p], i);
        if (r < 0)
            return r;
    }
    n->pending = n->nparents;
    return 0;
}

/* A node whose parents are all final becomes final itself. */
static int finalize(struct graph *g, size_t i)
{
    struct node *n = &g->nodes[i];
    if (n->own_error) {
        n->state = ST_FAILED;
        return 0;
    }
    unsigned hops = 0;
    for (size_t k = 0; k < n->nparents; k++) {
        struct node *p = &g->nodes[n->parents[k]];
        if (p->state != ST_OK) {
            n->state = ST_FAILED;
            struct roster_doc *pd = g->ix->docs[n->parents[k]];
            return error(g, i, "extends.parent_invalid",
                         "parent \"%s\" (%s) has errors, so this profile cannot be resolved",
                         pd->id, pd->relpath);
        }
        if (p->hops + 1 > hops)
            hops = p->hops + 1;
    }
    if (hops > ROSTER_MAX_HOPS) {
        n->state = ST_FAILED;
        char num[16];
        snprintf(num, sizeof(num), "%u", hops);
        return error(g, i, "extends.too_deep",
                     "the extends chain is %s hops long, over the limit of %s", num, "10");
    }
    n->hops = hops;
    n->state = ST_OK;
    return 0;
}

/* Reports a cycle through node i: follows pending parents until a node
 * repeats, then names the chain. Nodes downstream of a cycle are told
 * their parent is invalid. */
static int report_cycle(struct graph *g, size_t i, size_t *walk, size_t *seen_at)
{
    size_t len = 0, cur = i;
    for (;;) {
        if (seen_at[cur] != (size_t)-1)
            break;
        seen_at[cur] = len;
        walk[len++] = cur;
        struct node *n = &g->nodes[cur];
        size_t next = (size_t)-1;
        for (size_t k = 0; k < n->nparents; k++)
            if (g->nodes[n->parents[k]].state == ST_PENDING) {
                next = n->parents[k];
                break;
            }
        cur = next;
        if (cur == (size_t)-1)
            break;
    }
    int r = 0;
    if (cur != (size_t)-1 && cur == i) {
        struct roster_buf b;
        roster_buf_init(&b, 8192);
        for (size_t k = 0; k < len; k++)
            roster_buf_printf(&b, "%s -> ", g->ix->docs[walk[k]]->id);
        roster_buf_puts(&b, g->ix->docs[i]->id);
        r = error(g, i, "extends.cycle", "extends forms a cycle: %s%s", b.data ? b.data : "", "");
        roster_buf_release(&b);
    } else {
        r = error(g, i, "extends.parent_invalid",
                  "an ancestor of this profile is part of an extends cycle%s%s", "", "");
    }
    for (size_t k = 0; k < len; k++)
        seen_at[walk[k]] = (size_t)-1;
    return r;
}

static int build_stems(struct graph *g)
{
    size_t n = g->ix->ndocs;
    g->by_stem = roster_map_new(n);
    g->stem_count = roster_calloc(n ? n : 1, sizeof(size_t));
    if (!g->by_stem || !g->stem_count)
        return ROSTER_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const char *s = g->ix->docs[i]->stem;
        size_t first = (size_t)(uintptr_t)roster_map_get(g->by_stem, s, strlen(s));
        if (first) {
            g->stem_count[first - 1]++;
            continue;
        }
        int r = roster_map_put(g->by_stem, s, strlen(s), (void *)(uintptr_t)(i + 1));
        if (r < 0)
            return r;
        g->stem_count[i] = 1;
    }
    return 0;
}

static int topo(struct graph *g, size_t *order)
{
    size_t n = g->ix->ndocs, head = 0, tail = 0;
    for (size_t i = 0; i < n; i++)
        if (g->nodes[i].pending == 0)
            order[tail++] = i;
    while (head < tail) {
        size_t i = order[head++];
        int r = finalize(g, i);
        if (r < 0)
            return r;
        struct node *nd = &g->nodes[i];
        for (size_t k = 0; k < nd->nchildren; k++) {
            struct node *c = &g->nodes[nd->children[k]];
            if (--c->pending == 0)
                order[tail++] = nd->children[k];
        }
    }
    return (int)(tail > (size_t)0x7fffffff ? 0x7fffffff : tail);
}

int roster_resolve(struct roster_resolution **out, struct roster_index *ix)
{
    return roster_resolve_from(out, ix, NULL);
}

/* id -> the previous resolution's profile, for those that were resolved. */
static struct roster_map *previous_by_id(const struct roster_resolution *prev)
{
    struct roster_map *m = roster_map_new(prev->n);
    for (size_t i = 0; m && i < prev->n; i++) {
        const struct roster_profile *p = &prev->profiles[i];
        if (p->ok && roster_map_put(m, p->doc->id, strlen(p->doc->id), (void *)(uintptr_t)p) < 0)
            m = roster_map_free(m);
    }
    return m;
}

/* The front matter of the index's file named `file` (docs are sorted by
 * path), for the diagnostics its lint.ignore silences. */
static const json_t *meta_of_file(void *ctx, const char *file)
{
    const struct roster_index *ix = ctx;
    size_t lo = 0, hi = ix->ndocs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(ix->docs[mid]->relpath, file);
        if (c == 0)
            return ix->docs[mid]->meta;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

int roster_resolve_from(struct roster_resolution **out, struct roster_index *ix,
                        const struct roster_resolution *prev)
{
    size_t n = ix->ndocs, ndiags = roster_diags_count(ix->diags);
    struct graph g = {.ix = ix};
    struct roster_resolution *res = roster_calloc(1, sizeof(*res));
    size_t *order = roster_calloc(n ? n : 1, sizeof(size_t));
    size_t *walk = roster_calloc(n ? n : 1, sizeof(size_t));
    size_t *seen = roster_malloc((n ? n : 1) * sizeof(size_t));
    g.nodes = roster_calloc(n ? n : 1, sizeof(*g.nodes));
    int r = ROSTER_ENOMEM;
    if (!res || !order || !walk || !seen || !g.nodes)
        goto out;
    res->profiles = roster_calloc(n ? n : 1, sizeof(*res->profiles));
    if (!res->profiles)
        goto out;
    res->n = n;
    if (prev && !(g.previous = previous_by_id(prev)))
        goto out;
    r = build_stems(&g);
    for (size_t i = 0; r == 0 && i < n; i++)
        r = build_edges(&g, i);
    if (r < 0)
        goto out;
    r = topo(&g, order);
    if (r < 0)
        goto out;
    size_t done = (size_t)r;
    memset(seen, 0xff, n * sizeof(size_t));
    for (size_t i = 0; i < n; i++) {
        if (g.nodes[i].state != ST_PENDING || g.nodes[i].own_error)
            continue;
        r = report_cycle(&g, i, walk, seen);
        if (r < 0)
            goto out;
    }
    for (size_t i = 0; i < n; i++) {
        res->profiles[i].doc = ix->docs[i];
        if (g.nodes[i].state == ST_PENDING)
            g.nodes[i].state = ST_FAILED;
    }
    /* Merge in topological order so parents are complete first. */
    for (size_t k = 0; k < done; k++) {
        size_t i = order[k];
        if (g.nodes[i].state != ST_OK)
            continue;
        struct roster_profile *p = &res->profiles[i];
        p->nparents = g.nodes[i].nparents;
        p->parents = roster_calloc(p->nparents ? p->nparents : 1, sizeof(*p->parents));
        if (!p->parents) {
            r = ROSTER_ENOMEM;
            goto out;
        }
        for (size_t j = 0; j < p->nparents; j++)
            p->parents[j] = ix->docs[g.nodes[i].parents[j]];
        const struct roster_profile *old =
            g.previous ? roster_map_get(g.previous, p->doc->id, strlen(p->doc->id)) : NULL;
        r = roster_merge_profile_from(res, p, old);
        if (r == 0)
            r = roster_merge_check(p, ix->diags);
        if (r < 0)
            goto out;
        p->ok = 1;
    }
    /* what resolving added (the files' own were filtered as they were
     * parsed), less what each file's lint.ignore silences */
    r = roster_ignore_filter(&ix->diags, ndiags, meta_of_file, ix);
    if (r == 0)
        r = roster_diags_sort(ix->diags);
    if (r < 0)
        goto out;
    *out = res;
    res = NULL;
    r = 0;
out:
    for (size_t i = 0; g.nodes && i < n; i++) {
        roster_free(g.nodes[i].parents);
        roster_free(g.nodes[i].children);
    }
    roster_free(g.nodes);
    roster_map_free(g.by_stem);
    roster_map_free(g.previous);
    roster_free(g.stem_count);
    roster_free(order);
    roster_free(walk);
    roster_free(seen);
    roster_resolution_free(res);
    return r;
}

struct roster_resolution *roster_resolution_free(struct roster_resolution *res)
{
    if (!res)
        return NULL;
    for (size_t i = 0; i < res->n; i++) {
        struct roster_profile *p = &res->profiles[i];
        void *arrays[] = {p->chain, p->parents, p->secs, p->spans};
        for (size_t k = 0; k < sizeof(arrays) / sizeof(arrays[0]); k++)
            roster_free(arrays[k]);
        json_decref(p->meta);
    }
    roster_free(res->profiles);
    roster_free(res);
    return NULL;
}
