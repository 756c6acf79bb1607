/* Shared by the harnesses that fuzz several profile files at once: one
 * input is the files, separated by a line "@@@". */
#ifndef ROSTER_FUZZ_FILES_H
#define ROSTER_FUZZ_FILES_H

#include <stddef.h>
#include <string.h>

/* Splits p[0..end) at "\n@@@\n" into at most max pieces (the last takes
 * the rest); returns how many. */
static inline size_t fuzz_split_files(const char *p, const char *end, size_t max, const char **bufs,
                                      size_t *lens)
{
    size_t n = 0;
    while (n < max) {
        const char *sep = NULL;
        for (const char *q = p; q + 5 <= end && !sep; q++)
            if (memcmp(q, "\n@@@\n", 5) == 0)
                sep = q;
        bufs[n] = p;
        lens[n] = sep && n + 1 < max ? (size_t)(sep - p) : (size_t)(end - p);
        n++;
        if (!sep || n == max)
            break;
        p = sep + 5;
    }
    return n;
}

#endif
