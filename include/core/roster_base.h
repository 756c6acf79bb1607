/* Shared foundations: error reporting, allocation wrappers, a capped
 * growable buffer and a bump arena. Every other module builds on these. */
#ifndef ROSTER_BASE_H
#define ROSTER_BASE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Expected failure codes (negative errno values). */
#define ROSTER_ENOMEM (-12)
#define ROSTER_EINVAL (-22)
#define ROSTER_E2BIG (-7)
#define ROSTER_ENOENT (-2)
#define ROSTER_EIO (-5)
#define ROSTER_ECANCELED (-125)
#define ROSTER_EBUSY (-16)

/* Error context, passed last as `err`. file/line/col point into the input
 * that caused the failure when there is one (line and col are 1-based,
 * 0 when unknown). */
struct roster_error {
    int code;
    const char *diag; /* stable dotted diagnostic code (static), or NULL */
    char file[256];
    unsigned line;
    unsigned col;
    char msg[320];
};

void roster_error_clear(struct roster_error *err);
/* Sets err (when not NULL) and returns code, for `return roster_error_set(...)`. */
int roster_error_set(struct roster_error *err, int code, const char *file, unsigned line,
                     unsigned col, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* What the compiler may assume of an allocator: ROSTER_MALLOC, the result
 * aliases nothing (a fresh object); ROSTER_ALLOC_SIZE(i[, j]), its size is
 * argument i (times argument j); ROSTER_MUST_USE, dropping the result is a
 * leak or a lost error. */
#if defined(__GNUC__) || defined(__clang__)
#define ROSTER_MALLOC __attribute__((malloc))
#define ROSTER_ALLOC_SIZE(...) __attribute__((alloc_size(__VA_ARGS__)))
#define ROSTER_MUST_USE __attribute__((warn_unused_result))
#else
#define ROSTER_MALLOC
#define ROSTER_ALLOC_SIZE(...)
#define ROSTER_MUST_USE
#endif

/* Allocation goes through these so tests can inject failures. The result
 * is the caller's, freed with roster_free (which accepts NULL). */
ROSTER_MALLOC ROSTER_ALLOC_SIZE(1) ROSTER_MUST_USE void *roster_malloc(size_t n);
ROSTER_MALLOC ROSTER_ALLOC_SIZE(1, 2) ROSTER_MUST_USE void *roster_calloc(size_t n, size_t size);
/* On failure p is left as it was (and still the caller's). */
ROSTER_ALLOC_SIZE(2) ROSTER_MUST_USE void *roster_realloc(void *p, size_t n);
/* A NUL-terminated copy of the n bytes at s. */
ROSTER_MALLOC ROSTER_MUST_USE char *roster_strndup(const char *s, size_t n);
void roster_free(void *p);
#ifdef ROSTER_ALLOC_FAULTS
/* Fault injection, compiled in only with ROSTER_ALLOC_FAULTS (meson
 * -Dalloc_faults=true for rosterd; always in the library the allocation
 * tests link): the Nth allocation from now fails (1 = the next one), and
 * every one after it while `sticky`; 0 turns it off. Counts calls. */
void roster_alloc_fail_at(long nth, int sticky);
long roster_alloc_count(void);
#endif

/* Seconds on the monotonic clock (for durations and deadlines). */
double roster_now_mono(void);

/* A growable byte buffer with a hard cap; always NUL-terminated when
 * data != NULL. On failure it keeps its previous contents. */
struct roster_buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max;
};

void roster_buf_init(struct roster_buf *b, size_t max);
/* Room for extra more bytes (within max) without growing again. */
int roster_buf_reserve(struct roster_buf *b, size_t extra);
int roster_buf_append(struct roster_buf *b, const void *p, size_t n);
int roster_buf_puts(struct roster_buf *b, const char *s);
int roster_buf_putc(struct roster_buf *b, char c);
int roster_buf_printf(struct roster_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Hands the bytes to the caller (free with roster_free); resets b. NULL
 * only when b held nothing and the empty string could not be allocated. */
ROSTER_MALLOC ROSTER_MUST_USE char *roster_buf_steal(struct roster_buf *b, size_t *len);
/* Frees the bytes and resets b (b itself is the caller's). */
void roster_buf_release(struct roster_buf *b);

/* A bump arena: many small allocations freed at once. Capped in bytes. */
struct roster_arena;
struct roster_arena *roster_arena_new(size_t max_bytes);
/* Zeroed memory that lives as long as the arena; NULL over the cap. */
ROSTER_MALLOC ROSTER_ALLOC_SIZE(2) ROSTER_MUST_USE
    void *roster_arena_alloc(struct roster_arena *a, size_t n);
ROSTER_MALLOC ROSTER_MUST_USE char *roster_arena_strndup(struct roster_arena *a, const char *s,
                                                         size_t n);
struct roster_arena *roster_arena_free(struct roster_arena *a);

/* Frees n strings and the array holding them (NULL is fine). */
void roster_free_strv(char **v, size_t n);

/* Room for one more element in a growing array (items: *cap elements of
 * `size` bytes, len used): doubles it (first: its first size) when full.
 * The array (perhaps moved), or NULL with items and *cap unchanged. */
ROSTER_MUST_USE void *roster_grow(void *items, size_t *cap, size_t len, size_t size, size_t first);

#endif
