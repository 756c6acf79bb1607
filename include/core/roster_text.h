/* Text helpers: UTF-8 validation, line-ending normalization, line tables,
 * trimming, slugs and hashing. All inputs are length-carrying. */
#ifndef ROSTER_TEXT_H
#define ROSTER_TEXT_H

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

/* ASCII case-insensitive comparison of a slice with a C string. */
int roster_slice_ieq(const char *s, size_t len, const char *cstr);

#endif
