/*
 * log.h: leveled logging to stderr, as text for people or JSON lines.
 *
 * The default level is warning. The CLI sets it from --quiet/--verbose and the format from
 * --log-format. Logging is thread-safe: each record is written whole.
 * Text records look like "weir: warning: message"; JSON records are
 * {"ts":"2026-01-01T00:00:00.000Z","level":"warning","msg":"...", ...}.
 */
#ifndef WEIR_LOG_H
#define WEIR_LOG_H

#include <stdio.h>

typedef enum {
    WEIR_LOG_ERROR = 0,
    WEIR_LOG_WARN = 1,
    WEIR_LOG_INFO = 2,
    WEIR_LOG_DEBUG = 3,
    WEIR_LOG_TRACE = 4
} weir_log_level;

typedef enum { WEIR_LOG_TEXT, WEIR_LOG_JSON } weir_log_format;

void weir_log_set_level(weir_log_level level);
weir_log_level weir_log_get_level(void);
void weir_log_set_format(weir_log_format fmt);
/* Redirects records (default stderr); for tests. */
void weir_log_set_stream(FILE *f);
/* Parses "text" or "json"; returns -1 if neither. */
int weir_log_parse_format(const char *s, weir_log_format *out);

int weir_log_enabled(weir_log_level level);
void weir_log(weir_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void weir_logv(weir_log_level level, const char *fmt, va_list ap);

#define weir_error_log(...) weir_log(WEIR_LOG_ERROR, __VA_ARGS__)
#define weir_warn(...) weir_log(WEIR_LOG_WARN, __VA_ARGS__)
#define weir_info(...) weir_log(WEIR_LOG_INFO, __VA_ARGS__)
#define weir_debug(...) weir_log(WEIR_LOG_DEBUG, __VA_ARGS__)

#endif
