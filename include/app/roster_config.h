/* Configuration of `rosterd serve` from flags and ROSTER_* variables. */
#ifndef ROSTER_CONFIG_H
#define ROSTER_CONFIG_H

#include <stddef.h>
#include <stdio.h>

struct roster_config {
    const char *listen;
    char host[256];
    unsigned port;
    const char *profiles;
    unsigned threads;
    unsigned max_connections;
    unsigned connection_timeout;
    unsigned max_request_bytes;
    unsigned cache_max_age;
    const char *cors_origins;
    unsigned shutdown_timeout;
    unsigned drain_delay;
    unsigned log_json;
    unsigned log_level;
    unsigned strict_markdown;
    unsigned prerender;
    unsigned index_threads;
    unsigned watch;
    unsigned debounce_ms;
    unsigned rescan_interval;
    const char *admin_token_file;
    unsigned mcp_max_sessions;
    unsigned mcp_session_timeout;
    const char *mcp_allowed_origins;
    const char *mcp_token_file;
    const char *history_dir; /* NULL: no history store */
    unsigned history_keep;
    int help;
};

void roster_config_defaults(struct roster_config *c);
/* Environment first, then flags. On error, why names the flag. */
int roster_config_parse(struct roster_config *c, int argc, char **argv, char *why, size_t cap);
void roster_config_help(FILE *f);

#endif
