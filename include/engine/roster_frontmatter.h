/* Front matter: find the YAML block at the top of a profile and turn it
 * into typed JSON values (YAML 1.2 core schema), refusing anything that is
 * not plain data. Input text must already be normalized (LF, no BOM). */
#ifndef ROSTER_FRONTMATTER_H
#define ROSTER_FRONTMATTER_H

#include <stddef.h>

struct roster_diags;
struct roster_error;
typedef struct json_t json_t;

#define ROSTER_FM_MAX_BYTES (64 * 1024)
#define ROSTER_FM_MAX_DEPTH 32
#define ROSTER_FM_MAX_NODES 10000

struct roster_fm_split {
    int present; /* 1 when the text starts with a front matter block */
    size_t fm_off; /* YAML slice: offset and length */
    size_t fm_len;
    unsigned fm_line; /* 1-based line of the first YAML line */
    size_t body_off; /* Markdown body: offset (to the end of the text) */
    unsigned body_line;
};

/* Finds the block between a first line `---` and the next `---` or `...`.
 * Fails (err->diag "frontmatter.unclosed" / "frontmatter.too_large") when
 * the block never ends or is over ROSTER_FM_MAX_BYTES. */
int roster_frontmatter_split(const char *text, size_t len, struct roster_fm_split *out,
                             struct roster_error *err);

/* Parses a YAML slice into a JSON object (new reference in *out). line
 * numbers in err are file lines: first_line is the slice's first line. */
int roster_frontmatter_parse(json_t **out, const char *yaml, size_t len, unsigned first_line,
                             struct roster_error *err);

/* Where roster_frontmatter_parse_opts reports warnings: diags (NULL: none)
 * with file as their file. */
struct roster_fm_opts {
    const char *file;
    struct roster_diags *diags;
};
/* The same, with warnings: a plain number as the value of a top-level
 * `name`, `category`, `description`, `version` or `role` keeps its text
 * (a string "1.10", not the number 1.1) and is reported as
 * frontmatter.number_as_string. Warnings are added only when the parse
 * succeeds. */
int roster_frontmatter_parse_opts(json_t **out, const char *yaml, size_t len, unsigned first_line,
                                  const struct roster_fm_opts *opts, struct roster_error *err);

#endif
