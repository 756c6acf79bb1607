/* Recovering the inline Markdown source of blocks from the file's lines.
 * md4c reports structure but no positions; the block builder records the
 * lines each block's text came from, and here we cut the container
 * prefixes (quote markers, list markers, indentation) off those lines. */
#include "md_internal.h"

#include <string.h>

#include "roster_base.h"

#define MAX_CHAIN ROSTER_MD_MAX_DEPTH

static int is_sp(char c)
{
    return c == ' ' || c == '\t';
}

static void skip_ws(const char **s, size_t *n)
{
    while (*n && is_sp(**s)) {
        (*s)++;
        (*n)--;
    }
}

/* Removes a list marker ("-", "*", "+", "12.", "3)") and the spaces after it. */
static void strip_list_marker(const char **s, size_t *n)
{
    const char *p = *s;
    size_t k = *n;
    skip_ws(&p, &k);
    if (k && (*p == '-' || *p == '*' || *p == '+')) {
        p++;
        k--;
    } else {
        size_t d = 0;
        while (d < k && d < 9 && p[d] >= '0' && p[d] <= '9')
            d++;
        if (!d || d >= k || (p[d] != '.' && p[d] != ')'))
            return;
        p += d + 1;
        k -= d + 1;
    }
    if (k && !is_sp(*p))
        return;
    skip_ws(&p, &k);
    *s = p;
    *n = k;
}

static void strip_task_box(const char **s, size_t *n)
{
    const char *p = *s;
    if (*n >= 3 && p[0] == '[' && (p[1] == ' ' || p[1] == 'x' || p[1] == 'X') && p[2] == ']') {
        *s += 3;
        *n -= 3;
        skip_ws(s, n);
    }
}

static void strip_quote_marker(const char **s, size_t *n)
{
    const char *p = *s;
    size_t k = *n;
    skip_ws(&p, &k);
    if (k && *p == '>') {
        p++;
        k--;
        if (k && *p == ' ') {
            p++;
            k--;
        }
        *s = p;
        *n = k;
    }
}

/* Cuts the prefixes of the containers in chain[] (outermost first) from
 * one line of block b. */
static void strip_prefixes(const struct roster_block *const *chain, size_t depth, unsigned line,
                           const char **s, size_t *n)
{
    for (size_t i = 0; i < depth; i++) {
        const struct roster_block *c = chain[i];
        if (c->kind == ROSTER_BLOCK_QUOTE) {
            strip_quote_marker(s, n);
        } else if (c->kind == ROSTER_BLOCK_LI && c->line_first == line) {
            strip_list_marker(s, n);
            if (c->is_task)
                strip_task_box(s, n);
        }
    }
    skip_ws(s, n);
}

static size_t container_chain(const struct roster_block *b, const struct roster_block **chain)
{
    size_t depth = 0;
    for (const struct roster_block *p = b->parent; p && depth < MAX_CHAIN; p = p->parent)
        if (p->kind == ROSTER_BLOCK_QUOTE || p->kind == ROSTER_BLOCK_LI)
            chain[depth++] = p;
    for (size_t i = 0; i < depth / 2; i++) {
        const struct roster_block *t = chain[i];
        chain[i] = chain[depth - 1 - i];
        chain[depth - 1 - i] = t;
    }
    return depth;
}

int roster_block_inline_source(struct roster_arena *arena, const struct roster_lines *lines,
                               const struct roster_block *b, const char **out, size_t *out_len)
{
    const struct roster_block *chain[MAX_CHAIN];
    size_t depth = container_chain(b, chain);
    struct roster_buf buf;
    roster_buf_init(&buf, lines->len + 1);
    int r = 0;
    for (unsigned n = b->line_first; n && n <= b->line_last && r == 0; n++) {
        const char *s;
        size_t len;
        if (roster_lines_get(lines, n, &s, &len) < 0)
            break;
        strip_prefixes(chain, depth, n, &s, &len);
        roster_trim(&s, &len);
        if (!len)
            continue;
        if (buf.len)
            r = roster_buf_putc(&buf, ' ');
        if (r == 0)
            r = roster_buf_append(&buf, s, len);
    }
    if (r == 0) {
        *out = roster_arena_strndup(arena, buf.data ? buf.data : "", buf.len);
        *out_len = buf.len;
        if (!*out)
            r = ROSTER_ENOMEM;
    }
    roster_buf_release(&buf);
    return r;
}

/* Splits one table row's source into cells on unescaped '|'. */
static int split_row(struct roster_arena *arena, const char *s, size_t n, struct roster_block *row)
{
    roster_trim(&s, &n);
    if (n && *s == '|') {
        s++;
        n--;
    }
    if (n && s[n - 1] == '|' && (n < 2 || s[n - 2] != '\\'))
        n--;
    struct roster_block *cell = row->first;
    size_t i = 0;
    while (cell) {
        size_t j = i;
        while (j < n && !(s[j] == '|' && (j == 0 || s[j - 1] != '\\')))
            j++;
        const char *c = s + (i < n ? i : n);
        size_t clen = i < n ? j - i : 0;
        roster_trim(&c, &clen);
        /* "\|" in a cell is a literal pipe. */
        char *t = roster_arena_alloc(arena, clen + 1);
        if (!t)
            return ROSTER_ENOMEM;
        size_t k = 0;
        for (size_t x = 0; x < clen; x++) {
            if (c[x] == '\\' && x + 1 < clen && c[x + 1] == '|')
                continue;
            t[k++] = c[x];
        }
        t[k] = '\0';
        cell->text = t;
        cell->text_len = k;
        cell = cell->next;
        i = j < n ? j + 1 : n;
    }
    return 0;
}

int roster_block_table_cells(struct roster_arena *arena, const struct roster_lines *lines,
                             struct roster_block *table)
{
    /* Row i of the table is on the header's line + i (+1 past the
     * delimiter row). Find the header line from any row that has text. */
    unsigned header_line = 0, idx = 0;
    for (struct roster_block *row = table->first; row; row = row->next, idx++) {
        if (row->line_first) {
            unsigned back = idx == 0 ? 0 : idx + 1;
            if (row->line_first > back)
                header_line = row->line_first - back;
            break;
        }
    }
    if (!header_line)
        return 0;
    idx = 0;
    const struct roster_block *chain[MAX_CHAIN];
    size_t depth = container_chain(table, chain);
    for (struct roster_block *row = table->first; row; row = row->next, idx++) {
        unsigned n = header_line + (idx == 0 ? 0 : idx + 1);
        const char *s;
        size_t len;
        if (roster_lines_get(lines, n, &s, &len) < 0)
            break;
        strip_prefixes(chain, depth, n, &s, &len);
        int r = split_row(arena, s, len, row);
        if (r < 0)
            return r;
    }
    return 0;
}
