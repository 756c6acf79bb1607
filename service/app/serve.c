/* `rosterd serve`: build the first snapshot, start the server, then wait
 * for signals and reload triggers; on SIGTERM drain and exit 0. */
#include "roster_cli.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "roster_base.h"
#include "roster_config.h"
#include "roster_events.h"
#include "roster_history.h"
#include "roster_http.h"
#include "roster_log.h"
#include "roster_metrics.h"
#include "roster_reload.h"
#include "roster_snapshot.h"
#include "roster_version.h"

/* Reads a token (the admin one, the MCP one) from the variable env or
 * from file (its first line; the flag names it in errors). */
static int load_token(const char *file, const char *flag, const char *env_name, char *tok,
                      size_t cap, char *why, size_t why_cap)
{
    tok[0] = '\0';
    const char *env = getenv(env_name);
    if (file) {
        FILE *f = fopen(file, "r");
        if (!f) {
            snprintf(why, why_cap, "%s: cannot read %s: %s", flag, file, strerror(errno));
            return -1;
        }
        if (!fgets(tok, (int)cap, f))
            tok[0] = '\0';
        fclose(f);
    } else if (env) {
        snprintf(tok, cap, "%s", env);
    }
    size_t n = strlen(tok);
    while (n && (tok[n - 1] == '\n' || tok[n - 1] == '\r' || tok[n - 1] == ' '))
        tok[--n] = '\0';
    if ((file || env) && n < 16) {
        snprintf(why, why_cap, "the token of %s (or %s) must be at least 16 characters", flag,
                 env_name);
        return -1;
    }
    return 0;
}

static void drain_and_stop(struct roster_server *srv, const struct roster_config *cfg)
{
    roster_log(ROSTER_LOG_INFO, "draining", "drain_delay_s", 'u',
               (unsigned long long)cfg->drain_delay, "shutdown_timeout_s", 'u',
               (unsigned long long)cfg->shutdown_timeout, ROSTER_LOG_END);
    /* readiness goes 503 first so load balancers stop sending */
    roster_server_drain(srv);
    if (cfg->drain_delay) {
        struct timespec d = {.tv_sec = cfg->drain_delay};
        nanosleep(&d, NULL);
    }
    roster_server_quiesce(srv);
    /* Wait for the requests in flight; idle keep-alive connections are
     * closed by the stop (every response since draining said
     * Connection: close). Quiet twice in a row, 20 ms apart, means done. */
    double deadline = roster_now_mono() + cfg->shutdown_timeout;
    int quiet = 0;
    long left = 0;
    while (roster_now_mono() < deadline && quiet < 2) {
        left = roster_server_in_flight(srv);
        quiet = left == 0 ? quiet + 1 : 0;
        struct timespec d = {.tv_nsec = 20 * 1000 * 1000};
        nanosleep(&d, NULL);
    }
    unsigned open = roster_server_connections(srv);
    roster_server_stop(srv);
    roster_log(ROSTER_LOG_INFO, "stop", "requests_unfinished", 'u', (unsigned long long)left,
               "connections_closed", 'u', (unsigned long long)open, ROSTER_LOG_END);
}

/* The reloader's hooks: the app decides where a snapshot is served, and
 * logs and counts what each reload did. */
struct serve_ctx {
    struct roster_server *srv;
    struct roster_metrics *metrics;
    const struct roster_config *cfg;
    struct roster_reloader *rl;
    struct roster_history_recorder *recorder; /* --history-dir, or NULL */
    int admin;
};

/* The first snapshot is served: the start line (what tests and operators
 * wait for), with what the snapshot holds. */
static void log_start(struct serve_ctx *sc)
{
    const struct roster_config *cfg = sc->cfg;
    const struct roster_snapshot *snap = roster_reloader_current(sc->rl);
    roster_log(ROSTER_LOG_INFO, "start", "listen", 's', cfg->listen, "host", 's', cfg->host, "port",
               'u', (unsigned long long)roster_server_port(sc->srv), "profiles_dir", 's',
               cfg->profiles, "profiles", 'u', (unsigned long long)snap->n, "served", 'u',
               (unsigned long long)snap->served, "invalid", 'u',
               (unsigned long long)(snap->n - snap->served), "warnings", 'u',
               (unsigned long long)snap->diag_counts[1], "build_ms", 'f',
               snap->build_seconds * 1000.0, "threads", 'u', (unsigned long long)cfg->threads,
               "watch", 'b', (int)cfg->watch, "admin", 'b', sc->admin, ROSTER_LOG_END);
}

