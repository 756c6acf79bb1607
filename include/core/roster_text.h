/* Text helpers: UTF-8 validation, line-ending normalization, line tables,
 * trimming, slugs and hashing. All inputs are length-carrying. */
#ifndef ROSTER_TEXT_H
#define ROSTER_TEXT_H

#include <nettle/sha2.h>
#include <stddef.h>

struct roster_buf;

/* Returns the offset of the first byte that is not valid UTF-8 (overlongs,
 * surrogates and values above U+10FFFF are invalid), or len when valid. */
size_t roster_utf8_check(const char *s, size_t len);

/* Copies src with a leading UTF-8 BOM removed and CRLF / lone CR turned
 * into LF. The copy is NUL-terminated; free with roster_free. */
int roster_text_normalize(const char *src, size_t len, char **out, size_t *out_len);

/* Line table over a text: offsets of line starts. */
struct roster_lines {
    size_t *starts;
    size_t count;
    const char *text;
    size_t len;
};

int roster_lines_init(struct roster_lines *l, const char *text, size_t len);
/* Frees the table (l itself is the caller's). */
void roster_lines_release(struct roster_lines *l);
/* 1-based line of a byte offset. */
unsigned roster_lines_line_of(const struct roster_lines *l, size_t off);
/* Start offset and length (without the LF) of 1-based line n. */
int roster_lines_get(const struct roster_lines *l, unsigned n, const char **s, size_t *len);

/* Trims ASCII white space (space, tab, LF) from both ends of a slice. */
void roster_trim(const char **s, size_t *len);

/* GitHub-style slug of a title: lower-case ASCII letters and digits,
 * '-' and '_' kept, spaces become '-', other ASCII punctuation dropped,
 * non-ASCII bytes kept. Appends to b. */
int roster_slugify(const char *s, size_t len, struct roster_buf *b);

/* Lower-case hex SHA-256 of data into hex[65]. */
void roster_sha256_hex(const void *data, size_t len, char hex[65]);
/* The same over pieces: begin, add each, end. */
struct roster_sha256 {
    struct sha256_ctx ctx;
};
void roster_sha256_begin(struct roster_sha256 *h);
void roster_sha256_add(struct roster_sha256 *h, const void *data, size_t len);
void roster_sha256_end(struct roster_sha256 *h, char hex[65]);

/* ASCII case-insensitive comparison of a slice with a C string. */
int roster_slice_ieq(const char *s, size_t len, const char *cstr);

/* Edit distance (Levenshtein, bytes) of two slices when it is at most
 * limit, else limit + 1. Bounded: it gives up as soon as a row of the
 * table is over limit, so far-off candidates cost a few rows; slices over
 * ROSTER_TEXT_DISTANCE_MAX bytes count as far off. */
#define ROSTER_TEXT_DISTANCE_MAX 255
size_t roster_text_distance(const char *a, size_t la, const char *b, size_t lb, size_t limit);

/* "Did you mean": the ROSTER_NEAREST_MAX candidates closest to a word,
 * within max_distance, closest first (ties in the order offered), each
 * string once. Holds pointers only: the word and the candidates must
 * outlive it. */
#define ROSTER_NEAREST_MAX 3
struct roster_nearest {
    const char *word;
    size_t word_len;
    size_t max_distance;
    const char *best[ROSTER_NEAREST_MAX];
    size_t dist[ROSTER_NEAREST_MAX];
    size_t n;
};
void roster_text_nearest_init(struct roster_nearest *nr, const char *word, size_t len,
                              size_t max_distance);
void roster_text_nearest_offer(struct roster_nearest *nr, const char *candidate);
/* Appends the candidates found as `"a"`, `"a" or "b"`, `"a", "b" or "c"`
 * (nothing when there are none). */
int roster_text_nearest_format(const struct roster_nearest *nr, struct roster_buf *b);

#endif
