/* Shared between frontmatter.c and frontmatter_type.c. */
#ifndef ROSTER_FRONTMATTER_INTERNAL_H
#define ROSTER_FRONTMATTER_INTERNAL_H

#include <stddef.h>

typedef struct json_t json_t;

/* A plain (unquoted, untagged) scalar as the core schema types it: integer,
 * number, boolean, null, or string. NULL without memory. */
json_t *roster_fm_type_plain(const char *s, size_t n);
/* 1 when s[0..n) is one of words (NULL-terminated). */
int roster_fm_slice_in(const char *s, size_t n, const char *const *words);

#endif
