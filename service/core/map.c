/* Open-addressing hash map with linear probing; the table is sized once
 * for the expected count and grows by doubling. */
#include "roster_map.h"

#include <stdint.h>
#include <string.h>

#include "roster_base.h"

struct slot {
    const char *key;
    size_t len;
    uint64_t hash;
    void *value;
};

struct roster_map {
    struct slot *slots;
    size_t cap; /* power of two */
    size_t count;
};

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

struct roster_map *roster_map_new(size_t expected)
{
    struct roster_map *m = roster_calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    size_t cap = 16;
    while (cap < expected * 2 && cap < ((size_t)1 << 40))
        cap *= 2;
    m->slots = roster_calloc(cap, sizeof(*m->slots));
    if (!m->slots) {
        roster_free(m);
        return NULL;
    }
    m->cap = cap;
    return m;
}

struct roster_map *roster_map_free(struct roster_map *m)
{
    if (m) {
        roster_free(m->slots);
        roster_free(m);
    }
    return NULL;
}

static struct slot *find(const struct roster_map *m, const char *key, size_t len, uint64_t h)
{
    size_t mask = m->cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        struct slot *s = &m->slots[i];
        if (!s->key || (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0))
            return s;
    }
}

static int grow(struct roster_map *m)
{
    size_t cap = m->cap * 2;
    struct slot *old = m->slots;
    size_t old_cap = m->cap;
    m->slots = roster_calloc(cap, sizeof(*m->slots));
    if (!m->slots) {
        m->slots = old;
        return ROSTER_ENOMEM;
    }
    m->cap = cap;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].key)
            *find(m, old[i].key, old[i].len, old[i].hash) = old[i];
    roster_free(old);
    return 0;
}

int roster_map_put(struct roster_map *m, const char *key, size_t len, void *value)
{
    if ((m->count + 1) * 2 > m->cap) {
        int r = grow(m);
        if (r < 0)
            return r;
    }
    uint64_t h = fnv1a(key, len);
    struct slot *s = find(m, key, len, h);
    if (s->key)
        return ROSTER_EINVAL;
    *s = (struct slot){.key = key, .len = len, .hash = h, .value = value};
    m->count++;
    return 0;
}

void *roster_map_get(const struct roster_map *m, const char *key, size_t len)
{
    if (!m)
        return NULL;
    struct slot *s = find(m, key, len, fnv1a(key, len));
    return s->key ? s->value : NULL;
}

size_t roster_map_count(const struct roster_map *m)
{
    return m ? m->count : 0;
}
