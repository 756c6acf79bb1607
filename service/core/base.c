/* Error helpers, allocation wrappers (with fault injection when built with
 * ROSTER_ALLOC_FAULTS), the monotonic clock, capped buffers and the bump
 * arena. */
#include "roster_base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef ROSTER_ALLOC_FAULTS
#include <stdatomic.h>
#endif

/* Overflow-checked size arithmetic: returns 0 on success. */
static int size_add(size_t a, size_t b, size_t *out)
{
    return __builtin_add_overflow(a, b, out) ? -1 : 0;
}

void roster_error_clear(struct roster_error *err)
{
    if (err)
        memset(err, 0, sizeof(*err));
}

int roster_error_set(struct roster_error *err, int code, const char *file, unsigned line,
                     unsigned col, const char *fmt, ...)
{
    if (!err)
        return code;
    err->code = code;
    err->diag = NULL;
    err->line = line;
    err->col = col;
    err->file[0] = '\0';
    if (file)
        snprintf(err->file, sizeof(err->file), "%s", file);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    if (n < 0)
        err->msg[0] = '\0';
    return code;
}

#ifdef ROSTER_ALLOC_FAULTS
static atomic_long alloc_calls;
static atomic_long alloc_fail_nth;
static atomic_int alloc_fail_sticky;

/* True when this allocation must fail (fault injection for tests). */
static int alloc_should_fail(void)
{
    long n = atomic_fetch_add(&alloc_calls, 1) + 1;
    long nth = atomic_load(&alloc_fail_nth);
    if (nth <= 0)
        return 0;
    if (n == nth)
        return 1;
    return n > nth && atomic_load(&alloc_fail_sticky);
}

void roster_alloc_fail_at(long nth, int sticky)
{
    atomic_store(&alloc_calls, 0);
    atomic_store(&alloc_fail_sticky, sticky);
    atomic_store(&alloc_fail_nth, nth);
}

long roster_alloc_count(void)
{
    return atomic_load(&alloc_calls);
}
#else
/* Production builds: no counter, no atomic on the allocation path. */
static inline int alloc_should_fail(void)
{
    return 0;
}
#endif

double roster_now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void *roster_malloc(size_t n)
{
    if (alloc_should_fail())
        return NULL;
    return malloc(n ? n : 1);
}

void *roster_calloc(size_t n, size_t size)
{
    if (alloc_should_fail())
        return NULL;
    return calloc(n ? n : 1, size ? size : 1);
}

void *roster_realloc(void *p, size_t n)
{
    if (alloc_should_fail())
        return NULL;
    return realloc(p, n ? n : 1);
}

/* Copies n bytes of s into d (n + 1 bytes) and terminates it; NULL d
 * passes through (the allocation failed). */
static char *copy_terminated(char *d, const char *s, size_t n)
{
    if (!d)
        return NULL;
    if (n)
        memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *roster_strndup(const char *s, size_t n)
{
    size_t need;
    if (size_add(n, 1, &need))
        return NULL;
    return copy_terminated(roster_malloc(need), s, n);
}

void roster_free(void *p)
{
    free(p);
}

void roster_buf_init(struct roster_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

static int buf_reserve(struct roster_buf *b, size_t extra)
{
    size_t need;
    if (size_add(b->len, extra, &need) || size_add(need, 1, &need))
        return ROSTER_E2BIG;
    if (need > b->max + 1)
        return ROSTER_E2BIG;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    char *d = roster_realloc(b->data, cap);
    if (!d)
        return ROSTER_ENOMEM;
    b->data = d;
    b->cap = cap;
    return 0;
}

int roster_buf_reserve(struct roster_buf *b, size_t extra)
{
    return buf_reserve(b, extra);
}

int roster_buf_append(struct roster_buf *b, const void *p, size_t n)
{
    int r = buf_reserve(b, n);
    if (r < 0)
        return r;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int roster_buf_puts(struct roster_buf *b, const char *s)
{
    return roster_buf_append(b, s, strlen(s));
}

int roster_buf_putc(struct roster_buf *b, char c)
{
    return roster_buf_append(b, &c, 1);
}

int roster_buf_printf(struct roster_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return ROSTER_EINVAL;
    if ((size_t)n < sizeof(small))
        return roster_buf_append(b, small, (size_t)n);
    int r = buf_reserve(b, (size_t)n);
    if (r < 0)
        return r;
    va_start(ap, fmt);
    int m = vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    if (m != n)
        return ROSTER_EINVAL;
    b->len += (size_t)n;
    return 0;
}

char *roster_buf_steal(struct roster_buf *b, size_t *len)
{
    char *d = b->data;
    if (!d)
        d = roster_strndup("", 0);
    if (len)
        *len = d ? b->len : 0;
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return d;
}

void roster_buf_release(struct roster_buf *b)
{
    roster_free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

/* Arena: a list of chunks; allocations are 16-byte aligned. */
struct arena_chunk {
    struct arena_chunk *next;
    size_t used;
    size_t size;
    _Alignas(16) unsigned char mem[];
};

struct roster_arena {
    struct arena_chunk *head;
    size_t total;
    size_t max;
};

struct roster_arena *roster_arena_new(size_t max_bytes)
{
    struct roster_arena *a = roster_calloc(1, sizeof(*a));
    if (a)
        a->max = max_bytes;
    return a;
}

void *roster_arena_alloc(struct roster_arena *a, size_t n)
{
    size_t need = (n + 15) & ~(size_t)15;
    if (need < n)
        return NULL;
    struct arena_chunk *c = a->head;
    if (!c || c->size - c->used < need) {
        size_t size = need > 16384 ? need : 16384;
        size_t total;
        if (size_add(a->total, size, &total) || total > a->max)
            return NULL;
        c = roster_malloc(sizeof(*c) + size);
        if (!c)
            return NULL;
        c->next = a->head;
        c->used = 0;
        c->size = size;
        a->head = c;
        a->total = total;
    }
    void *p = c->mem + c->used;
    c->used += need;
    memset(p, 0, n);
    return p;
}

char *roster_arena_strndup(struct roster_arena *a, const char *s, size_t n)
{
    size_t need;
    if (size_add(n, 1, &need))
        return NULL;
    return copy_terminated(roster_arena_alloc(a, need), s, n);
}

struct roster_arena *roster_arena_free(struct roster_arena *a)
{
    if (!a)
        return NULL;
    struct arena_chunk *c = a->head;
    while (c) {
        struct arena_chunk *next = c->next;
        roster_free(c);
        c = next;
    }
    roster_free(a);
    return NULL;
}

void *roster_grow(void *items, size_t *cap, size_t len, size_t size, size_t first)
{
    if (len < *cap && items)
        return items;
    size_t want = *cap ? *cap * 2 : first, bytes;
    if (want < *cap || __builtin_mul_overflow(want, size, &bytes))
        return NULL;
    void *grown = roster_realloc(items, bytes);
    if (grown)
        *cap = want;
    return grown;
}

void roster_free_strv(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        roster_free(v[i]);
    roster_free(v);
}
