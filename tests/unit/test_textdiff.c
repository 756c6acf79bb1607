/* core/textdiff.c: the longest common subsequence (optimal, against a
 * dynamic-programming reference on random inputs), unified diffs in GNU
 * diff -u form (fixtures under tests/fixtures/textdiff, made with GNU
 * diff), and the caps that degrade to "whole text replaced". */
#include <stdlib.h>
#include <string.h>

#include "roster_base.h"
#include "roster_textdiff.h"
#include "util.h"

/* The unified diff of two strings (3 lines of context), NUL-terminated,
 * the caller's; res filled. */
static char *udiff(const char *a, const char *b, size_t max_lines, size_t max_edits,
                   struct roster_textdiff_result *res)
{
    struct roster_buf out;
    roster_buf_init(&out, (size_t)16 << 20);
    struct roster_textdiff_opts o = {.old_label = "a",
                                     .new_label = "b",
                                     .context = 3,
                                     .max_lines = max_lines,
                                     .max_edits = max_edits};
    ck_assert_int_eq(roster_textdiff_unified(a, strlen(a), b, strlen(b), &o, &out, res), 0);
    char *s = roster_buf_steal(&out, NULL);
    ck_assert_ptr_nonnull(s);
    return s;
}

/* Applies a unified diff made by udiff to old: what a patch tool does.
 * Returns the patched text (the caller's). */
static char *apply(const char *old, const char *diff)
{
    struct roster_buf out;
    roster_buf_init(&out, (size_t)16 << 20);
    const char *o = old, *d = strchr(strchr(diff, '\n') + 1, '\n') + 1; /* past ---/+++ */
    size_t oline = 1;
    while (*d) {
        ck_assert_msg(strncmp(d, "@@ -", 4) == 0, "hunk header expected at: %.40s", d);
        unsigned long start = strtoul(d + 4, NULL, 10);
        /* copy up to the hunk (an empty range names the line before it) */
        const char *comma = strchr(d, ',');
        const char *sp = strchr(d + 4, ' ');
        int empty = comma && comma < sp && strtoul(comma + 1, NULL, 10) == 0;
        unsigned long first = empty ? start + 1 : start;
        for (; oline < first; oline++) {
            const char *nl = strchr(o, '\n');
            size_t n = nl ? (size_t)(nl - o) + 1 : strlen(o);
            ck_assert_int_eq(roster_buf_append(&out, o, n), 0);
            o += n;
        }
        d = strchr(d, '\n') + 1;
        while (*d && *d != '@') {
            const char *nl = strchr(d, '\n');
            size_t n = (size_t)(nl - d) + 1;
            int no_eol = strncmp(nl + 1, "\\ No newline", 12) == 0;
            size_t body = no_eol ? n - 2 : n - 1;
            if (*d == ' ' || *d == '-') {
                ck_assert_msg(strncmp(o, d + 1, body) == 0, "context/removal mismatch");
                o += body;
                oline++;
            }
            if (*d == ' ' || *d == '+')
                ck_assert_int_eq(roster_buf_append(&out, d + 1, body), 0);
            d = nl + 1;
            if (no_eol)
                d = strchr(d, '\n') + 1;
        }
    }
    ck_assert_int_eq(roster_buf_puts(&out, o), 0);
    char *s = roster_buf_steal(&out, NULL);
    ck_assert_ptr_nonnull(s);
    return s;
}

START_TEST(equal_texts_give_nothing)
{
    struct roster_textdiff_result res;
    char *d = udiff("a\nb\n", "a\nb\n", 0, 0, &res);
    ck_assert_str_eq(d, "");
    ck_assert_uint_eq(res.added + res.removed + res.hunks, 0);
    roster_free(d);
    d = udiff("", "", 0, 0, &res);
    ck_assert_str_eq(d, "");
    roster_free(d);
}
END_TEST

