/* Line diffs: a longest common subsequence of two sequences (Myers' O(ND)
 * algorithm, the linear-space "middle snake" variant) and the unified diff
 * (`diff -u`) of two texts made from it. Memory is linear in the input
 * (a hash and a flag per line, two vectors of about max_edits entries);
 * time is O((N + M) * D). Over a cap (lines per side, edit distance) the
 * unified diff degrades to "the whole text replaced" and says so in its
 * result, instead of spending unbounded time. Docs: docs/versions.md. */
#ifndef ROSTER_TEXTDIFF_H
#define ROSTER_TEXTDIFF_H

#include <stddef.h>

struct roster_buf;

/* Defaults for the caps (an options field left 0 takes them). */
#define ROSTER_TEXTDIFF_MAX_LINES ((size_t)200000)
#define ROSTER_TEXTDIFF_MAX_EDITS ((size_t)4000)

/* One element of a sequence: bytes compared exactly (a line with its
 * '\n', an item key). Borrowed. */
struct roster_textdiff_elem {
    const char *p;
    size_t len;
};

/* Marks the elements of a longest common subsequence of a and b:
 * keep_a[i] = 1 for the elements of a in it, keep_b[j] = 1 for those of b
 * (arrays of na and nb bytes, the caller's); the k-th kept element of a
 * equals the k-th kept element of b. Everything else is a deletion (a) or
 * an insertion (b). 0; ROSTER_E2BIG when it takes more than max_edits
 * deletions plus insertions (0: ROSTER_TEXTDIFF_MAX_EDITS; at most 2^26
 * taken), ROSTER_ENOMEM;
 * on failure both arrays are all 0 ("everything replaced"). */
int roster_textdiff_lcs(const struct roster_textdiff_elem *a, size_t na,
                        const struct roster_textdiff_elem *b, size_t nb, size_t max_edits,
                        unsigned char *keep_a, unsigned char *keep_b);

struct roster_textdiff_opts {
    const char *old_label; /* after "--- " (NULL: "old") */
    const char *new_label; /* after "+++ " (NULL: "new") */
    unsigned context; /* unchanged lines around each change (diff -u: 3) */
    size_t max_lines; /* per side; 0: ROSTER_TEXTDIFF_MAX_LINES */
    size_t max_edits; /* 0: ROSTER_TEXTDIFF_MAX_EDITS */
};

struct roster_textdiff_result {
    size_t added; /* '+' lines */
    size_t removed; /* '-' lines */
    size_t hunks;
    /* 1: over max_lines or max_edits, so the diff is one hunk that removes
     * every old line and adds every new one (still a correct patch) */
    int replaced;
};

/* Appends to out the unified diff that turns old into new_: "--- label",
 * "+++ label", then "@@ -l,s +l,s @@" hunks with opts->context lines of
 * context, as GNU diff -u writes them (a range of one line is "l", an
 * empty one "l,0" with l the line before it; a last line without '\n' is
 * followed by "\ No newline at end of file"). Equal texts append nothing.
 * Lines end at '\n' and are compared as bytes. *res (may be NULL) is
 * filled on success. 0; ROSTER_E2BIG when out would exceed its max,
 * ROSTER_ENOMEM; out keeps what it had before on failure. */
int roster_textdiff_unified(const char *old, size_t old_len, const char *new_, size_t new_len,
                            const struct roster_textdiff_opts *opts, struct roster_buf *out,
                            struct roster_textdiff_result *res);

/* How many lines text has ('\n'-terminated, plus an unterminated last). */
size_t roster_textdiff_count_lines(const char *text, size_t len);

#endif
