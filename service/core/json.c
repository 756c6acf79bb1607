/* Checked jansson setters and the shortest printing of reals
 * (roster_json.h). */
#include "roster_json.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roster_base.h"

int roster_json_set(json_t *o, const char *key, json_t *value)
{
    if (!value)
        return -1;
    return json_object_set_new(o, key, value) ? -1 : 0;
}

int roster_json_push(json_t *a, json_t *value)
{
    if (!value)
        return -1;
    return json_array_append_new(a, value) ? -1 : 0;
}

json_t *roster_json_unless(int bad, json_t *value)
{
    if (!bad)
        return value;
    json_decref(value);
    return NULL;
}

/* ---- shortest reals ------------------------------------------------------ */

/* A real printed with %.17g is at most 24 bytes ("-2.2250738585072014e-308");
 * longer tokens are left as they are. */
#define REAL_TOKEN_MAX 40

/* The fewest significant digits (1 to 17) that read back as d: the digits
 * (no dot, no trailing zeros) and the decimal exponent of the first one.
 * The C locale is assumed (rosterd never calls setlocale). */
static int shortest_digits(double d, char *digits, size_t cap, int *exp10)
{
    char tmp[REAL_TOKEN_MAX];
    for (int p = 1; p <= 17; p++) {
        int n = snprintf(tmp, sizeof(tmp), "%.*e", p - 1, d);
        if (n < 0 || (size_t)n >= sizeof(tmp))
            return -1;
        if (strtod(tmp, NULL) == d)
            break;
    }
    const char *s = tmp + (tmp[0] == '-');
    size_t nd = 0;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9' && nd + 1 < cap)
            digits[nd++] = *s;
    if (*s != 'e' || nd == 0)
        return -1;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = '\0';
    *exp10 = (int)strtol(s + 1, NULL, 10);
    return 0;
}

/* "ddd.ddd" with the digits placed around the decimal point at exp10. */
static size_t put_fixed(char *out, const char *digits, int exp10)
{
    size_t n = 0, nd = strlen(digits);
    if (exp10 < 0) {
        out[n++] = '0';
        out[n++] = '.';
        for (int z = exp10 + 1; z < 0; z++)
            out[n++] = '0';
        memcpy(out + n, digits, nd);
        return n + nd;
    }
    size_t whole = (size_t)exp10 + 1;
    for (size_t i = 0; i < whole; i++)
        out[n++] = i < nd ? digits[i] : '0';
    out[n++] = '.';
    if (nd <= whole) {
        out[n++] = '0'; /* stays a real: 1.0, not 1 */
        return n;
    }
    memcpy(out + n, digits + whole, nd - whole);
    return n + nd - whole;
}

/* "d.ddde-7", the exponent as jansson writes it (no '+', no leading 0). */
static size_t put_exponent(char *out, size_t cap, const char *digits, int exp10)
{
    size_t nd = strlen(digits);
    int n = snprintf(out, cap, "%c%s%.*se%d", digits[0], nd > 1 ? "." : "", (int)(nd - 1),
                     digits + 1, exp10);
    return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

/* The shortest form of the real in tok[0..n) into out (cap bytes), or 0
 * to keep the token as it is. */
static size_t shortest_real(const char *tok, size_t n, char *out, size_t cap)
{
    char tmp[REAL_TOKEN_MAX], digits[24];
    if (n >= sizeof(tmp))
        return 0;
    memcpy(tmp, tok, n);
    tmp[n] = '\0';
    char *end = NULL;
    double d = strtod(tmp, &end);
    if (end != tmp + n || !isfinite(d))
        return 0;
    size_t sign = signbit(d) ? 1 : 0;
    out[0] = '-';
    if (d == 0) {
        memcpy(out + sign, "0.0", 3);
        return sign + 3;
    }
    int exp10 = 0;
    if (shortest_digits(d, digits, sizeof(digits), &exp10) < 0)
        return 0;
    /* %.17g's choice: fixed for exponents -4 to 16 (at most 22 bytes:
     * "0.0000" and 17 digits), else the exponent form */
    if (exp10 >= -4 && exp10 < 17 && cap > 24)
        return sign + put_fixed(out + sign, digits, exp10);
    size_t k = put_exponent(out + sign, cap - sign, digits, exp10);
    return k ? sign + k : 0;
}

static int is_number_byte(char c)
{
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

/* Copies the number at s[r..end) to s[w..) (w <= r), shortened when it is
 * a real and that makes it shorter. Returns the bytes written. */
static size_t rewrite_number(char *s, size_t w, size_t r, size_t end, int *shortened)
{
    size_t n = end - r;
    char out[64];
    size_t k = 0;
    if (memchr(s + r, '.', n) || memchr(s + r, 'e', n) || memchr(s + r, 'E', n))
        k = shortest_real(s + r, n, out, sizeof(out));
    if (k && k <= n) {
        *shortened += k < n || memcmp(out, s + r, n) != 0;
        memcpy(s + w, out, k);
        return k;
    }
    memmove(s + w, s + r, n);
    return n;
}

int roster_json_shorten_reals(struct roster_buf *b)
{
    char *s = b->data;
    size_t r = 0, w = 0, len = b->len;
    int in_string = 0, shortened = 0;
    while (s && r < len) {
        char c = s[r];
        if (in_string) {
            s[w++] = s[r++];
            if (c == '\\' && r < len)
                s[w++] = s[r++];
            else if (c == '"')
                in_string = 0;
        } else if (c == '"') {
            in_string = 1;
            s[w++] = s[r++];
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            size_t end = r;
            while (end < len && is_number_byte(s[end]))
                end++;
            w += rewrite_number(s, w, r, end, &shortened);
            r = end;
        } else {
            s[w++] = s[r++];
        }
    }
    if (s) {
        s[w] = '\0';
        b->len = w;
    }
    return shortened;
}
