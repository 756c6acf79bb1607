/* `rosterd serve` configuration: flags, each with a ROSTER_* environment
 * twin; a flag beats the environment; a bad value names its flag. The
 * option list is data (service/app/options.json). */
#include "roster_config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>

#include "roster_base.h"
#include "roster_log.h"

enum kind { K_STR, K_UINT, K_FLAG, K_LOGFMT, K_LOGLEVEL };

struct opt {
    const char *flag;
    const char *env;
    enum kind kind;
    size_t offset;
    unsigned long min, max;
    const char *help;
};

/* The rows come from service/app/options.json (scripts/gen-options.py),
 * which also makes the table in docs/configuration.md. */
static const struct opt OPTS[] = {
#include "roster_options.inc"
};
#define NOPTS (sizeof(OPTS) / sizeof(OPTS[0]))

void roster_config_defaults(struct roster_config *c)
{
    memset(c, 0, sizeof(*c));
    c->listen = "127.0.0.1:8080";
    c->profiles = "./profiles";
    int n = get_nprocs();
    c->threads = n < 1 ? 1 : n > 4 ? 4 : (unsigned)n;
    c->connection_timeout = 30;
    c->max_request_bytes = 65536;
    c->shutdown_timeout = 10;
    c->log_json = 1;
    c->log_level = ROSTER_LOG_INFO;
    c->watch = 1;
    c->debounce_ms = 200;
    c->mcp_max_sessions = 256;
    c->mcp_session_timeout = 3600;
    c->history_keep = 100;
}

/* A decimal number written with digits only (no sign, no white space),
 * at most max; -1 otherwise. */
static int parse_digits(const char *s, unsigned long max, unsigned long *out)
{
    unsigned long long n = 0;
    size_t len = 0;
    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || ++len > 18) /* 18 digits cannot overflow */
            return -1;
        n = n * 10 + (unsigned long long)(*s - '0');
    }
    if (n > max)
        return -1;
    *out = (unsigned long)n;
    return 0;
}

static int set_value(struct roster_config *c, const struct opt *o, const char *v, char *why,
                     size_t cap)
{
    void *dst = (char *)c + o->offset;
    switch (o->kind) {
    case K_STR:
        *(const char **)dst = v;
        return 0;
    case K_FLAG:
        if (strcmp(v, "1") && strcmp(v, "0") && strcmp(v, "true") && strcmp(v, "false"))
            break;
        *(unsigned *)dst = strcmp(v, "1") == 0 || strcmp(v, "true") == 0;
        return 0;
    case K_UINT: {
        unsigned long n = 0;
        if (parse_digits(v, o->max, &n) < 0 || n < o->min) {
            snprintf(why, cap, "%s: '%s' is not a whole number from %lu to %lu", o->flag, v, o->min,
                     o->max);
            return ROSTER_EINVAL;
        }
        *(unsigned *)dst = (unsigned)n;
        return 0;
    }
    case K_LOGFMT:
        if (strcmp(v, "json") && strcmp(v, "text"))
            break;
        *(unsigned *)dst = strcmp(v, "json") == 0;
        return 0;
    case K_LOGLEVEL: {
        enum roster_log_level l;
        if (roster_log_level_parse(v, &l) < 0)
            break;
        *(unsigned *)dst = (unsigned)l;
        return 0;
    }
    }
    snprintf(why, cap, "%s: invalid value '%s'", o->flag, v);
    return ROSTER_EINVAL;
}

/* "host:port", "[v6]:port". */
static int split_listen(struct roster_config *c, char *why, size_t cap)
{
    const char *l = c->listen;
    const char *colon = strrchr(l, ':');
    size_t hl;
    const char *h = l;
    if (l[0] == '[') {
        const char *close = strchr(l, ']');
        if (!close || close[1] != ':') {
            snprintf(why, cap, "--listen: '%s' is not [ADDRESS]:PORT", l);
            return ROSTER_EINVAL;
        }
        h = l + 1;
        hl = (size_t)(close - h);
        colon = close + 1;
        if (hl == 0) {
            snprintf(why, cap, "--listen: '%s' has an empty address", l);
            return ROSTER_EINVAL;
        }
    } else {
        if (!colon || colon == l) {
            snprintf(why, cap, "--listen: '%s' is not HOST:PORT", l);
            return ROSTER_EINVAL;
        }
        hl = (size_t)(colon - l);
    }
    unsigned long port = 0;
    if (parse_digits(colon + 1, 65535, &port) < 0) {
        snprintf(why, cap, "--listen: '%s' has no valid port (0-65535)", l);
        return ROSTER_EINVAL;
    }
    if (hl >= sizeof(c->host)) {
        snprintf(why, cap, "--listen: host too long");
        return ROSTER_EINVAL;
    }
    memcpy(c->host, h, hl);
    c->host[hl] = '\0';
    c->port = (unsigned)port;
    return 0;
}

/* Parses into a copy: a configuration that fails leaves *out as it was. */
static int parse_into(struct roster_config *c, int argc, char **argv, char *why, size_t cap)
{
    for (size_t k = 0; k < NOPTS; k++) {
        const char *v = getenv(OPTS[k].env);
        if (v && *v && set_value(c, &OPTS[k], v, why, cap) < 0) {
            size_t n = strlen(why);
            snprintf(why + n, cap - n, " (from %s)", OPTS[k].env);
            return ROSTER_EINVAL;
        }
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            c->help = 1;
            return 0;
        }
        const char *arg = argv[i], *eq = strchr(arg, '=');
        size_t alen = eq ? (size_t)(eq - arg) : strlen(arg);
        size_t k = 0;
        while (k < NOPTS &&
               !(strlen(OPTS[k].flag) == alen && strncmp(OPTS[k].flag, arg, alen) == 0))
            k++;
        if (k == NOPTS) {
            snprintf(why, cap, "unknown option '%s'", arg);
            return ROSTER_EINVAL;
        }
        const char *v = eq ? eq + 1 : NULL;
        if (!v && OPTS[k].kind == K_FLAG)
            v = "1";
        if (!v && i + 1 < argc)
            v = argv[++i];
        if (!v) {
            snprintf(why, cap, "%s needs a value", OPTS[k].flag);
            return ROSTER_EINVAL;
        }
        if (set_value(c, &OPTS[k], v, why, cap) < 0)
            return ROSTER_EINVAL;
    }
    if (!c->max_connections)
        c->max_connections = 120 * c->threads;
    return split_listen(c, why, cap);
}

int roster_config_parse(struct roster_config *c, int argc, char **argv, char *why, size_t cap)
{
    struct roster_config tmp = *c;
    int r = parse_into(&tmp, argc, argv, why, cap);
    if (r == 0)
        *c = tmp;
    return r;
}

void roster_config_help(FILE *f)
{
    fputs("usage: rosterd serve [OPTIONS]\n\nRuns the HTTP server. Every option can also be set "
          "with the environment variable shown.\n\n",
          f);
    for (size_t k = 0; k < NOPTS; k++)
        fprintf(f, "  %-22s %-26s %s\n", OPTS[k].flag, OPTS[k].env, OPTS[k].help);
    fputs("\nSignals: SIGTERM/SIGINT drain and stop; SIGHUP reloads the profiles.\n", f);
}
