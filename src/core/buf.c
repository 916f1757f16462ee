/*
 * buf.c: the growable string buffer (rules in buf.h).
 */
#include "core/compat.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "core/error.h"

char weir_buf__empty[1];

void weir_buf_init(weir_buf *b, size_t hint)
{
    b->ptr = weir_buf__empty;
    b->len = b->cap = b->limit = 0;
    b->toobig = 0;
    if (hint)
        weir_buf_grow(b, hint);
}

void weir_buf_release(weir_buf *b)
{
    if (b->cap)
        free(b->ptr);
    b->ptr = weir_buf__empty;
    b->len = b->cap = 0;
    b->toobig = 0;
}

char *weir_buf_detach(weir_buf *b, size_t *len)
{
    char *p;
    if (len)
        *len = b->len;
    if (b->cap)
        p = b->ptr;
    else
        p = weir_xstrdup("");
    b->ptr = weir_buf__empty;
    b->len = b->cap = 0;
    b->toobig = 0;
    return p;
}

void weir_buf_grow(weir_buf *b, size_t extra)
{
    size_t need = weir_size_add(weir_size_add(b->len, extra), 1);
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 16;
    while (cap < need)
        cap = cap < SIZE_MAX / 2 ? cap * 2 : need;
    if (b->cap) {
        b->ptr = weir_xrealloc(b->ptr, cap);
    } else {
        b->ptr = weir_xmalloc(cap);
        b->ptr[0] = '\0';
    }
    b->cap = cap;
}

void weir_buf_reset(weir_buf *b)
{
    weir_buf_truncate(b, 0);
    b->toobig = 0;
}

void weir_buf_truncate(weir_buf *b, size_t n)
{
    if (n > b->len)
        return;
    b->len = n;
    if (b->cap)
        b->ptr[n] = '\0';
}

static int refuse(weir_buf *b, size_t n)
{
    if (b->limit && (n > b->limit || b->len > b->limit - n)) {
        b->toobig = 1;
        return 1;
    }
    return 0;
}

int weir_buf_add(weir_buf *b, const void *data, size_t n)
{
    if (n == 0)
        return 0;
    if (refuse(b, n))
        return WEIR_ETOOBIG;
    weir_buf_grow(b, n);
    memmove(b->ptr + b->len, data, n);
    b->len += n;
    b->ptr[b->len] = '\0';
    return 0;
}

int weir_buf_adds(weir_buf *b, const char *s)
{
    return weir_buf_add(b, s, strlen(s));
}

int weir_buf_addch(weir_buf *b, int c)
{
    char ch = (char)c;
    return weir_buf_add(b, &ch, 1);
}

int weir_buf_addchars(weir_buf *b, int c, size_t n)
{
    if (n == 0)
        return 0;
    if (refuse(b, n))
        return WEIR_ETOOBIG;
    weir_buf_grow(b, n);
    memset(b->ptr + b->len, c, n);
    b->len += n;
    b->ptr[b->len] = '\0';
    return 0;
}

int weir_buf_vaddf(weir_buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    char small[256];
    va_copy(cp, ap);
    int n = vsnprintf(small, sizeof(small), fmt, cp);
    va_end(cp);
    if (n < 0)
        return WEIR_ERROR;
    if ((size_t)n < sizeof(small))
        return weir_buf_add(b, small, (size_t)n);
    if (refuse(b, (size_t)n))
        return WEIR_ETOOBIG;
    weir_buf_grow(b, (size_t)n);
    vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int weir_buf_addf(weir_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = weir_buf_vaddf(b, fmt, ap);
    va_end(ap);
    return rc;
}

void weir_buf_sets(weir_buf *b, const char *s)
{
    weir_buf_reset(b);
    weir_buf_adds(b, s);
}

void weir_buf_trim(weir_buf *b)
{
    size_t start = 0, end = b->len;
    while (start < end && isspace((unsigned char)b->ptr[start]))
        start++;
    while (end > start && isspace((unsigned char)b->ptr[end - 1]))
        end--;
    if (start)
        memmove(b->ptr, b->ptr + start, end - start);
    weir_buf_truncate(b, end - start);
}

int weir_buf_add_json_escaped(weir_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': rc = weir_buf_add(b, "\\\"", 2); break;
        case '\\': rc = weir_buf_add(b, "\\\\", 2); break;
        case '\n': rc = weir_buf_add(b, "\\n", 2); break;
        case '\r': rc = weir_buf_add(b, "\\r", 2); break;
        case '\t': rc = weir_buf_add(b, "\\t", 2); break;
        case '\b': rc = weir_buf_add(b, "\\b", 2); break;
        case '\f': rc = weir_buf_add(b, "\\f", 2); break;
        default:
            if (c < 0x20) {
                char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
                rc = weir_buf_add(b, esc, 6);
            } else {
                rc = weir_buf_addch(b, c);
            }
        }
    }
    return rc;
}
