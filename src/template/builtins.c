/*
 * builtins.c: what every template has without the host: Jinja2's filters
 * and tests, the methods of Python's str, list and dict that macros call,
 * and the global functions range(), dict() and namespace().
 *
 * They follow Jinja2 3.x and Python, checked against both by the golden
 * corpus; case mapping (upper, lower, title, ...) knows Latin, Greek and
 * Cyrillic letters and leaves other text as it is.
 */
#include "core/compat.h"

#include "core/alloc.h"
#include "core/str.h"
#include "template/tpl_int.h"

/* --- helpers ---------------------------------------------------------------- */

static const weir_tvalue *arg(const weir_args *a, size_t pos, const char *name)
{
    const weir_tvalue *v;
    weir_args_get(a, pos, name, &v);
    if (v && v->kind == WEIR_TVALUE_UNDEFINED)
        return NULL;
    return v;
}

static int truthy_arg(const weir_args *a, size_t pos, const char *name, int dflt)
{
    const weir_tvalue *v = arg(a, pos, name);
    return v ? weir_tvalue_truthy(v) : dflt;
}

static int int_arg(const weir_args *a, size_t pos, const char *name, int64_t dflt, int64_t *out,
                   weir_error *err)
{
    const weir_tvalue *v = arg(a, pos, name);
    if (!v || v->kind == WEIR_TVALUE_NONE) {
        *out = dflt;
        return 0;
    }
    if (v->kind == WEIR_TVALUE_INT) { *out = v->u.i; return 0; }
    if (v->kind == WEIR_TVALUE_BOOL) { *out = v->u.b; return 0; }
    if (v->kind == WEIR_TVALUE_FLOAT && isfinite(v->u.f) && fabs(v->u.f) < 9e18) {
        *out = (int64_t)v->u.f;
        return 0;
    }
    return weir_error_set(err, WEIR_EINVALID, "argument '%s' must be an integer, not %s",
                          name, weir_tvalue_type_name(v));
}

/* str() of a value into a new string value (strings are shared). */
static weir_tvalue to_string(const weir_tvalue *v)
{
    if (v->kind == WEIR_TVALUE_STRING)
        return weir_tvalue_copy(v);
    weir_buf b = WEIR_BUF_INIT;
    weir_tvalue_to_buf(v, &b);
    weir_tvalue s = weir_tvalue_string_buf(&b);
    weir_buf_release(&b);
    return s;
}

static int strict_undef(render *r, const weir_tvalue *v, weir_error *err)
{
    if (v->kind == WEIR_TVALUE_UNDEFINED && weir_tpl__strict(r))
        return weir_error_set(err, WEIR_EINVALID, "%s", weir_tvalue_undefined_message(v));
    return 0;
}

static weir_tvalue str_n(const char *p, size_t n)
{
    return weir_tvalue_string_n(p, n);
}

static size_t utf8_len(const char *p, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)p[i] & 0xc0) != 0x80)
            k++;
    return k;
}

static int is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* attribute lookup with dots ("a.b"), and integer parts as indexes */
static int get_path(render *r, const weir_tvalue *obj, const weir_tvalue *attr, weir_tvalue *out,
                    weir_error *err)
{
    if (attr->kind == WEIR_TVALUE_INT) {
        if (obj->kind == WEIR_TVALUE_LIST) {
            int64_t i = attr->u.i, n = (int64_t)VLIST(obj)->len;
            if (i < 0) i += n;
            *out = i >= 0 && i < n ? weir_tvalue_copy(&VLIST(obj)->items[i]) : weir_tvalue_undefined();
            return 0;
        }
        *out = weir_tvalue_undefined();
        return 0;
    }
    const char *path = weir_tvalue_str(attr);
    weir_tvalue cur = weir_tvalue_copy(obj);
    while (*path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        char part[256];
        snprintf(part, sizeof(part), "%.*s", (int)(n < 255 ? n : 255), path);
        weir_tvalue next;
        char *end;
        long long idx = strtoll(part, &end, 10);
        if (*part && !*end && cur.kind == WEIR_TVALUE_LIST) {
            int64_t len = (int64_t)VLIST(&cur)->len;
            if (idx < 0) idx += len;
            next = idx >= 0 && idx < len ? weir_tvalue_copy(&VLIST(&cur)->items[idx])
                                         : weir_tvalue_undefined();
        } else if (cur.kind == WEIR_TVALUE_DICT) {
            const weir_tvalue *v = weir_tvalue_dict_get(&cur, part);
            next = v ? weir_tvalue_copy(v) : weir_tvalue_undefined();
        } else {
            int rc = weir_tpl__getattr(r, &cur, part, &next, err);
            if (rc) {
                weir_tvalue_free(cur);
                return rc;
            }
        }
        weir_tvalue_free(cur);
        cur = next;
        path += n;
        if (*path == '.')
            path++;
    }
    *out = cur;
    return 0;
}

/* --- sorting -------------------------------------------------------------------- */

typedef struct {
    weir_tvalue key;
    weir_tvalue item;
} sortent;

static int merge_sort(sortent *a, size_t n, sortent *tmp, int cs, int reverse, weir_error *err)
{
    if (n < 2)
        return 0;
    size_t h = n / 2;
    int rc;
    if ((rc = merge_sort(a, h, tmp, cs, reverse, err)) ||
        (rc = merge_sort(a + h, n - h, tmp, cs, reverse, err)))
        return rc;
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) {
        int c;
        if ((rc = weir_tpl__compare(&a[j].key, &a[i].key, cs, &c, err)))
            return rc;
        if (reverse)
            c = -c;
        tmp[k++] = c < 0 ? a[j++] : a[i++];
    }
    while (i < h)
        tmp[k++] = a[i++];
    while (j < n)
        tmp[k++] = a[j++];
    memcpy(a, tmp, n * sizeof(sortent));
    return 0;
}

/* Sorts list (borrowed) into a new list; attr may be NULL. */
static int sort_list(render *r, const weir_tvalue *list, int reverse, int cs,
                     const weir_tvalue *attr, weir_tvalue *out, weir_error *err)
{
    size_t n = VLIST(list)->len;
    sortent *e = weir_xcalloc(n ? n : 1, sizeof(sortent));
    sortent *tmp = weir_xcalloc(n ? n : 1, sizeof(sortent));
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        e[i].item = VLIST(list)->items[i];
        if (attr)
            rc = get_path(r, &e[i].item, attr, &e[i].key, err);
        else
            e[i].key = weir_tvalue_copy(&e[i].item);
    }
    if (!rc)
        rc = merge_sort(e, n, tmp, cs, reverse, err);
    if (!rc) {
        *out = weir_tvalue_list();
        for (size_t i = 0; i < n; i++)
            weir_tvalue_list_push(out, weir_tvalue_copy(&e[i].item));
    }
    for (size_t i = 0; i < n; i++)
        weir_tvalue_free(e[i].key);
    free(e);
    free(tmp);
    return rc;
}

static int iter_list(render *r, const weir_tvalue *v, weir_tvalue *out, weir_error *err)
{
    return weir_tpl__to_list(r, v, out, err);
}

/* --- string filters ------------------------------------------------------------- */

typedef int (*ffn)(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out,
                   weir_error *err);

/*
 * Case mapping of one code point: ASCII, Latin-1, Latin Extended-A, Greek
 * and Cyrillic (what European column names and labels use). Other code
 * points map to themselves.
 */
static uint32_t cp_upper(uint32_t c)
{
    if (c < 0x80) return (uint32_t)toupper((int)c);
    if (c >= 0xe0 && c <= 0xfe && c != 0xf7) return c - 0x20;
    if (c == 0xff) return 0x178;
    if ((c >= 0x100 && c <= 0x137) || (c >= 0x14a && c <= 0x177)) return c & ~1u;
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e)) return (c & 1) ? c : c - 1;
    if (c >= 0x3b1 && c <= 0x3c9 && c != 0x3c2) return c - 0x20;
    if (c >= 0x430 && c <= 0x44f) return c - 0x20;
    if (c >= 0x450 && c <= 0x45f) return c - 0x50;
    return c;
}

static uint32_t cp_lower(uint32_t c)
{
    if (c < 0x80) return (uint32_t)tolower((int)c);
    if (c >= 0xc0 && c <= 0xde && c != 0xd7) return c + 0x20;
    if (c == 0x178) return 0xff;
    if ((c >= 0x100 && c <= 0x137) || (c >= 0x14a && c <= 0x177)) return c | 1u;
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e)) return (c & 1) ? c + 1 : c;
    if (c >= 0x391 && c <= 0x3a9 && c != 0x3a2) return c + 0x20;
    if (c >= 0x410 && c <= 0x42f) return c + 0x20;
    if (c >= 0x400 && c <= 0x40f) return c + 0x50;
    return c;
}

static int cp_is_alpha(uint32_t c)
{
    return c < 0x80 ? isalpha((int)c) : cp_upper(c) != c || cp_lower(c) != c;
}

/* Decodes one UTF-8 sequence at p (n bytes left); invalid bytes stand alone. */
static size_t utf8_next(const unsigned char *p, size_t n, uint32_t *cp)
{
    unsigned c = p[0];
    size_t k = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
               : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (k == 0 || k > n) {
        *cp = 0xfffd0000u | c; /* marks a raw byte */
        return 1;
    }
    uint32_t v = k == 1 ? c : k == 2 ? (c & 0x1f) : k == 3 ? (c & 0x0f) : (c & 0x07);
    for (size_t i = 1; i < k; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            *cp = 0xfffd0000u | c;
            return 1;
        }
        v = (v << 6) | (p[i] & 0x3f);
    }
    *cp = v;
    return k;
}

static void utf8_emit(weir_buf *b, uint32_t cp)
{
    if ((cp & 0xffff0000u) == 0xfffd0000u) {
        weir_buf_addch(b, (int)(cp & 0xff));
        return;
    }
    if (cp < 0x80)
        weir_buf_addch(b, (int)cp);
    else if (cp < 0x800) {
        weir_buf_addch(b, 0xc0 | (int)(cp >> 6));
        weir_buf_addch(b, 0x80 | (int)(cp & 0x3f));
    } else if (cp < 0x10000) {
        weir_buf_addch(b, 0xe0 | (int)(cp >> 12));
        weir_buf_addch(b, 0x80 | (int)((cp >> 6) & 0x3f));
        weir_buf_addch(b, 0x80 | (int)(cp & 0x3f));
    } else {
        weir_buf_addch(b, 0xf0 | (int)(cp >> 18));
        weir_buf_addch(b, 0x80 | (int)((cp >> 12) & 0x3f));
        weir_buf_addch(b, 0x80 | (int)((cp >> 6) & 0x3f));
        weir_buf_addch(b, 0x80 | (int)(cp & 0x3f));
    }
}

/* mode: 0 upper, 1 lower, 2 capitalize, 3 Jinja's title, 4 Python's str.title */
static weir_tvalue map_case(const weir_tvalue *in, int mode)
{
    weir_tvalue s = to_string(in);
    size_t n = VSTR(&s)->len;
    const unsigned char *p = (const unsigned char *)VSTR(&s)->data;
    int start = 1;
    size_t ascii = 0;
    while (ascii < n && p[ascii] < 0x80)
        ascii++;
    if (ascii == n) {
        /* the common case, byte by byte */
        weir_tvalue o = weir_tvalue__string_alloc(n);
        char *q = VSTR(&o)->data;
        for (size_t i = 0; i < n; i++) {
            int c = p[i];
            switch (mode) {
            case 0: q[i] = (char)toupper(c); break;
            case 1: q[i] = (char)tolower(c); break;
            case 2: q[i] = (char)(i == 0 ? toupper(c) : tolower(c)); break;
            case 3:
                q[i] = (char)(start ? toupper(c) : tolower(c));
                start = c == '-' || is_space(c) || c == '(' || c == '{' || c == '[' || c == '<';
                break;
            default:
                q[i] = (char)(start ? toupper(c) : tolower(c));
                start = !isalpha(c);
                break;
            }
        }
        weir_tvalue_free(s);
        return o;
    }
    weir_buf b = WEIR_BUF_INIT;
    weir_buf_grow(&b, n);
    for (size_t i = 0; i < n;) {
        uint32_t c;
        size_t k = utf8_next(p + i, n - i, &c);
        int raw = (c & 0xffff0000u) == 0xfffd0000u;
        uint32_t o = c;
        if (!raw) {
            switch (mode) {
            case 0: o = cp_upper(c); break;
            case 1: o = cp_lower(c); break;
            case 2: o = i == 0 ? cp_upper(c) : cp_lower(c); break;
            case 3: /* words start after -, space, (, {, [, < */
                o = start ? cp_upper(c) : cp_lower(c);
                start = c == '-' || is_space((int)c) || c == '(' || c == '{' || c == '[' || c == '<';
                break;
            case 4: /* words are runs of letters */
                o = start ? cp_upper(c) : cp_lower(c);
                start = !cp_is_alpha(c);
                break;
            }
        }
        if (mode == 0 && c == 0xdf)
            weir_buf_adds(&b, "SS"); /* German sharp s has no one-letter capital */
        else
            utf8_emit(&b, o);
        i += k;
    }
    weir_tvalue_free(s);
    weir_tvalue o = weir_tvalue_string_buf(&b);
    weir_buf_release(&b);
    return o;
}

