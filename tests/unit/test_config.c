/* `rosterd serve` configuration: defaults, every flag and its ROSTER_*
 * environment twin, a flag beating the environment, range and format
 * errors (each naming its flag, or the variable it came from), unknown
 * options and the listen address. docs/configuration.md is the spec. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>

#include "roster_base.h"
#include "roster_config.h"
#include "roster_log.h"
#include "util.h"

static const char *const ENV_NAMES[] = {"ROSTER_LISTEN",
                                        "ROSTER_PROFILES",
                                        "ROSTER_THREADS",
                                        "ROSTER_MAX_CONNECTIONS",
                                        "ROSTER_CONNECTION_TIMEOUT",
                                        "ROSTER_MAX_REQUEST_BYTES",
                                        "ROSTER_CACHE_MAX_AGE",
                                        "ROSTER_CORS_ORIGINS",
                                        "ROSTER_SHUTDOWN_TIMEOUT",
                                        "ROSTER_DRAIN_DELAY",
                                        "ROSTER_LOG_FORMAT",
                                        "ROSTER_LOG_LEVEL",
                                        "ROSTER_STRICT_MARKDOWN",
                                        "ROSTER_WATCH",
                                        "ROSTER_DEBOUNCE_MS",
                                        "ROSTER_RESCAN_INTERVAL",
                                        "ROSTER_ADMIN_TOKEN_FILE"};
#define NENV (sizeof(ENV_NAMES) / sizeof(ENV_NAMES[0]))

/* Numeric options with their documented ranges. */
static const struct uopt {
    const char *flag;
    const char *env;
    size_t off;
    unsigned long min, max;
    unsigned def; /* after roster_config_defaults; threads and max
                     connections depend on the machine */
} UOPTS[] = {
    {"--threads", "ROSTER_THREADS", offsetof(struct roster_config, threads), 1, 64, 0},
    {"--max-connections", "ROSTER_MAX_CONNECTIONS", offsetof(struct roster_config, max_connections),
     1, 100000, 0},
    {"--connection-timeout", "ROSTER_CONNECTION_TIMEOUT",
     offsetof(struct roster_config, connection_timeout), 1, 3600, 30},
    {"--max-request-bytes", "ROSTER_MAX_REQUEST_BYTES",
     offsetof(struct roster_config, max_request_bytes), 4096, 1048576, 65536},
    {"--cache-max-age", "ROSTER_CACHE_MAX_AGE", offsetof(struct roster_config, cache_max_age), 0,
     31536000, 0},
    {"--shutdown-timeout", "ROSTER_SHUTDOWN_TIMEOUT",
     offsetof(struct roster_config, shutdown_timeout), 0, 3600, 10},
    {"--drain-delay", "ROSTER_DRAIN_DELAY", offsetof(struct roster_config, drain_delay), 0, 3600,
     0},
    {"--watch", "ROSTER_WATCH", offsetof(struct roster_config, watch), 0, 1, 1},
    {"--debounce-ms", "ROSTER_DEBOUNCE_MS", offsetof(struct roster_config, debounce_ms), 10, 60000,
     200},
    {"--rescan-interval", "ROSTER_RESCAN_INTERVAL", offsetof(struct roster_config, rescan_interval),
     0, 86400, 0},
};
#define NUOPTS (sizeof(UOPTS) / sizeof(UOPTS[0]))

static struct roster_config cfg;
static char why[512];

/* The config keeps pointers into argv (and the environment), so the
 * arguments live in static storage until the next parse. */
#define MAXARGS 16
static char argstore[MAXARGS][400];
static char *argv_[MAXARGS + 1];

static unsigned uval(const struct uopt *o)
{
    return *(const unsigned *)((const char *)&cfg + o->off);
}

static void clear_env(void)
{
    for (size_t i = 0; i < NENV; i++)
        unsetenv(ENV_NAMES[i]);
}

static void setup(void)
{
    clear_env();
    memset(why, 0, sizeof(why));
}

/* Defaults, then parses "serve" followed by the given arguments (NULL
 * ends the list). */
