/* Authoring checks on one parsed file, while its block tree exists: what
 * the author wrote that the extractors would not read, so that nothing is
 * lost without a diagnostic (docs/profile-format.md "Authoring checks"). */
#include "roster_lint.h"

#include <string.h>

#include "extract_util.h"
#include "roster_diag.h"
#include "roster_doc.h"
#include "roster_extract.h"

static enum roster_view view_of(const struct roster_section *s)
{
    return roster_extract_view_of(s->title, strlen(s->title));
}

/* "##Title": a paragraph that was meant as a heading. */
static int no_space_heading(const struct roster_block *b)
{
    const char *s = b->text;
    size_t n = b->text_len, h = 0;
    if (b->kind != ROSTER_BLOCK_P || !s || b->line_first != b->line_last)
        return 0;
    while (h < n && h < 7 && s[h] == '#')
        h++;
    if (h == 0 || h > 6 || h >= n)
        return 0;
    unsigned char c = (unsigned char)s[h];
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c >= 0x80;
}

static int check_paragraphs(const struct roster_doc *d, const struct roster_block *first,
                            struct roster_diags *diags)
{
    for (const struct roster_block *b = first; b; b = b->next) {
        if (b->kind == ROSTER_BLOCK_H && b->parent && b->parent->kind == ROSTER_BLOCK_DOC)
            break; /* the next section */
        if (!no_space_heading(b))
            continue;
        size_t h = strspn(b->text, "#");
        int r = roster_diags_add(diags, ROSTER_SEV_WARNING, "markdown.heading_no_space", d->relpath,
                                 b->line_first, 1, NULL,
                                 "\"%.60s\" is a paragraph, not a heading: a heading needs a "
                                 "space after its #s; write \"%.*s %.60s\"",
                                 b->text, (int)h, b->text, b->text + h);
        if (r < 0)
            return r;
    }
    return 0;
}

/* Items the extractor reads directly in a section: list items with text
 * and table body rows. */
static size_t items_in(const struct roster_section *s)
{
    size_t n = 0;
    FOR_SECTION_BLOCKS(b, s)
    {
        if (b->kind != ROSTER_BLOCK_UL && b->kind != ROSTER_BLOCK_OL &&
            b->kind != ROSTER_BLOCK_TABLE)
            continue;
        for (const struct roster_block *li = b->first; li; li = li->next) {
            if (li->kind == ROSTER_BLOCK_ROW) {
                n += !li->header;
            } else {
                const struct roster_block *p = ex_item_para(li);
                n += p && p->text_len;
            }
        }
    }
    return n;
}

static int has_content(const struct roster_section *s)
{
    FOR_SECTION_BLOCKS(b, s)
    {
        return 1;
    }
    return 0;
}

/* Index one past section i's subsections. */
static size_t subtree_end(const struct roster_md *md, size_t i)
{
    size_t k = i + 1;
    while (k < md->nsections && md->sections[k].start < md->sections[i].subtree_end)
        k++;
    return k;
}

static const char *const EXPECTED[ROSTER_VIEW_COUNT] = {
    [ROSTER_VIEW_COMPETENCIES] = "list items \"- **Name**: description\" or a table",
    [ROSTER_VIEW_TOOL_PRIORITIES] =
        "list items \"1. **Name** (Qualifier) - description\" or a table",
    [ROSTER_VIEW_ANTI_PATTERNS] = "list items (\"- ❌ ...\", \"- ✅ ...\")",
    [ROSTER_VIEW_WORK_PATTERNS] = "one subsection a level down per pattern",
    [ROSTER_VIEW_OUTPUT_STANDARDS] = "one subsection a level down per standard",
};

