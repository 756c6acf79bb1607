/* The structured views of a resolved profile. */
#include "roster_extract.h"

#include <string.h>
#include <strings.h>

#include "extract_util.h"
#include "roster_base.h"
#include "roster_doc.h"
#include "roster_text.h"

static const char *const T_COMPETENCIES[] = {"Core Competencies", "Competencies", NULL};
static const char *const T_WORK[] = {"Work Patterns", "Workflows", "Working Patterns", NULL};
static const char *const T_TOOLS[] = {"Tool Priorities", "Tools", "Tool Preferences", NULL};
static const char *const T_OUTPUT[] = {"Output Standards", "Output Format", "Deliverables", NULL};

json_t *roster_extract_role(const struct roster_profile *p)
{
    json_t *o = json_object();
    json_t *role = json_object_get(p->meta, "role");
    const struct roster_secref *h1 = NULL;
    /* the most derived profile with an H1 speaks for the role */
    for (size_t c = p->nchain; c-- > 0 && !h1;) {
        for (size_t k = 0; k < p->nsecs; k++) {
            if (p->secs[k].doc == p->chain[c] && p->secs[k].sec->level == 1) {
                h1 = &p->secs[k];
                break;
            }
        }
    }
    struct roster_buf b;
    roster_buf_init(&b, 1 << 20);
    int bad = 0; /* a paragraph that did not fit: fail, never serve it cut */
    if (h1) {
        FOR_SECTION_BLOCKS(blk, h1->sec)
        {
            if (bad || blk->kind != ROSTER_BLOCK_P || !blk->text_len)
                continue;
            bad = (b.len && roster_buf_puts(&b, "\n\n") < 0) ||
                  roster_buf_append(&b, blk->text, blk->text_len) < 0;
        }
    }
    if (bad || !o ||
        roster_json_set(o, "name", json_is_string(role) ? json_incref(role) : json_null()) ||
        roster_json_set(o, "title", h1 ? json_string(h1->sec->title) : json_null()) ||
        roster_json_set(o, "statement", b.len ? json_stringn(b.data, b.len) : json_null())) {
        json_decref(o);
        o = NULL;
    }
    roster_buf_release(&b);
    return o;
}

/* {"name", "description"} of "**Name**: description" (name null if none). */
static json_t *labelled_item(const char *s, size_t n)
{
    const char *label, *rest;
    size_t llen, rlen;
    int has = ex_bold_label(s, n, &label, &llen, &rest, &rlen);
    if (has)
        ex_skip_separator(&rest, &rlen);
    return json_pack("{s:o, s:o}", "name", has ? json_stringn(label, llen) : json_null(),
                     "description", has ? ex_str(rest, rlen) : json_stringn(s, n));
}

static int competency(const struct roster_block *list, const struct roster_block *li, void *ctx)
{
    (void)list;
    const struct roster_block *para = ex_item_para(li);
    if (!para || !para->text_len)
        return 0;
    return roster_json_push(ctx, labelled_item(para->text, para->text_len));
}

json_t *roster_extract_competencies(const struct roster_profile *p)
{
    json_t *a = json_array();
    if (a && ex_each_item(p, T_COMPETENCIES, competency, a) < 0) {
        json_decref(a);
        return NULL;
    }
    return a;
}

static json_t *work_pattern(const struct roster_profile *p, size_t k)
{
    json_t *steps = json_array(), *examples = json_array();
    struct roster_buf summary;
    roster_buf_init(&summary, 1 << 20);
    int seen_list = 0, bad = !steps || !examples;
    FOR_SECTION_BLOCKS(b, p->secs[k].sec)
    {
        if (bad)
            break;
        if (b->kind == ROSTER_BLOCK_P && !seen_list && b->text_len) {
            bad = (summary.len && roster_buf_puts(&summary, "\n\n") < 0) ||
                  roster_buf_append(&summary, b->text, b->text_len) < 0;
            if (bad)
                break;
        }
        if (b->kind != ROSTER_BLOCK_UL && b->kind != ROSTER_BLOCK_OL)
            continue;
        seen_list = 1;
        for (const struct roster_block *li = b->first; li && !bad; li = li->next) {
            const struct roster_block *para = ex_item_para(li);
            const char *label, *rest, *s = para ? para->text : "";
            size_t llen, rlen, n = para ? para->text_len : 0;
            json_t *step = json_object();
            int has = ex_bold_label(s, n, &label, &llen, &rest, &rlen);
            if (!step ||
                roster_json_set(step, "name", has ? json_stringn(label, llen) : ex_str(s, n)) ||
                roster_json_set(step, "items", ex_nested_items(li))) {
                json_decref(step);
                bad = 1;
            } else {
                bad = roster_json_push(steps, step) != 0;
            }
        }
    }
    bad = bad || ex_collect(p, k, ex_subtree_end(p, k), examples, NULL);
    json_t *text = summary.len ? json_stringn(summary.data, summary.len) : json_null();
    roster_buf_release(&summary);
    /* json_pack steals every "o" argument, also when it fails */
    return json_pack("{s:o, s:o, s:o, s:o}", "name", json_string(p->secs[k].sec->title), "summary",
                     text, "steps", steps, "examples", roster_json_unless(bad, examples));
}

