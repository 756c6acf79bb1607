/* Two versions of one resolved profile compared (roster_compare.h). Items
 * are matched by key and occurrence (the second "Testing" of the old list
 * is the second "Testing" of the new one), so duplicates pair up in order
 * and nothing depends on hashing. */
#include "roster_compare.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roster_base.h"
#include "roster_json.h"
#include "roster_render.h"
#include "roster_textdiff.h"

#define NONE SIZE_MAX
/* The largest prompt diff (both prompts whole, with markers). */
#define DIFF_MAX (2 * ROSTER_RENDER_MAX_BYTES + 4096)

/* The structured views: their key in the profile object and their name. */
static const struct {
    const char *key;
    enum roster_view view;
} VIEWS[] = {
    {"competencies", ROSTER_VIEW_COMPETENCIES},
    {"work_patterns", ROSTER_VIEW_WORK_PATTERNS},
    {"tool_priorities", ROSTER_VIEW_TOOL_PRIORITIES},
    {"output_standards", ROSTER_VIEW_OUTPUT_STANDARDS},
    {"anti_patterns", ROSTER_VIEW_ANTI_PATTERNS},
};

/* One item of either side, while matching. */
struct entry {
    const char *key;
    size_t len;
    size_t idx; /* position in its list */
    int side; /* 0 old, 1 new */
};

/* The four lists of one view's changes. */
struct changes {
    json_t *added, *removed, *moved, *changed;
};

static const json_t *item_key(const json_t *item)
{
    const json_t *k = json_object_get(item, "name");
    return json_is_string(k) ? k : json_object_get(item, "text");
}

static int by_key(const void *x, const void *y)
{
    const struct entry *a = x, *b = y;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = n ? memcmp(a->key, b->key, n) : 0;
    if (c == 0 && a->len != b->len)
        c = a->len < b->len ? -1 : 1;
    if (c == 0)
        c = a->side - b->side;
    if (c == 0)
        c = a->idx < b->idx ? -1 : a->idx > b->idx;
    return c;
}

/* Pairs the items of a and b by key and occurrence: ma[i] is the index in
 * b of a's item i, or NONE; mb likewise. */
static int match(const json_t *a, size_t na, const json_t *b, size_t nb, size_t *ma, size_t *mb)
{
    struct entry *e = roster_calloc(na + nb ? na + nb : 1, sizeof(*e));
    if (!e)
        return ROSTER_ENOMEM;
    for (size_t i = 0; i < na + nb; i++) {
        const json_t *k = item_key(json_array_get(i < na ? a : b, i < na ? i : i - na));
        e[i].key = json_is_string(k) ? json_string_value(k) : "";
        e[i].len = json_is_string(k) ? json_string_length(k) : 0;
        e[i].side = i >= na;
        e[i].idx = i < na ? i : i - na;
    }
    qsort(e, na + nb, sizeof(*e), by_key);
    for (size_t i = 0; i < na; i++)
        ma[i] = NONE;
    for (size_t j = 0; j < nb; j++)
        mb[j] = NONE;
    /* within a run of one key: the old ones, then the new ones, in order */
    for (size_t s = 0; s < na + nb;) {
        size_t t = s, olds = 0;
        while (t < na + nb && e[t].len == e[s].len && memcmp(e[t].key, e[s].key, e[s].len) == 0)
            olds += e[t++].side == 0;
        for (size_t k = 0; k < olds && s + olds + k < t; k++) {
            ma[e[s + k].idx] = e[s + olds + k].idx;
            mb[e[s + olds + k].idx] = e[s + k].idx;
        }
        s = t;
    }
    roster_free(e);
    return 0;
}

/* {"key", "from"[, "list"]} of an item, for one of the change lists. */
static json_t *describe(const json_t *item, const char *list)
{
    const json_t *k = item_key(item), *from = json_object_get(item, "from");
    json_t *o = json_object();
    int bad =
        !o ||
        roster_json_set(o, "key", json_is_string(k) ? json_copy((json_t *)k) : json_string("")) ||
        roster_json_set(o, "from", from ? json_deep_copy(from) : json_null()) ||
        (list && roster_json_set(o, "list", json_string(list)));
    return roster_json_unless(bad, o);
}

