/* A string-keyed hash map (open addressing). Keys are borrowed: they must
 * outlive the map. Used for id lookups at index and request time. */
#ifndef ROSTER_MAP_H
#define ROSTER_MAP_H

#include <stddef.h>

struct roster_map;

struct roster_map *roster_map_new(size_t expected);
struct roster_map *roster_map_free(struct roster_map *m);
/* Inserts key -> value; fails with ROSTER_EINVAL when the key exists. */
int roster_map_put(struct roster_map *m, const char *key, size_t len, void *value);
void *roster_map_get(const struct roster_map *m, const char *key, size_t len);
size_t roster_map_count(const struct roster_map *m);

#endif
