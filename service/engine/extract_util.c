/* Helpers shared by the extractors. */
#include "extract_util.h"

#include <string.h>
#include <strings.h>

#include "roster_doc.h"
#include "roster_text.h"

json_t *ex_str(const char *s, size_t n)
{
    return n ? json_stringn(s, n) : json_null();
}

/* NULL -> null */
static json_t *ex_cstr(const char *s)
{
    return s ? json_string(s) : json_null();
}

size_t ex_find_section(const struct roster_profile *p, size_t from, const char *const *titles)
{
    for (size_t k = from; k < p->nsecs; k++) {
        const struct roster_section *s = p->secs[k].sec;
        if (s->level < 2)
            continue;
        for (const char *const *t = titles; *t; t++)
            if (strcasecmp(s->title, *t) == 0)
                return k;
    }
    return p->nsecs;
}

int ex_each_item(const struct roster_profile *p, const char *const *titles, ex_item_fn fn,
                 void *ctx)
{
    for (size_t k = ex_find_section(p, 0, titles); k < p->nsecs;
         k = ex_find_section(p, k + 1, titles)) {
        FOR_SECTION_BLOCKS(b, p->secs[k].sec)
        {
            if (b->kind != ROSTER_BLOCK_UL && b->kind != ROSTER_BLOCK_OL)
                continue;
            for (const struct roster_block *li = b->first; li; li = li->next) {
                int r = fn(b, li, ctx);
                if (r < 0)
                    return r;
            }
        }
    }
    return 0;
}

size_t ex_subtree_end(const struct roster_profile *p, size_t k)
{
    unsigned level = p->secs[k].sec->level;
    size_t e = k + 1;
    while (e < p->nsecs && p->secs[e].sec->level > level)
        e++;
    return e;
}

int ex_bold_label(const char *s, size_t n, const char **label, size_t *llen, const char **rest,
                  size_t *rlen)
{
    if (n < 5 || !((s[0] == '*' && s[1] == '*') || (s[0] == '_' && s[1] == '_')))
        return 0;
    char c = s[0];
    for (size_t i = 2; i + 1 < n; i++) {
        if (s[i] == c && s[i + 1] == c && i > 2) {
            *label = s + 2;
            *llen = i - 2;
            *rest = s + i + 2;
            *rlen = n - i - 2;
            /* "**Name:** text" keeps the colon outside the name */
            while (*llen && ((*label)[*llen - 1] == ':' || (*label)[*llen - 1] == ' '))
                (*llen)--;
            roster_trim(rest, rlen);
            return *llen > 0;
        }
    }
    return 0;
}

void ex_skip_separator(const char **s, size_t *n)
{
    roster_trim(s, n);
    if (*n && (**s == ':' || **s == '-'))
        (*s)++, (*n)--;
    else if (*n >= 3 && (memcmp(*s, "\xE2\x80\x93", 3) == 0 || memcmp(*s, "\xE2\x80\x94", 3) == 0))
        *s += 3, *n -= 3;
    roster_trim(s, n);
}

const struct roster_block *ex_item_para(const struct roster_block *li)
{
    for (const struct roster_block *c = li->first; c; c = c->next)
        if (c->kind == ROSTER_BLOCK_P)
            return c;
    return NULL;
}

json_t *ex_nested_items(const struct roster_block *li)
{
    json_t *a = json_array();
    for (const struct roster_block *c = li->first; a && c; c = c->next) {
        if (c->kind != ROSTER_BLOCK_UL && c->kind != ROSTER_BLOCK_OL)
            continue;
        for (const struct roster_block *it = c->first; it; it = it->next) {
            const struct roster_block *para = ex_item_para(it);
            if (!para || !para->text_len)
                continue;
            if (roster_json_push(a, json_stringn(para->text, para->text_len))) {
                json_decref(a);
                return NULL;
            }
        }
    }
    return a;
}

/* {"language", "code"} of a code block. */
static json_t *ex_code(const struct roster_block *b)
{
    json_t *o = json_object();
    if (!o || roster_json_set(o, "language", ex_cstr(b->lang)) ||
        roster_json_set(o, "code", json_stringn(b->text ? b->text : "", b->text_len))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *cells(const struct roster_block *row)
{
    json_t *a = json_array();
    for (const struct roster_block *c = row->first; a && c; c = c->next) {
        if (roster_json_push(a, json_stringn(c->text ? c->text : "", c->text ? c->text_len : 0))) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *table(const struct roster_block *t)
{
    json_t *rows = json_array(), *header = NULL;
    int bad = !rows;
    for (const struct roster_block *r = t->first; r && !bad; r = r->next) {
        if (r->header && !header)
            bad = !(header = cells(r));
        else
            bad = roster_json_push(rows, cells(r)) != 0;
    }
    if (!bad && !header)
        header = json_array(); /* NULL without memory: the pack below fails */
    /* json_pack takes both, also when it fails (a failed set used to leak rows) */
    return json_pack("{s:o, s:o}", "header", roster_json_unless(bad, header), "rows", rows);
}

int ex_collect(const struct roster_profile *p, size_t k, size_t end, json_t *examples,
               json_t *tables)
{
    for (; k < end; k++) {
        FOR_SECTION_BLOCKS(b, p->secs[k].sec)
        {
            if (b->kind == ROSTER_BLOCK_CODE && examples && roster_json_push(examples, ex_code(b)))
                return -1;
            if (b->kind == ROSTER_BLOCK_TABLE && tables && roster_json_push(tables, table(b)))
                return -1;
        }
    }
    return 0;
}

json_t *ex_section_markdown(const struct roster_secref *r, int own)
{
    const struct roster_section *s = r->sec;
    size_t end = own ? s->end : s->subtree_end;
    const char *t = r->doc->text + s->body;
    size_t n = end > s->body ? end - s->body : 0;
    roster_trim(&t, &n);
    return json_stringn(t, n);
}
