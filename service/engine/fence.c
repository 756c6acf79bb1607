/* Fence repair. A fenced code block closed by a line such as "```markdown"
 * is not closed in CommonMark: the info string makes the line content, and
 * the rest of the file is swallowed as code. md4c finds such lines for us:
 * we parse, watch the content lines of every fenced block, and when one is
 * a run of at least as many fence characters as the opening fence followed
 * by an info string, we blank the info string (so the line is a bare
 * closing fence), report it, and parse again. A file in which no such line
 * is swallowed is never touched, so it parses exactly as strict CommonMark. */
#include "md_internal.h"

#include <string.h>

#include "roster_base.h"
#include "roster_diag.h"

struct detect {
    const char *base; /* the work copy (whole text) */
    size_t len;
    const struct roster_lines *lines;
    int in_fence;
    char fence_char;
    size_t fence_len; /* 0 until the opening fence is found */
    size_t hit_off; /* offset of the fence run on the offending line */
    size_t hit_info; /* offset of the info string */
    size_t hit_end; /* end of the line */
    int found;
    unsigned open_line; /* opening fence of the current block */
    unsigned last_line; /* last content line of the current block */
    unsigned eof_open; /* opener line of a block that runs to the end, or 0 */
    const size_t *skip; /* candidates judged to be content */
    size_t nskip;
};

static int in_buffer(const struct detect *d, const char *p)
{
    return p >= d->base && p < d->base + d->len;
}

/* Length of the first run of >= 3 fence characters on line n, or 0. */
static size_t fence_run_on_line(const struct detect *d, unsigned n)
{
    const char *s;
    size_t len;
    if (roster_lines_get(d->lines, n, &s, &len) < 0)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != d->fence_char)
            continue;
        size_t k = i;
        while (k < len && s[k] == d->fence_char)
            k++;
        if (k - i >= 3)
            return k - i;
        i = k;
    }
    return 0;
}

static int det_enter(MD_BLOCKTYPE type, void *detail, void *u)
{
    struct detect *d = u;
    if (type == MD_BLOCK_CODE) {
        const MD_BLOCK_CODE_DETAIL *c = detail;
        d->in_fence = c->fence_char != 0;
        d->fence_char = c->fence_char;
        d->fence_len = 0;
        d->open_line = 0;
        d->last_line = 0;
    }
    return 0;
}

/* 1 when only blank lines follow line n to the end of the text. */
static int blank_to_end(const struct detect *d, unsigned n)
{
    for (unsigned k = n + 1; k <= d->lines->count; k++) {
        const char *s;
        size_t len;
        roster_lines_get(d->lines, k, &s, &len);
        for (size_t i = 0; i < len; i++)
            if (s[i] != ' ' && s[i] != '\t')
                return 0;
    }
    return 1;
}

static int det_leave(MD_BLOCKTYPE type, void *detail, void *u)
{
    (void)detail;
    struct detect *d = u;
    if (type == MD_BLOCK_CODE && d->in_fence && d->last_line && blank_to_end(d, d->last_line))
        d->eof_open = d->open_line; /* never closed: it ran to the end */
    if (type == MD_BLOCK_CODE)
        d->in_fence = 0;
    return 0;
}