static int parse(const char *first, ...)
{
    int argc = 0;
    snprintf(argstore[argc], sizeof(argstore[argc]), "serve");
    argv_[argc] = argstore[argc];
    argc++;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *)) {
        ck_assert_int_lt(argc, MAXARGS);
        int n = snprintf(argstore[argc], sizeof(argstore[argc]), "%s", a);
        ck_assert(n >= 0 && (size_t)n < sizeof(argstore[argc]));
        argv_[argc] = argstore[argc];
        argc++;
    }
    va_end(ap);
    argv_[argc] = NULL;
    roster_config_defaults(&cfg);
    why[0] = '\0';
    return roster_config_parse(&cfg, argc, argv_, why, sizeof(why));
}

static void expect_error(const char *message)
{
    ck_assert_str_eq(why, message);
}

static unsigned machine_threads(void)
{
    int n = get_nprocs();
    return n < 1 ? 1 : n > 4 ? 4 : (unsigned)n;
}

START_TEST(defaults)
{
    ck_assert_int_eq(parse(NULL), 0);
    ck_assert_str_eq(cfg.listen, "127.0.0.1:8080");
    ck_assert_str_eq(cfg.host, "127.0.0.1");
    ck_assert_uint_eq(cfg.port, 8080);
    ck_assert_str_eq(cfg.profiles, "./profiles");
    ck_assert_uint_eq(cfg.threads, machine_threads());
    ck_assert_uint_eq(cfg.max_connections, 120 * machine_threads());
    for (size_t i = 0; i < NUOPTS; i++)
        if (UOPTS[i].def || UOPTS[i].min == 0)
            ck_assert_msg(uval(&UOPTS[i]) == UOPTS[i].def, "%s defaults to %u, not %u",
                          UOPTS[i].flag, uval(&UOPTS[i]), UOPTS[i].def);
    ck_assert_uint_eq(cfg.max_request_bytes, 65536);
    ck_assert_ptr_null(cfg.cors_origins);
    ck_assert_ptr_null(cfg.admin_token_file);
    ck_assert_uint_eq(cfg.log_json, 1);
    ck_assert_uint_eq(cfg.log_level, ROSTER_LOG_INFO);
    ck_assert_uint_eq(cfg.strict_markdown, 0);
    ck_assert_int_eq(cfg.help, 0);
    ck_assert_str_eq(why, "");
}
END_TEST

/* Both spellings, at both ends of each range, from the flag and from the
 * environment; the flag beats the environment. */
START_TEST(numeric_flags_and_env_twins)
{
    char v1[32], v2[32], eq[64];
    for (size_t i = 0; i < NUOPTS; i++) {
        const struct uopt *o = &UOPTS[i];
        snprintf(v1, sizeof(v1), "%lu", o->min);
        snprintf(v2, sizeof(v2), "%lu", o->max);
        ck_assert_int_eq(parse(o->flag, v2, NULL), 0);
        ck_assert_msg(uval(o) == o->max, "%s %s", o->flag, v2);
        snprintf(eq, sizeof(eq), "%s=%s", o->flag, v1);
        ck_assert_int_eq(parse(eq, NULL), 0);
        ck_assert_msg(uval(o) == o->min, "%s", eq);
        setenv(o->env, v2, 1);
        ck_assert_int_eq(parse(NULL), 0);
        ck_assert_msg(uval(o) == o->max, "%s=%s", o->env, v2);
        ck_assert_int_eq(parse(o->flag, v1, NULL), 0);
        ck_assert_msg(uval(o) == o->min, "%s beats %s", o->flag, o->env);
        ck_assert_int_eq(parse(eq, NULL), 0);
        ck_assert_msg(uval(o) == o->min, "%s beats %s", eq, o->env);
        /* an empty variable is the same as none */
        setenv(o->env, "", 1);
        ck_assert_int_eq(parse(NULL), 0);
        if (o->def)
            ck_assert_uint_eq(uval(o), o->def);
        unsetenv(o->env);
    }
    /* the last of a repeated flag wins */
    ck_assert_int_eq(parse("--debounce-ms", "50", "--debounce-ms=70", NULL), 0);
    ck_assert_uint_eq(cfg.debounce_ms, 70);
}
END_TEST

