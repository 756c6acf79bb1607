/* The index: every profile document of a profiles directory, parsed, with
 * ids assigned deterministically (paths sorted bytewise) and duplicate ids
 * reported. Pure: the documents come from memory; reading a directory is
 * snapshot/scan.c's job. */
#include "roster_index.h"

#include <string.h>

#include "roster_base.h"
#include "roster_diag.h"
#include "roster_doc.h"
#include "roster_map.h"

/* Marks every later file that reuses an earlier file's id; the map keeps
 * the first (by path) file of each id. */
static int check_duplicates(struct roster_index *ix)
{
    ix->by_id = roster_map_new(ix->ndocs);
    if (!ix->by_id)
        return ROSTER_ENOMEM;
    for (size_t i = 0; i < ix->ndocs; i++) {
        struct roster_doc *d = ix->docs[i];
        struct roster_doc *o = roster_map_get(ix->by_id, d->id, strlen(d->id));
        if (!o) {
            int r = roster_map_put(ix->by_id, d->id, strlen(d->id), d);
            if (r < 0)
                return r;
        } else {
            d->failed = 1;
            d->duplicate = 1;
            int r = roster_diags_add(ix->diags, ROSTER_SEV_ERROR, "id.duplicate", d->relpath, 0, 0,
                                     NULL,
                                     "id \"%s\" is used by both %s and %s; %s is used because "
                                     "its path sorts first, this file is ignored",
                                     d->id, o->relpath, d->relpath, o->relpath);
            if (r < 0)
                return r;
        }
    }
    return 0;
}

int roster_index_finish(struct roster_index *ix)
{
    int r = 0;
    /* a doc's own diagnostics join the index's, named after its profile */
    for (size_t i = 0; r == 0 && i < ix->ndocs; i++)
        r = roster_diags_append(ix->diags, ix->docs[i]->diags, ix->docs[i]->id);
    if (r == 0)
        r = check_duplicates(ix);
    for (size_t i = 0; r == 0 && i < ix->ndocs; i++)
        if (!ix->docs[i]->diags || ix->docs[i]->duplicate)
            r = roster_diags_set_profile(ix->diags, ix->docs[i]->relpath, ix->docs[i]->id);
    if (r == 0)
        r = roster_diags_sort(ix->diags);
    return r;
}

struct roster_index *roster_index_new(const char *root)
{
    struct roster_index *ix = roster_calloc(1, sizeof(*ix));
    if (!ix)
        return NULL;
    ix->root = roster_strndup(root, strlen(root));
    ix->diags = roster_diags_new();
    if (!ix->root || !ix->diags)
        return roster_index_free(ix);
    return ix;
}

int roster_index_reserve(struct roster_index *ix, size_t n)
{
    ix->docs = roster_calloc(n ? n : 1, sizeof(*ix->docs));
    return ix->docs ? 0 : ROSTER_ENOMEM;
}

void roster_index_add(struct roster_index *ix, struct roster_doc *doc)
{
    doc->pos = ix->ndocs;
    ix->docs[ix->ndocs++] = doc;
}

int roster_index_load_memory(struct roster_index **out, const char *const *names,
                             const char *const *data, const size_t *lens, size_t n,
                             const struct roster_index_opts *opts)
{
    struct roster_index *ix = roster_index_new("(memory)");
    int r = ROSTER_ENOMEM;
    if (!ix || roster_index_reserve(ix, n) < 0)
        goto out;
    struct roster_doc_opts dopts = {.strict_markdown = opts && opts->strict_markdown};
    for (size_t i = 0; i < n; i++) {
        struct roster_doc *doc = NULL;
        char *raw = roster_strndup(data[i], lens[i]);
        r = raw ? roster_doc_parse(&doc, names[i], raw, lens[i], &dopts, ix->diags) : ROSTER_ENOMEM;
        if (r < 0)
            goto out;
        roster_index_add(ix, doc);
    }
    r = roster_index_finish(ix);
    if (r < 0)
        goto out;
    *out = ix;
    ix = NULL;
out:
    roster_index_free(ix);
    return r;
}

struct roster_index *roster_index_free(struct roster_index *ix)
{
    if (!ix)
        return NULL;
    for (size_t i = 0; i < ix->ndocs; i++)
        roster_doc_free(ix->docs[i]);
    roster_free(ix->docs);
    roster_diags_free(ix->diags);
    roster_map_free(ix->by_id);
    roster_free(ix->real_root);
    roster_free(ix->root);
    roster_free(ix);
    return NULL;
}

struct roster_doc *roster_index_find(const struct roster_index *ix, const char *id)
{
    return roster_map_get(ix->by_id, id, strlen(id));
}
