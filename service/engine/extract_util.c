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

/* The titles that name a view's section; docs/profile-format.md lists
 * them. Matching is case-insensitive, at level 2 or deeper. */
static const struct {
    const char *title;
    enum roster_view view;
} KNOWN[] = {
    {"Core Competencies", ROSTER_VIEW_COMPETENCIES},
    {"Competencies", ROSTER_VIEW_COMPETENCIES},
    {"Work Patterns", ROSTER_VIEW_WORK_PATTERNS},
    {"Workflows", ROSTER_VIEW_WORK_PATTERNS},
    {"Working Patterns", ROSTER_VIEW_WORK_PATTERNS},
    {"Tool Priorities", ROSTER_VIEW_TOOL_PRIORITIES},
    {"Tools", ROSTER_VIEW_TOOL_PRIORITIES},
    {"Tool Preferences", ROSTER_VIEW_TOOL_PRIORITIES},
    {"Output Standards", ROSTER_VIEW_OUTPUT_STANDARDS},
    {"Output Format", ROSTER_VIEW_OUTPUT_STANDARDS},
    {"Deliverables", ROSTER_VIEW_OUTPUT_STANDARDS},
    {"Anti-Patterns", ROSTER_VIEW_ANTI_PATTERNS},
    {"Anti Patterns", ROSTER_VIEW_ANTI_PATTERNS},
    {"Antipatterns", ROSTER_VIEW_ANTI_PATTERNS},
};

enum roster_view roster_extract_view_of(const char *title, size_t len)
{
    for (size_t k = 0; k < sizeof(KNOWN) / sizeof(KNOWN[0]); k++)
        if (roster_slice_ieq(title, len, KNOWN[k].title))
            return KNOWN[k].view;
    return ROSTER_VIEW_COUNT;
}

size_t ex_find_section(const struct roster_profile *p, size_t from, enum roster_view view)
{
    for (size_t k = from; k < p->nsecs; k++) {
        const struct roster_section *s = p->secs[k].sec;
        if (s->level >= 2 && roster_extract_view_of(s->title, strlen(s->title)) == view)
            return k;
    }
    return p->nsecs;
}

int ex_each_item(const struct roster_profile *p, enum roster_view view, ex_item_fn fn, void *ctx)
{
    for (size_t k = ex_find_section(p, 0, view); k < p->nsecs;
         k = ex_find_section(p, k + 1, view)) {
        FOR_SECTION_BLOCKS(b, p->secs[k].sec)
        {
            if (b->kind != ROSTER_BLOCK_UL && b->kind != ROSTER_BLOCK_OL &&
                b->kind != ROSTER_BLOCK_TABLE)
                continue;
            for (const struct roster_block *li = b->first; li; li = li->next) {
                if (li->kind == ROSTER_BLOCK_ROW && li->header)
                    continue;
                int r = fn(&p->secs[k], b, li, ctx);
                if (r < 0)
                    return r;
            }
        }
    }
    return 0;
}

int ex_first_item(const struct roster_block *list, const struct roster_block *li)
{
    const struct roster_block *first = list->first;
    if (first && first->kind == ROSTER_BLOCK_ROW && first->header)
        first = first->next;
    return li == first;
}

int ex_column(const struct roster_block *table, const char *const *names, int none)
{
    const struct roster_block *h = table->first;
    if (table->kind != ROSTER_BLOCK_TABLE || !h || !h->header)
        return none;
    int i = 0;
    for (const struct roster_block *c = h->first; c; c = c->next, i++) {
        const char *s = c->text ? c->text : "";
        size_t n = c->text ? c->text_len : 0;
        roster_trim(&s, &n);
        for (const char *const *t = names; *t; t++)
            if (roster_slice_ieq(s, n, *t))
                return i;
    }
    return none;
}

void ex_cell(const struct roster_block *row, int i, int unbold, const char **s, size_t *n)
{
    const struct roster_block *c = row->first;
    for (int k = 0; c && k < i; k++)
        c = c->next;
    *s = "";
    *n = 0;
    if (i < 0 || !c || !c->text)
        return;
    *s = c->text;
    *n = c->text_len;
    roster_trim(s, n);
    const char *label, *rest;
    size_t llen, rlen;
    if (unbold && ex_bold_label(*s, *n, &label, &llen, &rest, &rlen) && !rlen)
        *s = label, *n = llen;
}

json_t *ex_from(json_t *item, const struct roster_secref *ref)
{
    if (item && (roster_json_set(item, "from", json_string(ref->doc->id)) ||
                 roster_json_set(item, "section", json_string(ref->sec->path)))) {
        json_decref(item);
        return NULL;
    }
    return item;
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
