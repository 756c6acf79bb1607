/* Merging one profile with its ancestors. The chain is the application
 * order (root first): each parent's chain in turn, left to right, without
 * repeats, then the profile. Front matter and sections are folded along
 * it; the prompt joins the bodies along it. */
#include "resolve_internal.h"

#include <jansson.h>
#include <string.h>
#include <strings.h>

#include "roster_base.h"
#include "roster_doc.h"
#include "roster_text.h"

static int build_chain(struct roster_resolution *res, struct roster_profile *p)
{
    size_t cap = 1;
    for (size_t k = 0; k < p->nparents; k++)
        cap += res->profiles[p->parents[k]->pos].nchain;
    p->chain = roster_calloc(cap, sizeof(*p->chain));
    if (!p->chain)
        return ROSTER_ENOMEM;
    for (size_t k = 0; k < p->nparents; k++) {
        const struct roster_profile *pp = &res->profiles[p->parents[k]->pos];
        for (size_t j = 0; j < pp->nchain; j++) {
            size_t x = 0;
            while (x < p->nchain && p->chain[x] != pp->chain[j])
                x++;
            if (x == p->nchain)
                p->chain[p->nchain++] = pp->chain[j];
        }
    }
    p->chain[p->nchain++] = p->doc;
    return 0;
}

/* child over parent: child's keys first, in its order, then the parent's
 * other keys; objects on both sides merge, anything else is replaced.
 * Values are shared with the documents' front matter, not copied: nothing
 * changes them after the parse (jansson's reference counts are atomic). */
static json_t *merge_objects(json_t *parent, json_t *child, int drop_identity)
{
    json_t *out = json_object();
    const char *k;
    json_t *v;
    if (!out)
        return NULL;
    json_object_foreach(child, k, v)
    {
        json_t *pv = json_object_get(parent, k);
        json_t *nv =
            json_is_object(v) && json_is_object(pv) ? merge_objects(pv, v, 0) : json_incref(v);
        if (!nv || json_object_set_new(out, k, nv))
            goto fail;
    }
    json_object_foreach(parent, k, v)
    {
        if (json_object_get(out, k))
            continue;
        if (drop_identity && (strcmp(k, "id") == 0 || strcmp(k, "extends") == 0))
            continue;
        if (json_object_set(out, k, v))
            goto fail;
    }
    return out;
fail:
    json_decref(out);
    return NULL;
}

static int merge_meta(struct roster_profile *p)
{
    json_t *acc = json_object();
    for (size_t c = 0; acc && c < p->nchain; c++) {
        /* an ancestor's id and extends are never inherited */
        json_t *next = merge_objects(acc, p->chain[c]->meta, 1);
        json_decref(acc);
        acc = next;
        if (acc && c + 1 < p->nchain) {
            json_object_del(acc, "id");
            json_object_del(acc, "extends");
        }
    }
    if (!acc)
        return ROSTER_ENOMEM;
    p->meta = acc;
    return 0;
}

struct entry {
    size_t c; /* chain position */
    size_t i; /* section index in that doc */
};

static const struct roster_section *sec_of(const struct roster_profile *p, const struct entry *e)
{
    return &p->chain[e->c]->md.sections[e->i];
}

/* Entries after m that belong to m's subtree in its own document. */
static size_t subtree_len(const struct roster_profile *p, const struct entry *acc, size_t n,
                          size_t m)
{
    const struct roster_section *s = sec_of(p, &acc[m]);
    size_t k = m + 1;
    while (k < n && acc[k].c == acc[m].c && sec_of(p, &acc[k])->start < s->subtree_end)
        k++;
    return k - m - 1;
}

/* Sections of doc c that lie inside section i's subtree: i+1 .. i+len. */
static size_t own_subtree(const struct roster_doc *d, size_t i)
{
    size_t k = i + 1;
    while (k < d->md.nsections && d->md.sections[k].start < d->md.sections[i].subtree_end)
        k++;
    return k - i - 1;
}

static void overlay(struct roster_profile *p, struct entry *acc, size_t *n,
                    unsigned char **replaced, size_t c)
{
    const struct roster_doc *d = p->chain[c];
    for (size_t i = 0; i < d->md.nsections;) {
        const struct roster_section *s = &d->md.sections[i];
        size_t sub = own_subtree(d, i);
        size_t m = 0;
        for (; m < *n; m++) {
            const struct roster_section *o = sec_of(p, &acc[m]);
            if (acc[m].c != c && o->level == s->level && strcasecmp(o->title, s->title) == 0)
                break;
        }
        if (m == *n) {
            acc[(*n)++] = (struct entry){.c = c, .i = i};
            i++;
            continue;
        }
        /* Replace m and its subtree in place by s and its subtree. */
        size_t old = subtree_len(p, acc, *n, m);
        for (size_t k = m; k <= m + old; k++)
            replaced[acc[k].c][acc[k].i] = 1;
        size_t add = sub + 1, tail = *n - (m + old + 1);
        memmove(&acc[m + add], &acc[m + old + 1], tail * sizeof(*acc));
        for (size_t k = 0; k < add; k++)
            acc[m + k] = (struct entry){.c = c, .i = i + k};
        *n = m + add + tail;
        i += add;
    }
}

#define MAX_SPANS 65536

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int push_span(struct roster_profile *p, size_t *cap, const char *s, size_t n)
{
    if (n == 0)
        return 0;
    if (p->nspans == MAX_SPANS)
        return ROSTER_E2BIG;
    struct roster_span *spans = roster_grow(p->spans, cap, p->nspans, sizeof(*spans), 8);
    if (!spans)
        return ROSTER_ENOMEM;
    p->spans = spans;
    p->spans[p->nspans++] = (struct roster_span){.text = s, .len = n};
    p->prompt_len += n;
    return 0;
}