static int push_at(json_t *arr, const json_t *item, const char *list, const char *name, size_t pos)
{
    json_t *o = describe(item, list);
    int bad = !o || roster_json_set(o, name, json_integer((json_int_t)pos + 1));
    return roster_json_push(arr, roster_json_unless(bad, o));
}

/* The keys of an item that differ between its versions (rank excepted:
 * it is the position), as a new array; an empty one when none. */
static json_t *item_fields(const json_t *a, const json_t *b)
{
    json_t *out = json_array();
    const char *key;
    const json_t *v;
    int bad = !out;
    json_object_foreach((json_t *)b, key, v)
    {
        const json_t *w = json_object_get(a, key);
        if (!bad && strcmp(key, "rank") != 0 && (!w || !json_equal(v, w)))
            bad = roster_json_push(out, json_string(key));
    }
    json_object_foreach((json_t *)a, key, v)
    {
        if (!bad && strcmp(key, "rank") != 0 && !json_object_get(b, key))
            bad = roster_json_push(out, json_string(key));
    }
    return roster_json_unless(bad, out);
}

/* Moves: the pairs outside a longest common subsequence of the pairs in
 * old order and in new order. moved[j] = 1 for b's item j. */
static int find_moves(const size_t *ma, size_t na, const size_t *mb, size_t nb,
                      unsigned char *moved)
{
    size_t np = 0;
    for (size_t j = 0; j < nb; j++)
        np += mb[j] != NONE;
    if (np == 0)
        return 0;
    int r = ROSTER_ENOMEM;
    size_t *seq_a = roster_calloc(np, sizeof(size_t)), *seq_b = roster_calloc(np, sizeof(size_t));
    struct roster_textdiff_elem *ea = roster_calloc(np, sizeof(*ea)),
                                *eb = roster_calloc(np, sizeof(*eb));
    unsigned char *ka = roster_calloc(np, 1), *kb = roster_calloc(np, 1);
    if (!seq_a || !seq_b || !ea || !eb || !ka || !kb)
        goto free_all;
    size_t p = 0;
    for (size_t i = 0; i < na; i++)
        if (ma[i] != NONE)
            seq_a[p++] = ma[i];
    p = 0;
    for (size_t j = 0; j < nb; j++)
        if (mb[j] != NONE)
            seq_b[p++] = j;
    for (size_t k = 0; k < np; k++) {
        ea[k] = (struct roster_textdiff_elem){(const char *)&seq_a[k], sizeof(size_t)};
        eb[k] = (struct roster_textdiff_elem){(const char *)&seq_b[k], sizeof(size_t)};
    }
    /* a permutation of np items never needs more than 2 * np edits */
    r = roster_textdiff_lcs(ea, np, eb, np, 2 * np + 2, ka, kb);
    for (size_t k = 0; r == 0 && k < np; k++)
        moved[seq_b[k]] = !kb[k];
free_all:
    roster_free(kb);
    roster_free(ka);
    roster_free(eb);
    roster_free(ea);
    roster_free(seq_b);
    roster_free(seq_a);
    return r;
}

static int report_pairs(const json_t *a, const json_t *b, const size_t *mb, size_t nb,
                        const unsigned char *moved, const char *list, struct changes *c)
{
    int bad = 0;
    for (size_t j = 0; !bad && j < nb; j++) {
        if (mb[j] == NONE)
            continue;
        const json_t *x = json_array_get(a, mb[j]), *y = json_array_get(b, j);
        if (moved[j]) {
            json_t *o = describe(y, list);
            bad = !o || roster_json_set(o, "old_position", json_integer((json_int_t)mb[j] + 1)) ||
                  roster_json_set(o, "new_position", json_integer((json_int_t)j + 1));
            bad = roster_json_push(c->moved, roster_json_unless(bad, o)) || bad;
        }
        json_t *fields = bad ? NULL : item_fields(x, y);
        bad = bad || !fields;
        if (!bad && json_array_size(fields)) {
            const json_t *old_from = json_object_get(x, "from");
            json_t *o = describe(y, list);
            bad =
                !o ||
                roster_json_set(o, "old_from", old_from ? json_deep_copy(old_from) : json_null()) ||
                roster_json_set(o, "position", json_integer((json_int_t)j + 1)) ||
                roster_json_set(o, "fields", json_incref(fields));
            bad = roster_json_push(c->changed, roster_json_unless(bad, o)) || bad;
        }
        json_decref(fields);
    }
    return bad ? ROSTER_ENOMEM : 0;
}