static int det_text(MD_TEXTTYPE type, const MD_CHAR *text, MD_SIZE size, void *u)
{
    struct detect *d = u;
    if (!d->in_fence || type != MD_TEXT_CODE || !in_buffer(d, text) || size == 0)
        return 0;
    size_t off = (size_t)(text - d->base);
    unsigned line = roster_lines_line_of(d->lines, off);
    d->last_line = line;
    if (!d->fence_len) {
        /* The opening fence is the nearest line above with a fence run:
         * lines between it and the first content piece are blank. */
        for (unsigned n = line - 1; n >= 1 && !d->fence_len; n--) {
            d->fence_len = fence_run_on_line(d, n);
            d->open_line = n;
        }
        if (!d->fence_len)
            d->fence_len = 3;
    }
    if (d->found)
        return 0; /* keep the first hit; parse on to learn how the text ends */
    /* Only container prefixes (indentation, '>') may precede the piece. */
    for (size_t p = d->lines->starts[line - 1]; p < off; p++)
        if (d->base[p] != ' ' && d->base[p] != '\t' && d->base[p] != '>')
            return 0;
    size_t i = 0;
    while (i < size && i < 3 && text[i] == ' ')
        i++;
    size_t run = i;
    while (i < size && text[i] == d->fence_char)
        i++;
    run = i - run;
    if (run < d->fence_len)
        return 0;
    size_t info = i;
    while (info < size && (text[info] == ' ' || text[info] == '\t'))
        info++;
    size_t end = size;
    while (end > info && (text[end - 1] == ' ' || text[end - 1] == '\t'))
        end--;
    if (end == info)
        return 0; /* a bare fence: md4c would have closed the block */
    if (d->fence_char == '`' && memchr(text + info, '`', end - info))
        return 0; /* not a fence line at all */
    for (size_t k = 0; k < d->nskip; k++)
        if (d->skip[k] == off + i - run)
            return 0; /* judged to be content before */
    d->found = 1;
    d->hit_off = off + i - run;
    d->hit_info = off + i;
    d->hit_end = off + end;
    return 0;
}

static int detect(char *work, size_t len, size_t body_off, const struct roster_lines *lines,
                  const size_t *skip, size_t nskip, struct detect *d)
{
    *d = (struct detect){.base = work, .len = len, .lines = lines, .skip = skip, .nskip = nskip};
    return roster_md_run(work, len, body_off, det_enter, det_leave, det_text, d) < 0 ? ROSTER_ENOMEM
                                                                                     : 0;
}

/* A candidate is repaired unless the repair would make a later fence open
 * a block that runs to the end of the file (then the line was content: a
 * bare fence after it closes its block, as in strict CommonMark). */
int roster_fence_repair(char *work, size_t len, size_t body_off, const struct roster_lines *lines,
                        const char *file, struct roster_diags *diags)
{
    size_t skip[ROSTER_MD_MAX_REPAIRS];
    size_t nskip = 0;
    int repairs = 0;
    for (;;) {
        struct detect d, after;
        if (detect(work, len, body_off, lines, skip, nskip, &d) < 0)
            return ROSTER_ENOMEM;
        if (!d.found)
            return repairs;
        unsigned line = roster_lines_line_of(lines, d.hit_off);
        unsigned col = (unsigned)(d.hit_off - lines->starts[line - 1]) + 1;
        size_t run = d.hit_info - d.hit_off, info_len = d.hit_end - d.hit_info;
        if (repairs >= ROSTER_MD_MAX_REPAIRS || nskip >= ROSTER_MD_MAX_REPAIRS) {
            int r = roster_diags_add(diags, ROSTER_SEV_WARNING, "markdown.fence_repair_limit", file,
                                     line, col, NULL,
                                     "more than %d closing fences with info strings; the rest "
                                     "of the file is parsed as strict CommonMark",
                                     ROSTER_MD_MAX_REPAIRS);
            return r < 0 ? r : repairs;
        }
        char saved[256];
        size_t keep = info_len < sizeof(saved) ? info_len : sizeof(saved);
        memcpy(saved, work + d.hit_info, keep);
        memset(work + d.hit_info, ' ', info_len);
        if (detect(work, len, body_off, lines, skip, nskip, &after) < 0)
            return ROSTER_ENOMEM;
        if (after.eof_open > line && after.eof_open != d.eof_open && info_len <= sizeof(saved)) {
            memcpy(work + d.hit_info, saved, keep); /* content after all */
            skip[nskip++] = d.hit_off;
            continue;
        }
        int r = roster_diags_add(diags, ROSTER_SEV_WARNING, "markdown.fence_info_closer", file,
                                 line, col, NULL,
                                 "closing code fence has an info string (\"%.*s%.*s\"); strict "
                                 "CommonMark would read it as code and swallow what follows, so "
                                 "it was read as a closing fence: write a bare %.*s here",
                                 (int)run, work + d.hit_off, (int)(keep > 40 ? 40 : keep), saved,
                                 (int)run, work + d.hit_off);
        if (r < 0)
            return r;
        repairs++;
    }
}