/* Spans of doc d's body minus the sections a descendant replaced, trimmed
 * as a whole, after a blank line when the prompt already has text. The
 * spans point into d->text: inherited text is shared, never copied. */
static int append_body(struct roster_profile *p, size_t *cap, const struct roster_doc *d,
                       const unsigned char *replaced)
{
    static const char sep[] = "\n\n";
    size_t first = p->nspans, pos = d->md.body_start;
    int r = 0;
    for (size_t i = 0; i < d->md.nsections && r == 0; i++) {
        const struct roster_section *s = &d->md.sections[i];
        if (!replaced[i] || s->start < pos)
            continue;
        r = push_span(p, cap, d->text + pos, s->start - pos);
        pos = s->subtree_end;
    }
    if (r == 0 && pos < d->md.body_end)
        r = push_span(p, cap, d->text + pos, d->md.body_end - pos);
    if (r < 0)
        return r;
    /* trim: white space at the start of this doc's text, then at its end */
    while (p->nspans > first) {
        struct roster_span *sp = &p->spans[first];
        for (; sp->len && is_space(*sp->text); sp->len--, p->prompt_len--)
            sp->text++;
        if (sp->len)
            break;
        memmove(sp, sp + 1, (--p->nspans - first) * sizeof(*sp));
    }
    while (p->nspans > first) {
        struct roster_span *sp = &p->spans[p->nspans - 1];
        for (; sp->len && is_space(sp->text[sp->len - 1]); sp->len--)
            p->prompt_len--;
        if (sp->len)
            break;
        p->nspans--;
    }
    if (first == 0 || p->nspans == first)
        return 0;
    r = push_span(p, cap, sep, 2); /* make room, then move it in front */
    if (r == 0) {
        memmove(&p->spans[first + 1], &p->spans[first],
                (p->nspans - 1 - first) * sizeof(*p->spans));
        p->spans[first] = (struct roster_span){.text = sep, .len = 2};
    }
    return r;
}

char *roster_profile_prompt(const struct roster_profile *p)
{
    char *out = roster_malloc(p->prompt_len + 1);
    if (!out)
        return NULL;
    size_t at = 0;
    for (size_t k = 0; k < p->nspans; k++) {
        memcpy(out + at, p->spans[k].text, p->spans[k].len);
        at += p->spans[k].len;
    }
    out[at] = '\0';
    return out;
}

static int merge_sections(struct roster_profile *p)
{
    size_t total = 0;
    for (size_t c = 0; c < p->nchain; c++)
        total += p->chain[c]->md.nsections;
    struct entry *acc = roster_calloc(total ? total : 1, sizeof(*acc));
    unsigned char **replaced = roster_calloc(p->nchain, sizeof(*replaced));
    int r = ROSTER_ENOMEM;
    if (!acc || !replaced)
        goto out;
    for (size_t c = 0; c < p->nchain; c++) {
        size_t ns = p->chain[c]->md.nsections;
        replaced[c] = roster_calloc(ns ? ns : 1, 1);
        if (!replaced[c])
            goto out;
    }
    size_t n = 0;
    for (size_t c = 0; c < p->nchain; c++)
        overlay(p, acc, &n, replaced, c);
    p->secs = roster_calloc(n ? n : 1, sizeof(*p->secs));
    if (!p->secs)
        goto out;
    for (size_t k = 0; k < n; k++) {
        p->secs[p->nsecs].doc = p->chain[acc[k].c];
        p->secs[p->nsecs].sec = sec_of(p, &acc[k]);
        p->nsecs++;
    }
    r = 0;
    size_t cap = 0;
    for (size_t c = 0; c < p->nchain && r == 0; c++)
        r = append_body(p, &cap, p->chain[c], replaced[c]);
out:
    for (size_t c = 0; replaced && c < p->nchain; c++)
        roster_free(replaced[c]);
    roster_free(replaced);
    roster_free(acc);
    return r;
}

/* old's merge, when its chain is p's (the same shared documents). */
static int carry(struct roster_profile *p, const struct roster_profile *old)
{
    if (!old || !old->ok || old->doc != p->doc || old->nchain != p->nchain)
        return 1;
    for (size_t c = 0; c < p->nchain; c++)
        if (old->chain[c] != p->chain[c])
            return 1;
    p->secs = roster_calloc(old->nsecs ? old->nsecs : 1, sizeof(*p->secs));
    p->spans = roster_calloc(old->nspans ? old->nspans : 1, sizeof(*p->spans));
    if (!p->secs || !p->spans)
        return ROSTER_ENOMEM;
    memcpy(p->secs, old->secs, old->nsecs * sizeof(*p->secs));
    memcpy(p->spans, old->spans, old->nspans * sizeof(*p->spans));
    p->nsecs = old->nsecs;
    p->nspans = old->nspans;
    p->prompt_len = old->prompt_len;
    p->meta = json_incref(old->meta);
    p->carried = 1;
    return 0;
}

int roster_merge_profile_from(struct roster_resolution *res, struct roster_profile *p,
                              const struct roster_profile *old)
{
    int r = build_chain(res, p);
    if (r == 0)
        r = carry(p, old);
    if (r <= 0)
        return r;
    r = merge_meta(p);
    if (r == 0)
        r = merge_sections(p);
    return r;
}

int roster_merge_profile(struct roster_resolution *res, struct roster_profile *p)
{
    int r = build_chain(res, p);
    if (r == 0)
        r = merge_meta(p);
    if (r == 0)
        r = merge_sections(p);
    return r;
}