START_TEST(one_line_changed_in_the_middle)
{
    struct roster_textdiff_result res;
    char *d = udiff("1\n2\n3\n4\n5\n6\n7\n8\n9\n", "1\n2\n3\n4\nfive\n6\n7\n8\n9\n", 0, 0, &res);
    ck_assert_str_eq(d, "--- a\n+++ b\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
    ck_assert_uint_eq(res.added, 1);
    ck_assert_uint_eq(res.removed, 1);
    ck_assert_uint_eq(res.hunks, 1);
    ck_assert_int_eq(res.replaced, 0);
    roster_free(d);
}
END_TEST

START_TEST(ranges_as_gnu_writes_them)
{
    struct roster_textdiff_result res;
    /* from nothing: "-0,0"; one line: no count */
    char *d = udiff("", "x\n", 0, 0, &res);
    ck_assert_str_eq(d, "--- a\n+++ b\n@@ -0,0 +1 @@\n+x\n");
    roster_free(d);
    d = udiff("x\ny\n", "", 0, 0, &res);
    ck_assert_str_eq(d, "--- a\n+++ b\n@@ -1,2 +0,0 @@\n-x\n-y\n");
    roster_free(d);
    /* an insertion after line 1 of 1: the empty old range names line 1 */
    d = udiff("a\n", "a\nb\n", 0, 0, &res);
    ck_assert_str_eq(d, "--- a\n+++ b\n@@ -1 +1,2 @@\n a\n+b\n");
    roster_free(d);
    /* an insertion before the first line: the context comes after it */
    d = udiff("b\n", "a\nb\n", 0, 0, &res);
    ck_assert_str_eq(d, "--- a\n+++ b\n@@ -1 +1,2 @@\n+a\n b\n");
    roster_free(d);
}
END_TEST

START_TEST(missing_newline_at_end)
{
    struct roster_textdiff_result res;
    char *d = udiff("a\nb", "a\nb\n", 0, 0, &res);
    ck_assert_str_eq(d, "--- a\n+++ b\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n"
                        "+b\n");
    roster_free(d);
    d = udiff("a\nb", "a\nc", 0, 0, &res);
    ck_assert_str_eq(d, "--- a\n+++ b\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n"
                        "+c\n\\ No newline at end of file\n");
    roster_free(d);
}
END_TEST

/* Two changes further apart than twice the context are two hunks; closer
 * ones share one. */
START_TEST(hunks_split_and_merge)
{
    struct roster_textdiff_result res;
    const char *a = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n";
    char *d = udiff(a, "X\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\nY\n", 0, 0, &res);
    ck_assert_str_eq(d, "--- a\n+++ b\n@@ -1,4 +1,4 @@\n-1\n+X\n 2\n 3\n 4\n"
                        "@@ -12,4 +12,4 @@\n 12\n 13\n 14\n-15\n+Y\n");
    ck_assert_uint_eq(res.hunks, 2);
    roster_free(d);
    /* six unchanged lines between: still one hunk (2 * 3) */
    d = udiff(a, "1\n2\nX\n4\n5\n6\n7\n8\n9\nY\n11\n12\n13\n14\n15\n", 0, 0, &res);
    ck_assert_uint_eq(res.hunks, 1);
    ck_assert_ptr_nonnull(strstr(d, "@@ -1,13 +1,13 @@\n"));
    roster_free(d);
    /* seven: two */
    d = udiff(a, "1\n2\nX\n4\n5\n6\n7\n8\n9\n10\nY\n12\n13\n14\n15\n", 0, 0, &res);
    ck_assert_uint_eq(res.hunks, 2);
    roster_free(d);
}
END_TEST

/* A diff that GNU diff -u made (tests/fixtures/textdiff), byte for byte. */
START_TEST(matches_gnu_diff_on_a_fixture)
{
    size_t la, lb, ld;
    char *a = read_all(fixture("textdiff/old.md"), &la);
    char *b = read_all(fixture("textdiff/new.md"), &lb);
    char *want = read_all(fixture("textdiff/expected.diff"), &ld);
    struct roster_textdiff_result res;
    char *d = udiff(a, b, 0, 0, &res);
    ck_assert_str_eq(d, want);
    ck_assert_int_eq(res.replaced, 0);
    char *back = apply(a, d);
    ck_assert_str_eq(back, b);
    roster_free(back);
    roster_free(d);
    roster_free(want);
    roster_free(b);
    roster_free(a);
}
END_TEST

/* The length of a longest common subsequence, by dynamic programming. */
static size_t lcs_reference(const int *a, size_t na, const int *b, size_t nb)
{
    size_t *row = calloc((nb + 1) * 2, sizeof(size_t));
    ck_assert_ptr_nonnull(row);
    size_t *prev = row, *cur = row + nb + 1;
    for (size_t i = 1; i <= na; i++) {
        for (size_t j = 1; j <= nb; j++)
            cur[j] = a[i - 1] == b[j - 1] ? prev[j - 1] + 1
                                          : (prev[j] > cur[j - 1] ? prev[j] : cur[j - 1]);
        size_t *t = prev;
        prev = cur;
        cur = t;
    }
    size_t n = prev[nb];
    free(row);
    return n;
}

/* Random sequences over small alphabets (many repeats, the hard case):
 * the kept elements pair up equal, in order, and are as many as the
 * reference finds. */
START_TEST(lcs_is_a_longest_common_subsequence)
{
    unsigned seed = 12345;
    for (int round = 0; round < 3000; round++) {
        int a[200], b[200];
        size_t most = round % 10 == 0 ? 200 : 40;
        seed = seed * 1103515245u + 12345u;
        size_t na = (seed >> 16) % most, nb;
        seed = seed * 1103515245u + 12345u;
        nb = (seed >> 16) % most;
        int alpha = 2 + round % 6;
        for (size_t i = 0; i < na; i++) {
            seed = seed * 1103515245u + 12345u;
            a[i] = (int)((seed >> 16) % (unsigned)alpha);
        }
        for (size_t j = 0; j < nb; j++) {
            seed = seed * 1103515245u + 12345u;
            b[j] = (int)((seed >> 16) % (unsigned)alpha);
        }
        struct roster_textdiff_elem ea[200], eb[200];
        for (size_t i = 0; i < na; i++)
            ea[i] = (struct roster_textdiff_elem){(const char *)&a[i], sizeof(int)};
        for (size_t j = 0; j < nb; j++)
            eb[j] = (struct roster_textdiff_elem){(const char *)&b[j], sizeof(int)};
        unsigned char ka[200], kb[200];
        ck_assert_int_eq(roster_textdiff_lcs(ea, na, eb, nb, 400, ka, kb), 0);
        size_t i = 0, j = 0, kept = 0;
        for (;;) {
            while (i < na && !ka[i])
                i++;
            while (j < nb && !kb[j])
                j++;
            if (i == na || j == nb)
                break;
            ck_assert_int_eq(a[i], b[j]);
            kept++;
            i++;
            j++;
        }
        for (; i < na; i++)
            ck_assert_int_eq(ka[i], 0);
        for (; j < nb; j++)
            ck_assert_int_eq(kb[j], 0);
        ck_assert_uint_eq(kept, lcs_reference(a, na, b, nb));
        /* the edit cap is exact: as many edits as needed pass, one fewer not */
        size_t edits = na + nb - 2 * kept;
        if (edits > 1) {
            ck_assert_int_eq(roster_textdiff_lcs(ea, na, eb, nb, edits, ka, kb), 0);
            ck_assert_int_eq(roster_textdiff_lcs(ea, na, eb, nb, edits - 1, ka, kb), ROSTER_E2BIG);
        }
    }
}
END_TEST

/* Random texts: the diff applied to the old text gives the new one, and
 * its +/- counts are the minimal edit. */
START_TEST(diffs_apply)
{
    unsigned seed = 777;
    static const char *const words[] = {"alpha\n", "beta\n", "gamma\n", "delta\n", "\n"};
    for (int round = 0; round < 500; round++) {
        char a[2048] = "", b[2048] = "";
        for (int k = 0; k < 2; k++) {
            char *t = k ? b : a;
            size_t len = 0;
            seed = seed * 1103515245u + 12345u;
            int n = (int)((seed >> 16) % 60);
            for (int w = 0; w < n; w++) {
                seed = seed * 1103515245u + 12345u;
                const char *word = words[(seed >> 16) % 5];
                memcpy(t + len, word, strlen(word) + 1); /* at most 60 * 7 bytes */
                len += strlen(word);
            }
            if (round % 7 == 0 && len)
                t[len - 1] = '\0'; /* no newline at the end */
        }
        struct roster_textdiff_result res;
        char *d = udiff(a, b, 0, 0, &res);
        char *back = apply(a, d);
        ck_assert_str_eq(back, b);
        ck_assert_int_eq(res.replaced, 0);
        roster_free(back);
        roster_free(d);
    }
}
END_TEST

/* Over max_lines or max_edits: one hunk that replaces everything, said in
 * the result, and still a correct patch. */
START_TEST(over_the_caps_everything_is_replaced)
{
    struct roster_textdiff_result res;
    const char *a = "1\n2\n3\n4\n5\n6\n", *b = "1\n2\nX\n4\n5\n6\n";
    char *d = udiff(a, b, 4, 0, &res);
    ck_assert_int_eq(res.replaced, 1);
    ck_assert_uint_eq(res.removed, 6);
    ck_assert_uint_eq(res.added, 6);
    ck_assert_ptr_nonnull(strstr(d, "@@ -1,6 +1,6 @@\n"));
    char *back = apply(a, d);
    ck_assert_str_eq(back, b);
    roster_free(back);
    roster_free(d);
    /* two edits needed, one allowed */
    d = udiff(a, b, 0, 1, &res);
    ck_assert_int_eq(res.replaced, 1);
    roster_free(d);
    d = udiff(a, b, 0, 2, &res);
    ck_assert_int_eq(res.replaced, 0);
    ck_assert_uint_eq(res.removed, 1);
    roster_free(d);
    /* the LCS itself reports the cap */
    struct roster_textdiff_elem ea[3] = {{"a", 1}, {"b", 1}, {"c", 1}};
    struct roster_textdiff_elem eb[3] = {{"x", 1}, {"y", 1}, {"z", 1}};
    unsigned char ka[3] = {1, 1, 1}, kb[3] = {1, 1, 1};
    ck_assert_int_eq(roster_textdiff_lcs(ea, 3, eb, 3, 5, ka, kb), ROSTER_E2BIG);
    ck_assert_int_eq(ka[0] + ka[1] + ka[2] + kb[0] + kb[1] + kb[2], 0);
    ck_assert_int_eq(roster_textdiff_lcs(ea, 3, eb, 3, 6, ka, kb), 0);
}
END_TEST

/* A long text with a few edits is fast and exact (prefix and suffix
 * trimming, then a small middle); a full buffer fails without output. */
START_TEST(large_inputs_and_full_buffers)
{
    size_t n = 50000;
    struct roster_buf a, b;
    roster_buf_init(&a, (size_t)8 << 20);
    roster_buf_init(&b, (size_t)8 << 20);
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(roster_buf_printf(&a, "line %zu\n", i), 0);
        ck_assert_int_eq(roster_buf_printf(&b, i % 5000 == 7 ? "edited %zu\n" : "line %zu\n", i),
                         0);
    }
    struct roster_buf out;
    roster_buf_init(&out, (size_t)1 << 20);
    struct roster_textdiff_opts o = {.context = 3};
    struct roster_textdiff_result res;
    ck_assert_int_eq(roster_textdiff_unified(a.data, a.len, b.data, b.len, &o, &out, &res), 0);
    ck_assert_uint_eq(res.added, 10);
    ck_assert_uint_eq(res.removed, 10);
    ck_assert_uint_eq(res.hunks, 10);
    ck_assert_int_eq(res.replaced, 0);
    roster_buf_release(&out);
    roster_buf_init(&out, 64);
    ck_assert_int_eq(roster_buf_puts(&out, "kept"), 0);
    ck_assert_int_eq(roster_textdiff_unified(a.data, a.len, b.data, b.len, &o, &out, &res),
                     ROSTER_E2BIG);
    ck_assert_str_eq(out.data, "kept");
    roster_buf_release(&out);
    ck_assert_uint_eq(roster_textdiff_count_lines(a.data, a.len), n);
    ck_assert_uint_eq(roster_textdiff_count_lines("a\nb", 3), 2);
    ck_assert_uint_eq(roster_textdiff_count_lines("", 0), 0);
    roster_buf_release(&a);
    roster_buf_release(&b);
}
END_TEST

