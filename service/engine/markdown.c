/* Markdown body to block tree and section tree. See fence.c for the
 * repair pass that runs first and blocks.c for source recovery. */
#include "md_internal.h"

#include <string.h>

#include "roster_base.h"
#include "roster_diag.h"

struct builder {
    struct roster_arena *arena;
    const char *base; /* the parsed copy of the whole text */
    size_t len;
    const struct roster_lines *lines;
    struct roster_block *root;
    struct roster_block *cur;
    unsigned depth; /* open blocks below the document */
    unsigned skipped; /* THEAD/TBODY levels we do not model */
    int in_thead;
    struct roster_buf text; /* title or code being collected */
    int failed; /* ROSTER_E* once something went wrong */
    unsigned last_line; /* line of the latest text, for diagnostics */
    const char *fail_diag;
};

static struct roster_block *new_block(struct builder *b, enum roster_block_kind kind)
{
    struct roster_block *n = roster_arena_alloc(b->arena, sizeof(*n));
    if (!n)
        return NULL;
    n->kind = kind;
    n->parent = b->cur;
    if (b->cur) {
        if (b->cur->last)
            b->cur->last->next = n;
        else
            b->cur->first = n;
        b->cur->last = n;
    }
    return n;
}

static int fail(struct builder *b, int code, const char *diag)
{
    if (!b->failed) {
        b->failed = code;
        b->fail_diag = diag;
    }
    return 1;
}

static int b_enter(MD_BLOCKTYPE type, void *detail, void *u)
{
    struct builder *b = u;
    enum roster_block_kind kind;
    switch (type) {
    case MD_BLOCK_DOC:
        if (b->root) { /* the next piece of a text cut at an unclosed fence */
            b->cur = b->root;
            return 0;
        }
        b->root = b->cur = new_block(b, ROSTER_BLOCK_DOC);
        return b->root ? 0 : fail(b, ROSTER_ENOMEM, "markdown.oom");
    case MD_BLOCK_THEAD:
        b->in_thead = 1;
        b->skipped++;
        return 0;
    case MD_BLOCK_TBODY:
        b->skipped++;
        return 0;
    case MD_BLOCK_QUOTE:
        kind = ROSTER_BLOCK_QUOTE;
        break;
    case MD_BLOCK_UL:
        kind = ROSTER_BLOCK_UL;
        break;
    case MD_BLOCK_OL:
        kind = ROSTER_BLOCK_OL;
        break;
    case MD_BLOCK_LI:
        kind = ROSTER_BLOCK_LI;
        break;
    case MD_BLOCK_HR:
        kind = ROSTER_BLOCK_HR;
        break;
    case MD_BLOCK_H:
        kind = ROSTER_BLOCK_H;
        break;
    case MD_BLOCK_CODE:
        kind = ROSTER_BLOCK_CODE;
        break;
    case MD_BLOCK_HTML:
        kind = ROSTER_BLOCK_HTML;
        break;
    case MD_BLOCK_P:
        kind = ROSTER_BLOCK_P;
        break;
    case MD_BLOCK_TABLE:
        kind = ROSTER_BLOCK_TABLE;
        break;
    case MD_BLOCK_TR:
        kind = ROSTER_BLOCK_ROW;
        break;
    case MD_BLOCK_TH:
    case MD_BLOCK_TD:
        kind = ROSTER_BLOCK_CELL;
        break;
    default:
        return 0;
    }
    if (++b->depth > ROSTER_MD_MAX_DEPTH)
        return fail(b, ROSTER_E2BIG, "markdown.too_deep");
    /* Text directly in a tight list item belongs to an implicit paragraph
     * that ends where the item's first child block begins. */
    struct roster_block *n = new_block(b, kind);
    if (!n)
        return fail(b, ROSTER_ENOMEM, "markdown.oom");
    if (type == MD_BLOCK_H) {
        n->level = ((MD_BLOCK_H_DETAIL *)detail)->level;
        b->text.len = 0;
    } else if (type == MD_BLOCK_OL) {
        n->level = ((MD_BLOCK_OL_DETAIL *)detail)->start;
    } else if (type == MD_BLOCK_LI) {
        n->is_task = ((MD_BLOCK_LI_DETAIL *)detail)->is_task;
    } else if (type == MD_BLOCK_TR) {
        n->header = b->in_thead;
    } else if (type == MD_BLOCK_CODE) {
        const MD_BLOCK_CODE_DETAIL *c = detail;
        b->text.len = 0;
        if (c->lang.text && c->lang.size) {
            n->lang = roster_arena_strndup(b->arena, c->lang.text, c->lang.size);
            if (!n->lang)
                return fail(b, ROSTER_ENOMEM, "markdown.oom");
        }
    } else if (type == MD_BLOCK_HTML) {
        b->text.len = 0;
    }
    b->cur = n;
    return 0;
}