START_TEST(numeric_range_errors)
{
    char v[32], msg[200];
    for (size_t i = 0; i < NUOPTS; i++) {
        const struct uopt *o = &UOPTS[i];
        snprintf(v, sizeof(v), "%lu", o->max + 1);
        ck_assert_int_eq(parse(o->flag, v, NULL), ROSTER_EINVAL);
        snprintf(msg, sizeof(msg), "%s: '%s' is not a whole number from %lu to %lu", o->flag, v,
                 o->min, o->max);
        expect_error(msg);
        if (o->min > 0) {
            snprintf(v, sizeof(v), "%lu", o->min - 1);
            ck_assert_int_eq(parse(o->flag, v, NULL), ROSTER_EINVAL);
            snprintf(msg, sizeof(msg), "%s: '%s' is not a whole number from %lu to %lu", o->flag, v,
                     o->min, o->max);
            expect_error(msg);
        }
        /* the same value from the environment names the variable too */
        setenv(o->env, v, 1);
        ck_assert_int_eq(parse(NULL), ROSTER_EINVAL);
        snprintf(msg, sizeof(msg), "%s: '%s' is not a whole number from %lu to %lu (from %s)",
                 o->flag, v, o->min, o->max, o->env);
        expect_error(msg);
        unsetenv(o->env);
    }
    ck_assert_int_eq(parse("--max-request-bytes", "4095", NULL), ROSTER_EINVAL);
    expect_error("--max-request-bytes: '4095' is not a whole number from 4096 to 1048576");
}
END_TEST

START_TEST(numeric_format_errors)
{
    static const char *const bad[] = {"",   "12abc", "-1",    "1e3",  "0x10",
                                      "5 ", "3.0",   "1,000", "four", "99999999999999999999999",
                                      "-0"};
    char msg[200];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(parse("--connection-timeout", bad[i], NULL) == ROSTER_EINVAL, "'%s'", bad[i]);
        snprintf(msg, sizeof(msg),
                 "--connection-timeout: '%s' is not a whole number from 1 to 3600", bad[i]);
        expect_error(msg);
    }
    ck_assert_int_eq(parse("--threads=", NULL), ROSTER_EINVAL);
    expect_error("--threads: '' is not a whole number from 1 to 64");
    setenv("ROSTER_THREADS", "two", 1);
    ck_assert_int_eq(parse(NULL), ROSTER_EINVAL);
    expect_error("--threads: 'two' is not a whole number from 1 to 64 (from ROSTER_THREADS)");
}
END_TEST

START_TEST(max_connections_follow_threads)
{
    ck_assert_int_eq(parse("--threads", "3", NULL), 0);
    ck_assert_uint_eq(cfg.threads, 3);
    ck_assert_uint_eq(cfg.max_connections, 360);
    setenv("ROSTER_THREADS", "2", 1);
    ck_assert_int_eq(parse(NULL), 0);
    ck_assert_uint_eq(cfg.max_connections, 240);
    ck_assert_int_eq(parse("--max-connections", "7", NULL), 0);
    ck_assert_uint_eq(cfg.threads, 2);
    ck_assert_uint_eq(cfg.max_connections, 7);
}
END_TEST

START_TEST(string_options)
{
    ck_assert_int_eq(parse("--profiles", "/srv/profiles", "--cors-origins=https://a.example,*",
                           "--admin-token-file", "/run/secrets/token", NULL),
                     0);
    ck_assert_str_eq(cfg.profiles, "/srv/profiles");
    ck_assert_str_eq(cfg.cors_origins, "https://a.example,*");
    ck_assert_str_eq(cfg.admin_token_file, "/run/secrets/token");
    setenv("ROSTER_PROFILES", "/env/profiles", 1);
    setenv("ROSTER_CORS_ORIGINS", "*", 1);
    setenv("ROSTER_ADMIN_TOKEN_FILE", "/env/token", 1);
    ck_assert_int_eq(parse(NULL), 0);
    ck_assert_str_eq(cfg.profiles, "/env/profiles");
    ck_assert_str_eq(cfg.cors_origins, "*");
    ck_assert_str_eq(cfg.admin_token_file, "/env/token");
    ck_assert_int_eq(parse("--profiles=/flag/profiles", NULL), 0);
    ck_assert_str_eq(cfg.profiles, "/flag/profiles");
    ck_assert_str_eq(cfg.admin_token_file, "/env/token");
    /* a value that looks like a flag is still the value */
    ck_assert_int_eq(parse("--profiles", "--threads", NULL), 0);
    ck_assert_str_eq(cfg.profiles, "--threads");
}
END_TEST

