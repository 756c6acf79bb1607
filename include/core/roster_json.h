/* Building jansson values without losing errors: a constructor such as
 * json_string() returns NULL on invalid UTF-8 or allocation failure, and
 * json_object_set_new() then fails silently unless someone checks. */
#ifndef ROSTER_JSON_H
#define ROSTER_JSON_H

typedef struct json_t json_t;

/* Sets key to value, taking the reference even on failure; value may be
 * NULL (a failed constructor). Returns 0, or -1 when value is NULL or the
 * set failed. */
int roster_json_set(json_t *o, const char *key, json_t *value);
/* The same for appending to an array. */
int roster_json_push(json_t *a, json_t *value);
/* value, or NULL after dropping value when bad. For json_pack(), which
 * steals every "o" argument even when it fails: passing one NULL makes the
 * whole build fail and drop the rest, so an earlier failure (bad) needs no
 * cleanup of its own. */
json_t *roster_json_unless(int bad, json_t *value);

struct roster_buf;
/* Rewrites, in place, every number in the JSON text held by b that has a
 * '.', 'e' or 'E' (a real, as jansson prints it with %.17g: 0.1 becomes
 * 0.10000000000000001) into the shortest form strtod reads back as the
 * same double: 0.1, 1e100, 100.0 (a real keeps its ".0"). Fixed or
 * exponent notation is chosen as %.17g chooses it, so no number gets
 * longer; text inside strings is left alone. Never parses the JSON into
 * values (jansson's loader drops characters when memory runs out) and
 * allocates nothing. Returns how many numbers were shortened. */
int roster_json_shorten_reals(struct roster_buf *b);

#endif