static int finish_text(struct builder *b, struct roster_block *n)
{
    const char *s = b->text.data ? b->text.data : "";
    size_t len = b->text.len;
    if (n->kind == ROSTER_BLOCK_H)
        roster_trim(&s, &len);
    n->text = roster_arena_strndup(b->arena, s, len);
    n->text_len = len;
    return n->text ? 0 : ROSTER_ENOMEM;
}

static int b_leave(MD_BLOCKTYPE type, void *detail, void *u)
{
    (void)detail;
    struct builder *b = u;
    if (type == MD_BLOCK_DOC)
        return 0;
    if (type == MD_BLOCK_THEAD || type == MD_BLOCK_TBODY) {
        b->in_thead = 0;
        b->skipped--;
        return 0;
    }
    struct roster_block *n = b->cur;
    int r = 0;
    switch (n->kind) {
    case ROSTER_BLOCK_H:
    case ROSTER_BLOCK_CODE:
    case ROSTER_BLOCK_HTML:
        r = finish_text(b, n);
        break;
    case ROSTER_BLOCK_P:
        r = roster_block_inline_source(b->arena, b->lines, n, &n->text, &n->text_len);
        break;
    case ROSTER_BLOCK_TABLE:
        r = roster_block_table_cells(b->arena, b->lines, n);
        break;
    default:
        break;
    }
    if (r < 0)
        return fail(b, r, "markdown.oom");
    b->cur = n->parent;
    b->depth--;
    return 0;
}

static int ignore_span(MD_SPANTYPE type, void *detail, void *userdata)
{
    (void)type;
    (void)detail;
    (void)userdata;
    return 0;
}

int roster_md_run(const char *text, size_t len, size_t body_off,
                  int (*enter)(MD_BLOCKTYPE, void *, void *),
                  int (*leave)(MD_BLOCKTYPE, void *, void *),
                  int (*text_cb)(MD_TEXTTYPE, const MD_CHAR *, MD_SIZE, void *), void *userdata)
{
    MD_PARSER parser = {
        .abi_version = 0,
        .flags = ROSTER_MD_FLAGS,
        .enter_block = enter,
        .leave_block = leave,
        .enter_span = ignore_span,
        .leave_span = ignore_span,
        .text = text_cb,
    };
    return md_parse(text + body_off, (MD_SIZE)(len - body_off), &parser, userdata);
}

/* Records that block n (and its ancestors) hold text on `line`. */
static void mark_line(struct roster_block *n, unsigned line)
{
    for (; n && n->kind != ROSTER_BLOCK_DOC; n = n->parent) {
        if (!n->line_first || line < n->line_first)
            n->line_first = line;
        if (line > n->line_last)
            n->line_last = line;
    }
}

