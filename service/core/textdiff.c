/* Line diffs (roster_textdiff.h): Myers' middle-snake LCS with a cap on
 * the edit distance, and unified diffs made from it. The bisection follows
 * the paper's linear-space refinement (E. Myers, "An O(ND) Difference
 * Algorithm and Its Variations", 1986, section 4b): find the middle of an
 * optimal path from both ends, then solve both halves. The two vectors are
 * allocated once and reused, since a bisection is done before its halves
 * start. */
#include "roster_textdiff.h"

#include <stdint.h>
#include <string.h>

#include "roster_base.h"

/* Halving recursion: about log2(edits) deep; deeper means a bug. */
#define DEPTH_MAX 128
/* The largest edit cap taken (two vectors of about this many longs). */
#define EDITS_MAX ((size_t)1 << 26)
/* bisect: nothing in common (every element replaced) */
#define NO_COMMON 1

struct lcs {
    const struct roster_textdiff_elem *a, *b;
    uint64_t *ha, *hb;
    unsigned char *ka, *kb;
    long *v1, *v2;
    long vlen; /* entries of each vector */
    long dlimit; /* the most rounds a bisection may take */
};

static uint64_t hash(const struct roster_textdiff_elem *e)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < e->len; i++)
        h = (h ^ (unsigned char)e->p[i]) * 1099511628211ull;
    return h ^ e->len;
}

static int eq(const struct lcs *c, size_t i, size_t j)
{
    return c->ha[i] == c->hb[j] && c->a[i].len == c->b[j].len &&
           (c->a[i].len == 0 || memcmp(c->a[i].p, c->b[j].p, c->a[i].len) == 0);
}

/* The middle of an optimal path through a[a0, a0+n) and b[b0, b0+m)
 * (neither empty, no common first or last element) into *sx, *sy:
 * absolute indexes where the halves meet: 0. NO_COMMON when the paths
 * never meet in (n + m + 1) / 2 rounds: the two have no element in
 * common. ROSTER_E2BIG past dlimit. */
static int bisect(const struct lcs *c, size_t a0, long n, size_t b0, long m, size_t *sx, size_t *sy)
{
    long max_d = (n + m + 1) / 2;
    int capped = max_d > c->dlimit;
    if (capped)
        max_d = c->dlimit;
    long off = max_d + 1, len = 2 * max_d + 3;
    long *v1 = c->v1, *v2 = c->v2;
    for (long i = 0; i < len; i++)
        v1[i] = v2[i] = -1;
    v1[off + 1] = 0;
    v2[off + 1] = 0;
    long delta = n - m;
    int front = delta % 2 != 0;
    long k1start = 0, k1end = 0, k2start = 0, k2end = 0;
    for (long d = 0; d < max_d; d++) {
        for (long k1 = -d + k1start; k1 <= d - k1end; k1 += 2) {
            long k1o = off + k1;
            long x1 =
                k1 == -d || (k1 != d && v1[k1o - 1] < v1[k1o + 1]) ? v1[k1o + 1] : v1[k1o - 1] + 1;
            long y1 = x1 - k1;
            while (x1 < n && y1 >= 0 && y1 < m && eq(c, a0 + (size_t)x1, b0 + (size_t)y1)) {
                x1++;
                y1++;
            }
            v1[k1o] = x1;
            if (x1 > n) {
                k1end += 2;
            } else if (y1 > m) {
                k1start += 2;
            } else if (front) {
                long k2o = off + delta - k1;
                if (k2o >= 0 && k2o < len && v2[k2o] != -1 && x1 >= n - v2[k2o]) {
                    if (y1 < 0)
                        return ROSTER_E2BIG;
                    *sx = a0 + (size_t)x1;
                    *sy = b0 + (size_t)y1;
                    return 0;
                }
            }
        }
        for (long k2 = -d + k2start; k2 <= d - k2end; k2 += 2) {
            long k2o = off + k2;
            long x2 =
                k2 == -d || (k2 != d && v2[k2o - 1] < v2[k2o + 1]) ? v2[k2o + 1] : v2[k2o - 1] + 1;
            long y2 = x2 - k2;
            while (x2 < n && y2 >= 0 && y2 < m &&
                   eq(c, a0 + (size_t)(n - x2 - 1), b0 + (size_t)(m - y2 - 1))) {
                x2++;
                y2++;
            }
            v2[k2o] = x2;
            if (x2 > n) {
                k2end += 2;
            } else if (y2 > m) {
                k2start += 2;
            } else if (!front) {
                long k1o = off + delta - k2;
                if (k1o >= 0 && k1o < len && v1[k1o] != -1) {
                    long x1 = v1[k1o], y1 = off + x1 - k1o;
                    /* an entry past the edge (x1 > n) is no path */
                    if (x1 >= n - x2 && x1 <= n && y1 >= 0 && y1 <= m) {
                        *sx = a0 + (size_t)x1;
                        *sy = b0 + (size_t)y1;
                        return 0;
                    }
                }
            }
        }
    }
    return capped ? ROSTER_E2BIG : NO_COMMON;
}