static void publish_snapshot(void *ctx, struct roster_snapshot *snap)
{
    struct serve_ctx *sc = ctx;
    if (sc->srv)
        roster_server_swap(sc->srv, roster_snapshot_ref(snap));
    /* recorded on the recorder's thread: the loop goes on at once */
    roster_history_recorder_submit(sc->recorder, snap);
}

/* ---- the history recorder's hooks (its thread) ------------------------- */

static void history_write(void *ctx, const char *id, const char *digest, int rc,
                          const struct roster_error *err)
{
    struct serve_ctx *sc = ctx;
    char d[80];
    snprintf(d, sizeof(d), "sha256:%s", digest);
    roster_metrics_history_write(sc->metrics, rc > 0);
    if (rc > 0)
        roster_log(ROSTER_LOG_DEBUG, "history_written", "id", 's', id, "digest", 's', d,
                   ROSTER_LOG_END);
    else
        roster_log(ROSTER_LOG_ERROR, "history_write_failed", "id", 's', id, "digest", 's', d,
                   "path", 's', err->file, "error", 's', err->msg, ROSTER_LOG_END);
}

static void history_corrupt(void *ctx, const char *file, const char *reason)
{
    struct serve_ctx *sc = ctx;
    roster_log(ROSTER_LOG_WARN, "history_corrupt", "code", 's', "history.corrupt", "file", 's',
               file, "reason", 's', reason, "history_dir", 's', sc->cfg->history_dir, "action", 's',
               "rewritten", ROSTER_LOG_END);
}

static void history_pass(void *ctx, unsigned long long generation, size_t written, size_t present,
                         size_t failed, size_t retired, double seconds, int cancelled)
{
    (void)ctx;
    roster_log(written || failed ? ROSTER_LOG_INFO : ROSTER_LOG_DEBUG, "history_recorded",
               "generation", 'u', generation, "written", 'u', (unsigned long long)written,
               "present", 'u', (unsigned long long)present, "failed", 'u',
               (unsigned long long)failed, "retired", 'u', (unsigned long long)retired,
               "duration_ms", 'f', seconds * 1000.0, "cancelled", 'b', cancelled, ROSTER_LOG_END);
}

/* The history store and its recorder (--history-dir), or neither. */
static int history_start(struct serve_ctx *sc, struct roster_history **h, char *why, size_t cap)
{
    struct roster_error err;
    roster_error_clear(&err);
    *h = NULL;
    if (!sc->cfg->history_dir)
        return 0;
    struct roster_history_hooks hooks = {
        .ctx = sc, .write = history_write, .corrupt = history_corrupt, .pass = history_pass};
    if (roster_history_open(h, sc->cfg->history_dir, sc->cfg->history_keep, &err) < 0 ||
        roster_history_recorder_new(&sc->recorder, *h, &hooks, &err) < 0) {
        snprintf(why, cap, "--history-dir: %s", err.msg);
        roster_history_free(*h);
        *h = NULL;
        return -1;
    }
    return 0;
}