static int f_upper(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{ WEIR_UNUSED(a); if (strict_undef(r, in, err)) return WEIR_EINVALID; *out = map_case(in, 0); return 0; }
static int f_lower(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{ WEIR_UNUSED(a); if (strict_undef(r, in, err)) return WEIR_EINVALID; *out = map_case(in, 1); return 0; }
static int f_capitalize(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{ WEIR_UNUSED(a); if (strict_undef(r, in, err)) return WEIR_EINVALID; *out = map_case(in, 2); return 0; }
static int f_title(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{ WEIR_UNUSED(a); if (strict_undef(r, in, err)) return WEIR_EINVALID; *out = map_case(in, 3); return 0; }

static weir_tvalue strip(const weir_tvalue *s, const weir_tvalue *chars, int left, int right)
{
    const char *p = VSTR(s)->data;
    size_t b = 0, e = VSTR(s)->len;
    const char *set = chars && chars->kind == WEIR_TVALUE_STRING ? VSTR(chars)->data : NULL;
    size_t setn = set ? VSTR(chars)->len : 0;
#define STRIPPABLE(c) (set ? memchr(set, (c), setn) != NULL : is_space((unsigned char)(c)))
    if (left)
        while (b < e && STRIPPABLE(p[b]))
            b++;
    if (right)
        while (e > b && STRIPPABLE(p[e - 1]))
            e--;
#undef STRIPPABLE
    return str_n(p + b, e - b);
}

static int f_trim(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    if (strict_undef(r, in, err))
        return WEIR_EINVALID;
    weir_tvalue s = to_string(in);
    *out = strip(&s, arg(a, 0, "chars"), 1, 1);
    weir_tvalue_free(s);
    return 0;
}

static weir_tvalue replace(const weir_tvalue *s, const weir_tvalue *old, const weir_tvalue *new_,
                          int64_t count)
{
    const char *p = VSTR(s)->data;
    size_t n = VSTR(s)->len, on = VSTR(old)->len;
    weir_buf b = WEIR_BUF_INIT;
    size_t i = 0;
    int64_t done = 0;
    if (on == 0) {
        /* Python inserts new between every character */
        for (i = 0; i <= n; i++) {
            if (count < 0 || done < count) {
                weir_buf_add(&b, VSTR(new_)->data, VSTR(new_)->len);
                done++;
            }
            if (i < n)
                weir_buf_addch(&b, p[i]);
        }
    } else {
        while (i < n) {
            const char *f = (count < 0 || done < count)
                                ? weir_tpl__memmem(p + i, n - i, VSTR(old)->data, on)
                                : NULL;
            if (!f) {
                weir_buf_add(&b, p + i, n - i);
                break;
            }
            weir_buf_add(&b, p + i, (size_t)(f - (p + i)));
            weir_buf_add(&b, VSTR(new_)->data, VSTR(new_)->len);
            i = (size_t)(f - p) + on;
            done++;
        }
    }
    weir_tvalue o = weir_tvalue_string_buf(&b);
    weir_buf_release(&b);
    return o;
}

static int f_replace(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    const weir_tvalue *old = arg(a, 0, "old"), *nw = arg(a, 1, "new");
    int64_t count;
    if (strict_undef(r, in, err))
        return WEIR_EINVALID;
    if (!old || !nw)
        return weir_error_set(err, WEIR_EINVALID, "replace() takes 'old' and 'new'");
    if (int_arg(a, 2, "count", -1, &count, err))
        return WEIR_EINVALID;
    weir_tvalue s = to_string(in), o = to_string(old), n = to_string(nw);
    *out = replace(&s, &o, &n, count);
    weir_tvalue_free(s);
    weir_tvalue_free(o);
    weir_tvalue_free(n);
    return 0;
}

static int f_string(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(a);
    if (strict_undef(r, in, err))
        return WEIR_EINVALID;
    *out = to_string(in);
    return 0;
}

static int f_safe(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(r); WEIR_UNUSED(a); WEIR_UNUSED(err);
    *out = in->kind == WEIR_TVALUE_STRING ? weir_tvalue_copy(in) : to_string(in);
    return 0;
}

static int f_escape(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(r); WEIR_UNUSED(a); WEIR_UNUSED(err);
    weir_tvalue s = to_string(in);
    weir_buf b = WEIR_BUF_INIT;
    for (size_t i = 0; i < VSTR(&s)->len; i++) {
        char c = VSTR(&s)->data[i];
        switch (c) {
        case '&': weir_buf_adds(&b, "&amp;"); break;
        case '<': weir_buf_adds(&b, "&lt;"); break;
        case '>': weir_buf_adds(&b, "&gt;"); break;
        case '"': weir_buf_adds(&b, "&#34;"); break;
        case '\'': weir_buf_adds(&b, "&#39;"); break;
        default: weir_buf_addch(&b, c);
        }
    }
    weir_tvalue_free(s);
    *out = weir_tvalue_string_buf(&b);
    weir_buf_release(&b);
    return 0;
}

static int f_default(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(r); WEIR_UNUSED(err);
    const weir_tvalue *d;
    weir_args_get(a, 0, "default_value", &d);
    int boolean = truthy_arg(a, 1, "boolean", 0);
    if (in->kind == WEIR_TVALUE_UNDEFINED || (boolean && !weir_tvalue_truthy(in)))
        *out = d ? weir_tvalue_copy(d) : weir_tvalue_string("");
    else
        *out = weir_tvalue_copy(in);
    return 0;
}

static int f_length(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(a);
    switch (in->kind) {
    case WEIR_TVALUE_STRING:
        *out = weir_tvalue_int((int64_t)utf8_len(VSTR(in)->data, VSTR(in)->len));
        return 0;
    case WEIR_TVALUE_LIST:
        *out = weir_tvalue_int((int64_t)VLIST(in)->len);
        return 0;
    case WEIR_TVALUE_DICT:
        *out = weir_tvalue_int((int64_t)VDICT(in)->len);
        return 0;
    case WEIR_TVALUE_UNDEFINED:
        if (strict_undef(r, in, err))
            return WEIR_EINVALID;
        *out = weir_tvalue_int(0);
        return 0;
    default:
        return weir_error_set(err, WEIR_EINVALID, "object of type '%s' has no len()",
                              weir_tvalue_type_name(in));
    }
}

static int f_list(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(a);
    weir_tvalue l;
    int rc = iter_list(r, in, &l, err);
    if (rc)
        return rc;
    /* always a new list, as list() is */
    *out = weir_tvalue_list();
    for (size_t i = 0; i < VLIST(&l)->len; i++)
        weir_tvalue_list_push(out, weir_tvalue_copy(&VLIST(&l)->items[i]));
    weir_tvalue_free(l);
    return 0;
}

static int f_join(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    const weir_tvalue *sep = arg(a, 0, "d"), *attr = arg(a, 1, "attribute");
    weir_tvalue l;
    int rc = iter_list(r, in, &l, err);
    if (rc)
        return rc;
    weir_buf b = WEIR_BUF_INIT;
    for (size_t i = 0; i < VLIST(&l)->len && !rc; i++) {
        if (i && sep)
            weir_tvalue_to_buf(sep, &b);
        if (attr) {
            weir_tvalue x;
            if ((rc = get_path(r, &VLIST(&l)->items[i], attr, &x, err)))
                break;
            weir_tvalue_to_buf(&x, &b);
            weir_tvalue_free(x);
        } else
            weir_tvalue_to_buf(&VLIST(&l)->items[i], &b);
    }
    weir_tvalue_free(l);
    if (!rc)
        *out = weir_tvalue_string_buf(&b);
    weir_buf_release(&b);
    return rc;
}

/* first and last: the item at one end, undefined with Jinja2's hint when empty */
static int end_item(render *r, const weir_tvalue *in, weir_tvalue *out, weir_error *err, int last)
{
    weir_tvalue l;
    int rc = iter_list(r, in, &l, err);
    if (rc)
        return rc;
    size_t n = VLIST(&l)->len;
    *out = n ? weir_tvalue_copy(&VLIST(&l)->items[last ? n - 1 : 0])
             : weir_tvalue_undefined_hint(last ? "No last item, sequence was empty."
                                               : "No first item, sequence was empty.");
    weir_tvalue_free(l);
    return 0;
}

static int f_first(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{ WEIR_UNUSED(a); return end_item(r, in, out, err, 0); }
static int f_last(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{ WEIR_UNUSED(a); return end_item(r, in, out, err, 1); }

static int f_reverse(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(a);
    if (in->kind == WEIR_TVALUE_STRING) {
        weir_tvalue l;
        int rc = iter_list(r, in, &l, err);
        if (rc)
            return rc;
        weir_buf b = WEIR_BUF_INIT;
        for (size_t i = VLIST(&l)->len; i > 0; i--)
            weir_tvalue_to_buf(&VLIST(&l)->items[i - 1], &b);
        weir_tvalue_free(l);
        *out = weir_tvalue_string_buf(&b);
        weir_buf_release(&b);
        return 0;
    }
    weir_tvalue l;
    int rc = iter_list(r, in, &l, err);
    if (rc)
        return rc;
    *out = weir_tvalue_list();
    for (size_t i = VLIST(&l)->len; i > 0; i--)
        weir_tvalue_list_push(out, weir_tvalue_copy(&VLIST(&l)->items[i - 1]));
    weir_tvalue_free(l);
    return 0;
}

static int f_sort(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    weir_tvalue l;
    int rc = iter_list(r, in, &l, err);
    if (rc)
        return rc;
    rc = sort_list(r, &l, truthy_arg(a, 0, "reverse", 0), truthy_arg(a, 1, "case_sensitive", 0),
                   arg(a, 2, "attribute"), out, err);
    weir_tvalue_free(l);
    return rc;
}

static weir_tvalue fold_key(const weir_tvalue *v, int cs)
{
    if (!cs && v->kind == WEIR_TVALUE_STRING)
        return map_case(v, 1);
    return weir_tvalue_copy(v);
}

static int f_unique(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    int cs = truthy_arg(a, 0, "case_sensitive", 0);
    const weir_tvalue *attr = arg(a, 1, "attribute");
    weir_tvalue l, seen = weir_tvalue_dict();
    int rc = iter_list(r, in, &l, err);
    if (rc) {
        weir_tvalue_free(seen);
        return rc;
    }
    *out = weir_tvalue_list();
    for (size_t i = 0; i < VLIST(&l)->len && !rc; i++) {
        const weir_tvalue *x = &VLIST(&l)->items[i];
        weir_tvalue k;
        if (attr) {
            weir_tvalue t;
            if ((rc = get_path(r, x, attr, &t, err)))
                break;
            k = fold_key(&t, cs);
            weir_tvalue_free(t);
        } else
            k = fold_key(x, cs);
        if (k.kind >= WEIR_TVALUE_LIST && !weir_tvalue_is_tuple(&k)) {
            weir_tvalue_free(k);
            rc = weir_error_set(err, WEIR_EINVALID, "unhashable type");
            break;
        }
        if (!weir_tvalue_dict_getv(&seen, &k)) {
            weir_tvalue_dict_setv(&seen, k, weir_tvalue_none());
            weir_tvalue_list_push(out, weir_tvalue_copy(x));
        } else
            weir_tvalue_free(k);
    }
    weir_tvalue_free(l);
    weir_tvalue_free(seen);
    if (rc)
        weir_tvalue_free(*out);
    return rc;
}

static int minmax(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out,
                  weir_error *err, int want_max)
{
    int cs = truthy_arg(a, 0, "case_sensitive", 0);
    const weir_tvalue *attr = arg(a, 1, "attribute");
    weir_tvalue l;
    int rc = iter_list(r, in, &l, err);
    if (rc)
        return rc;
    weir_tvalue best = weir_tvalue_undefined(), bestk = weir_tvalue_undefined();
    for (size_t i = 0; i < VLIST(&l)->len && !rc; i++) {
        const weir_tvalue *x = &VLIST(&l)->items[i];
        weir_tvalue k;
        if (attr) {
            if ((rc = get_path(r, x, attr, &k, err)))
                break;
        } else
            k = weir_tvalue_copy(x);
        int c = 1;
        if (i && (rc = weir_tpl__compare(&k, &bestk, cs, &c, err))) {
            weir_tvalue_free(k);
            break;
        }
        if (!i || (want_max ? c > 0 : c < 0)) {
            weir_tvalue_free(best);
            weir_tvalue_free(bestk);
            best = weir_tvalue_copy(x);
            bestk = k;
        } else
            weir_tvalue_free(k);
    }
    size_t count = VLIST(&l)->len;
    weir_tvalue_free(l);
    weir_tvalue_free(bestk);
    if (rc) {
        weir_tvalue_free(best);
        return rc;
    }
    if (!count) {
        weir_tvalue_free(best);
        best = weir_tvalue_undefined_hint(want_max ? "No biggest item, sequence was empty."
                                                  : "No smallest item, sequence was empty.");
    }
    *out = best;
    return 0;
}

static int f_min(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{ return minmax(r, in, a, out, err, 0); }
static int f_max(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{ return minmax(r, in, a, out, err, 1); }

static int f_sum(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    const weir_tvalue *attr = arg(a, 0, "attribute"), *start = arg(a, 1, "start");
    weir_tvalue l;
    int rc = iter_list(r, in, &l, err);
    if (rc)
        return rc;
    int64_t si = 0;
    double sf = 0;
    int isf = 0;
    if (start) {
        if (start->kind == WEIR_TVALUE_FLOAT) { sf = start->u.f; isf = 1; }
        else if (start->kind == WEIR_TVALUE_INT) si = start->u.i;
    }
    for (size_t i = 0; i < VLIST(&l)->len && !rc; i++) {
        weir_tvalue x;
        if (attr) {
            if ((rc = get_path(r, &VLIST(&l)->items[i], attr, &x, err)))
                break;
        } else
            x = weir_tvalue_copy(&VLIST(&l)->items[i]);
        if (x.kind == WEIR_TVALUE_INT || x.kind == WEIR_TVALUE_BOOL) {
            int64_t v = x.kind == WEIR_TVALUE_INT ? x.u.i : x.u.b;
            if (isf)
                sf += (double)v;
            else if (__builtin_add_overflow(si, v, &si)) {
                isf = 1;
                sf = (double)si + (double)v;
            }
        } else if (x.kind == WEIR_TVALUE_FLOAT) {
            if (!isf) {
                sf = (double)si;
                isf = 1;
            }
            sf += x.u.f;
        } else
            rc = weir_error_set(err, WEIR_EINVALID, "unsupported operand type(s) for +: 'int' and '%s'",
                                weir_tvalue_type_name(&x));
        weir_tvalue_free(x);
    }
    weir_tvalue_free(l);
    if (!rc)
        *out = isf ? weir_tvalue_float(sf) : weir_tvalue_int(si);
    return rc;
}

static int parse_int_str(const char *s, int base, int64_t *out)
{
    while (is_space((unsigned char)*s))
        s++;
    char buf[128];
    size_t k = 0;
    for (; *s && k < sizeof(buf) - 1; s++)
        if (*s != '_')
            buf[k++] = *s;
    buf[k] = '\0';
    while (k && is_space((unsigned char)buf[k - 1]))
        buf[--k] = '\0';
    if (!k)
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, base);
    if (*end || errno)
        return -1;
    *out = v;
    return 0;
}

static int f_int(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(r);
    int64_t dflt, base;
    if (int_arg(a, 0, "default", 0, &dflt, err) || int_arg(a, 1, "base", 10, &base, err))
        return WEIR_EINVALID;
    if (base != 0 && (base < 2 || base > 36))
        base = 10;
    if (in->kind == WEIR_TVALUE_UNDEFINED)
        return weir_error_set(err, WEIR_EINVALID, "%s", weir_tvalue_undefined_message(in));
    switch (in->kind) {
    case WEIR_TVALUE_INT: *out = *in; return 0;
    case WEIR_TVALUE_BOOL: *out = weir_tvalue_int(in->u.b); return 0;
    case WEIR_TVALUE_FLOAT:
        *out = isfinite(in->u.f) && fabs(in->u.f) < 9e18 ? weir_tvalue_int((int64_t)in->u.f)
                                                          : weir_tvalue_int(dflt);
        return 0;
    case WEIR_TVALUE_STRING: {
        int64_t v;
        if (!parse_int_str(VSTR(in)->data, (int)base, &v)) {
            *out = weir_tvalue_int(v);
            return 0;
        }
        char *end;
        double d = strtod(VSTR(in)->data, &end);
        while (is_space((unsigned char)*end))
            end++;
        if (end != VSTR(in)->data && !*end && isfinite(d) && fabs(d) < 9e18) {
            *out = weir_tvalue_int((int64_t)d);
            return 0;
        }
        break;
    }
    default:
        break;
    }
    *out = weir_tvalue_int(dflt);
    return 0;
}

static int f_float(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(r);
    const weir_tvalue *d = arg(a, 0, "default");
    double dflt = 0;
    if (in->kind == WEIR_TVALUE_UNDEFINED)
        return weir_error_set(err, WEIR_EINVALID, "%s", weir_tvalue_undefined_message(in));
    if (d && d->kind == WEIR_TVALUE_FLOAT) dflt = d->u.f;
    else if (d && d->kind == WEIR_TVALUE_INT) dflt = (double)d->u.i;
    switch (in->kind) {
    case WEIR_TVALUE_INT: *out = weir_tvalue_float((double)in->u.i); return 0;
    case WEIR_TVALUE_BOOL: *out = weir_tvalue_float(in->u.b); return 0;
    case WEIR_TVALUE_FLOAT: *out = *in; return 0;
    case WEIR_TVALUE_STRING: {
        const char *s = VSTR(in)->data;
        char *end;
        while (is_space((unsigned char)*s))
            s++;
        double v = strtod(s, &end);
        while (is_space((unsigned char)*end))
            end++;
        if (end != s && !*end && !(s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))) {
            *out = weir_tvalue_float(v);
            return 0;
        }
        break;
    }
    default:
        break;
    }
    *out = weir_tvalue_float(dflt);
    return 0;
}

static int f_abs(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(r); WEIR_UNUSED(a);
    if (in->kind == WEIR_TVALUE_INT)
        *out = in->u.i == INT64_MIN ? weir_tvalue_float(9223372036854775808.0)
                                    : weir_tvalue_int(in->u.i < 0 ? -in->u.i : in->u.i);
    else if (in->kind == WEIR_TVALUE_BOOL)
        *out = weir_tvalue_int(in->u.b);
    else if (in->kind == WEIR_TVALUE_FLOAT)
        *out = weir_tvalue_float(fabs(in->u.f));
    else
        return weir_error_set(err, WEIR_EINVALID, "bad operand type for abs(): '%s'",
                              weir_tvalue_type_name(in));
    return 0;
}

/* v as a double when it is a number (a bool counts, as in Python); -1 if not */
static int num_double(const weir_tvalue *v, double *out)
{
    if (v->kind == WEIR_TVALUE_INT) *out = (double)v->u.i;
    else if (v->kind == WEIR_TVALUE_BOOL) *out = v->u.b;
    else if (v->kind == WEIR_TVALUE_FLOAT) *out = v->u.f;
    else
        return -1;
    return 0;
}

static int f_round(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(r);
    int64_t prec;
    if (int_arg(a, 0, "precision", 0, &prec, err))
        return WEIR_EINVALID;
    const weir_tvalue *m = arg(a, 1, "method");
    const char *method = m ? weir_tvalue_str(m) : "common";
    double v;
    if (num_double(in, &v))
        return weir_error_set(err, WEIR_EINVALID, "round() needs a number, not '%s'",
                              weir_tvalue_type_name(in));
    if (prec > 300) prec = 300;
    if (prec < -300) prec = -300;
    double f = pow(10.0, (double)prec);
    double res;
    if (!strcmp(method, "common")) {
        /* Python's round(): ints stay ints; floats round the exact binary
         * value half to even, which is what printf does */
        if (in->kind != WEIR_TVALUE_FLOAT && prec >= 0) {
            *out = in->kind == WEIR_TVALUE_BOOL ? weir_tvalue_int(in->u.b) : *in;
            return 0;
        }
        if (prec >= 0 && prec <= 17 && isfinite(v)) {
            char buf[400];
            snprintf(buf, sizeof(buf), "%.*f", (int)prec, v);
            res = strtod(buf, NULL);
        } else
            res = nearbyint(v * f) / f;
    } else if (!strcmp(method, "ceil"))
        res = ceil(v * f) / f;
    else if (!strcmp(method, "floor"))
        res = floor(v * f) / f;
    else
        return weir_error_set(err, WEIR_EINVALID, "method must be common, ceil or floor");
    *out = weir_tvalue_float(res);
    return 0;
}

/*
 * The indexes of dict d's entries in the order of their keys (a stable
 * insertion sort; keys that do not compare keep their place), for tojson and
 * pprint, which sort keys. The caller frees it.
 */
static size_t *sorted_keys(const weir_tvalue *d)
{
    size_t n = VDICT(d)->len;
    size_t *ord = weir_xmalloc((n ? n : 1) * sizeof(size_t));
    for (size_t i = 0; i < n; i++)
        ord[i] = i;
    for (size_t i = 1; i < n; i++) {
        size_t x = ord[i], j = i;
        while (j > 0) {
            int c = 0;
            if (weir_tpl__compare(&VDICT(d)->e[ord[j - 1]].key, &VDICT(d)->e[x].key, 1, &c, NULL) ||
                c <= 0)
                break;
            ord[j] = ord[j - 1];
            j--;
        }
        ord[j] = x;
    }
    return ord;
}

/* Before item i of a JSON array or object: "," after the first, then with an
 * indent a new line at the item's depth, else " " */
static void json_item_sep(weir_buf *b, size_t i, int indent, int level)
{
    if (i)
        weir_buf_addch(b, ',');
    if (indent >= 0) {
        weir_buf_addch(b, '\n');
        weir_buf_addchars(b, ' ', (size_t)(indent * (level + 1)));
    } else if (i)
        weir_buf_addch(b, ' ');
}

/* After the n items of a JSON array or object: with an indent and items, a
 * new line at the container's depth; then the closing bracket */
static void json_close(weir_buf *b, size_t n, int indent, int level, char close)
{
    if (indent >= 0 && n) {
        weir_buf_addch(b, '\n');
        weir_buf_addchars(b, ' ', (size_t)(indent * level));
    }
    weir_buf_addch(b, close);
}

/* JSON as Jinja's tojson writes it: sorted keys, ", " and ": ", HTML-safe. */
static int json_write(const weir_tvalue *v, weir_buf *b, int indent, int level, weir_error *err)
{
    switch (v->kind) {
    case WEIR_TVALUE_NONE:
        weir_buf_adds(b, "null");
        return 0;
    case WEIR_TVALUE_UNDEFINED:
        return weir_error_set(err, WEIR_EINVALID, "%s", weir_tvalue_undefined_message(v));
    case WEIR_TVALUE_BOOL:
        weir_buf_adds(b, v->u.b ? "true" : "false");
        return 0;
    case WEIR_TVALUE_INT:
    case WEIR_TVALUE_FLOAT:
        if (v->kind == WEIR_TVALUE_FLOAT && isnan(v->u.f))
            weir_buf_adds(b, "NaN");
        else if (v->kind == WEIR_TVALUE_FLOAT && isinf(v->u.f))
            weir_buf_adds(b, v->u.f < 0 ? "-Infinity" : "Infinity");
        else
            weir_tvalue_to_buf(v, b);
        return 0;
    case WEIR_TVALUE_STRING: {
        const unsigned char *p = (const unsigned char *)VSTR(v)->data;
        size_t n = VSTR(v)->len;
        weir_buf_addch(b, '"');
        for (size_t i = 0; i < n; i++) {
            unsigned c = p[i];
            if (c == '"') weir_buf_adds(b, "\\\"");
            else if (c == '\\') weir_buf_adds(b, "\\\\");
            else if (c == '\n') weir_buf_adds(b, "\\n");
            else if (c == '\r') weir_buf_adds(b, "\\r");
            else if (c == '\t') weir_buf_adds(b, "\\t");
            else if (c == '\b') weir_buf_adds(b, "\\b");
            else if (c == '\f') weir_buf_adds(b, "\\f");
            else if (c < 0x20 || c == '<' || c == '>' || c == '&' || c == '\'')
                weir_buf_addf(b, "\\u%04x", c);
            else if (c < 0x80)
                weir_buf_addch(b, (int)c);
            else {
                /* ensure_ascii: decode UTF-8 and write \\u escapes */
                uint32_t cp;
                size_t extra;
                if ((c & 0xe0) == 0xc0) { cp = c & 0x1f; extra = 1; }
                else if ((c & 0xf0) == 0xe0) { cp = c & 0x0f; extra = 2; }
                else if ((c & 0xf8) == 0xf0) { cp = c & 0x07; extra = 3; }
                else { cp = 0xfffd; extra = 0; }
                for (size_t k = 0; k < extra && i + 1 < n; k++)
                    cp = (cp << 6) | (p[++i] & 0x3f);
                if (cp >= 0x10000) {
                    cp -= 0x10000;
                    weir_buf_addf(b, "\\u%04x\\u%04x", 0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
                } else
                    weir_buf_addf(b, "\\u%04x", cp);
            }
        }
        weir_buf_addch(b, '"');
        return 0;
    }
    case WEIR_TVALUE_LIST: {
        size_t n = VLIST(v)->len;
        weir_buf_addch(b, '[');
        for (size_t i = 0; i < n; i++) {
            json_item_sep(b, i, indent, level);
            if (level > 100)
                return weir_error_set(err, WEIR_EINVALID, "value is nested too deeply for tojson");
            int rc = json_write(&VLIST(v)->items[i], b, indent, level + 1, err);
            if (rc)
                return rc;
        }
        json_close(b, n, indent, level, ']');
        return 0;
    }
    case WEIR_TVALUE_DICT: {
        size_t n = VDICT(v)->len;
        if (VDICT(v)->display) {
            /* a host object serialises as the text it prints as */
            weir_tvalue t = weir_tvalue_string(VDICT(v)->display);
            int rc = json_write(&t, b, indent, level, err);
            weir_tvalue_free(t);
            return rc;
        }
        size_t *ord = sorted_keys(v); /* sort_keys=True */
        weir_buf_addch(b, '{');
        int rc = 0;
        for (size_t k = 0; k < n && !rc; k++) {
            size_t i = ord[k];
            json_item_sep(b, k, indent, level);
            weir_tvalue ks = to_string(&VDICT(v)->e[i].key);
            json_write(&ks, b, indent, level + 1, err);
            weir_tvalue_free(ks);
            weir_buf_adds(b, ": ");
            if (level > 100)
                rc = weir_error_set(err, WEIR_EINVALID, "value is nested too deeply for tojson");
            else
                rc = json_write(&VDICT(v)->e[i].val, b, indent, level + 1, err);
        }
        free(ord);
        if (rc)
            return rc;
        json_close(b, n, indent, level, '}');
        return 0;
    }
    default:
        return weir_error_set(err, WEIR_EINVALID, "Object of type %s is not JSON serializable",
                              weir_tvalue_type_name(v));
    }
}

static int f_tojson(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(r);
    int64_t indent;
    if (int_arg(a, 0, "indent", -1, &indent, err))
        return WEIR_EINVALID;
    if (indent > 64)
        indent = 64;
    weir_buf b = WEIR_BUF_INIT;
    int rc = json_write(in, &b, (int)indent, 0, err);
    if (!rc)
        *out = weir_tvalue_string_buf(&b);
    weir_buf_release(&b);
    return rc;
}

static int f_indent(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    if (strict_undef(r, in, err))
        return WEIR_EINVALID;
    if (in->kind != WEIR_TVALUE_STRING && in->kind != WEIR_TVALUE_UNDEFINED)
        return weir_error_set(err, WEIR_EINVALID, "indent() needs a string, not %s",
                              weir_tvalue_type_name(in));
    const weir_tvalue *w = arg(a, 0, "width");
    int first = truthy_arg(a, 1, "first", 0), blank = truthy_arg(a, 2, "blank", 0);
    weir_tvalue ind;
    if (w && w->kind == WEIR_TVALUE_STRING)
        ind = weir_tvalue_copy(w);
    else {
        int64_t n;
        if (int_arg(a, 0, "width", 4, &n, err))
            return WEIR_EINVALID;
        if (n < 0) n = 0;
        if (n > 1000) n = 1000;
        ind = weir_tvalue__string_alloc((size_t)n);
        memset(VSTR(&ind)->data, ' ', (size_t)n);
    }
    weir_tvalue s = to_string(in);
    const char *p = VSTR(&s)->data;
    size_t n = VSTR(&s)->len;
    weir_buf b = WEIR_BUF_INIT;
    /* Jinja2 splits s + "\n" into lines: every "\n" ends one, so a final
     * newline of s leaves an empty last line. The first line is indented
     * only with first; the others unless empty (or with blank). */
    size_t i = 0;
    for (int line = 0; i <= n; line++) {
        const char *e = memchr(p + i, '\n', n - i);
        size_t end = e ? (size_t)(e - p) : n;
        if (line)
            weir_buf_addch(&b, '\n');
        if (line ? (end > i || blank) : first)
            weir_buf_add(&b, VSTR(&ind)->data, VSTR(&ind)->len);
        weir_buf_add(&b, p + i, end - i);
        i = end + 1;
    }
    weir_tvalue_free(s);
    weir_tvalue_free(ind);
    *out = weir_tvalue_string_buf(&b);
    weir_buf_release(&b);
    return 0;
}

static int f_batch(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    int64_t n;
    if (int_arg(a, 0, "linecount", 1, &n, err))
        return WEIR_EINVALID;
    if (n <= 0)
        return weir_error_set(err, WEIR_EINVALID, "batch size must be positive");
    const weir_tvalue *fill = arg(a, 1, "fill_with");
    weir_tvalue l;
    int rc = iter_list(r, in, &l, err);
    if (rc)
        return rc;
    *out = weir_tvalue_list();
    weir_tvalue cur = weir_tvalue_list();
    for (size_t i = 0; i < VLIST(&l)->len; i++) {
        weir_tvalue_list_push(&cur, weir_tvalue_copy(&VLIST(&l)->items[i]));
        if ((int64_t)VLIST(&cur)->len == n) {
            weir_tvalue_list_push(out, cur);
            cur = weir_tvalue_list();
        }
    }
    if (VLIST(&cur)->len) {
        if (fill)
            while ((int64_t)VLIST(&cur)->len < n)
                weir_tvalue_list_push(&cur, weir_tvalue_copy(fill));
        weir_tvalue_list_push(out, cur);
    } else
        weir_tvalue_free(cur);
    weir_tvalue_free(l);
    return 0;
}

static int f_slice(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    int64_t slices;
    if (int_arg(a, 0, "slices", 1, &slices, err))
        return WEIR_EINVALID;
    if (slices <= 0 || slices > 100000)
        return weir_error_set(err, WEIR_EINVALID, "slices must be positive");
    const weir_tvalue *fill = arg(a, 1, "fill_with");
    weir_tvalue l;
    int rc = iter_list(r, in, &l, err);
    if (rc)
        return rc;
    int64_t len = (int64_t)VLIST(&l)->len, per = len / slices, extra = len % slices, off = 0;
    *out = weir_tvalue_list();
    for (int64_t s = 0; s < slices; s++) {
        int64_t start = off + s * per, end = start + per;
        if (s < extra)
            off++;
        if (s < extra)
            end++;
        weir_tvalue part = weir_tvalue_list();
        for (int64_t i = start; i < end; i++)
            weir_tvalue_list_push(&part, weir_tvalue_copy(&VLIST(&l)->items[i]));
        if (fill && s >= extra)
            weir_tvalue_list_push(&part, weir_tvalue_copy(fill));
        weir_tvalue_list_push(out, part);
    }
    weir_tvalue_free(l);
    return 0;
}

/* Entry i of dict d as a (key, value) tuple, as items() gives it */
static weir_tvalue item_tuple(const weir_tvalue *d, size_t i)
{
    weir_tvalue t = weir_tvalue_tuple();
    weir_tvalue_list_push(&t, weir_tvalue_copy(&VDICT(d)->e[i].key));
    weir_tvalue_list_push(&t, weir_tvalue_copy(&VDICT(d)->e[i].val));
    return t;
}

static int f_items(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(a);
    if (in->kind == WEIR_TVALUE_UNDEFINED) {
        if (strict_undef(r, in, err))
            return WEIR_EINVALID;
        *out = weir_tvalue_list();
        return 0;
    }
    if (in->kind != WEIR_TVALUE_DICT)
        return weir_error_set(err, WEIR_EINVALID, "can only get item pairs from a mapping");
    *out = weir_tvalue_list();
    for (size_t i = 0; i < VDICT(in)->len; i++)
        weir_tvalue_list_push(out, item_tuple(in, i));
    return 0;
}

static int f_dictsort(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    int cs = truthy_arg(a, 0, "case_sensitive", 0);
    const weir_tvalue *by = arg(a, 1, "by");
    int reverse = truthy_arg(a, 2, "reverse", 0);
    int pos = 0;
    if (by && !strcmp(weir_tvalue_str(by), "value"))
        pos = 1;
    else if (by && strcmp(weir_tvalue_str(by), "key"))
        return weir_error_set(err, WEIR_EINVALID, "You can only sort by either \"key\" or \"value\"");
    weir_tvalue items;
    if (in->kind == WEIR_TVALUE_UNDEFINED)
        return weir_error_set(err, WEIR_EINVALID, "%s", weir_tvalue_undefined_message(in));
    int rc = f_items(r, in, a, &items, err);
    if (rc)
        return rc;
    weir_tvalue idx = weir_tvalue_int(pos);
    rc = sort_list(r, &items, reverse, cs, &idx, out, err);
    weir_tvalue_free(items);
    return rc;
}

/*
 * The input of map and the select family as a list in *l. Jinja2 skips a
 * falsy input (other than undefined) without iterating it: then *out is
 * already the result, [], and *l is undefined.
 */
static int iter_truthy(render *r, const weir_tvalue *in, weir_tvalue *l, weir_tvalue *out,
                       weir_error *err)
{
    if (!weir_tvalue_truthy(in) && in->kind != WEIR_TVALUE_UNDEFINED) {
        *l = weir_tvalue_undefined();
        *out = weir_tvalue_list();
        return 0;
    }
    return iter_list(r, in, l, err);
}

/* map(attribute='x', default=d) or map('filter', args...) */
static int f_map(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    weir_tvalue l;
    int rc = iter_truthy(r, in, &l, out, err);
    if (rc || l.kind != WEIR_TVALUE_LIST)
        return rc;
    const weir_tvalue *attr;
    weir_args_get(a, (size_t)-1, "attribute", &attr);
    *out = weir_tvalue_list();
    if (attr) {
        const weir_tvalue *dflt;
        weir_args_get(a, (size_t)-1, "default", &dflt);
        for (size_t i = 0; i < VLIST(&l)->len && !rc; i++) {
            weir_tvalue x;
            if ((rc = get_path(r, &VLIST(&l)->items[i], attr, &x, err)))
                break;
            if (x.kind == WEIR_TVALUE_UNDEFINED && dflt) {
                weir_tvalue_free(x);
                x = weir_tvalue_copy(dflt);
            }
            weir_tvalue_list_push(out, x);
        }
    } else if (a->npos) {
        const char *fname = weir_tvalue_str(&a->pos[0]);
        weir_args rest = *a;
        rest.pos++;
        rest.npos--;
        for (size_t i = 0; i < VLIST(&l)->len && !rc; i++) {
            weir_tvalue x;
            if ((rc = weir_tpl__apply_filter(r, fname, &VLIST(&l)->items[i], &rest, &x, err)))
                break;
            weir_tvalue_list_push(out, x);
        }
    } else {
        for (size_t i = 0; i < VLIST(&l)->len; i++)
            weir_tvalue_list_push(out, weir_tvalue_copy(&VLIST(&l)->items[i]));
    }
    weir_tvalue_free(l);
    if (rc)
        weir_tvalue_free(*out);
    return rc;
}

static int select_common(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out,
                         weir_error *err, int want, int by_attr)
{
    weir_tvalue l;
    int rc = iter_truthy(r, in, &l, out, err);
    if (rc || l.kind != WEIR_TVALUE_LIST)
        return rc;
    size_t k = 0;
    const weir_tvalue *attr = NULL;
    if (by_attr) {
        if (!a->npos) {
            weir_tvalue_free(l);
            return weir_error_set(err, WEIR_EINVALID, "missing parameter for attribute name");
        }
        attr = &a->pos[k++];
    }
    const char *test = k < a->npos ? weir_tvalue_str(&a->pos[k++]) : NULL;
    weir_args rest = *a;
    rest.pos += k;
    rest.npos -= k;
    *out = weir_tvalue_list();
    for (size_t i = 0; i < VLIST(&l)->len && !rc; i++) {
        const weir_tvalue *x = &VLIST(&l)->items[i];
        weir_tvalue v = weir_tvalue_copy(x);
        if (attr) {
            weir_tvalue_free(v);
            if ((rc = get_path(r, x, attr, &v, err)))
                break;
        }
        int res;
        if (test)
            rc = weir_tpl__apply_test(r, test, &v, &rest, &res, err);
        else
            res = weir_tvalue_truthy(&v);
        weir_tvalue_free(v);
        if (!rc && !!res == want)
            weir_tvalue_list_push(out, weir_tvalue_copy(x));
    }
    weir_tvalue_free(l);
    if (rc)
        weir_tvalue_free(*out);
    return rc;
}

static int f_select(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{ return select_common(r, in, a, out, err, 1, 0); }
static int f_reject(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{ return select_common(r, in, a, out, err, 0, 0); }
static int f_selectattr(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{ return select_common(r, in, a, out, err, 1, 1); }
static int f_rejectattr(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{ return select_common(r, in, a, out, err, 0, 1); }

static int f_attr(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    const weir_tvalue *name = arg(a, 0, "name");
    if (!name)
        return weir_error_set(err, WEIR_EINVALID, "attr() takes a name");
    /* attr() looks up attributes only, never dict items */
    if (in->kind == WEIR_TVALUE_DICT && !weir_tvalue_is_namespace(in) && !weir_tvalue_is_object(in) &&
        weir_tpl__find_method(in, weir_tvalue_str(name)) < 0) {
        *out = weir_tvalue_undefined_hint("no such attribute");
        return 0;
    }
    return weir_tpl__getattr(r, in, weir_tvalue_str(name), out, err);
}

static int f_format(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(r);
    /* "%s, %s"|format(a, b) is the % operator; keywords make a dict */
    weir_tvalue t;
    if (a->nkw && !a->npos) {
        t = weir_tvalue_dict();
        for (size_t i = 0; i < a->nkw; i++)
            weir_tvalue_dict_set(&t, a->kw_names[i], weir_tvalue_copy(&a->kw[i]));
    } else {
        t = weir_tvalue_tuple();
        for (size_t i = 0; i < a->npos; i++)
            weir_tvalue_list_push(&t, weir_tvalue_copy(&a->pos[i]));
    }
    weir_tvalue s = to_string(in);
    int rc = weir_tpl__percent(&s, &t, out, err);
    weir_tvalue_free(s);
    weir_tvalue_free(t);
    return rc;
}

static int f_wordcount(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(r); WEIR_UNUSED(a); WEIR_UNUSED(err);
    weir_tvalue s = to_string(in);
    int64_t n = 0;
    int inword = 0;
    for (size_t i = 0; i < VSTR(&s)->len; i++) {
        unsigned char c = (unsigned char)VSTR(&s)->data[i];
        int w = isalnum(c) || c == '_' || c >= 0x80;
        if (w && !inword)
            n++;
        inword = w;
    }
    weir_tvalue_free(s);
    *out = weir_tvalue_int(n);
    return 0;
}

static int f_center(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(r);
    int64_t width;
    if (int_arg(a, 0, "width", 80, &width, err))
        return WEIR_EINVALID;
    weir_tvalue s = to_string(in);
    int64_t len = (int64_t)utf8_len(VSTR(&s)->data, VSTR(&s)->len);
    if (width > 100000)
        width = 100000;
    if (width <= len) {
        *out = s;
        return 0;
    }
    int64_t pad = width - len, left = pad / 2 + (pad & width & 1);
    weir_buf b = WEIR_BUF_INIT;
    weir_buf_addchars(&b, ' ', (size_t)left);
    weir_buf_add(&b, VSTR(&s)->data, VSTR(&s)->len);
    weir_buf_addchars(&b, ' ', (size_t)(pad - left));
    weir_tvalue_free(s);
    *out = weir_tvalue_string_buf(&b);
    weir_buf_release(&b);
    return 0;
}

static int f_truncate(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(r);
    int64_t length, leeway;
    if (int_arg(a, 0, "length", 255, &length, err) || int_arg(a, 3, "leeway", 5, &leeway, err))
        return WEIR_EINVALID;
    int killwords = truthy_arg(a, 1, "killwords", 0);
    const weir_tvalue *endv = arg(a, 2, "end");
    if (in->kind == WEIR_TVALUE_LIST || in->kind == WEIR_TVALUE_DICT) {
        /* Jinja2 measures them with len() and slices: short ones pass */
        size_t n = in->kind == WEIR_TVALUE_LIST ? VLIST(in)->len : VDICT(in)->len;
        if ((int64_t)n <= length + leeway) {
            *out = weir_tvalue_copy(in);
            return 0;
        }
        return weir_error_set(err, WEIR_EINVALID, "cannot truncate a %s", weir_tvalue_type_name(in));
    }
    if (in->kind != WEIR_TVALUE_STRING && in->kind != WEIR_TVALUE_UNDEFINED)
        return weir_error_set(err, WEIR_EINVALID, "object of type '%s' has no len()",
                              weir_tvalue_type_name(in));
    weir_tvalue s = to_string(in);
    const char *end = endv ? weir_tvalue_str(endv) : "...";
    int64_t n = (int64_t)VSTR(&s)->len, en = (int64_t)strlen(end);
    if (n <= length + leeway) {
        *out = s;
        return 0;
    }
    int64_t keep = length - en;
    if (keep < 0)
        keep = 0;
    weir_buf b = WEIR_BUF_INIT;
    if (keep > n)
        keep = n;
    const char *p = VSTR(&s)->data;
    int64_t cut = keep;
    if (!killwords) {
        /* s[:keep].rsplit(' ', 1)[0] */
        int64_t sp = keep;
        while (sp > 0 && p[sp - 1] != ' ')
            sp--;
        if (sp > 0)
            cut = sp - 1;
    }
    weir_buf_add(&b, p, (size_t)cut);
    weir_buf_adds(&b, end);
    weir_tvalue_free(s);
    *out = weir_tvalue_string_buf(&b);
    weir_buf_release(&b);
    return 0;
}

/* Python's pprint for values that fit a line: repr with dict keys sorted */
static void pp(const weir_tvalue *v, weir_buf *b, int depth)
{
    if (depth > WEIR_TVALUE_MAX_DEPTH || (v->kind != WEIR_TVALUE_DICT && v->kind != WEIR_TVALUE_LIST) ||
        weir_tvalue_is_namespace(v) || weir_tvalue_is_object(v)) {
        weir_tvalue_repr_buf(v, b);
        return;
    }
    if (v->kind == WEIR_TVALUE_LIST) {
        int tuple = weir_tvalue_is_tuple(v);
        weir_buf_addch(b, tuple ? '(' : '[');
        for (size_t i = 0; i < VLIST(v)->len; i++) {
            if (i)
                weir_buf_adds(b, ", ");
            pp(&VLIST(v)->items[i], b, depth + 1);
        }
        if (tuple && VLIST(v)->len == 1)
            weir_buf_addch(b, ',');
        weir_buf_addch(b, tuple ? ')' : ']');
        return;
    }
    size_t n = VDICT(v)->len;
    size_t *ord = sorted_keys(v);
    weir_buf_addch(b, '{');
    for (size_t k = 0; k < n; k++) {
        if (k)
            weir_buf_adds(b, ", ");
        weir_tvalue_repr_buf(&VDICT(v)->e[ord[k]].key, b);
        weir_buf_adds(b, ": ");
        pp(&VDICT(v)->e[ord[k]].val, b, depth + 1);
    }
    weir_buf_addch(b, '}');
    free(ord);
}

static int f_pprint(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(r); WEIR_UNUSED(a); WEIR_UNUSED(err);
    weir_buf b = WEIR_BUF_INIT;
    pp(in, &b, 0);
    *out = weir_tvalue_string_buf(&b);
    weir_buf_release(&b);
    return 0;
}

/* Ends one group of groupby: (key, group) onto out, when a group was begun
 * (group not undefined). Consumes key and group. */
static void push_group(weir_tvalue *out, weir_tvalue key, weir_tvalue group)
{
    if (group.kind != WEIR_TVALUE_UNDEFINED) {
        weir_tvalue t = weir_tvalue_tuple();
        weir_tvalue_list_push(&t, key);
        weir_tvalue_list_push(&t, group);
        weir_tvalue_list_push(out, t);
    } else
        weir_tvalue_free(key);
}

static int f_groupby(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    const weir_tvalue *attr = arg(a, 0, "attribute");
    if (!attr)
        return weir_error_set(err, WEIR_EINVALID, "groupby() takes an attribute");
    weir_tvalue sorted, l;
    int rc = iter_list(r, in, &l, err);
    if (rc)
        return rc;
    rc = sort_list(r, &l, 0, 1, attr, &sorted, err);
    weir_tvalue_free(l);
    if (rc)
        return rc;
    *out = weir_tvalue_list();
    weir_tvalue group = weir_tvalue_undefined(), key = weir_tvalue_undefined();
    for (size_t i = 0; i < VLIST(&sorted)->len && !rc; i++) {
        weir_tvalue k;
        if ((rc = get_path(r, &VLIST(&sorted)->items[i], attr, &k, err)))
            break;
        if (k.kind == WEIR_TVALUE_UNDEFINED && VLIST(&sorted)->len > 1) {
            /* Jinja2 fails too: it cannot sort by a missing attribute */
            rc = weir_error_set(err, WEIR_EINVALID, "%s", weir_tvalue_undefined_message(&k));
            weir_tvalue_free(k);
            break;
        }
        if (group.kind == WEIR_TVALUE_UNDEFINED || !weir_tvalue_equal(&k, &key)) {
            push_group(out, key, group);
            group = weir_tvalue_list();
            key = k;
        } else
            weir_tvalue_free(k);
        weir_tvalue_list_push(&group, weir_tvalue_copy(&VLIST(&sorted)->items[i]));
    }
    push_group(out, key, group);
    weir_tvalue_free(sorted);
    if (rc) {
        /* callers do not free *out on an error */
        weir_tvalue_free(*out);
        *out = weir_tvalue_undefined();
    }
    return rc;
}

/* urlencode: percent-encodes UTF-8 bytes except unreserved ones and "/";
 * in query strings (for_qs) "/" is encoded too and a space becomes "+" */
static void url_quote(const char *p, size_t n, int for_qs, weir_buf *b)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (for_qs && c == ' ')
            weir_buf_addch(b, '+');
        else if (isalnum(c) || c == '_' || c == '.' || c == '-' || c == '~' || (!for_qs && c == '/'))
            weir_buf_addch(b, c);
        else
            weir_buf_addf(b, "%%%02X", c);
    }
}

static int f_urlencode(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(r); WEIR_UNUSED(a); WEIR_UNUSED(err);
    weir_buf b = WEIR_BUF_INIT;
    if (in->kind == WEIR_TVALUE_DICT || (in->kind == WEIR_TVALUE_LIST && !weir_tvalue_is_tuple(in))) {
        size_t n = in->kind == WEIR_TVALUE_DICT ? VDICT(in)->len : VLIST(in)->len;
        for (size_t i = 0; i < n; i++) {
            const weir_tvalue *k, *v;
            if (in->kind == WEIR_TVALUE_DICT) {
                k = &VDICT(in)->e[i].key;
                v = &VDICT(in)->e[i].val;
            } else {
                const weir_tvalue *pair = &VLIST(in)->items[i];
                if (pair->kind != WEIR_TVALUE_LIST || VLIST(pair)->len != 2) {
                    weir_buf_release(&b);
                    return weir_error_set(err, WEIR_EINVALID, "urlencode needs pairs");
                }
                k = &VLIST(pair)->items[0];
                v = &VLIST(pair)->items[1];
            }
            if (i)
                weir_buf_addch(&b, '&');
            weir_tvalue ks = to_string(k), vs = to_string(v);
            url_quote(VSTR(&ks)->data, VSTR(&ks)->len, 1, &b);
            weir_buf_addch(&b, '=');
            url_quote(VSTR(&vs)->data, VSTR(&vs)->len, 1, &b);
            weir_tvalue_free(ks);
            weir_tvalue_free(vs);
        }
    } else {
        weir_tvalue s = to_string(in);
        url_quote(VSTR(&s)->data, VSTR(&s)->len, 0, &b);
        weir_tvalue_free(s);
    }
    *out = weir_tvalue_string_buf(&b);
    weir_buf_release(&b);
    return 0;
}

/* striptags: drops comments and tags, joins the words with single spaces */
static int f_striptags(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(r); WEIR_UNUSED(a); WEIR_UNUSED(err);
    weir_tvalue s = to_string(in);
    const char *p = VSTR(&s)->data;
    size_t n = VSTR(&s)->len;
    weir_buf text = WEIR_BUF_INIT, b = WEIR_BUF_INIT;
    for (size_t i = 0; i < n;) {
        if (p[i] == '<' && i + 3 < n && !memcmp(p + i, "<!--", 4)) {
            const char *e = weir_tpl__memmem(p + i + 4, n - i - 4, "-->", 3);
            if (e) {
                i = (size_t)(e - p) + 3;
                continue;
            }
        }
        if (p[i] == '<') {
            const char *e = memchr(p + i + 1, '>', n - i - 1);
            if (e && e > p + i + 1) {
                i = (size_t)(e - p) + 1;
                continue;
            }
        }
        weir_buf_addch(&text, p[i++]);
    }
    /* collapse whitespace */
    int pending = 0;
    for (size_t i = 0; i < text.len; i++) {
        if (is_space((unsigned char)text.ptr[i])) {
            pending = b.len > 0;
            continue;
        }
        if (pending)
            weir_buf_addch(&b, ' ');
        pending = 0;
        weir_buf_addch(&b, text.ptr[i]);
    }
    weir_tvalue_free(s);
    weir_buf_release(&text);
    *out = weir_tvalue_string_buf(&b);
    weir_buf_release(&b);
    return 0;
}

static int f_filesizeformat(render *r, const weir_tvalue *in, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(r);
    int binary = truthy_arg(a, 0, "binary", 0);
    double bytes;
    if (in->kind == WEIR_TVALUE_INT) bytes = (double)in->u.i;
    else if (in->kind == WEIR_TVALUE_FLOAT) bytes = in->u.f;
    else if (in->kind == WEIR_TVALUE_STRING) bytes = strtod(VSTR(in)->data, NULL);
    else
        return weir_error_set(err, WEIR_EINVALID, "filesizeformat needs a number");
    static const char *const dec[] = { "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB" };
    static const char *const bin[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB" };
    double base = binary ? 1024 : 1000;
    weir_buf b = WEIR_BUF_INIT;
    if (bytes == 1)
        weir_buf_adds(&b, "1 Byte");
    else if (bytes < base) {
        weir_buf_addf(&b, "%d Bytes", (int)bytes);
    } else {
        int k = 0;
        double unit = base * base;
        while (k < 7 && bytes >= unit) {
            unit *= base;
            k++;
        }
        weir_buf_addf(&b, "%.1f %s", base * bytes / unit, binary ? bin[k] : dec[k]);
    }
    *out = weir_tvalue_string_buf(&b);
    weir_buf_release(&b);
    return 0;
}

static const struct {
    const char *name;
    ffn fn;
} filters[] = {
    { "abs", f_abs }, { "attr", f_attr }, { "batch", f_batch }, { "capitalize", f_capitalize },
    { "center", f_center }, { "count", f_length }, { "d", f_default }, { "default", f_default },
    { "dictsort", f_dictsort }, { "e", f_escape }, { "escape", f_escape },
    { "filesizeformat", f_filesizeformat }, { "forceescape", f_escape },
    { "first", f_first }, { "float", f_float }, { "format", f_format }, { "groupby", f_groupby },
    { "indent", f_indent }, { "int", f_int }, { "items", f_items }, { "join", f_join },
    { "last", f_last }, { "length", f_length }, { "list", f_list }, { "lower", f_lower },
    { "map", f_map }, { "max", f_max }, { "min", f_min }, { "pprint", f_pprint },
    { "reject", f_reject }, { "rejectattr", f_rejectattr }, { "replace", f_replace },
    { "reverse", f_reverse }, { "round", f_round }, { "safe", f_safe }, { "select", f_select },
    { "selectattr", f_selectattr }, { "slice", f_slice }, { "sort", f_sort },
    { "string", f_string }, { "striptags", f_striptags }, { "sum", f_sum },
    { "title", f_title }, { "tojson", f_tojson }, { "urlencode", f_urlencode },
    { "trim", f_trim }, { "truncate", f_truncate }, { "unique", f_unique }, { "upper", f_upper },
    { "wordcount", f_wordcount },
};

builtin_fn weir_tpl__find_filter(const char *name)
{
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(filters); i++)
        if (!strcmp(filters[i].name, name))
            return filters[i].fn;
    return NULL;
}

/* --- tests ---------------------------------------------------------------------- */

typedef int (*tfn)(render *r, const weir_tvalue *in, const weir_args *a, int *res,
                   weir_error *err);

/* a test that looks at the value only (most look at its kind) */
#define KIND_TEST(fname, expr)                                                          \
    static int fname(render *r, const weir_tvalue *in, const weir_args *a, int *res,     \
                     weir_error *err)                                                   \
    {                                                                                   \
        WEIR_UNUSED(r); WEIR_UNUSED(a); WEIR_UNUSED(err);                               \
        *res = (expr);                                                                  \
        return 0;                                                                       \
    }

KIND_TEST(t_defined, in->kind != WEIR_TVALUE_UNDEFINED)
KIND_TEST(t_undefined, in->kind == WEIR_TVALUE_UNDEFINED)
KIND_TEST(t_none, in->kind == WEIR_TVALUE_NONE)
KIND_TEST(t_boolean, in->kind == WEIR_TVALUE_BOOL)
KIND_TEST(t_false, in->kind == WEIR_TVALUE_BOOL && !in->u.b)
KIND_TEST(t_true, in->kind == WEIR_TVALUE_BOOL && in->u.b)
KIND_TEST(t_integer, in->kind == WEIR_TVALUE_INT)
KIND_TEST(t_float, in->kind == WEIR_TVALUE_FLOAT)
KIND_TEST(t_number, in->kind == WEIR_TVALUE_INT || in->kind == WEIR_TVALUE_FLOAT ||
                        in->kind == WEIR_TVALUE_BOOL)
KIND_TEST(t_string, in->kind == WEIR_TVALUE_STRING)
KIND_TEST(t_mapping, in->kind == WEIR_TVALUE_DICT)
KIND_TEST(t_iterable, in->kind == WEIR_TVALUE_STRING || in->kind == WEIR_TVALUE_LIST ||
                          in->kind == WEIR_TVALUE_DICT || in->kind == WEIR_TVALUE_UNDEFINED)
KIND_TEST(t_sequence, in->kind == WEIR_TVALUE_STRING || in->kind == WEIR_TVALUE_LIST ||
                          in->kind == WEIR_TVALUE_DICT || in->kind == WEIR_TVALUE_UNDEFINED)
KIND_TEST(t_callable, in->kind == WEIR_TVALUE_FUNC || in->kind == WEIR_TVALUE_UNDEFINED)
KIND_TEST(t_escaped, in == NULL)

/* Python's str.islower()/isupper(): some cased letter, none of the other case */
static int cased_test(const weir_tvalue *in, int want_lower)
{
    weir_tvalue s = to_string(in);
    int cased = 0, wrong = 0;
    const unsigned char *p = (const unsigned char *)VSTR(&s)->data;
    size_t n = VSTR(&s)->len;
    for (size_t i = 0; i < n;) {
        uint32_t c;
        i += utf8_next(p + i, n - i, &c);
        int lower = cp_upper(c) != c, upper = cp_lower(c) != c;
        if (lower) {
            cased |= want_lower;
            wrong |= !want_lower;
        } else if (upper) {
            cased |= !want_lower;
            wrong |= want_lower;
        }
    }
    weir_tvalue_free(s);
    return cased && !wrong;
}

KIND_TEST(t_lower, cased_test(in, 1))
KIND_TEST(t_upper, cased_test(in, 0))

/* value % d as Python computes it, for ints and floats */
static int py_mod_zero(const weir_tvalue *in, const weir_tvalue *dv, int64_t d, int *is_zero,
                       double *rem, weir_error *err)
{
    if (in->kind == WEIR_TVALUE_UNDEFINED)
        return weir_error_set(err, WEIR_EINVALID, "%s", weir_tvalue_undefined_message(in));
    double x, y = (double)d;
    if (dv && num_double(dv, &y))
        y = NAN;
    if (num_double(in, &x))
        return weir_error_set(err, WEIR_EINVALID, "unsupported operand type(s) for %%: '%s' and 'int'",
                              weir_tvalue_type_name(in));
    if (isnan(y))
        return weir_error_set(err, WEIR_EINVALID, "a number is required");
    if (y == 0)
        return weir_error_set(err, WEIR_EINVALID, "integer division or modulo by zero");
    if (in->kind != WEIR_TVALUE_FLOAT && (!dv || dv->kind != WEIR_TVALUE_FLOAT)) {
        int64_t iv = in->kind == WEIR_TVALUE_INT ? in->u.i : in->u.b;
        int64_t id = dv ? (dv->kind == WEIR_TVALUE_INT ? dv->u.i : dv->u.b) : d;
        int64_t m = id == -1 ? 0 : iv % id;
        if (m != 0 && ((m < 0) != (id < 0)))
            m += id;
        *rem = (double)m;
    } else {
        double m = fmod(x, y);
        if (m != 0 && ((m < 0) != (y < 0)))
            m += y;
        *rem = m;
    }
    *is_zero = *rem == 0;
    return 0;
}

/* odd and even: value % 2 is 1, or 0 */
static int parity_test(const weir_tvalue *in, int want_odd, int *res, weir_error *err)
{
    int z;
    double rem;
    if (py_mod_zero(in, NULL, 2, &z, &rem, err))
        return WEIR_EINVALID;
    *res = want_odd ? rem == 1 : z;
    return 0;
}

static int t_odd(render *r, const weir_tvalue *in, const weir_args *a, int *res, weir_error *err)
{ WEIR_UNUSED(r); WEIR_UNUSED(a); return parity_test(in, 1, res, err); }
static int t_even(render *r, const weir_tvalue *in, const weir_args *a, int *res, weir_error *err)
{ WEIR_UNUSED(r); WEIR_UNUSED(a); return parity_test(in, 0, res, err); }

static int t_divisibleby(render *r, const weir_tvalue *in, const weir_args *a, int *res, weir_error *err)
{
    WEIR_UNUSED(r);
    const weir_tvalue *num = arg(a, 0, "num");
    double rem;
    if (!num)
        return weir_error_set(err, WEIR_EINVALID, "divisibleby needs a number");
    return py_mod_zero(in, num, 0, res, &rem, err);
}

static int t_sameas(render *r, const weir_tvalue *in, const weir_args *a, int *res, weir_error *err)
{
    WEIR_UNUSED(r); WEIR_UNUSED(err);
    const weir_tvalue *o;
    weir_args_get(a, 0, "other", &o);
    if (!o) {
        *res = 0;
        return 0;
    }
    if (in->kind != o->kind)
        *res = 0;
    else if (in->kind >= WEIR_TVALUE_STRING)
        *res = in->u.o == o->u.o;
    else
        *res = weir_tvalue_equal(in, o);
    return 0;
}

static int cmp_test(const weir_tvalue *in, const weir_args *a, int op, int *res, weir_error *err)
{
    const weir_tvalue *o;
    weir_args_get(a, 0, "other", &o);
    weir_tvalue u = weir_tvalue_undefined();
    if (!o)
        o = &u;
    if (op == 'E' || op == 'N') {
        *res = weir_tvalue_equal(in, o) == (op == 'E');
        return 0;
    }
    int c;
    if (weir_tpl__compare(in, o, 1, &c, err))
        return WEIR_EINVALID;
    *res = op == '<' ? c < 0 : op == 'L' ? c <= 0 : op == '>' ? c > 0 : c >= 0;
    return 0;
}

#define CMP_TEST(fname, op)                                                              \
    static int fname(render *r, const weir_tvalue *in, const weir_args *a, int *res,      \
                     weir_error *err)                                                    \
    {                                                                                    \
        WEIR_UNUSED(r);                                                                  \
        return cmp_test(in, a, op, res, err);                                            \
    }
CMP_TEST(t_eq, 'E')
CMP_TEST(t_ne, 'N')
CMP_TEST(t_lt, '<')
CMP_TEST(t_le, 'L')
CMP_TEST(t_gt, '>')
CMP_TEST(t_ge, 'G')

static int t_in(render *r, const weir_tvalue *in, const weir_args *a, int *res, weir_error *err)
{
    WEIR_UNUSED(r);
    const weir_tvalue *seq = arg(a, 0, "seq");
    *res = 0;
    if (!seq)
        return 0;
    if (seq->kind == WEIR_TVALUE_STRING) {
        if (in->kind != WEIR_TVALUE_STRING)
            return weir_error_set(err, WEIR_EINVALID, "'in <string>' requires string as left operand");
        *res = weir_tpl__memmem(VSTR(seq)->data, VSTR(seq)->len, VSTR(in)->data,
                                VSTR(in)->len) != NULL;
    } else if (seq->kind == WEIR_TVALUE_LIST) {
        for (size_t i = 0; i < VLIST(seq)->len && !*res; i++)
            *res = weir_tvalue_equal(&VLIST(seq)->items[i], in);
    } else if (seq->kind == WEIR_TVALUE_DICT)
        *res = weir_tvalue_dict_getv(seq, in) != NULL;
    return 0;
}

KIND_TEST(t_filter, in->kind == WEIR_TVALUE_STRING && weir_tpl__find_filter(VSTR(in)->data) != NULL)
KIND_TEST(t_test, in->kind == WEIR_TVALUE_STRING && weir_tpl__find_test(VSTR(in)->data) != NULL)

static const struct {
    const char *name;
    tfn fn;
} tests[] = {
    { "!=", t_ne }, { "<", t_lt }, { "<=", t_le }, { "==", t_eq }, { ">", t_gt }, { ">=", t_ge },
    { "boolean", t_boolean }, { "callable", t_callable }, { "defined", t_defined },
    { "divisibleby", t_divisibleby }, { "eq", t_eq }, { "equalto", t_eq },
    { "escaped", t_escaped }, { "even", t_even }, { "false", t_false }, { "filter", t_filter },
    { "float", t_float }, { "ge", t_ge }, { "greaterthan", t_gt }, { "gt", t_gt },
    { "in", t_in }, { "integer", t_integer }, { "iterable", t_iterable }, { "le", t_le },
    { "lessthan", t_lt }, { "lower", t_lower }, { "lt", t_lt }, { "mapping", t_mapping },
    { "ne", t_ne }, { "none", t_none }, { "number", t_number }, { "odd", t_odd },
    { "sameas", t_sameas }, { "sequence", t_sequence }, { "string", t_string },
    { "test", t_test }, { "true", t_true }, { "undefined", t_undefined }, { "upper", t_upper },
};

const char *weir_tpl__suggest(const char *name, int want_tests)
{
    const char *names[64];
    size_t n = 0;
    if (want_tests)
        for (size_t i = 0; i < WEIR_ARRAY_SIZE(tests) && n < 64; i++)
            names[n++] = tests[i].name;
    else
        for (size_t i = 0; i < WEIR_ARRAY_SIZE(filters) && n < 64; i++)
            names[n++] = filters[i].name;
    return weir_str_suggest(name, names, n);
}

builtin_test weir_tpl__find_test(const char *name)
{
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(tests); i++)
        if (!strcmp(tests[i].name, name))
            return tests[i].fn;
    return NULL;
}

/* --- methods of str, list and dict ----------------------------------------------- */

typedef int (*mfn)(render *r, const weir_tvalue *self, const weir_args *a, weir_tvalue *out,
                   weir_error *err);

static int need_args(const weir_args *a, size_t min, size_t max, const char *name,
                     weir_error *err)
{
    size_t n = a->npos + a->nkw;
    if (n < min || n > max)
        return weir_error_set(err, WEIR_EINVALID, "%s() takes %zu to %zu arguments (%zu given)",
                              name, min, max, n);
    return 0;
}

static int need_str(const weir_tvalue *v, const char *what, weir_error *err)
{
    if (!v || v->kind != WEIR_TVALUE_STRING)
        return weir_error_set(err, WEIR_EINVALID, "%s must be str, not %s", what,
                              v ? weir_tvalue_type_name(v) : "nothing");
    return 0;
}

/* The first argument, by position or else by keyword (need_args counted them). */
static const weir_tvalue *first_arg(const weir_args *a)
{
    return a->npos ? &a->pos[0] : &a->kw[0];
}

/* The argument of method name, which takes one; NULL with err set if not one. */
static const weir_tvalue *one_arg(const weir_args *a, const char *name, weir_error *err)
{
    return need_args(a, 1, 1, name, err) ? NULL : first_arg(a);
}

/* As one_arg, for a str argument; what names it in the message. */
static const weir_tvalue *one_str_arg(const weir_args *a, const char *name, const char *what,
                                      weir_error *err)
{
    const weir_tvalue *x = one_arg(a, name, err);
    return x && !need_str(x, what, err) ? x : NULL;
}

static int m_upper(render *r, const weir_tvalue *s, const weir_args *a, weir_tvalue *out, weir_error *err)
{ WEIR_UNUSED(r); if (need_args(a, 0, 0, "upper", err)) return WEIR_EINVALID; *out = map_case(s, 0); return 0; }
static int m_lower(render *r, const weir_tvalue *s, const weir_args *a, weir_tvalue *out, weir_error *err)
{ WEIR_UNUSED(r); if (need_args(a, 0, 0, "lower", err)) return WEIR_EINVALID; *out = map_case(s, 1); return 0; }
static int m_capitalize(render *r, const weir_tvalue *s, const weir_args *a, weir_tvalue *out, weir_error *err)
{ WEIR_UNUSED(r); if (need_args(a, 0, 0, "capitalize", err)) return WEIR_EINVALID; *out = map_case(s, 2); return 0; }
static int m_title(render *r, const weir_tvalue *s, const weir_args *a, weir_tvalue *out, weir_error *err)
{ WEIR_UNUSED(r); if (need_args(a, 0, 0, "title", err)) return WEIR_EINVALID; *out = map_case(s, 4); return 0; }

static int strip_common(const weir_tvalue *s, const weir_args *a, weir_tvalue *out, weir_error *err,
                        int l, int rgt)
{
    if (need_args(a, 0, 1, "strip", err))
        return WEIR_EINVALID;
    const weir_tvalue *c = arg(a, 0, "chars");
    if (c && c->kind == WEIR_TVALUE_NONE)
        c = NULL;
    *out = strip(s, c, l, rgt);
    return 0;
}
static int m_strip(render *r, const weir_tvalue *s, const weir_args *a, weir_tvalue *out, weir_error *err)
{ WEIR_UNUSED(r); return strip_common(s, a, out, err, 1, 1); }
static int m_lstrip(render *r, const weir_tvalue *s, const weir_args *a, weir_tvalue *out, weir_error *err)
{ WEIR_UNUSED(r); return strip_common(s, a, out, err, 1, 0); }
static int m_rstrip(render *r, const weir_tvalue *s, const weir_args *a, weir_tvalue *out, weir_error *err)
{ WEIR_UNUSED(r); return strip_common(s, a, out, err, 0, 1); }

/* Where x (xn bytes) stands first in p (n bytes), or last; -1 when it does not */
static ssize_t find_in(const char *p, size_t n, const char *x, size_t xn, int last)
{
    if (!last) {
        const char *f = weir_tpl__memmem(p, n, x, xn);
        return f ? f - p : -1;
    }
    for (ssize_t k = (ssize_t)n - (ssize_t)xn; k >= 0; k--)
        if (!memcmp(p + k, x, xn))
            return k;
    return -1;
}

static int split_common(const weir_tvalue *s, const weir_args *a, weir_tvalue *out, weir_error *err,
                        int from_right)
{
    if (need_args(a, 0, 2, "split", err))
        return WEIR_EINVALID;
    const weir_tvalue *sep = arg(a, 0, "sep");
    int64_t maxsplit;
    if (int_arg(a, 1, "maxsplit", -1, &maxsplit, err))
        return WEIR_EINVALID;
    if (sep && sep->kind == WEIR_TVALUE_NONE)
        sep = NULL;
    if (sep && need_str(sep, "separator", err))
        return WEIR_EINVALID;
    if (sep && !VSTR(sep)->len)
        return weir_error_set(err, WEIR_EINVALID, "empty separator");
    const char *p = VSTR(s)->data;
    size_t n = VSTR(s)->len;
    weir_tvalue parts = weir_tvalue_list();
    int64_t done = 0;
    if (!from_right) {
        size_t i = 0;
        if (!sep) {
            for (;;) {
                while (i < n && is_space((unsigned char)p[i]))
                    i++;
                if (i >= n)
                    break;
                if (maxsplit >= 0 && done >= maxsplit) {
                    size_t e = n;
                    while (e > i && is_space((unsigned char)p[e - 1]))
                        e--;
                    weir_tvalue_list_push(&parts, str_n(p + i, e - i));
                    break;
                }
                size_t j = i;
                while (j < n && !is_space((unsigned char)p[j]))
                    j++;
                weir_tvalue_list_push(&parts, str_n(p + i, j - i));
                done++;
                i = j;
            }
        } else {
            size_t sn = VSTR(sep)->len;
            for (;;) {
                const char *f = (maxsplit < 0 || done < maxsplit)
                                    ? weir_tpl__memmem(p + i, n - i, VSTR(sep)->data, sn)
                                    : NULL;
                if (!f) {
                    weir_tvalue_list_push(&parts, str_n(p + i, n - i));
                    break;
                }
                weir_tvalue_list_push(&parts, str_n(p + i, (size_t)(f - p) - i));
                i = (size_t)(f - p) + sn;
                done++;
            }
        }
        *out = parts;
        return 0;
    }
    /* rsplit: collect from the right, then reverse */
    weir_tvalue rev = weir_tvalue_list();
    size_t e = n;
    if (!sep) {
        for (;;) {
            while (e > 0 && is_space((unsigned char)p[e - 1]))
                e--;
            if (!e)
                break;
            if (maxsplit >= 0 && done >= maxsplit) {
                size_t b = 0;
                while (b < e && is_space((unsigned char)p[b]))
                    b++;
                weir_tvalue_list_push(&rev, str_n(p + b, e - b));
                break;
            }
            size_t b = e;
            while (b > 0 && !is_space((unsigned char)p[b - 1]))
                b--;
            weir_tvalue_list_push(&rev, str_n(p + b, e - b));
            done++;
            e = b;
        }
    } else {
        size_t sn = VSTR(sep)->len;
        for (;;) {
            ssize_t f = maxsplit < 0 || done < maxsplit ? find_in(p, e, VSTR(sep)->data, sn, 1) : -1;
            if (f < 0) {
                weir_tvalue_list_push(&rev, str_n(p, e));
                break;
            }
            weir_tvalue_list_push(&rev, str_n(p + f + sn, e - (size_t)f - sn));
            e = (size_t)f;
            done++;
        }
    }
    for (size_t k = VLIST(&rev)->len; k > 0; k--)
        weir_tvalue_list_push(&parts, weir_tvalue_copy(&VLIST(&rev)->items[k - 1]));
    weir_tvalue_free(rev);
    *out = parts;
    return 0;
}
static int m_split(render *r, const weir_tvalue *s, const weir_args *a, weir_tvalue *out, weir_error *err)
{ WEIR_UNUSED(r); return split_common(s, a, out, err, 0); }
static int m_rsplit(render *r, const weir_tvalue *s, const weir_args *a, weir_tvalue *out, weir_error *err)
{ WEIR_UNUSED(r); return split_common(s, a, out, err, 1); }

static int m_splitlines(render *r, const weir_tvalue *s, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(r);
    if (need_args(a, 0, 1, "splitlines", err))
        return WEIR_EINVALID;
    int keep = truthy_arg(a, 0, "keepends", 0);
    const char *p = VSTR(s)->data;
    size_t n = VSTR(s)->len, i = 0;
    *out = weir_tvalue_list();
    while (i < n) {
        size_t j = i;
        while (j < n && p[j] != '\n' && p[j] != '\r')
            j++;
        size_t e = j;
        if (j < n)
            j += (p[j] == '\r' && j + 1 < n && p[j + 1] == '\n') ? 2 : 1;
        weir_tvalue_list_push(out, str_n(p + i, (keep ? j : e) - i));
        i = j;
    }
    return 0;
}

static int m_replace(render *r, const weir_tvalue *s, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(r);
    if (need_args(a, 2, 3, "replace", err))
        return WEIR_EINVALID;
    const weir_tvalue *o = arg(a, 0, "old"), *n = arg(a, 1, "new");
    if (need_str(o, "replace() argument 1", err) || need_str(n, "replace() argument 2", err))
        return WEIR_EINVALID;
    int64_t count;
    if (int_arg(a, 2, "count", -1, &count, err))
        return WEIR_EINVALID;
    *out = replace(s, o, n, count);
    return 0;
}

static int affix(const weir_tvalue *s, const weir_args *a, weir_tvalue *out, weir_error *err, int end)
{
    if (need_args(a, 1, 1, end ? "endswith" : "startswith", err))
        return WEIR_EINVALID;
    const weir_tvalue *x = &a->pos[0];
    if (!a->npos)
        x = &a->kw[0];
    const weir_tvalue *cands = x;
    size_t nc = 1;
    if (x->kind == WEIR_TVALUE_LIST && weir_tvalue_is_tuple(x)) {
        cands = VLIST(x)->items;
        nc = VLIST(x)->len;
    }
    int res = 0;
    for (size_t i = 0; i < nc && !res; i++) {
        if (need_str(&cands[i], "argument", err))
            return WEIR_EINVALID;
        size_t n = VSTR(&cands[i])->len, sn = VSTR(s)->len;
        res = n <= sn && !memcmp(VSTR(s)->data + (end ? sn - n : 0), VSTR(&cands[i])->data, n);
    }
    *out = weir_tvalue_bool(res);
    return 0;
}
static int m_startswith(render *r, const weir_tvalue *s, const weir_args *a, weir_tvalue *out, weir_error *err)
{ WEIR_UNUSED(r); return affix(s, a, out, err, 0); }
static int m_endswith(render *r, const weir_tvalue *s, const weir_args *a, weir_tvalue *out, weir_error *err)
{ WEIR_UNUSED(r); return affix(s, a, out, err, 1); }

static int find_common(const weir_tvalue *s, const weir_args *a, weir_tvalue *out, weir_error *err,
                       int mode)
{
    /* mode 0 find, 1 rfind, 2 index, 3 count */
    const weir_tvalue *x = one_str_arg(a, "find", "argument", err);
    if (!x)
        return WEIR_EINVALID;
    const char *p = VSTR(s)->data;
    size_t n = VSTR(s)->len, xn = VSTR(x)->len;
    if (mode == 3) {
        int64_t c = 0;
        if (!xn)
            c = (int64_t)utf8_len(p, n) + 1;
        else
            for (size_t i = 0; i + xn <= n;) {
                const char *f = weir_tpl__memmem(p + i, n - i, VSTR(x)->data, xn);
                if (!f)
                    break;
                c++;
                i = (size_t)(f - p) + xn;
            }
        *out = weir_tvalue_int(c);
        return 0;
    }
    ssize_t pos = find_in(p, n, VSTR(x)->data, xn, mode == 1);
    if (pos < 0 && mode == 2)
        return weir_error_set(err, WEIR_EINVALID, "substring not found");
    *out = weir_tvalue_int(pos < 0 ? -1 : (int64_t)utf8_len(p, (size_t)pos));
    return 0;
}
static int m_find(render *r, const weir_tvalue *s, const weir_args *a, weir_tvalue *out, weir_error *err)
{ WEIR_UNUSED(r); return find_common(s, a, out, err, 0); }
static int m_rfind(render *r, const weir_tvalue *s, const weir_args *a, weir_tvalue *out, weir_error *err)
{ WEIR_UNUSED(r); return find_common(s, a, out, err, 1); }
static int m_sindex(render *r, const weir_tvalue *s, const weir_args *a, weir_tvalue *out, weir_error *err)
{ WEIR_UNUSED(r); return find_common(s, a, out, err, 2); }
static int m_scount(render *r, const weir_tvalue *s, const weir_args *a, weir_tvalue *out, weir_error *err)
{ WEIR_UNUSED(r); return find_common(s, a, out, err, 3); }

static int char_class(const weir_tvalue *s, const weir_args *a, weir_tvalue *out, weir_error *err,
                      int (*cls)(int))
{
    if (need_args(a, 0, 0, "is...", err))
        return WEIR_EINVALID;
    size_t n = VSTR(s)->len;
    int res = n > 0;
    for (size_t i = 0; i < n && res; i++)
        res = cls((unsigned char)VSTR(s)->data[i]) != 0;
    *out = weir_tvalue_bool(res);
    return 0;
}
static int m_isdigit(render *r, const weir_tvalue *s, const weir_args *a, weir_tvalue *out, weir_error *err)
{ WEIR_UNUSED(r); return char_class(s, a, out, err, isdigit); }
static int m_isalpha(render *r, const weir_tvalue *s, const weir_args *a, weir_tvalue *out, weir_error *err)
{ WEIR_UNUSED(r); return char_class(s, a, out, err, isalpha); }
static int m_isalnum(render *r, const weir_tvalue *s, const weir_args *a, weir_tvalue *out, weir_error *err)
{ WEIR_UNUSED(r); return char_class(s, a, out, err, isalnum); }
static int m_isspace(render *r, const weir_tvalue *s, const weir_args *a, weir_tvalue *out, weir_error *err)
{ WEIR_UNUSED(r); return char_class(s, a, out, err, isspace); }

static int m_islower(render *r, const weir_tvalue *s, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(r);
    if (need_args(a, 0, 0, "islower", err))
        return WEIR_EINVALID;
    *out = weir_tvalue_bool(cased_test(s, 1));
    return 0;
}

static int m_isupper(render *r, const weir_tvalue *s, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(r);
    if (need_args(a, 0, 0, "isupper", err))
        return WEIR_EINVALID;
    *out = weir_tvalue_bool(cased_test(s, 0));
    return 0;
}

static int m_join(render *r, const weir_tvalue *s, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    const weir_tvalue *items = one_arg(a, "join", err);
    weir_tvalue l;
    if (!items || iter_list(r, items, &l, err))
        return WEIR_EINVALID;
    weir_buf b = WEIR_BUF_INIT;
    int rc = 0;
    for (size_t i = 0; i < VLIST(&l)->len; i++) {
        const weir_tvalue *x = &VLIST(&l)->items[i];
        if (x->kind != WEIR_TVALUE_STRING) {
            rc = weir_error_set(err, WEIR_EINVALID, "sequence item %zu: expected str instance, %s found",
                                i, weir_tvalue_type_name(x));
            break;
        }
        if (i)
            weir_buf_add(&b, VSTR(s)->data, VSTR(s)->len);
        weir_buf_add(&b, VSTR(x)->data, VSTR(x)->len);
    }
    weir_tvalue_free(l);
    if (!rc)
        *out = weir_tvalue_string_buf(&b);
    weir_buf_release(&b);
    return rc;
}

static int pad_common(const weir_tvalue *s, const weir_args *a, weir_tvalue *out, weir_error *err,
                      int mode)
{
    /* 0 ljust, 1 rjust, 2 center, 3 zfill */
    int64_t width;
    if (need_args(a, 1, mode == 3 ? 1 : 2, "ljust", err) || int_arg(a, 0, "width", 0, &width, err))
        return WEIR_EINVALID;
    const weir_tvalue *fc = arg(a, 1, "fillchar");
    char fill = mode == 3 ? '0' : fc && VSTR(fc)->len == 1 ? VSTR(fc)->data[0] : ' ';
    int64_t len = (int64_t)utf8_len(VSTR(s)->data, VSTR(s)->len);
    if (width > 100000)
        width = 100000;
    if (width <= len) {
        *out = weir_tvalue_copy(s);
        return 0;
    }
    int64_t pad = width - len, left = mode == 1 || mode == 3 ? pad : mode == 0 ? 0 : pad / 2 + (pad & width & 1);
    weir_buf b = WEIR_BUF_INIT;
    const char *p = VSTR(s)->data;
    size_t n = VSTR(s)->len;
    if (mode == 3 && n && (p[0] == '-' || p[0] == '+')) {
        weir_buf_addch(&b, p[0]);
        p++;
        n--;
    }
    weir_buf_addchars(&b, fill, (size_t)left);
    weir_buf_add(&b, p, n);
    weir_buf_addchars(&b, fill, (size_t)(pad - left));
    *out = weir_tvalue_string_buf(&b);
    weir_buf_release(&b);
    return 0;
}
static int m_ljust(render *r, const weir_tvalue *s, const weir_args *a, weir_tvalue *out, weir_error *err)
{ WEIR_UNUSED(r); return pad_common(s, a, out, err, 0); }
static int m_rjust(render *r, const weir_tvalue *s, const weir_args *a, weir_tvalue *out, weir_error *err)
{ WEIR_UNUSED(r); return pad_common(s, a, out, err, 1); }
static int m_center(render *r, const weir_tvalue *s, const weir_args *a, weir_tvalue *out, weir_error *err)
{ WEIR_UNUSED(r); return pad_common(s, a, out, err, 2); }
static int m_zfill(render *r, const weir_tvalue *s, const weir_args *a, weir_tvalue *out, weir_error *err)
{ WEIR_UNUSED(r); return pad_common(s, a, out, err, 3); }

/* One replacement field of str.format: value v with spec. */
static int format_field(const weir_tvalue *v, const char *spec, size_t sn, char conv, weir_buf *b,
                        weir_error *err)
{
    weir_buf tmp = WEIR_BUF_INIT;
    if (conv == 'r')
        weir_tvalue_repr_buf(v, &tmp);
    else if (conv != 's' && sn && (v->kind == WEIR_TVALUE_INT || v->kind == WEIR_TVALUE_FLOAT ||
                                   v->kind == WEIR_TVALUE_BOOL)) {
        /* [[fill]align][sign][0][width][,][.precision][type] for numbers */
        char fill = ' ', align = '>', sign = '-', type = 0;
        size_t i = 0;
        int width = 0, prec = -1, comma = 0;
        if (sn >= 2 && strchr("<>^=", spec[1])) { fill = spec[0]; align = spec[1]; i = 2; }
        else if (sn >= 1 && strchr("<>^=", spec[0])) { align = spec[0]; i = 1; }
        if (i < sn && strchr("+- ", spec[i])) sign = spec[i++];
        if (i < sn && spec[i] == '0') { fill = '0'; align = '='; i++; }
        while (i < sn && isdigit((unsigned char)spec[i]) && width < 10000)
            width = width * 10 + (spec[i++] - '0');
        if (i < sn && spec[i] == ',') { comma = 1; i++; }
        if (i < sn && spec[i] == '.') {
            i++;
            prec = 0;
            while (i < sn && isdigit((unsigned char)spec[i]) && prec < 100)
                prec = prec * 10 + (spec[i++] - '0');
        }
        if (i < sn) type = spec[i++];
        if (i != sn) {
            weir_buf_release(&tmp);
            return weir_error_set(err, WEIR_EINVALID, "invalid format specifier");
        }
        double d = v->kind == WEIR_TVALUE_FLOAT ? v->u.f : v->kind == WEIR_TVALUE_INT ? (double)v->u.i : v->u.b;
        int neg = d < 0 || (v->kind == WEIR_TVALUE_INT && v->u.i < 0);
        weir_buf digits = WEIR_BUF_INIT;
        if (type == 'd' || (!type && v->kind != WEIR_TVALUE_FLOAT && prec < 0)) {
            int64_t iv = v->kind == WEIR_TVALUE_INT ? v->u.i : (int64_t)d;
            weir_buf_addf(&digits, "%" PRIu64, iv < 0 ? (uint64_t)0 - (uint64_t)iv : (uint64_t)iv);
        } else if (type == 'f' || type == 'F' || type == '%') {
            weir_buf_addf(&digits, "%.*f", prec < 0 ? 6 : prec, fabs(type == '%' ? d * 100 : d));
        } else if (type == 'e' || type == 'E' || type == 'g' || type == 'G') {
            char f[8] = { '%', '.', '*', type, 0 };
            weir_buf_addf(&digits, f, prec < 0 ? 6 : prec, fabs(d));
        } else if (!type) {
            if (prec >= 0)
                weir_buf_addf(&digits, "%.*g", prec, fabs(d));
            else
                weir_tvalue__float_repr(fabs(d), &digits);
        } else {
            weir_buf_release(&digits);
            weir_buf_release(&tmp);
            return weir_error_set(err, WEIR_EINVALID, "unknown format code '%c'", type);
        }
        if (comma) {
            const char *dot = strchr(digits.ptr, '.');
            size_t ilen = dot ? (size_t)(dot - digits.ptr) : digits.len;
            weir_buf c = WEIR_BUF_INIT;
            for (size_t k = 0; k < ilen; k++) {
                if (k && (ilen - k) % 3 == 0)
                    weir_buf_addch(&c, ',');
                weir_buf_addch(&c, digits.ptr[k]);
            }
            weir_buf_adds(&c, digits.ptr + ilen);
            weir_buf_release(&digits);
            digits = c;
        }
        if (type == '%')
            weir_buf_addch(&digits, '%');
        const char *sg = neg ? "-" : sign == '+' ? "+" : sign == ' ' ? " " : "";
        size_t total = strlen(sg) + digits.len;
        size_t pad = (size_t)width > total ? (size_t)width - total : 0;
        if (align == '=') {
            weir_buf_adds(b, sg);
            weir_buf_addchars(b, fill, pad);
            weir_buf_add(b, digits.ptr, digits.len);
        } else {
            size_t left = align == '<' ? 0 : align == '^' ? pad / 2 : pad;
            weir_buf_addchars(b, fill, left);
            weir_buf_adds(b, sg);
            weir_buf_add(b, digits.ptr, digits.len);
            weir_buf_addchars(b, fill, pad - left);
        }
        weir_buf_release(&digits);
        weir_buf_release(&tmp);
        return 0;
    } else
        weir_tvalue_to_buf(v, &tmp);
    /* strings: [[fill]align][width][.precision] */
    char fill = ' ', align = '<';
    size_t i = 0;
    int width = 0, prec = -1;
    if (sn >= 2 && strchr("<>^", spec[1])) { fill = spec[0]; align = spec[1]; i = 2; }
    else if (sn >= 1 && strchr("<>^", spec[0])) { align = spec[0]; i = 1; }
    while (i < sn && isdigit((unsigned char)spec[i]) && width < 10000)
        width = width * 10 + (spec[i++] - '0');
    if (i < sn && spec[i] == '.') {
        i++;
        prec = 0;
        while (i < sn && isdigit((unsigned char)spec[i]) && prec < 100000)
            prec = prec * 10 + (spec[i++] - '0');
    }
    if (i < sn && spec[i] == 's')
        i++;
    if (i != sn) {
        weir_buf_release(&tmp);
        return weir_error_set(err, WEIR_EINVALID, "invalid format specifier");
    }
    size_t len = tmp.len;
    if (prec >= 0 && (size_t)prec < len)
        len = (size_t)prec;
    size_t pad = (size_t)width > len ? (size_t)width - len : 0;
    size_t left = align == '<' ? 0 : align == '^' ? pad / 2 : pad;
    weir_buf_addchars(b, fill, left);
    weir_buf_add(b, tmp.ptr, len);
    weir_buf_addchars(b, fill, pad - left);
    weir_buf_release(&tmp);
    return 0;
}

static int m_format(render *r, const weir_tvalue *s, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    const char *p = VSTR(s)->data;
    size_t n = VSTR(s)->len, auto_idx = 0;
    weir_buf b = WEIR_BUF_INIT;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        char c = p[i];
        if (c == '}' ) {
            if (i + 1 < n && p[i + 1] == '}')
                i++;
            else {
                rc = weir_error_set(err, WEIR_EINVALID, "single '}' encountered in format string");
                break;
            }
            weir_buf_addch(&b, '}');
            continue;
        }
        if (c != '{') {
            weir_buf_addch(&b, c);
            continue;
        }
        if (i + 1 < n && p[i + 1] == '{') {
            weir_buf_addch(&b, '{');
            i++;
            continue;
        }
        const char *e = memchr(p + i, '}', n - i);
        if (!e) {
            rc = weir_error_set(err, WEIR_EINVALID, "single '{' encountered in format string");
            break;
        }
        const char *f = p + i + 1;
        size_t fl = (size_t)(e - f);
        const char *colon = memchr(f, ':', fl);
        const char *bang = memchr(f, '!', colon ? (size_t)(colon - f) : fl);
        size_t namelen = bang ? (size_t)(bang - f) : colon ? (size_t)(colon - f) : fl;
        char conv = bang && bang + 1 < e ? bang[1] : 0;
        const char *spec = colon ? colon + 1 : e;
        size_t sn = (size_t)(e - spec);
        /* field name: "", digits, or a name, optionally .attr / [key] (first part only) */
        char name[128];
        snprintf(name, sizeof(name), "%.*s", (int)(namelen < 127 ? namelen : 127), f);
        char *dot = strpbrk(name, ".[");
        char rest[128] = "";
        if (dot) {
            snprintf(rest, sizeof(rest), "%s", dot);
            *dot = '\0';
        }
        const weir_tvalue *v = NULL;
        if (!*name) {
            if (auto_idx < a->npos)
                v = &a->pos[auto_idx];
            auto_idx++;
        } else if (isdigit((unsigned char)name[0])) {
            size_t k = (size_t)atoi(name);
            if (k < a->npos)
                v = &a->pos[k];
        } else {
            for (size_t k = 0; k < a->nkw; k++)
                if (!strcmp(a->kw_names[k], name))
                    v = &a->kw[k];
        }
        if (!v) {
            rc = weir_error_set(err, WEIR_EINVALID, "format field '%s' has no value", name);
            break;
        }
        weir_tvalue cur = weir_tvalue_copy(v);
        char *q = rest;
        while (*q && !rc) {
            weir_tvalue next;
            if (*q == '.') {
                char *end = strpbrk(q + 1, ".[");
                char part[128];
                snprintf(part, sizeof(part), "%.*s", (int)(end ? end - q - 1 : (ptrdiff_t)strlen(q + 1)), q + 1);
                rc = weir_tpl__getattr(r, &cur, part, &next, err);
                q = end ? end : q + strlen(q);
            } else {
                char *end = strchr(q, ']');
                if (!end) {
                    rc = weir_error_set(err, WEIR_EINVALID, "missing ']' in format string");
                    break;
                }
                char part[128];
                snprintf(part, sizeof(part), "%.*s", (int)(end - q - 1), q + 1);
                weir_tvalue key;
                char *num_end;
                long long idx = strtoll(part, &num_end, 10);
                key = *part && !*num_end ? weir_tvalue_int(idx) : weir_tvalue_string(part);
                const weir_tvalue *x = cur.kind == WEIR_TVALUE_DICT ? weir_tvalue_dict_getv(&cur, &key) : NULL;
                if (cur.kind == WEIR_TVALUE_LIST && key.kind == WEIR_TVALUE_INT && idx >= 0 &&
                    (size_t)idx < VLIST(&cur)->len)
                    x = &VLIST(&cur)->items[idx];
                next = x ? weir_tvalue_copy(x) : weir_tvalue_undefined();
                weir_tvalue_free(key);
                q = end + 1;
            }
            if (!rc) {
                weir_tvalue_free(cur);
                cur = next;
            }
        }
        if (!rc)
            rc = format_field(&cur, spec, sn, conv, &b, err);
        weir_tvalue_free(cur);
        i = (size_t)(e - p);
    }
    if (!rc)
        *out = weir_tvalue_string_buf(&b);
    weir_buf_release(&b);
    return rc;
}

static int affix_remove(const weir_tvalue *s, const weir_args *a, weir_tvalue *out,
                        weir_error *err, int suffix)
{
    const weir_tvalue *x = one_str_arg(a, suffix ? "removesuffix" : "removeprefix", "argument", err);
    if (!x)
        return WEIR_EINVALID;
    size_t n = VSTR(s)->len, xn = VSTR(x)->len;
    const char *p = VSTR(s)->data;
    if (xn && xn <= n && !memcmp(suffix ? p + n - xn : p, VSTR(x)->data, xn))
        *out = suffix ? str_n(p, n - xn) : str_n(p + xn, n - xn);
    else
        *out = weir_tvalue_copy(s);
    return 0;
}
static int m_removeprefix(render *r, const weir_tvalue *s, const weir_args *a, weir_tvalue *out, weir_error *err)
{ WEIR_UNUSED(r); return affix_remove(s, a, out, err, 0); }
static int m_removesuffix(render *r, const weir_tvalue *s, const weir_args *a, weir_tvalue *out, weir_error *err)
{ WEIR_UNUSED(r); return affix_remove(s, a, out, err, 1); }

static int partition_common(const weir_tvalue *s, const weir_args *a, weir_tvalue *out,
                            weir_error *err, int from_right)
{
    const weir_tvalue *sep = one_str_arg(a, from_right ? "rpartition" : "partition", "separator", err);
    if (!sep)
        return WEIR_EINVALID;
    if (!VSTR(sep)->len)
        return weir_error_set(err, WEIR_EINVALID, "empty separator");
    const char *p = VSTR(s)->data;
    size_t n = VSTR(s)->len, sn = VSTR(sep)->len;
    ssize_t at = find_in(p, n, VSTR(sep)->data, sn, from_right);
    *out = weir_tvalue_tuple();
    if (at < 0) {
        weir_tvalue_list_push(out, from_right ? weir_tvalue_string("") : weir_tvalue_copy(s));
        weir_tvalue_list_push(out, weir_tvalue_string(""));
        weir_tvalue_list_push(out, from_right ? weir_tvalue_copy(s) : weir_tvalue_string(""));
        return 0;
    }
    weir_tvalue_list_push(out, str_n(p, (size_t)at));
    weir_tvalue_list_push(out, weir_tvalue_copy(sep));
    weir_tvalue_list_push(out, str_n(p + at + sn, n - (size_t)at - sn));
    return 0;
}
static int m_partition(render *r, const weir_tvalue *s, const weir_args *a, weir_tvalue *out, weir_error *err)
{ WEIR_UNUSED(r); return partition_common(s, a, out, err, 0); }
static int m_rpartition(render *r, const weir_tvalue *s, const weir_args *a, weir_tvalue *out, weir_error *err)
{ WEIR_UNUSED(r); return partition_common(s, a, out, err, 1); }

static int m_swapcase(render *r, const weir_tvalue *s, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(r);
    if (need_args(a, 0, 0, "swapcase", err))
        return WEIR_EINVALID;
    weir_buf b = WEIR_BUF_INIT;
    const unsigned char *p = (const unsigned char *)VSTR(s)->data;
    size_t n = VSTR(s)->len;
    for (size_t i = 0; i < n;) {
        uint32_t c;
        i += utf8_next(p + i, n - i, &c);
        if ((c & 0xffff0000u) == 0xfffd0000u)
            utf8_emit(&b, c);
        else
            utf8_emit(&b, cp_upper(c) != c ? cp_upper(c) : cp_lower(c));
    }
    *out = weir_tvalue_string_buf(&b);
    weir_buf_release(&b);
    return 0;
}

/* list methods */

static int m_append(render *r, const weir_tvalue *l, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(r);
    const weir_tvalue *x = one_arg(a, "append", err);
    if (!x)
        return WEIR_EINVALID;
    if (VLIST(l)->len >= ((size_t)1 << 24))
        return weir_error_set(err, WEIR_ETOOBIG, "list is too long");
    weir_tvalue tmp = *l;
    if (weir_tvalue_list_push(&tmp, weir_tvalue_copy(x)))
        return weir_error_set(err, WEIR_EINVALID, "cannot append a list to itself");
    *out = weir_tvalue_none();
    return 0;
}

static int m_extend(render *r, const weir_tvalue *l, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    const weir_tvalue *x = one_arg(a, "extend", err);
    weir_tvalue items;
    if (!x || iter_list(r, x, &items, err))
        return WEIR_EINVALID;
    weir_tvalue tmp = *l;
    int rc = 0;
    if (VLIST(l)->len + VLIST(&items)->len > ((size_t)1 << 24))
        rc = weir_error_set(err, WEIR_ETOOBIG, "list is too long");
    for (size_t i = 0; i < VLIST(&items)->len && !rc; i++)
        if (weir_tvalue_list_push(&tmp, weir_tvalue_copy(&VLIST(&items)->items[i])))
            rc = weir_error_set(err, WEIR_EINVALID, "cannot put a list into itself");
    weir_tvalue_free(items);
    if (!rc)
        *out = weir_tvalue_none();
    return rc;
}

static int m_lpop(render *r, const weir_tvalue *l, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(r);
    int64_t i;
    if (need_args(a, 0, 1, "pop", err) || int_arg(a, 0, "index", -1, &i, err))
        return WEIR_EINVALID;
    vlist *v = VLIST(l);
    if (i < 0)
        i += (int64_t)v->len;
    if (i < 0 || i >= (int64_t)v->len)
        return weir_error_set(err, WEIR_EINVALID, v->len ? "pop index out of range" : "pop from empty list");
    *out = v->items[i];
    memmove(&v->items[i], &v->items[i + 1], (v->len - (size_t)i - 1) * sizeof(weir_tvalue));
    v->len--;
    return 0;
}

static int m_insert(render *r, const weir_tvalue *l, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(r);
    int64_t i;
    if (need_args(a, 2, 2, "insert", err) || int_arg(a, 0, "index", 0, &i, err))
        return WEIR_EINVALID;
    weir_tvalue tmp = *l;
    if (weir_tvalue_list_push(&tmp, weir_tvalue_copy(a->npos > 1 ? &a->pos[1] : &a->kw[a->nkw - 1])))
        return weir_error_set(err, WEIR_EINVALID, "cannot insert a list into itself");
    vlist *v = VLIST(l);
    int64_t n = (int64_t)v->len - 1;
    if (i < 0)
        i += n;
    if (i < 0)
        i = 0;
    if (i > n)
        i = n;
    weir_tvalue x = v->items[n];
    memmove(&v->items[i + 1], &v->items[i], (size_t)(n - i) * sizeof(weir_tvalue));
    v->items[i] = x;
    *out = weir_tvalue_none();
    return 0;
}

/* list.remove and list.index: where the one argument first stands in list l
 * (the list's length when it does not) */
static int list_find(const weir_tvalue *l, const weir_args *a, const char *name, size_t *at,
                     weir_error *err)
{
    const weir_tvalue *x = one_arg(a, name, err);
    if (!x)
        return WEIR_EINVALID;
    size_t i = 0;
    while (i < VLIST(l)->len && !weir_tvalue_equal(&VLIST(l)->items[i], x))
        i++;
    *at = i;
    return 0;
}

static int m_remove(render *r, const weir_tvalue *l, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(r);
    vlist *v = VLIST(l);
    size_t i;
    if (list_find(l, a, "remove", &i, err))
        return WEIR_EINVALID;
    if (i == v->len)
        return weir_error_set(err, WEIR_EINVALID, "list.remove(x): x not in list");
    weir_tvalue gone = v->items[i];
    memmove(&v->items[i], &v->items[i + 1], (v->len - i - 1) * sizeof(weir_tvalue));
    v->len--;
    weir_tvalue_free(gone);
    *out = weir_tvalue_none();
    return 0;
}

static int m_lindex(render *r, const weir_tvalue *l, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(r);
    size_t i;
    if (list_find(l, a, "index", &i, err))
        return WEIR_EINVALID;
    if (i == VLIST(l)->len)
        return weir_error_set(err, WEIR_EINVALID, "value is not in list");
    *out = weir_tvalue_int((int64_t)i);
    return 0;
}

static int m_lcount(render *r, const weir_tvalue *l, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(r);
    const weir_tvalue *x = one_arg(a, "count", err);
    if (!x)
        return WEIR_EINVALID;
    int64_t c = 0;
    for (size_t i = 0; i < VLIST(l)->len; i++)
        c += weir_tvalue_equal(&VLIST(l)->items[i], x);
    *out = weir_tvalue_int(c);
    return 0;
}

static int m_lreverse(render *r, const weir_tvalue *l, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(r);
    if (need_args(a, 0, 0, "reverse", err))
        return WEIR_EINVALID;
    vlist *v = VLIST(l);
    for (size_t i = 0; i < v->len / 2; i++) {
        weir_tvalue t = v->items[i];
        v->items[i] = v->items[v->len - 1 - i];
        v->items[v->len - 1 - i] = t;
    }
    *out = weir_tvalue_none();
    return 0;
}

static int m_lsort(render *r, const weir_tvalue *l, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    weir_tvalue sorted;
    int reverse = truthy_arg(a, (size_t)-1, "reverse", 0);
    if (sort_list(r, l, reverse, 1, NULL, &sorted, err))
        return WEIR_EINVALID;
    /* swap contents: the sorted list holds the same items */
    vlist *v = VLIST(l), *s = VLIST(&sorted);
    for (size_t i = 0; i < v->len; i++) {
        weir_tvalue t = v->items[i];
        v->items[i] = s->items[i];
        s->items[i] = t;
    }
    weir_tvalue_free(sorted);
    *out = weir_tvalue_none();
    return 0;
}

static int m_copy(render *r, const weir_tvalue *c, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(r);
    if (need_args(a, 0, 0, "copy", err))
        return WEIR_EINVALID;
    if (c->kind == WEIR_TVALUE_LIST) {
        *out = weir_tvalue_list();
        for (size_t i = 0; i < VLIST(c)->len; i++)
            weir_tvalue_list_push(out, weir_tvalue_copy(&VLIST(c)->items[i]));
    } else {
        *out = weir_tvalue_dict();
        for (size_t i = 0; i < VDICT(c)->len; i++)
            weir_tvalue_dict_setv(out, weir_tvalue_copy(&VDICT(c)->e[i].key),
                                 weir_tvalue_copy(&VDICT(c)->e[i].val));
    }
    return 0;
}

static int m_clear(render *r, const weir_tvalue *c, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(r);
    if (need_args(a, 0, 0, "clear", err))
        return WEIR_EINVALID;
    if (c->kind == WEIR_TVALUE_LIST) {
        vlist *v = VLIST(c);
        size_t n = v->len;
        v->len = 0;
        for (size_t i = 0; i < n; i++)
            weir_tvalue_free(v->items[i]);
    } else {
        weir_tvalue tmp = *c;
        while (VDICT(c)->len) {
            weir_tvalue k = weir_tvalue_copy(&VDICT(c)->e[0].key);
            weir_tvalue_dict_del(&tmp, &k, NULL);
            weir_tvalue_free(k);
        }
    }
    *out = weir_tvalue_none();
    return 0;
}

/* dict methods */

static int m_get(render *r, const weir_tvalue *d, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(r);
    if (need_args(a, 1, 2, "get", err))
        return WEIR_EINVALID;
    const weir_tvalue *k = first_arg(a);
    const weir_tvalue *v = weir_tvalue_dict_getv(d, k);
    if (v)
        *out = weir_tvalue_copy(v);
    else if (a->npos + a->nkw > 1)
        *out = weir_tvalue_copy(a->npos > 1 ? &a->pos[1] : &a->kw[a->nkw - 1]);
    else
        *out = weir_tvalue_none();
    return 0;
}

static int dict_view(const weir_tvalue *d, const weir_args *a, weir_tvalue *out, weir_error *err,
                     int what)
{
    if (need_args(a, 0, 0, what == 0 ? "keys" : what == 1 ? "values" : "items", err))
        return WEIR_EINVALID;
    *out = weir_tvalue_list();
    for (size_t i = 0; i < VDICT(d)->len; i++) {
        if (what == 0)
            weir_tvalue_list_push(out, weir_tvalue_copy(&VDICT(d)->e[i].key));
        else if (what == 1)
            weir_tvalue_list_push(out, weir_tvalue_copy(&VDICT(d)->e[i].val));
        else
            weir_tvalue_list_push(out, item_tuple(d, i));
    }
    return 0;
}
static int m_keys(render *r, const weir_tvalue *d, const weir_args *a, weir_tvalue *out, weir_error *err)
{ WEIR_UNUSED(r); return dict_view(d, a, out, err, 0); }
static int m_values(render *r, const weir_tvalue *d, const weir_args *a, weir_tvalue *out, weir_error *err)
{ WEIR_UNUSED(r); return dict_view(d, a, out, err, 1); }
static int m_items(render *r, const weir_tvalue *d, const weir_args *a, weir_tvalue *out, weir_error *err)
{ WEIR_UNUSED(r); return dict_view(d, a, out, err, 2); }

static int m_update(render *r, const weir_tvalue *d, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(r);
    weir_tvalue tmp = *d;
    if (a->npos > 1)
        return weir_error_set(err, WEIR_EINVALID, "update expected at most 1 argument");
    if (a->npos) {
        const weir_tvalue *o = &a->pos[0];
        if (o->kind == WEIR_TVALUE_DICT) {
            for (size_t i = 0; i < VDICT(o)->len; i++)
                if (weir_tvalue_dict_setv(&tmp, weir_tvalue_copy(&VDICT(o)->e[i].key),
                                         weir_tvalue_copy(&VDICT(o)->e[i].val)))
                    return weir_error_set(err, WEIR_EINVALID, "cannot put a dict into itself");
        } else if (o->kind == WEIR_TVALUE_LIST) {
            for (size_t i = 0; i < VLIST(o)->len; i++) {
                const weir_tvalue *p = &VLIST(o)->items[i];
                if (p->kind != WEIR_TVALUE_LIST || VLIST(p)->len != 2)
                    return weir_error_set(err, WEIR_EINVALID,
                                          "dictionary update sequence element has wrong length");
                if (weir_tvalue_dict_setv(&tmp, weir_tvalue_copy(&VLIST(p)->items[0]),
                                         weir_tvalue_copy(&VLIST(p)->items[1])))
                    return weir_error_set(err, WEIR_EINVALID, "cannot put a dict into itself");
            }
        } else
            return weir_error_set(err, WEIR_EINVALID, "'%s' object is not iterable",
                                  weir_tvalue_type_name(o));
    }
    for (size_t i = 0; i < a->nkw; i++)
        if (weir_tvalue_dict_set(&tmp, a->kw_names[i], weir_tvalue_copy(&a->kw[i])))
            return weir_error_set(err, WEIR_EINVALID, "cannot put a dict into itself");
    *out = weir_tvalue_none();
    return 0;
}

static int m_dpop(render *r, const weir_tvalue *d, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(r);
    if (need_args(a, 1, 2, "pop", err))
        return WEIR_EINVALID;
    weir_tvalue tmp = *d;
    const weir_tvalue *k = first_arg(a);
    if (!weir_tvalue_dict_del(&tmp, k, out))
        return 0;
    if (a->npos + a->nkw > 1) {
        *out = weir_tvalue_copy(a->npos > 1 ? &a->pos[1] : &a->kw[a->nkw - 1]);
        return 0;
    }
    weir_buf b = WEIR_BUF_INIT;
    weir_tvalue_repr_buf(k, &b);
    int rc = weir_error_set(err, WEIR_ENOTFOUND, "key %s not found", b.ptr);
    weir_buf_release(&b);
    return rc;
}

static int m_setdefault(render *r, const weir_tvalue *d, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(r);
    if (need_args(a, 1, 2, "setdefault", err))
        return WEIR_EINVALID;
    const weir_tvalue *k = &a->pos[0];
    if (!a->npos)
        k = &a->kw[0];
    const weir_tvalue *v = weir_tvalue_dict_getv(d, k);
    if (v) {
        *out = weir_tvalue_copy(v);
        return 0;
    }
    weir_tvalue dv = a->npos + a->nkw > 1 ? weir_tvalue_copy(a->npos > 1 ? &a->pos[1] : &a->kw[a->nkw - 1])
                                         : weir_tvalue_none();
    weir_tvalue tmp = *d;
    *out = weir_tvalue_copy(&dv);
    if (weir_tvalue_dict_setv(&tmp, weir_tvalue_copy(k), dv)) {
        weir_tvalue_free(*out);
        return weir_error_set(err, WEIR_EINVALID, "cannot put a dict into itself");
    }
    return 0;
}

enum { K_STR = 1, K_LIST = 2, K_DICT = 4, K_DT = 8 /* datetime.c's objects */ };

static const struct {
    const char *name;
    int kinds;
    mfn fn;
} methods[] = {
    { "upper", K_STR, m_upper }, { "lower", K_STR, m_lower }, { "strip", K_STR, m_strip },
    { "lstrip", K_STR, m_lstrip }, { "rstrip", K_STR, m_rstrip }, { "split", K_STR, m_split },
    { "rsplit", K_STR, m_rsplit }, { "splitlines", K_STR, m_splitlines },
    { "replace", K_STR, m_replace }, { "startswith", K_STR, m_startswith },
    { "endswith", K_STR, m_endswith }, { "format", K_STR, m_format }, { "join", K_STR, m_join },
    { "title", K_STR, m_title }, { "capitalize", K_STR, m_capitalize }, { "find", K_STR, m_find },
    { "rfind", K_STR, m_rfind }, { "index", K_STR, m_sindex }, { "count", K_STR, m_scount },
    { "isdigit", K_STR, m_isdigit }, { "isalpha", K_STR, m_isalpha },
    { "isalnum", K_STR, m_isalnum }, { "isspace", K_STR, m_isspace },
    { "islower", K_STR, m_islower }, { "isupper", K_STR, m_isupper },
    { "ljust", K_STR, m_ljust }, { "rjust", K_STR, m_rjust }, { "center", K_STR, m_center },
    { "zfill", K_STR, m_zfill }, { "removeprefix", K_STR, m_removeprefix },
    { "removesuffix", K_STR, m_removesuffix }, { "partition", K_STR, m_partition },
    { "rpartition", K_STR, m_rpartition }, { "swapcase", K_STR, m_swapcase },
    { "casefold", K_STR, m_lower }, { "isnumeric", K_STR, m_isdigit },
    { "isdecimal", K_STR, m_isdigit },
    { "append", K_LIST, m_append }, { "extend", K_LIST, m_extend }, { "pop", K_LIST, m_lpop },
    { "insert", K_LIST, m_insert }, { "remove", K_LIST, m_remove }, { "index", K_LIST, m_lindex },
    { "count", K_LIST, m_lcount }, { "reverse", K_LIST, m_lreverse }, { "sort", K_LIST, m_lsort },
    { "copy", K_LIST | K_DICT, m_copy }, { "clear", K_LIST | K_DICT, m_clear },
    { "get", K_DICT, m_get }, { "keys", K_DICT, m_keys }, { "values", K_DICT, m_values },
    { "items", K_DICT, m_items }, { "update", K_DICT, m_update }, { "pop", K_DICT, m_dpop },
    { "setdefault", K_DICT, m_setdefault },
    { "strftime", K_DT, weir_tpl__dt_strftime }, { "isoformat", K_DT, weir_tpl__dt_isoformat },
    { "date", K_DT, weir_tpl__dt_date }, { "replace", K_DT, weir_tpl__dt_replace },
    { "weekday", K_DT, weir_tpl__dt_weekday }, { "isoweekday", K_DT, weir_tpl__dt_isoweekday },
    { "total_seconds", K_DT, weir_tpl__dt_total_seconds },
};

int weir_tpl__find_method(const weir_tvalue *self, const char *name)
{
    int k = self->kind == WEIR_TVALUE_STRING ? K_STR
            : self->kind == WEIR_TVALUE_LIST ? K_LIST
            : self->kind == WEIR_TVALUE_DICT ? (weir_tpl__dt_type(self) ? K_DT : K_DICT) : 0;
    if (!k)
        return -1;
    /* tuples have only index and count */
    if (k == K_LIST && weir_tvalue_is_tuple(self) && strcmp(name, "index") && strcmp(name, "count"))
        return -1;
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(methods); i++)
        if ((methods[i].kinds & k) && !strcmp(methods[i].name, name))
            return (int)i;
    return -1;
}

const char *weir_tpl__method_name(int method)
{
    return method >= 0 && (size_t)method < WEIR_ARRAY_SIZE(methods) ? methods[method].name : "";
}

int weir_tpl__call_method(render *r, const weir_tvalue *self, int method, const weir_args *args,
                          weir_tvalue *out, weir_error *err)
{
    if (method < 0 || (size_t)method >= WEIR_ARRAY_SIZE(methods))
        return weir_error_set(err, WEIR_EINVALID, "unknown method");
    return methods[method].fn(r, self, args, out, err);
}

/* --- global functions -------------------------------------------------------------- */

#define MAX_RANGE 100000

static int g_range(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(ud);
    int64_t v[3] = { 0, 0, 1 };
    if (a->npos < 1 || a->npos > 3 || a->nkw)
        return weir_error_set(err, WEIR_EINVALID, "range expected 1 to 3 integer arguments");
    for (size_t i = 0; i < a->npos; i++) {
        const weir_tvalue *x = &a->pos[i];
        if (x->kind == WEIR_TVALUE_INT) v[i] = x->u.i;
        else if (x->kind == WEIR_TVALUE_BOOL) v[i] = x->u.b;
        else
            return weir_error_set(err, WEIR_EINVALID, "'%s' object cannot be interpreted as an integer",
                                  weir_tvalue_type_name(x));
    }
    int64_t start = 0, stop, stp = 1;
    if (a->npos == 1)
        stop = v[0];
    else {
        start = v[0];
        stop = v[1];
        if (a->npos == 3)
            stp = v[2];
    }
    if (stp == 0)
        return weir_error_set(err, WEIR_EINVALID, "range() arg 3 must not be zero");
    double count = stp > 0 ? ceil(((double)stop - (double)start) / (double)stp)
                           : ceil(((double)start - (double)stop) / (double)-stp);
    if (count > MAX_RANGE)
        return weir_error_set(err, WEIR_ETOOBIG, "range too big, maximum size for range is %d",
                              MAX_RANGE);
    *out = weir_tvalue_list();
    for (int64_t i = start; stp > 0 ? i < stop : i > stop; i += stp)
        weir_tvalue_list_push(out, weir_tvalue_int(i));
    return 0;
}

static int g_dict(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(ud);
    *out = weir_tvalue_dict();
    if (a->npos > 1)
        return weir_error_set(err, WEIR_EINVALID, "dict expected at most 1 argument");
    int rc = 0;
    if (a->npos)
        rc = m_update(NULL, out, a, &(weir_tvalue){ 0 }, err);
    else
        for (size_t i = 0; i < a->nkw; i++)
            weir_tvalue_dict_set(out, a->kw_names[i], weir_tvalue_copy(&a->kw[i]));
    return rc;
}

static int g_namespace(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(ud);
    *out = weir_tvalue_namespace();
    if (a->npos && a->pos[0].kind == WEIR_TVALUE_DICT) {
        const weir_tvalue *d = &a->pos[0];
        for (size_t i = 0; i < VDICT(d)->len; i++)
            weir_tvalue_dict_setv(out, weir_tvalue_copy(&VDICT(d)->e[i].key),
                                 weir_tvalue_copy(&VDICT(d)->e[i].val));
    } else if (a->npos)
        return weir_error_set(err, WEIR_EINVALID, "namespace() takes a dict or keywords");
    for (size_t i = 0; i < a->nkw; i++)
        weir_tvalue_dict_set(out, a->kw_names[i], weir_tvalue_copy(&a->kw[i]));
    return 0;
}

int weir_tpl__builtin_global(const char *name, weir_tvalue *out)
{
    if (!strcmp(name, "range"))
        *out = weir_tvalue_function("range", g_range, NULL);
    else if (!strcmp(name, "dict"))
        *out = weir_tvalue_function("dict", g_dict, NULL);
    else if (!strcmp(name, "namespace"))
        *out = weir_tvalue_function("namespace", g_namespace, NULL);
    else if (!strcmp(name, "modules")) {
        /* dbt's context: modules.datetime */
        *out = weir_tvalue_namespace();
        weir_tvalue_dict_set(out, "datetime", weir_tpl__datetime_module());
    }
    else
        return 0;
    return 1;
}