static int solve(struct lcs *c, size_t a0, size_t a1, size_t b0, size_t b1, int depth)
{
    for (; a0 < a1 && b0 < b1 && eq(c, a0, b0); a0++, b0++)
        c->ka[a0] = c->kb[b0] = 1;
    for (; a1 > a0 && b1 > b0 && eq(c, a1 - 1, b1 - 1); a1--, b1--)
        c->ka[a1 - 1] = c->kb[b1 - 1] = 1;
    if (a0 == a1 || b0 == b1)
        return 0;
    if (depth == DEPTH_MAX)
        return ROSTER_E2BIG;
    size_t x, y;
    int r = bisect(c, a0, (long)(a1 - a0), b0, (long)(b1 - b0), &x, &y);
    if (r == NO_COMMON)
        return 0;
    if (r == 0 && ((x == a0 && y == b0) || (x == a1 && y == b1)))
        r = ROSTER_E2BIG; /* no progress: never expected, but never loop */
    if (r == 0)
        r = solve(c, a0, x, b0, y, depth + 1);
    if (r == 0)
        r = solve(c, x, a1, y, b1, depth + 1);
    return r;
}

int roster_textdiff_lcs(const struct roster_textdiff_elem *a, size_t na,
                        const struct roster_textdiff_elem *b, size_t nb, size_t max_edits,
                        unsigned char *keep_a, unsigned char *keep_b)
{
    if (max_edits == 0)
        max_edits = ROSTER_TEXTDIFF_MAX_EDITS;
    if (na)
        memset(keep_a, 0, na);
    if (nb)
        memset(keep_b, 0, nb);
    if (max_edits > EDITS_MAX)
        max_edits = EDITS_MAX;
    struct lcs c = {.a = a, .b = b, .ka = keep_a, .kb = keep_b};
    c.dlimit = (long)(max_edits / 2 + 2);
    c.vlen = 2 * c.dlimit + 3;
    int r = ROSTER_ENOMEM;
    c.ha = roster_calloc(na ? na : 1, sizeof(uint64_t));
    c.hb = roster_calloc(nb ? nb : 1, sizeof(uint64_t));
    c.v1 = roster_calloc((size_t)c.vlen, sizeof(long));
    c.v2 = roster_calloc((size_t)c.vlen, sizeof(long));
    if (!c.ha || !c.hb || !c.v1 || !c.v2)
        goto free_all;
    for (size_t i = 0; i < na; i++)
        c.ha[i] = hash(&a[i]);
    for (size_t j = 0; j < nb; j++)
        c.hb[j] = hash(&b[j]);
    r = solve(&c, 0, na, 0, nb, 0);
    if (r == 0) {
        size_t kept = 0;
        for (size_t i = 0; i < na; i++)
            kept += keep_a[i];
        /* the bisection's bound is in rounds, about half an edit each: the
         * exact count decides */
        if (na - kept + nb - kept > max_edits)
            r = ROSTER_E2BIG;
    }
free_all:
    if (r < 0 && na)
        memset(keep_a, 0, na);
    if (r < 0 && nb)
        memset(keep_b, 0, nb);
    roster_free(c.v2);
    roster_free(c.v1);
    roster_free(c.hb);
    roster_free(c.ha);
    return r;
}

/* ---- unified diffs ------------------------------------------------------ */

size_t roster_textdiff_count_lines(const char *text, size_t len)
{
    size_t n = 0;
    for (const char *p = text, *end = text + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        n++;
        p = nl ? nl + 1 : end;
    }
    return n;
}

/* The lines of text, each with its '\n', into a new array (*out). */
static int split_lines(const char *text, size_t len, struct roster_textdiff_elem **out, size_t *n)
{
    *n = roster_textdiff_count_lines(text, len);
    *out = roster_calloc(*n ? *n : 1, sizeof(**out));
    if (!*out)
        return ROSTER_ENOMEM;
    size_t i = 0;
    for (const char *p = text, *end = text + len; p < end; i++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *next = nl ? nl + 1 : end;
        (*out)[i].p = p;
        (*out)[i].len = (size_t)(next - p);
        p = next;
    }
    return 0;
}

struct udiff {
    const struct roster_textdiff_elem *a, *b;
    size_t na, nb;
    const unsigned char *ka, *kb;
    unsigned context;
    struct roster_buf *out;
    struct roster_textdiff_result res;
};

static int put_line(struct udiff *u, char mark, const struct roster_textdiff_elem *e)
{
    int r = roster_buf_putc(u->out, mark);
    r = r ? r : roster_buf_append(u->out, e->p, e->len);
    if (r == 0 && (e->len == 0 || e->p[e->len - 1] != '\n'))
        r = roster_buf_puts(u->out, "\n\\ No newline at end of file\n");
    return r;
}

/* A hunk range as diff -u writes it. */
static int put_range(struct roster_buf *b, char sign, size_t start, size_t count)
{
    if (count == 1)
        return roster_buf_printf(b, "%c%zu", sign, start + 1);
    return roster_buf_printf(b, "%c%zu,%zu", sign, count ? start + 1 : start, count);
}