/* Entries one level below section k, in its positional subtree. */
typedef json_t *(*child_fn)(const struct roster_profile *p, size_t k);

static json_t *per_child(const struct roster_profile *p, const char *const *titles, child_fn fn)
{
    json_t *a = json_array();
    for (size_t k = ex_find_section(p, 0, titles); a && k < p->nsecs;
         k = ex_find_section(p, k + 1, titles)) {
        size_t end = ex_subtree_end(p, k);
        unsigned want = p->secs[k].sec->level + 1;
        for (size_t c = k + 1; c < end; c++) {
            if (p->secs[c].sec->level != want)
                continue;
            if (roster_json_push(a, fn(p, c))) {
                json_decref(a);
                return NULL;
            }
        }
    }
    return a;
}

json_t *roster_extract_work_patterns(const struct roster_profile *p)
{
    return per_child(p, T_WORK, work_pattern);
}

/* "**Name** (Qualifier) - description" */
static json_t *tool(const struct roster_block *li, long rank)
{
    const struct roster_block *para = ex_item_para(li);
    const char *s = para ? para->text : "", *name = s, *rest = "", *q = NULL;
    size_t n = para ? para->text_len : 0, nlen = n, rlen = 0, qlen = 0;
    if (!ex_bold_label(s, n, &name, &nlen, &rest, &rlen)) {
        /* no bold name: the name runs to the qualifier or separator */
        const char *sep = NULL;
        for (size_t i = 0; i + 2 < n && !sep; i++)
            if ((s[i] == ' ' && (s[i + 1] == '(' || (s[i + 1] == '-' && s[i + 2] == ' '))))
                sep = s + i;
        nlen = sep ? (size_t)(sep - s) : n;
        rest = s + nlen;
        rlen = n - nlen;
        roster_trim(&rest, &rlen);
    }
    if (rlen && rest[0] == '(') {
        const char *close = memchr(rest, ')', rlen);
        if (close) {
            q = rest + 1;
            qlen = (size_t)(close - q);
            rlen -= (size_t)(close + 1 - rest);
            rest = close + 1;
        }
    }
    ex_skip_separator(&rest, &rlen);
    return json_pack("{s:I, s:o, s:o, s:o, s:o}", "rank", (json_int_t)rank, "name",
                     ex_str(name, nlen), "qualifier", q ? ex_str(q, qlen) : json_null(),
                     "description", ex_str(rest, rlen), "uses", ex_nested_items(li));
}

struct ranking {
    json_t *a;
    long rank;
};

static int ranked_tool(const struct roster_block *list, const struct roster_block *li, void *ctx)
{
    struct ranking *t = ctx;
    if (li == list->first) /* an ordered list's start number, else after the last */
        t->rank =
            list->kind == ROSTER_BLOCK_OL ? (long)list->level : (long)json_array_size(t->a) + 1;
    return roster_json_push(t->a, tool(li, t->rank++));
}

json_t *roster_extract_tool_priorities(const struct roster_profile *p)
{
    struct ranking t = {.a = json_array()};
    if (t.a && ex_each_item(p, T_TOOLS, ranked_tool, &t) < 0) {
        json_decref(t.a);
        return NULL;
    }
    return t.a;
}

static json_t *output_standard(const struct roster_profile *p, size_t k)
{
    json_t *examples = json_array(), *tables = json_array();
    int bad = !examples || !tables || ex_collect(p, k, ex_subtree_end(p, k), examples, tables);
    return json_pack("{s:o, s:o, s:o, s:o}", "name", json_string(p->secs[k].sec->title), "markdown",
                     ex_section_markdown(&p->secs[k], 0), "examples", examples, "tables",
                     roster_json_unless(bad, tables));
}

json_t *roster_extract_output_standards(const struct roster_profile *p)
{
    return per_child(p, T_OUTPUT, output_standard);
}

int roster_extract_terms(const struct roster_section *sec, struct roster_buf *out)
{
    int match = 0;
    for (const char *const *t = T_COMPETENCIES; *t && sec->level >= 2; t++)
        match |= strcasecmp(sec->title, *t) == 0;
    if (!match)
        return 0;
    FOR_SECTION_BLOCKS(b, sec)
    {
        if (b->kind != ROSTER_BLOCK_UL && b->kind != ROSTER_BLOCK_OL)
            continue;
        for (const struct roster_block *li = b->first; li; li = li->next) {
            const struct roster_block *para = ex_item_para(li);
            const char *label, *rest;
            size_t llen, rlen;
            if (!para || !para->text_len ||
                !ex_bold_label(para->text, para->text_len, &label, &llen, &rest, &rlen))
                continue;
            if (roster_buf_append(out, label, llen) < 0 || roster_buf_putc(out, '\n') < 0)
                return ROSTER_ENOMEM;
        }
    }
    return 0;
}