static int b_text(MD_TEXTTYPE type, const MD_CHAR *text, MD_SIZE size, void *u)
{
    struct builder *b = u;
    struct roster_block *n = b->cur;
    if (!n || n->kind == ROSTER_BLOCK_DOC)
        return 0;
    if (n->kind == ROSTER_BLOCK_LI || n->kind == ROSTER_BLOCK_QUOTE) {
        /* Tight list item: text goes to an implicit paragraph. */
        if (!n->last || n->last->kind != ROSTER_BLOCK_P || n->last->text) {
            struct roster_block *p = new_block(b, ROSTER_BLOCK_P);
            if (!p)
                return fail(b, ROSTER_ENOMEM, "markdown.oom");
        }
        n = n->last;
    }
    if (text >= b->base && text < b->base + b->len && size) {
        size_t off = (size_t)(text - b->base);
        unsigned first = roster_lines_line_of(b->lines, off);
        unsigned last = roster_lines_line_of(b->lines, off + size - 1);
        mark_line(n, first);
        if (last != first)
            mark_line(n, last);
        b->last_line = last;
    }
    if (n->kind == ROSTER_BLOCK_H || n->kind == ROSTER_BLOCK_CODE || n->kind == ROSTER_BLOCK_HTML) {
        int r;
        if (type == MD_TEXT_NULLCHAR)
            r = roster_buf_puts(&b->text, "\xEF\xBF\xBD");
        else if (n->kind == ROSTER_BLOCK_H && (type == MD_TEXT_SOFTBR || type == MD_TEXT_BR))
            r = roster_buf_putc(&b->text, ' ');
        else
            r = roster_buf_append(&b->text, text, size);
        if (r < 0)
            return fail(b, r, r == ROSTER_E2BIG ? "markdown.too_large" : "markdown.oom");
    }
    return 0;
}

/* Implicit paragraphs were created open; fill their source once the whole
 * tree is known (their lines are complete only then). */
static int close_implicit(struct builder *b, struct roster_block *n)
{
    for (struct roster_block *c = n->first; c; c = c->next) {
        if (c->kind == ROSTER_BLOCK_P && !c->text) {
            int r = roster_block_inline_source(b->arena, b->lines, c, &c->text, &c->text_len);
            if (r < 0)
                return r;
        }
        if (c->first) {
            int r = close_implicit(b, c);
            if (r < 0)
                return r;
        }
    }
    return 0;
}

int roster_markdown_parse(struct roster_md *out, struct roster_arena *arena, const char *text,
                          size_t len, size_t body_off, const struct roster_md_opts *opts,
                          struct roster_diags *diags, struct roster_error *err)
{
    struct roster_lines lines = {0};
    struct builder b = {.arena = opts->blocks_arena ? opts->blocks_arena : arena};
    char *work = NULL;
    int r = roster_lines_init(&lines, text, len);
    if (r < 0)
        goto out;
    work = roster_malloc(len + 1);
    if (!work) {
        r = ROSTER_ENOMEM;
        goto out_lines;
    }
    memcpy(work, text, len);
    work[len] = '\0';
    struct roster_md md = {.body_start = body_off, .body_end = len};
    size_t cuts[ROSTER_MD_MAX_CUTS + 1];
    int ncuts = 0;
    if (!opts->strict) {
        r = roster_fence_repair(work, len, body_off, &lines, opts->file, diags);
        if (r < 0)
            goto out_work;
        md.repairs = (unsigned)r;
    }
    ncuts = roster_fence_unclosed(work, len, body_off, &lines, !opts->strict, opts->file, diags,
                                  cuts, ROSTER_MD_MAX_CUTS);
    if (ncuts < 0) {
        r = ncuts;
        goto out_work;
    }
    cuts[ncuts] = len;
    /* Titles and code blocks are capped by the file size. */
    roster_buf_init(&b.text, len + 16);
    b.base = work;
    b.len = len;
    b.lines = &lines;
    /* one md4c run per piece: an unclosed fence ends with its piece */
    int pr = 0;
    for (int k = 0; pr == 0 && k <= ncuts; k++) {
        size_t start = k ? cuts[k - 1] : body_off;
        pr = roster_md_run(work, cuts[k], start, b_enter, b_leave, b_text, &b);
    }
    if (b.failed || pr != 0 || !b.root) {
        r = b.failed ? b.failed : ROSTER_ENOMEM;
        roster_error_set(err, r, opts->file, b.last_line + 1, 1, "%s",
                         r == ROSTER_E2BIG
                             ? "Markdown nesting is deeper than the limit of 64 levels"
                             : "out of memory while parsing Markdown");
        if (err)
            err->diag = b.fail_diag ? b.fail_diag : "markdown.oom";
        goto out_text;
    }
    r = close_implicit(&b, b.root);
    if (r == 0)
        r = roster_md_sections(&md, arena, b.arena != arena, &lines, b.root, err);
    if (r == 0)
        *out = md;
out_text:
    roster_buf_release(&b.text);
out_work:
    roster_free(work);
out_lines:
    roster_lines_release(&lines);
out:
    return r;
}
