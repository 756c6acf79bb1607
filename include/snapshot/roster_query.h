/* Listing queries over a snapshot: filters, search, projection, cursor
 * pagination. Results are built per request from read-only summaries. */
#ifndef ROSTER_QUERY_H
#define ROSTER_QUERY_H

#include <stddef.h>

struct roster_snapshot;
typedef struct json_t json_t;

#define ROSTER_LIST_DEFAULT_LIMIT 50
#define ROSTER_LIST_MAX_LIMIT 500
#define ROSTER_QUERY_MAX_FIELDS 16

struct roster_list_query {
    const char *category; /* exact match, or NULL */
    const char *role;
    const char *extends; /* a direct parent id */
    const char *q; /* case-insensitive substring, or NULL */
    const char *fields[ROSTER_QUERY_MAX_FIELDS]; /* projection; nfields 0: all */
    size_t nfields;
    size_t limit;
    const char *after; /* decoded cursor: list ids greater than this */
};

/* {"items", "total", "next_cursor"}; NULL on allocation failure. */
json_t *roster_query_list(const struct roster_snapshot *s, const struct roster_list_query *q);
/* 1 when name is a key of the list summary / of the profile object. */
int roster_query_summary_field(const char *name);
int roster_query_profile_field(const char *name);
/* Projection of an object onto the given keys (new reference). */
json_t *roster_query_project(const json_t *o, const char *const *fields, size_t n);
/* Cursor encoding: base64url of the last id. Decoding validates the id. */
int roster_cursor_encode(const char *id, char *out, size_t cap);
int roster_cursor_decode(const char *cursor, char *id, size_t cap);
/* Decodes any text roster_cursor_encode made, NUL-terminated, into out
 * (at most cap - 1 bytes, its length in *len); ROSTER_EINVAL otherwise
 * (out may then hold a part). Callers check what it says. */
int roster_cursor_decode_text(const char *cursor, char *out, size_t cap, size_t *len);

#endif