START_TEST(switches_and_words)
{
    ck_assert_int_eq(parse("--strict-markdown", NULL), 0);
    ck_assert_uint_eq(cfg.strict_markdown, 1);
    static const struct {
        const char *v;
        unsigned want;
    } sm[] = {{"1", 1}, {"true", 1}, {"0", 0}, {"false", 0}};
    char arg[64];
    for (size_t i = 0; i < sizeof(sm) / sizeof(sm[0]); i++) {
        snprintf(arg, sizeof(arg), "--strict-markdown=%s", sm[i].v);
        ck_assert_int_eq(parse(arg, NULL), 0);
        ck_assert_uint_eq(cfg.strict_markdown, sm[i].want);
        setenv("ROSTER_STRICT_MARKDOWN", sm[i].v, 1);
        ck_assert_int_eq(parse(NULL), 0);
        ck_assert_uint_eq(cfg.strict_markdown, sm[i].want);
        unsetenv("ROSTER_STRICT_MARKDOWN");
    }
    ck_assert_int_eq(parse("--strict-markdown=yes", NULL), ROSTER_EINVAL);
    expect_error("--strict-markdown: invalid value 'yes'");
    setenv("ROSTER_STRICT_MARKDOWN", "on", 1);
    ck_assert_int_eq(parse(NULL), ROSTER_EINVAL);
    expect_error("--strict-markdown: invalid value 'on' (from ROSTER_STRICT_MARKDOWN)");
    /* flag beats environment for switches too */
    setenv("ROSTER_STRICT_MARKDOWN", "1", 1);
    ck_assert_int_eq(parse("--strict-markdown=false", NULL), 0);
    ck_assert_uint_eq(cfg.strict_markdown, 0);
    unsetenv("ROSTER_STRICT_MARKDOWN");

    ck_assert_int_eq(parse("--log-format", "text", NULL), 0);
    ck_assert_uint_eq(cfg.log_json, 0);
    ck_assert_int_eq(parse("--log-format=json", NULL), 0);
    ck_assert_uint_eq(cfg.log_json, 1);
    setenv("ROSTER_LOG_FORMAT", "text", 1);
    ck_assert_int_eq(parse(NULL), 0);
    ck_assert_uint_eq(cfg.log_json, 0);
    ck_assert_int_eq(parse("--log-format", "json", NULL), 0);
    ck_assert_uint_eq(cfg.log_json, 1);
    unsetenv("ROSTER_LOG_FORMAT");
    ck_assert_int_eq(parse("--log-format", "xml", NULL), ROSTER_EINVAL);
    expect_error("--log-format: invalid value 'xml'");
    ck_assert_int_eq(parse("--log-format", "JSON", NULL), ROSTER_EINVAL);
    expect_error("--log-format: invalid value 'JSON'");

    static const struct {
        const char *v;
        enum roster_log_level want;
    } lv[] = {{"debug", ROSTER_LOG_DEBUG},
              {"info", ROSTER_LOG_INFO},
              {"warn", ROSTER_LOG_WARN},
              {"error", ROSTER_LOG_ERROR}};
    for (size_t i = 0; i < sizeof(lv) / sizeof(lv[0]); i++) {
        ck_assert_int_eq(parse("--log-level", lv[i].v, NULL), 0);
        ck_assert_uint_eq(cfg.log_level, lv[i].want);
        setenv("ROSTER_LOG_LEVEL", lv[i].v, 1);
        ck_assert_int_eq(parse(NULL), 0);
        ck_assert_uint_eq(cfg.log_level, lv[i].want);
        unsetenv("ROSTER_LOG_LEVEL");
    }
    ck_assert_int_eq(parse("--log-level=verbose", NULL), ROSTER_EINVAL);
    expect_error("--log-level: invalid value 'verbose'");
    setenv("ROSTER_LOG_LEVEL", "INFO", 1);
    ck_assert_int_eq(parse(NULL), ROSTER_EINVAL);
    expect_error("--log-level: invalid value 'INFO' (from ROSTER_LOG_LEVEL)");
}
END_TEST

