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
#include "roster_extract.h"

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

/* "#..# Title" at most 3 spaces in: the level (0 when the line is not an
 * ATX heading) and the title. */
static unsigned heading_like(const char *s, size_t n, const char **title, size_t *tlen)
{
    size_t i = 0, h;
    while (i < n && i < 3 && s[i] == ' ')
        i++;
    for (h = 0; i + h < n && s[i + h] == '#'; h++)
        ;
    if (h == 0 || h > 6 || (i + h < n && s[i + h] != ' ' && s[i + h] != '\t'))
        return 0;
    *title = s + i + h;
    *tlen = n - i - h;
    roster_trim(title, tlen);
    while (*tlen && (*title)[*tlen - 1] == '#') /* closing #s */
        (*tlen)--;
    roster_trim(title, tlen);
    return (unsigned)h;
}

/* The first word of the info string on the opening fence line. */
static void fence_lang(const struct roster_lines *lines, unsigned open, const char **lang,
                       size_t *n)
{
    const char *s;
    size_t len, i = 0;
    *lang = "";
    *n = 0;
    if (roster_lines_get(lines, open, &s, &len) < 0)
        return;
    while (i < len && (s[i] == ' ' || s[i] == '`' || s[i] == '~'))
        i++;
    *lang = s + i;
    while (i < len && s[i] != ' ' && s[i] != '\t' && s[i] != '{')
        i++;
    *n = (size_t)(s + i - *lang);
}

struct swallowed {
    unsigned first; /* first heading-like line inside the block, 0: none */
    unsigned count; /* heading-like lines inside it */
    unsigned known; /* first one that starts a view section, 0: none */
};

static void scan_swallowed(const struct roster_lines *lines, unsigned open, int markdown,
                           struct swallowed *w)
{
    *w = (struct swallowed){0};
    for (unsigned k = open + 1; k <= lines->count; k++) {
        const char *s, *title;
        size_t len, tlen;
        if (roster_lines_get(lines, k, &s, &len) < 0)
            break;
        unsigned level = heading_like(s, len, &title, &tlen);
        if (!level)
            continue;
        w->count++;
        if (!w->first)
            w->first = k;
        /* in a Markdown example any heading is content: never cut there */
        if (!w->known && !markdown && level >= 2 &&
            roster_extract_view_of(title, tlen) != ROSTER_VIEW_COUNT)
            w->known = k;
    }
}

/* Where the virtual closing fence goes before heading line k: before the
 * blank lines that precede it (they are not code). */
static size_t cut_before(const struct roster_lines *lines, unsigned open, unsigned k)
{
    while (k - 1 > open) {
        const char *s;
        size_t len, i = 0;
        roster_lines_get(lines, k - 1, &s, &len);
        while (i < len && (s[i] == ' ' || s[i] == '\t'))
            i++;
        if (i < len)
            break;
        k--;
    }
    return lines->starts[k - 1];
}

/* The title of heading-like line k, at most 60 bytes. */
static void line_title(const struct roster_lines *lines, unsigned k, const char **t, int *tl)
{
    const char *s;
    size_t len, tlen = 0;
    *t = "";
    if (roster_lines_get(lines, k, &s, &len) == 0)
        heading_like(s, len, t, &tlen);
    *tl = (int)(tlen > 60 ? 60 : tlen);
}

static int report_unclosed(const struct roster_lines *lines, unsigned open, const char *lang,
                           size_t lang_len, const struct swallowed *w, int cut, const char *file,
                           struct roster_diags *diags)
{
    const char *first, *known;
    int fl, kl;
    line_title(lines, w->first, &first, &fl);
    line_title(lines, w->known, &known, &kl);
    int ll = (int)(lang_len ? (lang_len > 20 ? 20 : lang_len) : 4);
    const char *lg = lang_len ? lang : "none";
    if (cut)
        return roster_diags_add(diags, ROSTER_SEV_WARNING, "markdown.unclosed_fence", file, open, 1,
                                NULL,
                                "the code block opened here (%.*s) is never closed and swallows "
                                "%u line(s) that look like headings, from line %u (\"%.*s\"); "
                                "it was read as closed before line %u, where the section "
                                "\"%.*s\" starts: add a closing fence there",
                                ll, lg, w->count, w->first, fl, first, w->known, kl, known);
    return roster_diags_add(diags, ROSTER_SEV_WARNING, "markdown.unclosed_fence", file, open, 1,
                            NULL,
                            "the code block opened here (%.*s) is never closed: it runs to the "
                            "end of the file and swallows %u line(s) that look like headings, "
                            "from line %u (\"%.*s\"); add a closing fence where the code ends",
                            ll, lg, w->count, w->first, fl, first);
}

int roster_fence_unclosed(const char *work, size_t len, size_t body_off,
                          const struct roster_lines *lines, int recover, const char *file,
                          struct roster_diags *diags, size_t *cuts, size_t max_cuts)
{
    size_t ncuts = 0, from = body_off;
    while (ncuts < max_cuts) {
        struct detect d;
        if (detect((char *)work, len, from, lines, NULL, 0, &d) < 0)
            return ROSTER_ENOMEM;
        if (!d.eof_open)
            break;
        const char *lang;
        size_t lang_len;
        struct swallowed w;
        fence_lang(lines, d.eof_open, &lang, &lang_len);
        int markdown =
            roster_slice_ieq(lang, lang_len, "markdown") || roster_slice_ieq(lang, lang_len, "md");
        scan_swallowed(lines, d.eof_open, markdown, &w);
        if (!w.count)
            break; /* a block left open at the end swallows no structure */
        int cut = recover && w.known;
        int r = report_unclosed(lines, d.eof_open, lang, lang_len, &w, cut, file, diags);
        if (r < 0)
            return r;
        if (!cut)
            break;
        from = cut_before(lines, d.eof_open, w.known);
        cuts[ncuts++] = from;
    }
    return (int)ncuts;
}
