/* Structured log lines on stderr. */
#include "roster_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "roster_base.h"
#include "roster_text.h"

static int log_json = 1;
static enum roster_log_level log_min = ROSTER_LOG_INFO;
static const char *const LEVELS[] = {"debug", "info", "warn", "error"};

void roster_log_setup(int json, enum roster_log_level min)
{
    log_json = json;
    log_min = min;
}

int roster_log_enabled(enum roster_log_level lvl)
{
    return lvl >= log_min;
}

int roster_log_level_parse(const char *s, enum roster_log_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, LEVELS[i]) == 0) {
            *out = (enum roster_log_level)i;
            return 0;
        }
    }
    return ROSTER_EINVAL;
}

/* JSON string escaping (also used for text values, which are quoted).
 * Bytes that are not valid UTF-8 become U+FFFD, so every line parses. */
static void put_str(struct roster_buf *b, const char *s)
{
    roster_buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p >= 0x80) {
            const char *cp = (const char *)p;
            size_t ok = roster_utf8_check(cp, strlen(cp));
            if (ok == 0) {
                roster_buf_puts(b, "\\ufffd");
            } else {
                roster_buf_append(b, p, ok);
                p += ok - 1;
            }
            continue;
        }
        static const char raw[] = "\"\\\n\r\t", escaped[] = "\"\\nrt";
        const char *esc = strchr(raw, *p);
        if (esc)
            roster_buf_printf(b, "\\%c", escaped[esc - raw]);
        else if (*p < 0x20 || *p == 0x7f)
            roster_buf_printf(b, "\\u%04x", *p);
        else
            roster_buf_putc(b, (char)*p);
    }
    roster_buf_putc(b, '"');
}

static void put_key(struct roster_buf *b, const char *key)
{
    if (log_json) {
        roster_buf_putc(b, ',');
        put_str(b, key);
        roster_buf_putc(b, ':');
    } else {
        roster_buf_printf(b, " %s=", key);
    }
}

void roster_log(enum roster_log_level lvl, const char *event, ...)
{
    if (lvl < log_min)
        return;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char ts[96];
    snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (long)(tv.tv_usec / 1000));
    struct roster_buf b;
    roster_buf_init(&b, 16384);
    if (log_json) {
        roster_buf_printf(&b, "{\"time\":\"%s\",\"level\":\"%s\",\"event\":", ts, LEVELS[lvl]);
        put_str(&b, event);
    } else {
        roster_buf_printf(&b, "%s %s %s", ts, LEVELS[lvl], event);
    }
    va_list ap;
    va_start(ap, event);
    for (const char *key = va_arg(ap, const char *); key; key = va_arg(ap, const char *)) {
        int type = va_arg(ap, int);
        put_key(&b, key);
        switch (type) {
        case 's':
            put_str(&b, va_arg(ap, const char *));
            break;
        case 'i':
            roster_buf_printf(&b, "%lld", va_arg(ap, long long));
            break;
        case 'u':
            roster_buf_printf(&b, "%llu", va_arg(ap, unsigned long long));
            break;
        case 'f':
            roster_buf_printf(&b, "%.6f", va_arg(ap, double));
            break;
        case 'b':
            roster_buf_puts(&b, va_arg(ap, int) ? "true" : "false");
            break;
        default:
            roster_buf_puts(&b, "null");
        }
    }
    va_end(ap);
    roster_buf_puts(&b, log_json ? "}\n" : "\n");
    if (b.data) {
        ssize_t w = write(STDERR_FILENO, b.data, b.len);
        (void)w;
    }
    roster_buf_release(&b);
}
