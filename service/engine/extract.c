/* The structured views of a resolved profile. */
#include "roster_extract.h"

#include <string.h>
#include <strings.h>

#include "extract_util.h"
#include "roster_base.h"
#include "roster_doc.h"
#include "roster_text.h"

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

/* Table columns, found by their header (case-insensitive). */
static const char *const C_NAME[] = {"Competency", "Name", "Skill", "Area", "Capability", NULL};
static const char *const C_DESC[] = {"Description", "Details", "Summary", "What", NULL};
static const char *const C_TOOL[] = {"Tool", "Tools", "Name", NULL};
static const char *const C_RANK[] = {"Rank", "#", "Priority", "Order", NULL};
static const char *const C_QUAL[] = {"Qualifier", "Level", "Tier", "Role", NULL};
static const char *const C_USE[] = {"Description", "Use",   "Usage", "Purpose",
                                    "When",        "Notes", "Why",   NULL};

/* One row of a competency table; NULL with *skip set for an empty row. */
static json_t *competency_row(const struct roster_block *table, const struct roster_block *row,
                              int *skip)
{
    int name = ex_column(table, C_NAME, -1), desc = ex_column(table, C_DESC, -1);
    if (name < 0)
        name = desc == 0 ? 1 : 0;
    if (desc < 0)
        desc = name == 0 ? 1 : 0;
    const char *ns, *ds;
    size_t nn, dn;
    ex_cell(row, name, 1, &ns, &nn);
    ex_cell(row, desc, 0, &ds, &dn);
    *skip = !nn && !dn;
    if (*skip)
        return NULL;
    return json_pack("{s:o, s:o}", "name", ex_str(ns, nn), "description", ex_str(ds, dn));
}

static int competency(const struct roster_secref *ref, const struct roster_block *list,
                      const struct roster_block *li, void *ctx)
{
    json_t *item;
    int skip = 0;
    if (li->kind == ROSTER_BLOCK_ROW) {
        item = competency_row(list, li, &skip);
    } else {
        const struct roster_block *para = ex_item_para(li);
        skip = !para || !para->text_len;
        item = skip ? NULL : labelled_item(para->text, para->text_len);
    }
    return skip ? 0 : roster_json_push(ctx, ex_from(item, ref));
}

json_t *roster_extract_competencies(const struct roster_profile *p)
{
    json_t *a = json_array();
    if (a && ex_each_item(p, ROSTER_VIEW_COMPETENCIES, competency, a) < 0) {
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

static json_t *per_child(const struct roster_profile *p, enum roster_view view, child_fn fn)
{
    json_t *a = json_array();
    for (size_t k = ex_find_section(p, 0, view); a && k < p->nsecs;
         k = ex_find_section(p, k + 1, view)) {
        size_t end = ex_subtree_end(p, k);
        unsigned want = p->secs[k].sec->level + 1;
        for (size_t c = k + 1; c < end; c++) {
            if (p->secs[c].sec->level != want)
                continue;
            if (roster_json_push(a, ex_from(fn(p, c), &p->secs[c]))) {
                json_decref(a);
                return NULL;
            }
        }
    }
    return a;
}

json_t *roster_extract_work_patterns(const struct roster_profile *p)
{
    return per_child(p, ROSTER_VIEW_WORK_PATTERNS, work_pattern);
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

/* A positive whole number (at most 9 digits), or 0. */
static long small_number(const char *s, size_t n)
{
    long v = 0;
    if (!n || n > 9)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* The table's columns for tools, by header; the name is the first column
 * no other header claimed. */
struct tool_cols {
    int rank, qual, desc, name;
};

static struct tool_cols tool_columns(const struct roster_block *table)
{
    struct tool_cols c = {ex_column(table, C_RANK, -1), ex_column(table, C_QUAL, -1),
                          ex_column(table, C_USE, -1), ex_column(table, C_TOOL, -1)};
    for (int i = 0; c.name < 0 && i < 8; i++)
        if (i != c.rank && i != c.qual && i != c.desc)
            c.name = i;
    return c;
}

/* One row of a tool table; NULL with *skip set for a row naming no tool. */
static json_t *tool_row(const struct roster_block *table, const struct roster_block *row, long rank,
                        int *skip)
{
    struct tool_cols c = tool_columns(table);
    const char *ns, *qs, *ds, *rs;
    size_t nn, qn, dn, rn;
    ex_cell(row, c.name, 1, &ns, &nn);
    ex_cell(row, c.qual, 0, &qs, &qn);
    ex_cell(row, c.desc, 0, &ds, &dn);
    ex_cell(row, c.rank, 0, &rs, &rn);
    *skip = nn == 0;
    if (*skip)
        return NULL;
    if (rn && !qn && !small_number(rs, rn))
        qs = rs, qn = rn; /* a "Priority" column saying "Primary" qualifies */
    return json_pack("{s:I, s:o, s:o, s:o, s:[]}", "rank", (json_int_t)rank, "name", ex_str(ns, nn),
                     "qualifier", ex_str(qs, qn), "description", ex_str(ds, dn), "uses");
}

/* The rank a table row states in its rank column, or 0. */
static long row_rank(const struct roster_block *table, const struct roster_block *row)
{
    const char *rs;
    size_t rn;
    ex_cell(row, tool_columns(table).rank, 0, &rs, &rn);
    return small_number(rs, rn);
}

struct ranking {
    json_t *a;
    long next; /* the rank of the next item unless its list says otherwise */
    long last; /* the highest rank given: ranks never repeat */
};

/* Ranks: an ordered list's numbers, a table's rank column, else the
 * position; a list that starts again at or below a rank already given
 * (two lists, or a child's list appended to its parent's) continues after
 * the highest one (roster_lint_doc warns about it in one file). */
static int ranked_tool(const struct roster_secref *ref, const struct roster_block *list,
                       const struct roster_block *li, void *ctx)
{
    struct ranking *t = ctx;
    int row = li->kind == ROSTER_BLOCK_ROW, skip = 0;
    if (ex_first_item(list, li))
        t->next = list->kind == ROSTER_BLOCK_OL ? (long)list->level : t->last + 1;
    long rank = row && row_rank(list, li) ? row_rank(list, li) : t->next;
    if (rank <= t->last)
        rank = t->last + 1;
    json_t *item = row ? tool_row(list, li, rank, &skip) : tool(li, rank);
    if (skip)
        return 0;
    t->last = rank;
    t->next = rank + 1;
    return roster_json_push(t->a, ex_from(item, ref));
}

json_t *roster_extract_tool_priorities(const struct roster_profile *p)
{
    struct ranking t = {.a = json_array()};
    if (t.a && ex_each_item(p, ROSTER_VIEW_TOOL_PRIORITIES, ranked_tool, &t) < 0) {
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
    return per_child(p, ROSTER_VIEW_OUTPUT_STANDARDS, output_standard);
}

int roster_extract_terms(const struct roster_section *sec, struct roster_buf *out)
{
    if (sec->level < 2 ||
        roster_extract_view_of(sec->title, strlen(sec->title)) != ROSTER_VIEW_COMPETENCIES)
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