static void report_reload(void *ctx, const struct roster_reload_report *r)
{
    struct serve_ctx *sc = ctx;
    if (sc->srv && strcmp(r->reason, "start") != 0) {
        json_t *d = roster_reload_report_json(r); /* MCP clients hear of it too */
        roster_server_mcp_log(sc->srv, r->outcome == ROSTER_RELOAD_FAILED, d);
        json_decref(d);
    }
    switch (r->outcome) {
    case ROSTER_RELOAD_STARTED:
        log_start(sc);
        break;
    case ROSTER_RELOAD_FAILED:
        if (strcmp(r->reason, "start") == 0) {
            roster_log(ROSTER_LOG_ERROR, "start_failed", "reason", 's', r->error, ROSTER_LOG_END);
            break;
        }
        roster_metrics_reload(sc->metrics, 0, 0);
        roster_metrics_dir_failure(sc->metrics);
        roster_log(ROSTER_LOG_ERROR, "reload_failed", "reason", 's', r->reason, "error", 's',
                   r->error, "generation", 'u', (unsigned long long)r->generation, ROSTER_LOG_END);
        break;
    case ROSTER_RELOAD_RECOVERED:
        roster_log(ROSTER_LOG_INFO, "profiles_dir_recovered", ROSTER_LOG_END);
        break;
    case ROSTER_RELOAD_UNCHANGED:
        roster_log(ROSTER_LOG_DEBUG, "reload_unchanged", "reason", 's', r->reason, ROSTER_LOG_END);
        break;
    case ROSTER_RELOAD_SWAPPED:
        roster_metrics_reload(sc->metrics, 1, (double)time(NULL));
        roster_log(ROSTER_LOG_INFO, "reload", "reason", 's', r->reason, "generation", 'u',
                   (unsigned long long)r->generation, "added", 'u',
                   (unsigned long long)r->diff.added, "changed", 'u',
                   (unsigned long long)r->diff.changed, "removed", 'u',
                   (unsigned long long)r->diff.removed, "invalid", 'u',
                   (unsigned long long)r->invalid_files, "stale", 'u', (unsigned long long)r->stale,
                   "duration_ms", 'f', r->seconds * 1000.0, ROSTER_LOG_END);
        break;
    }
}

