/* Verifying version files (roster_history.h): the header's checks, the
 * whole file's (trailer, parts), and reading a file or its head. Every
 * failure says which check failed, for the `skipped` reason and the log. */
#include "history_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "roster_base.h"
#include "roster_render.h"
#include "roster_text.h"

/* A "sha256" member that is 64 lower-case hex digits, into out. */
static int sha_of(const json_t *o, char out[65])
{
    const char *s = json_string_value(json_object_get(o, "sha256"));
    if (!s || strlen(s) != 64 || !roster_history_hex(s, 64))
        return -1;
    memcpy(out, s, 65);
    return 0;
}

static int check_lineage(const json_t *a)
{
    size_t i;
    const json_t *f;
    char sha[65];
    if (!json_is_array(a) || json_array_size(a) == 0 || json_array_size(a) > HISTORY_LINEAGE_MAX)
        return -1;
    json_array_foreach(a, i, f)
    {
        if (!json_is_string(json_object_get(f, "path")) || sha_of(f, sha) < 0)
            return -1;
    }
    return 0;
}

static int check_parts(const json_t *parts, struct roster_history_header *hd)
{
    for (int k = 0; k < ROSTER_HISTORY_NPARTS; k++) {
        const json_t *p =
            json_object_get(parts, roster_history_part_name((enum roster_history_part)k));
        const json_t *l = json_object_get(p, "length");
        if (!json_is_integer(l) || json_integer_value(l) < 0 ||
            (size_t)json_integer_value(l) > ROSTER_RENDER_MAX_BYTES || sha_of(p, hd->psha[k]) < 0)
            return -1;
        hd->plen[k] = (size_t)json_integer_value(l);
    }
    return 0;
}

/* The members of a parsed header, checked (why names the first bad one). */
static int check_members(const json_t *j, const char *id, const char *hex,
                         struct roster_history_header *hd, char *why, size_t why_cap)
{
    const char *d = json_string_value(json_object_get(j, "digest"));
    const char *jid = json_string_value(json_object_get(j, "id"));
    const json_t *fs = json_object_get(j, "first_seen");
    const char *ren = json_string_value(json_object_get(j, "renderer"));
    const json_t *st = json_object_get(j, "strict");
    if (!d || strlen(d) != 71 || strncmp(d, "sha256:", 7) != 0 || !roster_history_hex(d + 7, 64)) {
        snprintf(why, why_cap, "header: digest is not sha256:<64 hex>");
        return ROSTER_EIO;
    }
    if (strcmp(d + 7, hex) != 0) {
        snprintf(why, why_cap, "header: digest %.71s is not the file name's", d);
        return ROSTER_EIO;
    }
    if (!jid || strcmp(jid, id) != 0) {
        snprintf(why, why_cap, "header: id is not the directory's (%.128s)", id);
        return ROSTER_EIO;
    }
    double t = json_number_value(fs);
    if (!json_is_number(fs) || !isfinite(t) || t < 0 || t > 1e11) {
        snprintf(why, why_cap, "header: first_seen is not a time");
        return ROSTER_EIO;
    }
    if (!ren || strlen(ren) >= sizeof(hd->renderer) || !json_is_integer(st) ||
        (json_integer_value(st) != 0 && json_integer_value(st) != 1)) {
        snprintf(why, why_cap, "header: renderer or strict missing or invalid");
        return ROSTER_EIO;
    }
    if (check_lineage(json_object_get(j, "lineage")) < 0) {
        snprintf(why, why_cap, "header: lineage is not a list of {path, sha256}");
        return ROSTER_EIO;
    }
    if (check_parts(json_object_get(j, "parts"), hd) < 0) {
        snprintf(why, why_cap,
                 "header: parts are not {profile, prompt, prompt_json} "
                 "with length and sha256");
        return ROSTER_EIO;
    }
    memcpy(hd->digest, hex, 65);
    hd->first_seen = t;
    hd->strict = (int)json_integer_value(st);
    snprintf(hd->renderer, sizeof(hd->renderer), "%s", ren);
    return 0;
}

int roster_history_header_check(const char *data, size_t avail, size_t file_len, const char *id,
                                const char *hex, int keep_lineage, struct roster_history_header *hd,
                                char *why, size_t why_cap)
{
    memset(hd, 0, sizeof(*hd));
    if (avail < HISTORY_MAGIC_LEN || memcmp(data, HISTORY_MAGIC, HISTORY_MAGIC_LEN) != 0) {
        snprintf(why, why_cap, "magic: the first line is not 'roster-history 1'");
        return ROSTER_EIO;
    }
    const char *h = data + HISTORY_MAGIC_LEN;
    size_t room = avail - HISTORY_MAGIC_LEN;
    if (room > ROSTER_HISTORY_HEADER_MAX)
        room = ROSTER_HISTORY_HEADER_MAX;
    const char *nl = memchr(h, '\n', room);
    if (!nl) {
        if (avail < file_len && room < ROSTER_HISTORY_HEADER_MAX)
            return ROSTER_E2BIG; /* read more */
        snprintf(why, why_cap, "header: no header line (truncated?)");
        return ROSTER_EIO;
    }
    json_error_t e;
    json_t *j = json_loadb(h, (size_t)(nl - h), JSON_REJECT_DUPLICATES, &e);
    if (!j && json_error_code(&e) == json_error_out_of_memory)
        return ROSTER_ENOMEM;
    if (!j || !json_is_object(j)) {
        snprintf(why, why_cap, "header: not a JSON object%s%.120s", j ? "" : ": ", j ? "" : e.text);
        json_decref(j);
        return ROSTER_EIO;
    }
    int r = check_members(j, id, hex, hd, why, why_cap);
    hd->end = (size_t)(nl + 1 - data);
    size_t want = hd->end + HISTORY_TRAILER_LEN;
    for (int k = 0; r == 0 && k < ROSTER_HISTORY_NPARTS; k++)
        want += hd->plen[k]; /* each at most 64 MiB: no overflow */
    if (r == 0 && want != file_len) {
        snprintf(why, why_cap, "length: the file has %zu bytes, its header says %zu%s", file_len,
                 want, file_len < want ? " (truncated)" : "");
        r = ROSTER_EIO;
    }
    if (r == 0 && keep_lineage)
        hd->lineage = json_incref(json_object_get(j, "lineage"));
    json_decref(j);
    return r;
}