/* The end of the change that starts at (i, j): the next pair of kept
 * elements, or the ends. */
static void change_end(const struct udiff *u, size_t *i, size_t *j)
{
    while (*i < u->na && !u->ka[*i])
        (*i)++;
    while (*j < u->nb && !u->kb[*j])
        (*j)++;
}

/* The next change at or after (*i, *j), walking kept pairs; 0 at the end. */
static int next_change(const struct udiff *u, size_t *i, size_t *j)
{
    while (*i < u->na && *j < u->nb && u->ka[*i] && u->kb[*j]) {
        (*i)++;
        (*j)++;
    }
    return *i < u->na || *j < u->nb;
}

/* One hunk from the change at (i, j): it takes every following change
 * closer than 2 * context unchanged lines; (*i, *j) move past it. */
static int put_hunk(struct udiff *u, size_t *pi, size_t *pj)
{
    size_t ctx = u->context, i = *pi, j = *pj;
    size_t lead = i < ctx ? i : ctx;
    size_t ai = i - lead, bj = j - lead, ei = i, ej = j;
    /* find where the hunk ends first: the header carries its sizes */
    for (;;) {
        change_end(u, &ei, &ej);
        size_t si = ei, sj = ej;
        if (!next_change(u, &si, &sj) || si - ei > 2 * ctx)
            break;
        ei = si;
        ej = sj;
    }
    size_t tail = u->na - ei < ctx ? u->na - ei : ctx;
    int r = roster_buf_puts(u->out, "@@ ");
    r = r ? r : put_range(u->out, '-', ai, ei + tail - ai);
    r = r ? r : roster_buf_putc(u->out, ' ');
    r = r ? r : put_range(u->out, '+', bj, ej + tail - bj);
    r = r ? r : roster_buf_puts(u->out, " @@\n");
    for (size_t k = ai; r == 0 && k < i; k++)
        r = put_line(u, ' ', &u->a[k]);
    while (r == 0 && (i < ei || j < ej)) {
        size_t ci = i, cj = j;
        change_end(u, &ci, &cj);
        for (; r == 0 && i < ci; i++, u->res.removed++)
            r = put_line(u, '-', &u->a[i]);
        for (; r == 0 && j < cj; j++, u->res.added++)
            r = put_line(u, '+', &u->b[j]);
        for (; r == 0 && i < ei && j < ej && u->ka[i] && u->kb[j]; i++, j++)
            r = put_line(u, ' ', &u->a[i]);
    }
    for (size_t k = 0; r == 0 && k < tail; k++, i++, j++)
        r = put_line(u, ' ', &u->a[i]);
    u->res.hunks++;
    *pi = i;
    *pj = j;
    return r;
}

static int put_hunks(struct udiff *u, const struct roster_textdiff_opts *o)
{
    int r = roster_buf_printf(u->out, "--- %s\n+++ %s\n", o->old_label ? o->old_label : "old",
                              o->new_label ? o->new_label : "new");
    size_t i = 0, j = 0;
    while (r == 0 && next_change(u, &i, &j))
        r = put_hunk(u, &i, &j);
    return r;
}

int roster_textdiff_unified(const char *old, size_t old_len, const char *new_, size_t new_len,
                            const struct roster_textdiff_opts *opts, struct roster_buf *out,
                            struct roster_textdiff_result *res)
{
    if (old_len == new_len && (old_len == 0 || memcmp(old, new_, old_len) == 0)) {
        if (res)
            *res = (struct roster_textdiff_result){0};
        return 0;
    }
    size_t max_lines = opts->max_lines ? opts->max_lines : ROSTER_TEXTDIFF_MAX_LINES;
    size_t saved = out->len;
    struct roster_textdiff_elem *a = NULL, *b = NULL;
    unsigned char *ka = NULL, *kb = NULL;
    struct udiff u = {.context = opts->context, .out = out};
    int r = split_lines(old, old_len, &a, &u.na);
    if (r == 0)
        r = split_lines(new_, new_len, &b, &u.nb);
    if (r < 0)
        goto free_lines;
    r = ROSTER_ENOMEM;
    ka = roster_calloc(u.na ? u.na : 1, 1);
    kb = roster_calloc(u.nb ? u.nb : 1, 1);
    if (!ka || !kb)
        goto free_lines;
    r = 0;
    if (u.na > max_lines || u.nb > max_lines)
        u.res.replaced = 1; /* the keep flags stay 0: all replaced */
    else
        r = roster_textdiff_lcs(a, u.na, b, u.nb, opts->max_edits, ka, kb);
    if (r == ROSTER_E2BIG) {
        u.res.replaced = 1;
        r = 0;
    }
    u.a = a;
    u.b = b;
    u.ka = ka;
    u.kb = kb;
    if (r == 0)
        r = put_hunks(&u, opts);
free_lines:
    if (r < 0 && out->data) {
        out->len = saved;
        out->data[saved] = '\0';
    }
    if (r == 0 && res)
        *res = u.res;
    roster_free(kb);
    roster_free(ka);
    roster_free(b);
    roster_free(a);
    return r;
}
