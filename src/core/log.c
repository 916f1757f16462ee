/*
 * log.c: leveled logging (see log.h).
 */
#include "core/compat.h"

#include "core/buf.h"
#include "core/date.h"
#include "core/log.h"

static weir_log_level cur_level = WEIR_LOG_WARN;
static weir_log_format cur_format = WEIR_LOG_TEXT;
static FILE *cur_stream;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static const char *names[] = { "error", "warning", "info", "debug", "trace" };

void weir_log_set_level(weir_log_level level) { cur_level = level; }
weir_log_level weir_log_get_level(void) { return cur_level; }
void weir_log_set_format(weir_log_format fmt) { cur_format = fmt; }
void weir_log_set_stream(FILE *f) { cur_stream = f; }

int weir_log_parse_format(const char *s, weir_log_format *out)
{
    if (strcmp(s, "text") == 0)
        *out = WEIR_LOG_TEXT;
    else if (strcmp(s, "json") == 0)
        *out = WEIR_LOG_JSON;
    else
        return -1;
    return 0;
}

int weir_log_enabled(weir_log_level level)
{
    return level <= cur_level;
}

void weir_logv(weir_log_level level, const char *fmt, va_list ap)
{
    if (!weir_log_enabled(level))
        return;
    weir_buf msg = WEIR_BUF_INIT, line = WEIR_BUF_INIT;
    weir_buf_vaddf(&msg, fmt, ap);
    if (cur_format == WEIR_LOG_JSON) {
        char ts[WEIR_TS_STRLEN];
        weir_ts_format_ms(weir_ts_now(), ts);
        weir_buf_addf(&line, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"", ts, names[level]);
        weir_buf_add_json_escaped(&line, msg.ptr, msg.len);
        weir_buf_adds(&line, "\"}\n");
    } else {
        weir_buf_addf(&line, "weir: %s: %s\n", names[level], msg.ptr);
    }
    pthread_mutex_lock(&lock);
    FILE *f = cur_stream ? cur_stream : stderr;
    fwrite(line.ptr, 1, line.len, f);
    fflush(f);
    pthread_mutex_unlock(&lock);
    weir_buf_release(&msg);
    weir_buf_release(&line);
}

void weir_log(weir_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    weir_logv(level, fmt, ap);
    va_end(ap);
}
