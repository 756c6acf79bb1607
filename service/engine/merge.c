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
#include "roster_extract.h"
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

/* Front matter keys that describe one file and are never inherited
 * (docs/profile-format.md "Identity keys"). */
static const char *const IDENTITY[] = {"id",      "extends", "name", "description",
                                       "version", "inherit", "lint", NULL};

static int identity_key(const char *key)
{
    for (const char *const *k = IDENTITY; *k; k++)
        if (strcmp(key, *k) == 0)
            return 1;
    return 0;
}

/* child over parent: child's keys first, in its order, then the parent's
 * other keys; objects on both sides merge, anything else is replaced.
 * Values are shared with the documents' front matter, not copied: nothing
 * changes them after the parse (jansson's reference counts are atomic). */
static json_t *merge_objects(json_t *parent, json_t *child)
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
            json_is_object(v) && json_is_object(pv) ? merge_objects(pv, v) : json_incref(v);
        if (!nv || json_object_set_new(out, k, nv))
            goto fail;
    }
    json_object_foreach(parent, k, v)
    {
        if (json_object_get(out, k))
            continue;
        if (json_object_set(out, k, v))
            goto fail;
    }
    return out;
fail:
    json_decref(out);
    return NULL;
}

/* An ancestor's identity keys never reach its descendants. */
static json_t *inheritable(json_t *meta)
{
    json_t *out = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(meta, k, v)
    {
        if (out && !identity_key(k) && json_object_set(out, k, v)) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

static int merge_meta(struct roster_profile *p)
{
    json_t *acc = json_object();
    for (size_t c = 0; acc && c < p->nchain; c++) {
        json_t *next = merge_objects(acc, p->chain[c]->meta);
        json_decref(acc);
        acc = next;
        if (acc && c + 1 < p->nchain) {
            next = inheritable(acc);
            json_decref(acc);
            acc = next;
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

enum inherit_mode { M_REPLACE, M_APPEND, M_DROP };

/* replaced[c][i]: how much of doc c's section i a descendant took out */
enum { GONE_SUBTREE = 1, GONE_OWN = 2 };

/* An inherit key or a section title names the section `title`: the same
 * title (case-insensitive), or both name the same view ("Tools" and "Tool
 * Priorities"). */
int roster_merge_names_section(const char *key, const char *title)
{
    if (strcasecmp(key, title) == 0)
        return 1;
    enum roster_view v = roster_extract_view_of(key, strlen(key));
    return v != ROSTER_VIEW_COUNT && v == roster_extract_view_of(title, strlen(title));
}

static int same_section(const struct roster_section *a, const struct roster_section *b)
{
    return a->level == b->level && roster_merge_names_section(a->title, b->title);
}

static enum inherit_mode mode_named(json_t *v)
{
    const char *m = json_string_value(v);
    if (m && strcmp(m, "append") == 0)
        return M_APPEND;
    if (m && strcmp(m, "drop") == 0)
        return M_DROP;
    return M_REPLACE;
}

/* 1 when a doc before chain position c has a section titled exactly key. */
static int ancestor_has_title(const struct roster_profile *p, size_t c, const char *key)
{
    for (size_t a = 0; a < c; a++) {
        const struct roster_doc *d = p->chain[a];
        for (size_t i = 0; i < d->md.nsections; i++)
            if (strcasecmp(d->md.sections[i].title, key) == 0)
                return 1;
    }
    return 0;
}

/* What chain[c]'s front matter `inherit` says of an inherited section
 * titled title: a key with that very title; else a key naming the same
 * view, unless an inherited section has that key's own title (then the key
 * is about that one). Replace when nothing says otherwise;
 * roster_merge_check reports bad entries. */
static enum inherit_mode mode_of(const struct roster_profile *p, size_t c, const char *title)
{
    json_t *inh = json_object_get(p->chain[c]->meta, "inherit");
    const char *k;
    json_t *v;
    json_object_foreach(inh, k, v)
    {
        if (strcasecmp(k, title) == 0)
            return mode_named(v);
    }
    json_object_foreach(inh, k, v)
    {
        if (roster_merge_names_section(k, title) && !ancestor_has_title(p, c, k))
            return mode_named(v);
    }
    return M_REPLACE;
}

/* Takes out the inherited sections doc c drops: with their subsections,
 * except an H1 (the title and role statement), whose sections stay. */
static void drop_inherited(struct roster_profile *p, struct entry *acc, size_t *n,
                           unsigned char **replaced, size_t c)
{
    const struct roster_doc *d = p->chain[c];
    if (!json_is_object(json_object_get(d->meta, "inherit")))
        return;
    for (size_t m = 0; m < *n;) {
        const struct roster_section *o = sec_of(p, &acc[m]);
        if (acc[m].c == c || mode_of(p, c, o->title) != M_DROP) {
            m++;
            continue;
        }
        size_t len = o->level == 1 ? 1 : subtree_len(p, acc, *n, m) + 1;
        for (size_t k = m; k < m + len; k++)
            replaced[acc[k].c][acc[k].i] = o->level == 1 ? GONE_OWN : GONE_SUBTREE;
        memmove(&acc[m], &acc[m + len], (*n - m - len) * sizeof(*acc));
        *n -= len;
    }
}

/* Puts doc c's sections i..i+add-1 at acc[at], moving the rest up. */
static void insert_at(struct entry *acc, size_t *n, size_t at, size_t c, size_t i, size_t add)
{
    memmove(&acc[at + add], &acc[at], (*n - at) * sizeof(*acc));
    for (size_t k = 0; k < add; k++)
        acc[at + k] = (struct entry){.c = c, .i = i + k};
    *n += add;
}

/* Folds doc c's sections into acc (the ancestors' resolved sections): a
 * section the same as an inherited one replaces it and its subsections in
 * place (an H1 only its own text), or goes after them when c's `inherit`
 * says append; any other section goes at the end. */
static void overlay(struct roster_profile *p, struct entry *acc, size_t *n,
                    unsigned char **replaced, size_t c)
{
    const struct roster_doc *d = p->chain[c];
    drop_inherited(p, acc, n, replaced, c);
    for (size_t i = 0; i < d->md.nsections;) {
        const struct roster_section *s = &d->md.sections[i];
        size_t m = 0;
        while (m < *n && (acc[m].c == c || !same_section(sec_of(p, &acc[m]), s)))
            m++;
        if (m == *n) {
            acc[(*n)++] = (struct entry){.c = c, .i = i};
            i++;
            continue;
        }
        enum inherit_mode mode = mode_of(p, c, sec_of(p, &acc[m])->title);
        size_t add = s->level == 1 ? 1 : own_subtree(d, i) + 1;
        size_t old = s->level == 1 ? 0 : subtree_len(p, acc, *n, m);
        if (mode == M_APPEND) {
            insert_at(acc, n, m + old + 1, c, i, add);
        } else {
            for (size_t k = m; k <= m + old; k++)
                replaced[acc[k].c][acc[k].i] = s->level == 1 ? GONE_OWN : GONE_SUBTREE;
            memmove(&acc[m], &acc[m + old + 1], (*n - m - old - 1) * sizeof(*acc));
            *n -= old + 1;
            insert_at(acc, n, m, c, i, add);
        }
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
        pos = replaced[i] == GONE_OWN ? s->end : s->subtree_end;
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

/* The profile's one H1 when a descendant's H1 took the place of its
 * ancestors' (replaced or dropped them): its index in acc, else n. The
 * title and role statement then lead the sections and the prompt. */
static size_t leading_h1(const struct roster_profile *p, const struct entry *acc, size_t n)
{
    size_t h = n;
    for (size_t k = 0; k < n; k++) {
        if (sec_of(p, &acc[k])->level != 1)
            continue;
        if (h != n)
            return n; /* more than one: prompt.multiple_roles, order kept */
        h = k;
    }
    return h < n && acc[h].c > 0 ? h : n;
}

/* Puts the H1's own text (heading and role statement) first in the
 * prompt: its doc's body skipped it (GONE_OWN). */
static int prompt_leads_with(struct roster_profile *p, size_t *cap, const struct roster_doc *d,
                             const struct roster_section *h1)
{
    static const char sep[] = "\n\n";
    size_t len = h1->end - h1->start, rest = p->nspans;
    while (len && is_space(d->text[h1->start + len - 1]))
        len--;
    int r = push_span(p, cap, d->text + h1->start, len);
    if (r == 0 && rest)
        r = push_span(p, cap, sep, 2);
    if (r < 0 || p->nspans == rest)
        return r;
    /* rotate the new spans to the front */
    size_t add = p->nspans - rest;
    struct roster_span tmp[2] = {p->spans[rest], add > 1 ? p->spans[rest + 1] : p->spans[rest]};
    memmove(&p->spans[add], &p->spans[0], rest * sizeof(*p->spans));
    for (size_t k = 0; k < add; k++)
        p->spans[k] = tmp[k];
    return 0;
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
    size_t h = leading_h1(p, acc, n);
    struct entry lead = h < n ? acc[h] : (struct entry){0};
    if (h < n) {
        memmove(&acc[1], &acc[0], h * sizeof(*acc));
        acc[0] = lead;
        replaced[lead.c][lead.i] = GONE_OWN;
    }
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
    if (r == 0 && h < n)
        r = prompt_leads_with(p, &cap, p->chain[lead.c], sec_of(p, &lead));
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