int roster_history_verify(const char *data, size_t len, const char *id, const char *hex,
                          int keep_lineage, struct roster_history_header *hd, char *why,
                          size_t why_cap)
{
    char got[65];
    memset(hd, 0, sizeof(*hd));
    if (len < HISTORY_MAGIC_LEN || memcmp(data, HISTORY_MAGIC, HISTORY_MAGIC_LEN) != 0) {
        snprintf(why, why_cap, "magic: the first line is not 'roster-history 1'");
        return ROSTER_EIO;
    }
    const char *t =
        len >= HISTORY_MAGIC_LEN + HISTORY_TRAILER_LEN ? data + len - HISTORY_TRAILER_LEN : NULL;
    if (!t || memcmp(t, "sha256:", 7) != 0 || !roster_history_hex(t + 7, 64) || t[71] != '\n') {
        snprintf(why, why_cap, "trailer: no sha256 line at the end (truncated?)");
        return ROSTER_EIO;
    }
    roster_sha256_hex(data, len - HISTORY_TRAILER_LEN, got);
    if (memcmp(got, t + 7, 64) != 0) {
        snprintf(why, why_cap, "trailer: the file's sha256 is %.12s..., the trailer says %.12s...",
                 got, t + 7);
        return ROSTER_EIO;
    }
    int r = roster_history_header_check(data, len, len, id, hex, keep_lineage, hd, why, why_cap);
    if (r == ROSTER_E2BIG) {
        snprintf(why, why_cap, "header: no header line");
        r = ROSTER_EIO;
    }
    size_t off = hd->end;
    for (int k = 0; r == 0 && k < ROSTER_HISTORY_NPARTS; k++) {
        roster_sha256_hex(data + off, hd->plen[k], got);
        if (strcmp(got, hd->psha[k]) != 0) {
            snprintf(why, why_cap, "part %s: its sha256 is not the header's",
                     roster_history_part_name((enum roster_history_part)k));
            r = ROSTER_EIO;
        }
        off += hd->plen[k];
    }
    if (r < 0) {
        json_decref(hd->lineage);
        hd->lineage = NULL;
    }
    return r;
}

int roster_history_read_file(const char *path, size_t cap, char **data, size_t *len,
                             struct stat *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? ROSTER_ENOENT : ROSTER_EIO;
    int r = 0;
    char *buf = NULL;
    size_t got = 0;
    if (fstat(fd, st) < 0) {
        r = ROSTER_EIO;
        goto out;
    }
    if (!S_ISREG(st->st_mode)) {
        errno = EINVAL;
        r = ROSTER_EIO;
        goto out;
    }
    if ((unsigned long long)st->st_size > cap) {
        r = ROSTER_E2BIG;
        goto out;
    }
    buf = roster_malloc((size_t)st->st_size + 1);
    if (!buf) {
        r = ROSTER_ENOMEM;
        goto out;
    }
    while (got < (size_t)st->st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st->st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* shorter than it was: checked below */
        got += (size_t)n;
    }
    if (got != (size_t)st->st_size) {
        errno = EIO;
        r = ROSTER_EIO;
        goto out;
    }
    buf[got] = '\0';
    *data = buf;
    *len = got;
    buf = NULL;
out:
    roster_free(buf);
    int e = errno;
    close(fd);
    errno = e;
    return r;
}

int roster_history_peek(const char *path, const char *id, const char *hex,
                        struct roster_history_header *hd, struct stat *st, char *why,
                        size_t why_cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        snprintf(why, why_cap, "cannot open: %s", strerror(errno));
        return errno == ENOENT ? ROSTER_ENOENT : ROSTER_EIO;
    }
    int r = 0;
    size_t want = 16 << 10;
    char *buf = NULL;
    if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
        snprintf(why, why_cap, "not a regular file");
        r = ROSTER_EIO;
    }
    for (int round = 0; r == 0 && round < 2; round++) {
        size_t size = (size_t)st->st_size;
        size_t n = size < want ? size : want;
        roster_free(buf);
        buf = roster_malloc(n + 1);
        if (!buf) {
            r = ROSTER_ENOMEM;
            break;
        }
        ssize_t got = pread(fd, buf, n, 0);
        if (got < 0 || (size_t)got != n) {
            snprintf(why, why_cap, "cannot read: %s", got < 0 ? strerror(errno) : "short read");
            r = ROSTER_EIO;
            break;
        }
        r = roster_history_header_check(buf, n, size, id, hex, 0, hd, why, why_cap);
        if (r != ROSTER_E2BIG)
            break;
        r = 0;
        want = HISTORY_MAGIC_LEN + ROSTER_HISTORY_HEADER_MAX + 1; /* the longest header */
    }
    roster_free(buf);
    close(fd);
    return r;
}
