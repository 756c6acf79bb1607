/* Plain YAML scalars to JSON values by the YAML 1.2 core schema
 * (docs/profile-format.md "Front matter"). */
#include "frontmatter_internal.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- typing ----------------------------------------------------------- */

static int all_digits(const char *s, size_t n, int (*ok)(int))
{
    if (!n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!ok((unsigned char)s[i]))
            return 0;
    return 1;
}

static int is_dec(int c)
{
    return c >= '0' && c <= '9';
}
static int is_oct(int c)
{
    return c >= '0' && c <= '7';
}
static int is_hex(int c)
{
    return is_dec(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static int is_core_float(const char *s, size_t n)
{
    size_t i = 0, digits = 0;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        i++;
    while (i < n && is_dec(s[i]))
        i++, digits++;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && is_dec(s[i]))
            i++, digits++;
    }
    if (!digits)
        return 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '-' || s[i] == '+'))
            i++;
        size_t e = 0;
        while (i < n && is_dec(s[i]))
            i++, e++;
        if (!e)
            return 0;
    }
    return i == n;
}

int roster_fm_slice_in(const char *s, size_t n, const char *const *words)
{
    for (; *words; words++)
        if (strlen(*words) == n && memcmp(s, *words, n) == 0)
            return 1;
    return 0;
}

/* Integer of a core-schema int slice, or -1 when it does not fit. */
static int parse_int(const char *s, size_t n, int base, long long *out)
{
    char tmp[72];
    if (n >= sizeof(tmp))
        return -1;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    errno = 0;
    char *end = NULL;
    long long v = strtoll(tmp, &end, base);
    if (errno || !end || *end)
        return -1;
    *out = v;
    return 0;
}

/* A plain scalar typed with the YAML 1.2 core schema. Values JSON cannot
 * hold (.inf, .nan, integers beyond 64 bits) stay strings. */
json_t *roster_fm_type_plain(const char *s, size_t n)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
    static const char *const trues[] = {"true", "True", "TRUE", NULL};
    static const char *const falses[] = {"false", "False", "FALSE", NULL};
    long long iv;
    if (roster_fm_slice_in(s, n, nulls))
        return json_null();
    if (roster_fm_slice_in(s, n, trues))
        return json_true();
    if (roster_fm_slice_in(s, n, falses))
        return json_false();
    size_t sign = n && (s[0] == '-' || s[0] == '+');
    if (all_digits(s + sign, n - sign, is_dec))
        return parse_int(s, n, 10, &iv) == 0 ? json_integer(iv) : json_stringn(s, n);
    if (n > 2 && s[0] == '0' && s[1] == 'o' && all_digits(s + 2, n - 2, is_oct) &&
        parse_int(s + 2, n - 2, 8, &iv) == 0)
        return json_integer(iv);
    if (n > 2 && s[0] == '0' && s[1] == 'x' && all_digits(s + 2, n - 2, is_hex) &&
        parse_int(s + 2, n - 2, 16, &iv) == 0)
        return json_integer(iv);
    if (is_core_float(s, n) && n < 64) {
        char tmp[64];
        memcpy(tmp, s, n);
        tmp[n] = '\0';
        double d = strtod(tmp, NULL);
        if (isfinite(d))
            return json_real(d);
    }
    return json_stringn(s, n);
}
