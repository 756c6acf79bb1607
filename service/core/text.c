/* Text helpers. */
#include "roster_text.h"

#include <nettle/sha2.h>
#include <string.h>
#include <strings.h>

#include "roster_base.h"

size_t roster_utf8_check(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        unsigned cp;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 2;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 3;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 4;
            cp = c & 0x07;
        } else {
            return i;
        }
        if (len - i < n)
            return i;
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return i;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return i;
        i += n;
    }
    return len;
}

int roster_text_normalize(const char *src, size_t len, char **out, size_t *out_len)
{
    if (len >= 3 && memcmp(src, "\xEF\xBB\xBF", 3) == 0) {
        src += 3;
        len -= 3;
    }
    char *d = roster_malloc(len + 1);
    if (!d)
        return ROSTER_ENOMEM;
    size_t j = 0;
    for (size_t i = 0; i < len; i++) {
        if (src[i] == '\r') {
            d[j++] = '\n';
            if (i + 1 < len && src[i + 1] == '\n')
                i++;
        } else {
            d[j++] = src[i];
        }
    }
    d[j] = '\0';
    *out = d;
    *out_len = j;
    return 0;
}

int roster_lines_init(struct roster_lines *l, const char *text, size_t len)
{
    size_t n = 1;
    for (size_t i = 0; i < len; i++)
        n += text[i] == '\n';
    l->starts = roster_malloc(n * sizeof(size_t));
    if (!l->starts)
        return ROSTER_ENOMEM;
    size_t k = 0;
    l->starts[k++] = 0;
    for (size_t i = 0; i < len; i++)
        if (text[i] == '\n')
            l->starts[k++] = i + 1;
    l->count = n;
    l->text = text;
    l->len = len;
    return 0;
}

void roster_lines_release(struct roster_lines *l)
{
    roster_free(l->starts);
    l->starts = NULL;
    l->count = 0;
}

unsigned roster_lines_line_of(const struct roster_lines *l, size_t off)
{
    size_t lo = 0, hi = l->count;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->starts[mid] <= off)
            lo = mid;
        else
            hi = mid;
    }
    return (unsigned)(lo + 1);
}

int roster_lines_get(const struct roster_lines *l, unsigned n, const char **s, size_t *len)
{
    if (n == 0 || n > l->count)
        return ROSTER_EINVAL;
    size_t a = l->starts[n - 1];
    size_t b = n < l->count ? l->starts[n] - 1 : l->len;
    *s = l->text + a;
    *len = b - a;
    return 0;
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n';
}

void roster_trim(const char **s, size_t *len)
{
    while (*len && is_ws(**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len && is_ws((*s)[*len - 1]))
        (*len)--;
}

int roster_slugify(const char *s, size_t len, struct roster_buf *b)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        int r = 0;
        if (c >= 'A' && c <= 'Z')
            r = roster_buf_putc(b, (char)(c - 'A' + 'a'));
        else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                 c >= 0x80)
            r = roster_buf_putc(b, (char)c);
        else if (c == ' ')
            r = roster_buf_putc(b, '-');
        if (r < 0)
            return r;
    }
    return 0;
}

void roster_sha256_begin(struct roster_sha256 *h)
{
    sha256_init(&h->ctx);
}

void roster_sha256_add(struct roster_sha256 *h, const void *data, size_t len)
{
    sha256_update(&h->ctx, len, data);
}

void roster_sha256_hex(const void *data, size_t len, char hex[65])
{
    struct roster_sha256 h;
    roster_sha256_begin(&h);
    roster_sha256_add(&h, data, len);
    roster_sha256_end(&h, hex);
}

void roster_sha256_end(struct roster_sha256 *h, char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    unsigned char d[SHA256_DIGEST_SIZE];
    sha256_digest(&h->ctx, sizeof(d), d);
    for (size_t i = 0; i < sizeof(d); i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[64] = '\0';
}

int roster_slice_ieq(const char *s, size_t len, const char *cstr)
{
    size_t n = strlen(cstr);
    return n == len && strncasecmp(s, cstr, n) == 0;
}

size_t roster_text_distance(const char *a, size_t la, const char *b, size_t lb, size_t limit)
{
    if ((la > lb ? la - lb : lb - la) > limit || la > ROSTER_TEXT_DISTANCE_MAX ||
        lb > ROSTER_TEXT_DISTANCE_MAX)
        return limit + 1;
    size_t prev[ROSTER_TEXT_DISTANCE_MAX + 1], cur[ROSTER_TEXT_DISTANCE_MAX + 1];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        size_t best = cur[0];
        for (size_t j = 1; j <= lb; j++) {
            size_t d = prev[j - 1] + (a[i - 1] != b[j - 1]);
            if (prev[j] + 1 < d)
                d = prev[j] + 1;
            if (cur[j - 1] + 1 < d)
                d = cur[j - 1] + 1;
            cur[j] = d;
            if (d < best)
                best = d;
        }
        if (best > limit)
            return limit + 1;
        memcpy(prev, cur, (lb + 1) * sizeof(size_t));
    }
    return prev[lb] > limit ? limit + 1 : prev[lb];
}

void roster_text_nearest_init(struct roster_nearest *nr, const char *word, size_t len,
                              size_t max_distance)
{
    memset(nr, 0, sizeof(*nr));
    nr->word = word;
    nr->word_len = len;
    nr->max_distance = max_distance;
}

void roster_text_nearest_offer(struct roster_nearest *nr, const char *candidate)
{
    size_t limit = nr->max_distance;
    if (nr->n == ROSTER_NEAREST_MAX) {
        /* only a candidate closer than the farthest one kept gets in */
        if (nr->dist[ROSTER_NEAREST_MAX - 1] == 0)
            return;
        limit = nr->dist[ROSTER_NEAREST_MAX - 1] - 1;
    }
    size_t len = strlen(candidate);
    size_t d = roster_text_distance(nr->word, nr->word_len, candidate, len, limit);
    if (d > limit)
        return;
    for (size_t k = 0; k < nr->n; k++)
        if (strcmp(nr->best[k], candidate) == 0)
            return;
    size_t k = nr->n < ROSTER_NEAREST_MAX ? nr->n++ : ROSTER_NEAREST_MAX - 1;
    while (k > 0 && nr->dist[k - 1] > d) {
        nr->best[k] = nr->best[k - 1];
        nr->dist[k] = nr->dist[k - 1];
        k--;
    }
    nr->best[k] = candidate;
    nr->dist[k] = d;
}

int roster_text_nearest_format(const struct roster_nearest *nr, struct roster_buf *b)
{
    int r = 0;
    for (size_t k = 0; r == 0 && k < nr->n; k++) {
        const char *sep = k == 0 ? "" : k + 1 == nr->n ? " or " : ", ";
        r = roster_buf_printf(b, "%s\"%s\"", sep, nr->best[k]);
    }
    return r;
}
