/* Structured logging for the program layer (main, serve, HTTP): one JSON
 * object (or one key=value text line) per event on stderr, written with a
 * single write() so lines from different threads never interleave. */
#ifndef ROSTER_LOG_H
#define ROSTER_LOG_H

enum roster_log_level { ROSTER_LOG_DEBUG, ROSTER_LOG_INFO, ROSTER_LOG_WARN, ROSTER_LOG_ERROR };

void roster_log_setup(int json, enum roster_log_level min);
int roster_log_enabled(enum roster_log_level lvl);
int roster_log_level_parse(const char *s, enum roster_log_level *out);

/* Fields are given as a format of typed pairs: each key is followed by a
 * type letter: 's' string, 'i' long long, 'u' unsigned long long,
 * 'f' double, 'b' int as boolean; the list ends with ROSTER_LOG_END.
 * Example: roster_log(ROSTER_LOG_INFO, "start", "port", 'i', 8080LL, ROSTER_LOG_END); */
void roster_log(enum roster_log_level lvl, const char *event, ...);

/* The end of a roster_log field list (a typed null pointer: a bare NULL
 * may be an int in a variadic call). */
#define ROSTER_LOG_END ((const char *)0)

#endif