/* Compares one list of items (list: its name inside anti-patterns). */
static int compare_list(const json_t *a, const json_t *b, const char *list, struct changes *c,
                        struct roster_error *err)
{
    size_t na = json_array_size(a), nb = json_array_size(b);
    if (na > ROSTER_COMPARE_MAX_ITEMS || nb > ROSTER_COMPARE_MAX_ITEMS)
        return roster_error_set(err, ROSTER_E2BIG, NULL, 0, 0, "more than %d items in a list",
                                ROSTER_COMPARE_MAX_ITEMS);
    int r = ROSTER_ENOMEM;
    size_t *ma = roster_calloc(na ? na : 1, sizeof(size_t));
    size_t *mb = roster_calloc(nb ? nb : 1, sizeof(size_t));
    unsigned char *moved = roster_calloc(nb ? nb : 1, 1);
    if (!ma || !mb || !moved)
        goto free_all;
    r = match(a, na, b, nb, ma, mb);
    if (r == 0)
        r = find_moves(ma, na, mb, nb, moved);
    for (size_t i = 0; r == 0 && i < na; i++)
        if (ma[i] == NONE && push_at(c->removed, json_array_get(a, i), list, "position", i) < 0)
            r = ROSTER_ENOMEM;
    for (size_t j = 0; r == 0 && j < nb; j++)
        if (mb[j] == NONE && push_at(c->added, json_array_get(b, j), list, "position", j) < 0)
            r = ROSTER_ENOMEM;
    if (r == 0)
        r = report_pairs(a, b, mb, nb, moved, list, c);
free_all:
    roster_free(moved);
    roster_free(mb);
    roster_free(ma);
    if (r == ROSTER_ENOMEM)
        roster_error_set(err, r, NULL, 0, 0, "out of memory comparing items");
    return r;
}

/* One view's changes into views[name] when there are any. */
static int compare_view(const json_t *pa, const json_t *pb, size_t v, json_t *views,
                        struct roster_error *err)
{
    const json_t *a = json_object_get(pa, VIEWS[v].key), *b = json_object_get(pb, VIEWS[v].key);
    struct changes c = {json_array(), json_array(), json_array(), json_array()};
    int r = !c.added || !c.removed || !c.moved || !c.changed ? ROSTER_ENOMEM : 0;
    if (r == 0 && (json_is_object(a) || json_is_object(b))) {
        /* anti-patterns: named lists ("avoid", "always") */
        const char *key;
        const json_t *x;
        json_object_foreach((json_t *)a, key, x)
        {
            if (r == 0)
                r = compare_list(x, json_object_get(b, key), key, &c, err);
        }
        json_object_foreach((json_t *)b, key, x)
        {
            if (r == 0 && !json_object_get(a, key))
                r = compare_list(NULL, x, key, &c, err);
        }
    } else if (r == 0) {
        r = compare_list(a, b, NULL, &c, err);
    }
    if (r == 0 && json_array_size(c.added) + json_array_size(c.removed) + json_array_size(c.moved) +
                      json_array_size(c.changed)) {
        json_t *o = json_pack("{s:O, s:O, s:O, s:O}", "added", c.added, "removed", c.removed,
                              "moved", c.moved, "changed", c.changed);
        if (roster_json_set(views, roster_view_name(VIEWS[v].view), o))
            r = roster_error_set(err, ROSTER_ENOMEM, NULL, 0, 0, "out of memory comparing views");
    }
    if (r == ROSTER_ENOMEM && err && err->code == 0)
        roster_error_set(err, r, NULL, 0, 0, "out of memory comparing views");
    json_decref(c.added);
    json_decref(c.removed);
    json_decref(c.moved);
    json_decref(c.changed);
    return r;
}

/* fields[name] = {"old", "new"} when a and b (either may be NULL) differ. */
static int compare_value(json_t *fields, const char *name, const json_t *a, const json_t *b)
{
    if ((!a && !b) || (a && b && json_equal(a, b)))
        return 0;
    json_t *o = json_pack("{s:o, s:o}", "old", a ? json_deep_copy(a) : json_null(), "new",
                          b ? json_deep_copy(b) : json_null());
    return roster_json_set(fields, name, o);
}