#ifdef ROSTER_ALLOC_FAULTS
/* Every allocation failing once, then from there on: ROSTER_ENOMEM with
 * the buffer as it was, or the whole diff. */
START_TEST(allocation_failures)
{
    const char *a = "1\n2\n3\n4\n5\n6\n7\n", *b = "1\nX\n3\n4\n5\nY\n7\n";
    struct roster_textdiff_opts o = {.context = 1};
    struct roster_textdiff_result res;
    struct roster_buf out;
    roster_buf_init(&out, 1 << 20);
    ck_assert_int_eq(roster_buf_puts(&out, "kept"), 0);
    roster_alloc_fail_at(0, 0);
    ck_assert_int_eq(roster_textdiff_unified(a, strlen(a), b, strlen(b), &o, &out, &res), 0);
    long total = roster_alloc_count();
    char *want = roster_strndup(out.data, out.len);
    ck_assert_ptr_nonnull(want);
    for (int sticky = 0; sticky < 2; sticky++)
        for (long n = 1; n <= total; n++) {
            out.len = 4;
            out.data[4] = '\0';
            roster_alloc_fail_at(n, sticky);
            int r = roster_textdiff_unified(a, strlen(a), b, strlen(b), &o, &out, &res);
            roster_alloc_fail_at(0, 0);
            if (r < 0) {
                ck_assert_int_eq(r, ROSTER_ENOMEM);
                ck_assert_str_eq(out.data, "kept");
            } else {
                ck_assert_str_eq(out.data, want);
            }
        }
    roster_free(want);
    roster_buf_release(&out);
}
END_TEST
#endif

static Suite *suite(void)
{
    Suite *s = suite_create("textdiff");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, equal_texts_give_nothing);
    tcase_add_test(tc, one_line_changed_in_the_middle);
    tcase_add_test(tc, ranges_as_gnu_writes_them);
    tcase_add_test(tc, missing_newline_at_end);
    tcase_add_test(tc, hunks_split_and_merge);
    tcase_add_test(tc, matches_gnu_diff_on_a_fixture);
    tcase_add_test(tc, lcs_is_a_longest_common_subsequence);
    tcase_add_test(tc, diffs_apply);
    tcase_add_test(tc, over_the_caps_everything_is_replaced);
    tcase_add_test(tc, large_inputs_and_full_buffers);
#ifdef ROSTER_ALLOC_FAULTS
    tcase_add_test(tc, allocation_failures);
#endif
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(suite());
}
