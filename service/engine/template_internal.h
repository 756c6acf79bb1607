/* Shared between template.c and template_scan.c. */
#ifndef ROSTER_TEMPLATE_INTERNAL_H
#define ROSTER_TEMPLATE_INTERNAL_H

#include <regex.h>
#include <stddef.h>

typedef struct json_t json_t;

/* One `{{ name }}` (or an escape `{{{{`) found in a text. */
struct roster_placeholder {
    size_t off, len; /* the whole placeholder */
    const char *name; /* NULL for an escape */
    size_t name_len;
    int escape;
    unsigned line; /* 1-based, in the scanned text */
};

typedef int (*roster_placeholder_fn)(const struct roster_placeholder *ph, void *ctx);

/* fn for every placeholder and escape of s[0..n), in order, outside
 * fenced code blocks whose info string has the word `raw`; stops at the
 * first negative return. */
int roster_template_scan(const char *s, size_t n, roster_placeholder_fn fn, void *ctx);

/* [A-Za-z_][A-Za-z0-9_]*, at most 64 bytes. */
int roster_template_name_valid(const char *s, size_t n);

/* Appends {"name", "reason", "detail"} to bad: 0, or ROSTER_ENOMEM. */
int roster_template_problem(json_t *bad, const char *name, const char *reason, const char *detail);

/* Checks one given value against its declaration (decl; re compiled from
 * its pattern or NULL), appending each problem to bad. 0, or
 * ROSTER_ENOMEM. */
int roster_template_check_value(const json_t *decl, const regex_t *re, size_t max_length,
                                const char *name, const json_t *value, json_t *bad);

#endif
