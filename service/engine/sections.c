/* The section tree: every heading at the top level of the document (not in
 * a list, quote or code block) opens a section that runs to the next such
 * heading. Sections nest by level. */
#include "md_internal.h"

#include <string.h>

#include "roster_base.h"

/* Line of an empty heading (md4c gave no text): the first ATX heading line
 * of that level after `from`. */
static unsigned find_empty_heading(const struct roster_lines *lines, unsigned from, unsigned level)
{
    for (unsigned n = from ? from + 1 : 1; n <= lines->count; n++) {
        const char *s;
        size_t len, i = 0, h = 0;
        if (roster_lines_get(lines, n, &s, &len) < 0)
            break;
        while (i < len && i < 3 && s[i] == ' ')
            i++;
        while (i < len && s[i] == '#')
            i++, h++;
        if (h != level || (i < len && s[i] != ' ' && s[i] != '\t'))
            continue;
        while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '#'))
            i++;
        if (i == len)
            return n; /* nothing but the markers: an empty heading */
    }
    return 0;
}

static int is_atx(const struct roster_lines *lines, unsigned line)
{
    const char *s;
    size_t len, i = 0;
    if (roster_lines_get(lines, line, &s, &len) < 0)
        return 1;
    while (i < len && s[i] == ' ')
        i++;
    return i < len && s[i] == '#';
}

static size_t line_start(const struct roster_lines *lines, unsigned n)
{
    return n > lines->count ? lines->len : lines->starts[n - 1];
}

static int make_slug(struct roster_arena *arena, struct roster_section *secs, size_t i)
{
    struct roster_section *s = &secs[i];
    struct roster_buf b;
    roster_buf_init(&b, 4096);
    int r = roster_slugify(s->title, strlen(s->title), &b);
    if (r == 0 && b.len == 0)
        r = roster_buf_puts(&b, "section");
    if (r < 0)
        goto out;
    size_t base_len = b.len;
    unsigned dup = 1;
    for (size_t k = 0; k < i; k++) {
        if (secs[k].parent != s->parent)
            continue;
        const char *o = secs[k].slug;
        size_t olen = strlen(o);
        if (olen == base_len && memcmp(o, b.data, base_len) == 0)
            dup++;
    }
    if (dup > 1) {
        /* the n-th section with this title under one parent is "-n" */
        r = roster_buf_printf(&b, "-%u", dup);
        if (r < 0)
            goto out;
    }
    s->slug = roster_arena_strndup(arena, b.data, b.len);
    if (!s->slug)
        r = ROSTER_ENOMEM;
out:
    roster_buf_release(&b);
    return r;
}

static int make_path(struct roster_arena *arena, struct roster_section *secs, size_t i)
{
    struct roster_section *s = &secs[i];
    const char *pp = s->parent >= 0 ? secs[s->parent].path : NULL;
    size_t plen = pp ? strlen(pp) : 0, tlen = strlen(s->title);
    char *p = roster_arena_alloc(arena, plen + tlen + 2);
    if (!p)
        return ROSTER_ENOMEM;
    if (pp) {
        memcpy(p, pp, plen);
        p[plen++] = '/';
    }
    memcpy(p + plen, s->title, tlen);
    p[plen + tlen] = '\0';
    s->path = p;
    return 0;
}

int roster_md_sections(struct roster_md *md, struct roster_arena *arena, int copy_titles,
                       const struct roster_lines *lines, struct roster_block *root,
                       struct roster_error *err)
{
    size_t n = 0;
    for (struct roster_block *b = root->first; b; b = b->next)
        n += b->kind == ROSTER_BLOCK_H;
    if (n > ROSTER_MD_MAX_SECTIONS) {
        roster_error_set(err, ROSTER_E2BIG, NULL, 0, 0, "%zu headings, over the limit of %d", n,
                         ROSTER_MD_MAX_SECTIONS);
        if (err)
            err->diag = "markdown.too_many_sections";
        return ROSTER_E2BIG;
    }
    struct roster_section *secs = n ? roster_arena_alloc(arena, n * sizeof(*secs)) : NULL;
    if (n && !secs)
        return ROSTER_ENOMEM;
    md->preamble = root->first && root->first->kind != ROSTER_BLOCK_H ? root->first : NULL;
    size_t i = 0;
    unsigned prev_line = lines->count ? roster_lines_line_of(lines, md->body_start) : 1;
    int stack[8] = {-1, -1, -1, -1, -1, -1, -1, -1}; /* open section per level */
    for (struct roster_block *b = root->first; b; b = b->next) {
        if (b->kind != ROSTER_BLOCK_H) {
            if (b->line_last)
                prev_line = b->line_last;
            continue;
        }
        struct roster_section *s = &secs[i];
        unsigned first =
            b->line_first ? b->line_first : find_empty_heading(lines, prev_line, b->level);
        unsigned last = b->line_last ? b->line_last : first;
        if (!first)
            first = last = prev_line;
        s->level = b->level;
        s->title = b->text ? b->text : "";
        if (copy_titles && b->text) {
            s->title = roster_arena_strndup(arena, b->text, b->text_len);
            if (!s->title)
                return ROSTER_ENOMEM;
        }
        s->line = first;
        s->start = line_start(lines, first);
        s->body = line_start(lines, is_atx(lines, first) ? last + 1 : last + 2);
        if (s->body > md->body_end)
            s->body = md->body_end;
        s->blocks = b->next;
        s->parent = -1;
        for (int lv = (int)b->level - 1; lv >= 1; lv--) {
            if (stack[lv] >= 0) {
                s->parent = stack[lv];
                break;
            }
        }
        stack[b->level] = (int)i;
        for (unsigned lv = b->level + 1; lv < 8; lv++)
            stack[lv] = -1;
        int r = make_slug(arena, secs, i);
        if (r == 0)
            r = make_path(arena, secs, i);
        if (r < 0)
            return r;
        prev_line = last;
        i++;
    }
    for (i = 0; i < n; i++) {
        secs[i].end = i + 1 < n ? secs[i + 1].start : md->body_end;
        secs[i].subtree_end = md->body_end;
        for (size_t k = i + 1; k < n; k++) {
            if (secs[k].level <= secs[i].level) {
                secs[i].subtree_end = secs[k].start;
                break;
            }
        }
    }
    md->sections = secs;
    md->nsections = n;
    return 0;
}