START_TEST(unknown_options_and_missing_values)
{
    ck_assert_int_eq(parse("--nope", NULL), ROSTER_EINVAL);
    expect_error("unknown option '--nope'");
    /* no prefixes, no abbreviations, no short forms, no positionals */
    ck_assert_int_eq(parse("--thread", "2", NULL), ROSTER_EINVAL);
    expect_error("unknown option '--thread'");
    ck_assert_int_eq(parse("--threads-max=2", NULL), ROSTER_EINVAL);
    expect_error("unknown option '--threads-max=2'");
    ck_assert_int_eq(parse("-t", "2", NULL), ROSTER_EINVAL);
    expect_error("unknown option '-t'");
    ck_assert_int_eq(parse("--THREADS", "2", NULL), ROSTER_EINVAL);
    expect_error("unknown option '--THREADS'");
    ck_assert_int_eq(parse("--threads", "2", "extra", NULL), ROSTER_EINVAL);
    expect_error("unknown option 'extra'");
    /* a switch takes no separate value: "0" is then a stray argument */
    ck_assert_int_eq(parse("--strict-markdown", "0", NULL), ROSTER_EINVAL);
    expect_error("unknown option '0'");
    ck_assert_int_eq(parse("--threads", NULL), ROSTER_EINVAL);
    expect_error("--threads needs a value");
    ck_assert_int_eq(parse("--listen", NULL), ROSTER_EINVAL);
    expect_error("--listen needs a value");
    /* --help stops parsing: what follows it is not looked at */
    ck_assert_int_eq(parse("--threads", "2", "--help", "--nope", NULL), 0);
    ck_assert_int_eq(cfg.help, 1);
    ck_assert_uint_eq(cfg.threads, 2);
}
END_TEST

START_TEST(listen_addresses)
{
    static const struct {
        const char *listen;
        const char *host;
        unsigned port;
    } good[] = {{"0.0.0.0:9000", "0.0.0.0", 9000},
                {"localhost:0", "localhost", 0},
                {"127.0.0.1:65535", "127.0.0.1", 65535},
                {"[::1]:8080", "::1", 8080},
                {"[::]:1", "::", 1}};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        ck_assert_int_eq(parse("--listen", good[i].listen, NULL), 0);
        ck_assert_str_eq(cfg.listen, good[i].listen);
        ck_assert_str_eq(cfg.host, good[i].host);
        ck_assert_uint_eq(cfg.port, good[i].port);
    }
    setenv("ROSTER_LISTEN", "[::1]:7000", 1);
    ck_assert_int_eq(parse(NULL), 0);
    ck_assert_str_eq(cfg.host, "::1");
    ck_assert_uint_eq(cfg.port, 7000);
    ck_assert_int_eq(parse("--listen=127.0.0.1:7001", NULL), 0);
    ck_assert_str_eq(cfg.host, "127.0.0.1");
    ck_assert_uint_eq(cfg.port, 7001);
    unsetenv("ROSTER_LISTEN");

    static const struct {
        const char *listen;
        const char *why;
    } bad[] = {
        {"nohost", "--listen: 'nohost' is not HOST:PORT"},
        {":8080", "--listen: ':8080' is not HOST:PORT"},
        {"", "--listen: '' is not HOST:PORT"},
        {"host:", "--listen: 'host:' has no valid port (0-65535)"},
        {"host:65536", "--listen: 'host:65536' has no valid port (0-65535)"},
        {"host:80x", "--listen: 'host:80x' has no valid port (0-65535)"},
        {"host:-1", "--listen: 'host:-1' has no valid port (0-65535)"},
        {"[::1]", "--listen: '[::1]' is not [ADDRESS]:PORT"},
        {"[::1]8080", "--listen: '[::1]8080' is not [ADDRESS]:PORT"},
        {"[::1:8080", "--listen: '[::1:8080' is not [ADDRESS]:PORT"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(parse("--listen", bad[i].listen, NULL) == ROSTER_EINVAL, "'%s'",
                      bad[i].listen);
        expect_error(bad[i].why);
    }
    /* the host buffer holds 255 bytes */
    char arg[300];
    memset(arg, 'h', 255);
    snprintf(arg + 255, sizeof(arg) - 255, ":80");
    ck_assert_int_eq(parse("--listen", arg, NULL), 0);
    ck_assert_uint_eq(strlen(cfg.host), 255);
    memset(arg, 'h', 256);
    snprintf(arg + 256, sizeof(arg) - 256, ":80");
    ck_assert_int_eq(parse("--listen", arg, NULL), ROSTER_EINVAL);
    expect_error("--listen: host too long");
}
END_TEST