int roster_cli_serve(int argc, char **argv)
{
    struct roster_config cfg;
    char why[512], token[512], mcp_token[512];
    roster_config_defaults(&cfg);
    if (roster_config_parse(&cfg, argc, argv, why, sizeof(why)) < 0) {
        fprintf(stderr, "rosterd serve: %s\nTry 'rosterd serve --help'.\n", why);
        return 2;
    }
    if (cfg.help) {
        roster_config_help(stdout);
        return 0;
    }
    if (load_token(cfg.admin_token_file, "--admin-token-file", "ROSTER_ADMIN_TOKEN", token,
                   sizeof(token), why, sizeof(why)) < 0 ||
        load_token(cfg.mcp_token_file, "--mcp-token-file", "ROSTER_MCP_TOKEN", mcp_token,
                   sizeof(mcp_token), why, sizeof(why)) < 0) {
        fprintf(stderr, "rosterd serve: %s\n", why);
        return 2;
    }
    roster_log_setup((int)cfg.log_json, (enum roster_log_level)cfg.log_level);
    /* Signals are taken synchronously by this thread; block them before
     * any other thread exists so the server threads inherit the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct roster_reloader *rl = NULL;
    struct roster_reload_opts ro = {.dir = cfg.profiles,
                                    .strict_markdown = (int)cfg.strict_markdown,
                                    .prerender = (int)cfg.prerender,
                                    .index_threads = cfg.index_threads,
                                    .watch = (int)cfg.watch,
                                    .debounce_ms = cfg.debounce_ms,
                                    .rescan_interval = cfg.rescan_interval};
    struct roster_metrics *metrics = roster_metrics_new();
    struct serve_ctx ctx = {.metrics = metrics, .cfg = &cfg, .admin = token[0] != 0};
    struct roster_reload_hooks hooks = {
        .ctx = &ctx, .publish = publish_snapshot, .report = report_reload};
    struct roster_history *history = NULL;
    if (!metrics || roster_reloader_new(&rl, &ro, &hooks, why, sizeof(why)) < 0 ||
        history_start(&ctx, &history, why, sizeof(why)) < 0) {
        roster_log(ROSTER_LOG_ERROR, "start_failed", "reason", 's', metrics ? why : "out of memory",
                   ROSTER_LOG_END);
        fprintf(stderr, "rosterd serve: %s\n", metrics ? why : "out of memory");
        roster_reloader_free(rl);
        roster_metrics_free(metrics);
        return 1;
    }
    struct roster_server_config sc = {
        .host = cfg.host,
        .port = cfg.port,
        .threads = cfg.threads,
        .max_connections = cfg.max_connections,
        .connection_timeout = cfg.connection_timeout,
        .max_request_bytes = cfg.max_request_bytes,
        .cache_max_age = cfg.cache_max_age,
        .cors_origins = cfg.cors_origins,
        .admin_token = token[0] ? token : NULL,
        .events = roster_reloader_events(rl),
        .progress = roster_reloader_progress(rl),
        .mcp_max_sessions = cfg.mcp_max_sessions,
        .mcp_session_timeout = cfg.mcp_session_timeout,
        .mcp_allowed_origins = cfg.mcp_allowed_origins,
        .mcp_token = mcp_token[0] ? mcp_token : NULL,
        .server_version = ROSTER_VERSION,
        .history = history,
    };
    /* event streams are long-lived: they may hold at most a quarter of the
     * connections, so they can never starve ordinary requests */
    roster_events_set_max_clients(roster_reloader_events(rl), cfg.max_connections / 4);
    struct roster_server *srv = NULL;
    if (roster_server_start(&srv, &sc, metrics, why, sizeof(why)) < 0) {
        roster_log(ROSTER_LOG_ERROR, "start_failed", "reason", 's', why, ROSTER_LOG_END);
        fprintf(stderr, "rosterd serve: %s\n", why);
        roster_history_recorder_free(ctx.recorder);
        roster_history_free(history);
        roster_reloader_free(rl);
        roster_metrics_free(metrics);
        return 1;
    }
    ctx.srv = srv;
    ctx.rl = rl;
    /* listen first: /health answers and /ready says how far indexing is
     * while the first snapshot builds on its own thread */
    roster_log(ROSTER_LOG_INFO, "listening", "listen", 's', cfg.listen, "port", 'u',
               (unsigned long long)roster_server_port(srv), "profiles_dir", 's', cfg.profiles,
               ROSTER_LOG_END);
    roster_reloader_attach(rl);
    int rc = 0;
    roster_reloader_start(rl);
    /* signals and file events wake the loop at once; otherwise it ticks
     * (admin requests, event heartbeats) or wakes when a reload is due */
    int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    for (; rc == 0;) {
        struct pollfd fds[2] = {{.fd = sfd, .events = POLLIN},
                                {.fd = roster_reloader_fd(rl), .events = POLLIN}};
        int sig = 0;
        if (sfd < 0) { /* no signalfd: wait for signals the old way */
            struct timespec tick = {.tv_nsec = 20 * 1000 * 1000};
            sig = sigtimedwait(&set, NULL, &tick);
        } else if (poll(fds, fds[1].fd >= 0 ? 2 : 1, roster_reloader_timeout_ms(rl, 50)) > 0 &&
                   (fds[0].revents & POLLIN)) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
                sig = (int)si.ssi_signo;
        }
        if (sig == SIGTERM || sig == SIGINT) {
            roster_log(ROSTER_LOG_INFO, "signal", "signal", 's',
                       sig == SIGTERM ? "SIGTERM" : "SIGINT", ROSTER_LOG_END);
            break;
        }
        if (sig == SIGHUP)
            roster_reloader_request(rl, "sighup");
        roster_server_tick(srv);
        if (roster_server_take_reload_request(srv))
            roster_reloader_request(rl, "admin");
        roster_reloader_poll(rl);
        if (roster_reloader_failed(rl))
            rc = 1; /* logged as start_failed */
    }
    if (sfd >= 0)
        close(sfd);
    roster_reloader_detach(rl);
    /* the pass under way ends after the file it writes; the store stays
     * open for the requests the drain still answers */
    roster_history_recorder_free(ctx.recorder);
    ctx.recorder = NULL;
    drain_and_stop(srv, &cfg);
    roster_history_free(history);
    roster_reloader_free(rl);
    roster_metrics_free(metrics);
    explicit_bzero(token, sizeof(token));
    explicit_bzero(mcp_token, sizeof(mcp_token));
    return rc;
}