/* A view section with content the extractor cannot read. */
static int check_readable(const struct roster_doc *d, size_t i, enum roster_view v,
                          struct roster_diags *diags)
{
    const struct roster_md *md = &d->md;
    const struct roster_section *s = &md->sections[i];
    size_t end = subtree_end(md, i), found = 0;
    int content = 0;
    for (size_t k = i; k < end; k++) {
        const struct roster_section *c = &md->sections[k];
        int child = c->level == s->level + 1;
        if (v == ROSTER_VIEW_WORK_PATTERNS || v == ROSTER_VIEW_OUTPUT_STANDARDS)
            found += k > i && child;
        else if (k == i || v == ROSTER_VIEW_ANTI_PATTERNS)
            found += items_in(c);
        content |= (k == i || v == ROSTER_VIEW_ANTI_PATTERNS) && has_content(c);
    }
    if (found || !content)
        return 0;
    return roster_diags_add(diags, ROSTER_SEV_WARNING, "section.unreadable", d->relpath, s->line, 1,
                            NULL,
                            "\"%.80s\" has content but nothing %s can read: it expects %s, so "
                            "the view gets nothing from this section",
                            s->title, roster_view_name(v), EXPECTED[v]);
}

static int check_level(const struct roster_doc *d, const struct roster_section *s,
                       enum roster_view v, struct roster_diags *diags)
{
    if (s->level != 1)
        return 0;
    return roster_diags_add(diags, ROSTER_SEV_WARNING, "section.wrong_level", d->relpath, s->line,
                            1, NULL,
                            "\"# %.80s\" is a level-1 heading, so %s does not read it (view "
                            "sections are level 2 or deeper): write \"## %.80s\"",
                            s->title, roster_view_name(v), s->title);
}

struct ranks {
    long last; /* highest rank so far in this file's tool sections */
};

/* A list whose numbers start at or below a rank already given in this
 * file: extract.c serves it after the highest rank instead. */
static int check_list_ranks(const struct roster_doc *d, const struct roster_block *b,
                            struct ranks *rk, struct roster_diags *diags)
{
    long start = b->kind == ROSTER_BLOCK_OL ? (long)b->level : rk->last + 1;
    long count = 0;
    for (const struct roster_block *li = b->first; li; li = li->next)
        count++;
    int r = 0;
    if (start <= rk->last) {
        r = roster_diags_add(diags, ROSTER_SEV_WARNING, "tools.duplicate_rank", d->relpath,
                             b->line_first ? b->line_first : 1, 1, NULL,
                             "tool ranks start again at %ld here after rank %ld, so they are "
                             "served as %ld to %ld: number this list on from %ld, or make one "
                             "list",
                             start, rk->last, rk->last + 1, rk->last + count, rk->last + 1);
        start = rk->last + 1;
    }
    rk->last = start + count - 1;
    return r;
}

static int check_ranks(const struct roster_doc *d, const struct roster_section *s, struct ranks *rk,
                       struct roster_diags *diags)
{
    FOR_SECTION_BLOCKS(b, s)
    {
        if (b->kind != ROSTER_BLOCK_UL && b->kind != ROSTER_BLOCK_OL)
            continue;
        int r = check_list_ranks(d, b, rk, diags);
        if (r < 0)
            return r;
    }
    return 0;
}

int roster_lint_doc(const struct roster_doc *d, struct roster_diags *diags)
{
    const struct roster_md *md = &d->md;
    struct ranks rk = {0};
    int r = check_paragraphs(d, md->preamble, diags);
    for (size_t i = 0; r == 0 && i < md->nsections; i++) {
        const struct roster_section *s = &md->sections[i];
        r = check_paragraphs(d, s->blocks, diags);
        enum roster_view v = view_of(s);
        if (r < 0 || v == ROSTER_VIEW_COUNT)
            continue;
        r = check_level(d, s, v, diags);
        if (r == 0 && s->level > 1)
            r = check_readable(d, i, v, diags);
        if (r == 0 && s->level > 1 && v == ROSTER_VIEW_TOOL_PRIORITIES)
            r = check_ranks(d, s, &rk, diags);
    }
    return r;
}