static int compare_fields(const json_t *pa, const json_t *pb, json_t *fields)
{
    const json_t *ma = json_object_get(pa, "metadata"), *mb = json_object_get(pb, "metadata");
    const json_t *ra = json_object_get(pa, "role"), *rb = json_object_get(pb, "role");
    const char *key;
    const json_t *v;
    int bad = 0;
    json_object_foreach((json_t *)ma, key, v)
    {
        bad = bad || compare_value(fields, key, v, json_object_get(mb, key));
    }
    json_object_foreach((json_t *)mb, key, v)
    {
        bad = bad || (!json_object_get(ma, key) && compare_value(fields, key, NULL, v));
    }
    bad = bad || compare_value(fields, "lineage", json_object_get(pa, "lineage"),
                               json_object_get(pb, "lineage"));
    /* the H1 and its text, as role.title and role.statement */
    static const char *const role_keys[] = {"title", "statement"};
    for (size_t k = 0; !bad && k < sizeof(role_keys) / sizeof(role_keys[0]); k++) {
        char name[32];
        snprintf(name, sizeof(name), "role.%s", role_keys[k]);
        bad = compare_value(fields, name, json_object_get(ra, role_keys[k]),
                            json_object_get(rb, role_keys[k]));
    }
    return bad ? ROSTER_ENOMEM : 0;
}

/* prompt_diff, prompt_lines and prompt_replaced into o. */
static int compare_prompts(const struct roster_compare_side *a, const struct roster_compare_side *b,
                           json_t *o, struct roster_error *err)
{
    struct roster_buf diff;
    roster_buf_init(&diff, DIFF_MAX);
    struct roster_textdiff_opts opts = {.old_label = a->label ? a->label : "old",
                                        .new_label = b->label ? b->label : "new",
                                        .context = ROSTER_COMPARE_CONTEXT};
    struct roster_textdiff_result res;
    int r = roster_textdiff_unified(a->prompt, a->prompt_len, b->prompt, b->prompt_len, &opts,
                                    &diff, &res);
    if (r < 0) {
        roster_buf_release(&diff);
        return roster_error_set(err, r, NULL, 0, 0, "cannot diff the prompts: %s",
                                r == ROSTER_E2BIG ? "too large" : "out of memory");
    }
    json_t *text = diff.len ? json_stringn(diff.data, diff.len) : json_null();
    roster_buf_release(&diff);
    int bad = roster_json_set(o, "prompt_diff", text) ||
              roster_json_set(o, "prompt_lines",
                              json_pack("{s:I, s:I}", "added", (json_int_t)res.added, "removed",
                                        (json_int_t)res.removed)) ||
              roster_json_set(o, "prompt_replaced", json_boolean(res.replaced));
    return bad ? roster_error_set(err, ROSTER_ENOMEM, NULL, 0, 0,
                                  "out of memory (or a prompt that is not UTF-8)")
               : 0;
}

int roster_compare_profiles(const struct roster_compare_side *old,
                            const struct roster_compare_side *new_, json_t **out,
                            struct roster_error *err)
{
    json_t *o = json_object(), *views = json_object(), *fields = json_object();
    int r = o && views && fields ? 0 : ROSTER_ENOMEM;
    for (size_t v = 0; r == 0 && v < sizeof(VIEWS) / sizeof(VIEWS[0]); v++)
        r = compare_view(old->profile, new_->profile, v, views, err);
    if (r == 0 && compare_fields(old->profile, new_->profile, fields) < 0)
        r = ROSTER_ENOMEM;
    int changed = json_object_size(views) || json_object_size(fields);
    if (r == 0 && (roster_json_set(o, "changed", json_false()) ||
                   roster_json_set(o, "views", json_incref(views)) ||
                   roster_json_set(o, "fields", json_incref(fields))))
        r = ROSTER_ENOMEM;
    if (r == 0)
        r = compare_prompts(old, new_, o, err);
    if (r == 0) {
        changed = changed || json_is_string(json_object_get(o, "prompt_diff"));
        if (roster_json_set(o, "changed", json_boolean(changed)))
            r = ROSTER_ENOMEM;
    }
    if (r == ROSTER_ENOMEM && err && err->code == 0)
        roster_error_set(err, r, NULL, 0, 0, "out of memory comparing profiles");
    json_decref(fields);
    json_decref(views);
    if (r < 0)
        json_decref(o);
    else
        *out = o;
    return r;
}