/* The help names every flag with its variable on one line. */
START_TEST(help_lists_every_option)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(f);
    roster_config_help(f);
    fclose(f);
    ck_assert(strncmp(text, "usage: rosterd serve [OPTIONS]\n", 31) == 0);
    static const char *const flags[] = {"--listen",
                                        "--profiles",
                                        "--threads",
                                        "--max-connections",
                                        "--connection-timeout",
                                        "--max-request-bytes",
                                        "--cache-max-age",
                                        "--cors-origins",
                                        "--shutdown-timeout",
                                        "--drain-delay",
                                        "--log-format",
                                        "--log-level",
                                        "--strict-markdown",
                                        "--watch",
                                        "--debounce-ms",
                                        "--rescan-interval",
                                        "--admin-token-file"};
    ck_assert_uint_eq(sizeof(flags) / sizeof(flags[0]), NENV);
    char line[64];
    for (size_t i = 0; i < NENV; i++) {
        snprintf(line, sizeof(line), "\n  %-22s %-26s ", flags[i], ENV_NAMES[i]);
        ck_assert_msg(strstr(text, line) != NULL, "no help line for %s", flags[i]);
    }
    ck_assert_ptr_nonnull(strstr(text, "(default 65536)"));
    free(text);
}
END_TEST

START_TEST(strict_values_and_untouched_config)
{
    /* numbers are digits only: no sign, no white space */
    static const char *const bad_numbers[] = {" 5", "+5", "5 ", "\t5", "-0", "0x5", "5e1", ""};
    for (size_t i = 0; i < sizeof(bad_numbers) / sizeof(bad_numbers[0]); i++) {
        char arg[40];
        snprintf(arg, sizeof(arg), "--threads=%s", bad_numbers[i]);
        ck_assert_msg(parse(arg, NULL) == ROSTER_EINVAL, "'%s' accepted", arg);
        char msg[120];
        snprintf(msg, sizeof(msg), "--threads: '%s' is not a whole number from 1 to 64",
                 bad_numbers[i]);
        expect_error(msg);
    }
    static const char *const bad_listen[] = {"host: 80", "host:+80", "h:-0", "h:65536", "h:"};
    for (size_t i = 0; i < sizeof(bad_listen) / sizeof(bad_listen[0]); i++) {
        char arg[40];
        snprintf(arg, sizeof(arg), "--listen=%s", bad_listen[i]);
        ck_assert_msg(parse(arg, NULL) == ROSTER_EINVAL, "'%s' accepted", arg);
    }
    ck_assert_int_eq(parse("--listen=[]:80", NULL), ROSTER_EINVAL);
    expect_error("--listen: '[]:80' has an empty address");
    /* a configuration that fails leaves the caller's as it was */
    struct roster_config before;
    roster_config_defaults(&before);
    cfg = before;
    char a0[] = "serve", a1[] = "--threads=3", a2[] = "--bogus";
    char *args[] = {a0, a1, a2, NULL};
    ck_assert_int_eq(roster_config_parse(&cfg, 3, args, why, sizeof(why)), ROSTER_EINVAL);
    ck_assert_uint_eq(cfg.threads, before.threads);
    ck_assert(memcmp(&cfg, &before, sizeof(cfg)) == 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, clear_env);
    tcase_add_test(tc, defaults);
    tcase_add_test(tc, numeric_flags_and_env_twins);
    tcase_add_test(tc, numeric_range_errors);
    tcase_add_test(tc, numeric_format_errors);
    tcase_add_test(tc, max_connections_follow_threads);
    tcase_add_test(tc, string_options);
    tcase_add_test(tc, switches_and_words);
    tcase_add_test(tc, unknown_options_and_missing_values);
    tcase_add_test(tc, listen_addresses);
    tcase_add_test(tc, help_lists_every_option);
    tcase_add_test(tc, strict_values_and_untouched_config);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
