/*
 * tz.c: IANA time zones from TZif files (see tz.h).
 *
 * A loaded zone is a list of transitions (UTC seconds, offset from then on)
 * where every transition changes the offset (TZif files also record changes
 * of abbreviation or of the is-DST flag alone; those do not matter here and
 * are dropped so that periods are maximal), the offset before the first
 * transition, and the footer rule, which governs every instant after the
 * last transition. Rule transitions are computed on demand for the three
 * years around the instant asked about.
 *
 * The TZif layout is RFC 8536: a v1 header and 32-bit data block, then for
 * v2+ a second header, 64-bit data and "\n<POSIX TZ string>\n".
 */
#include "core/compat.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/str.h"
#include "core/tz.h"
#include "core/vec.h"

/* A day of the year in a POSIX TZ rule: Jn, n or Mm.w.d, and a time. */
typedef struct rule_date {
    char kind;       /* 'J', 'n' or 'M' */
    int n, m, w, d;  /* n for J/n; m.w.d for M */
    int32_t time;    /* seconds after local midnight; may be negative or > 24h (v3) */
} rule_date;

typedef struct tz_rule {
    int present;
    int32_t std_off, dst_off; /* seconds east of UTC */
    int has_dst;
    rule_date start, end;     /* DST starts (in standard time), ends (in DST) */
} tz_rule;

struct weir_tz {
    char *name;
    size_t n;
    int64_t *trans;     /* UTC seconds, increasing */
    int32_t *offs;      /* offset from trans[i] until trans[i + 1] */
    int32_t initial;    /* offset before trans[0] */
    tz_rule rule;
};

static weir_tz utc_zone = { "UTC", 0, NULL, NULL, 0, { 1, 0, 0, 0, { 0, 0, 0, 0, 0, 0 }, { 0, 0, 0, 0, 0, 0 } } };

#define TZ_FILE_LIMIT ((size_t)1 << 20)
/* Offsets beyond a day are not real zones (RFC 8536 allows -89999..93599). */
#define MAX_OFFSET (26 * 3600)

const weir_tz *weir_tz_utc(void) { return &utc_zone; }

const char *weir_tz_name(const weir_tz *tz) { return tz->name; }

void weir_tz_free(weir_tz *tz)
{
    if (!tz || tz == &utc_zone)
        return;
    free(tz->name);
    free(tz->trans);
    free(tz->offs);
    free(tz);
}

/* --- POSIX TZ strings ------------------------------------------------- */

static int parse_num(const char **p, int min, int max, int *out)
{
    const char *s = *p;
    long v = 0;
    if (!isdigit((unsigned char)*s))
        return -1;
    while (isdigit((unsigned char)*s)) {
        v = v * 10 + (*s++ - '0');
        if (v > max)
            return -1;
    }
    if (v < min)
        return -1;
    *p = s;
    *out = (int)v;
    return 0;
}

/* [+-]hh[:mm[:ss]] with hours up to max_h; returns seconds. */
static int parse_hms(const char **p, int max_h, int32_t *out)
{
    int sign = 1, h, m = 0, s = 0;
    if (**p == '+' || **p == '-')
        sign = *(*p)++ == '-' ? -1 : 1;
    if (parse_num(p, 0, max_h, &h))
        return -1;
    if (**p == ':') {
        (*p)++;
        if (parse_num(p, 0, 59, &m))
            return -1;
        if (**p == ':') {
            (*p)++;
            if (parse_num(p, 0, 59, &s))
                return -1;
        }
    }
    *out = sign * (h * 3600 + m * 60 + s);
    return 0;
}

static int parse_abbr(const char **p)
{
    const char *s = *p;
    size_t n = 0;
    if (*s == '<') {
        s++;
        while (*s && *s != '>') {
            if (!isalnum((unsigned char)*s) && *s != '+' && *s != '-')
                return -1;
            s++, n++;
        }
        if (*s != '>')
            return -1;
        s++;
    } else {
        while (isalpha((unsigned char)*s))
            s++, n++;
    }
    if (n < 3)
        return -1;
    *p = s;
    return 0;
}

static int parse_rule_date(const char **p, rule_date *out)
{
    memset(out, 0, sizeof(*out));
    if (**p == 'J') {
        (*p)++;
        out->kind = 'J';
        if (parse_num(p, 1, 365, &out->n))
            return -1;
    } else if (**p == 'M') {
        (*p)++;
        out->kind = 'M';
        if (parse_num(p, 1, 12, &out->m) || *(*p)++ != '.' || parse_num(p, 1, 5, &out->w) ||
            *(*p)++ != '.' || parse_num(p, 0, 6, &out->d))
            return -1;
    } else {
        out->kind = 'n';
        if (parse_num(p, 0, 365, &out->n))
            return -1;
    }
    out->time = 7200;
    if (**p == '/') {
        (*p)++;
        if (parse_hms(p, 167, &out->time))
            return -1;
    }
    return 0;
}

/* Parses a TZ string such as "CET-1CEST,M3.5.0,M10.5.0/3". */
static int parse_posix_tz(const char *s, tz_rule *r)
{
    int32_t off;
    memset(r, 0, sizeof(*r));
    if (parse_abbr(&s) || parse_hms(&s, 24, &off))
        return -1;
    r->std_off = -off; /* POSIX offsets count west of UTC */
    r->dst_off = r->std_off;
    if (*s) {
        if (parse_abbr(&s))
            return -1;
        r->has_dst = 1;
        r->dst_off = r->std_off + 3600;
        if (*s && *s != ',') {
            if (parse_hms(&s, 24, &off))
                return -1;
            r->dst_off = -off;
        }
        if (*s == ',') {
            s++;
            if (parse_rule_date(&s, &r->start) || *s++ != ',' || parse_rule_date(&s, &r->end))
                return -1;
        } else {
            /* No rule given: tzcode's default, the US rules since 2007. */
            const char *dflt = "M3.2.0,M11.1.0";
            parse_rule_date(&dflt, &r->start);
            dflt++;
            parse_rule_date(&dflt, &r->end);
        }
        if (r->dst_off == r->std_off)
            r->has_dst = 0;
    }
    if (*s)
        return -1;
    r->present = 1;
    return 0;
}

/* Local seconds (since 1970, in the offset of that moment) of a rule date in year. */
static int64_t rule_local_seconds(const rule_date *rd, int year)
{
    weir_date jan1, day;
    weir_date_from_ymd(year, 1, 1, &jan1);
    if (rd->kind == 'J') {
        int n = rd->n;
        if (weir_is_leap_year(year) && n >= 60)
            n++;
        day = jan1 + n - 1;
    } else if (rd->kind == 'n') {
        day = jan1 + rd->n;
    } else {
        weir_date first;
        weir_date_from_ymd(year, rd->m, 1, &first);
        int wd = weir_date_weekday(first) % 7; /* 0 Sunday */
        int dom = 1 + (rd->d - wd + 7) % 7 + (rd->w - 1) * 7;
        int dim = weir_days_in_month(year, rd->m);
        while (dom > dim)
            dom -= 7;
        day = first + dom - 1;
    }
    return (int64_t)day * 86400 + rd->time;
}

/* --- TZif ------------------------------------------------------------- */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

typedef struct tzif_header {
    int version;
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
} tzif_header;

static int read_header(const unsigned char *p, size_t len, tzif_header *h)
{
    if (len < 44 || memcmp(p, "TZif", 4) != 0)
        return -1;
    h->version = p[4] ? p[4] - '0' : 1;
    h->isutcnt = be32(p + 20);
    h->isstdcnt = be32(p + 24);
    h->leapcnt = be32(p + 28);
    h->timecnt = be32(p + 32);
    h->typecnt = be32(p + 36);
    h->charcnt = be32(p + 40);
    if (h->typecnt == 0 || h->typecnt > 256 || h->timecnt > 100000 || h->leapcnt > 10000 ||
        h->charcnt > 100000 || (h->isutcnt && h->isutcnt != h->typecnt) ||
        (h->isstdcnt && h->isstdcnt != h->typecnt))
        return -1;
    return 0;
}

static size_t block_size(const tzif_header *h, size_t tsize)
{
    return (size_t)h->timecnt * tsize + h->timecnt + (size_t)h->typecnt * 6 + h->charcnt +
           (size_t)h->leapcnt * (tsize + 4) + h->isstdcnt + h->isutcnt;
}

static int parse_tzif(weir_tz *tz, const unsigned char *p, size_t len)
{
    tzif_header h;
    size_t tsize = 4;
    if (read_header(p, len, &h))
        return -1;
    if (h.version >= 2) {
        size_t skip = 44 + block_size(&h, 4);
        if (skip > len || read_header(p + skip, len - skip, &h))
            return -1;
        p += skip + 44;
        len -= skip + 44;
        tsize = 8;
    } else {
        p += 44;
        len -= 44;
    }
    /* "right/" zones count leap seconds in their times: weir_ts does not */
    if (h.leapcnt)
        return -1;
    size_t need = block_size(&h, tsize);
    if (need > len)
        return -1;
    const unsigned char *times = p, *idx = p + (size_t)h.timecnt * tsize;
    const unsigned char *types = idx + h.timecnt;
    int32_t type_off[256];
    for (uint32_t i = 0; i < h.typecnt; i++) {
        int32_t off = (int32_t)be32(types + i * 6);
        if (off < -MAX_OFFSET || off > MAX_OFFSET || types[i * 6 + 4] > 1)
            return -1;
        type_off[i] = off;
    }
    tz->initial = type_off[0];
    tz->trans = weir_xcalloc(h.timecnt ? h.timecnt : 1, sizeof(int64_t));
    tz->offs = weir_xcalloc(h.timecnt ? h.timecnt : 1, sizeof(int32_t));
    int32_t last = tz->initial;
    int64_t prev_t = INT64_MIN;
    for (uint32_t i = 0; i < h.timecnt; i++) {
        int64_t t = tsize == 8 ? be64(times + i * 8) : (int64_t)(int32_t)be32(times + i * 4);
        if (idx[i] >= h.typecnt || (i && t <= prev_t))
            return -1;
        prev_t = t;
        /* Keep instants that weir_ts (microseconds) can hold, with room for offsets. */
        if (t < -INT64_C(9000000000000) || t > INT64_C(9000000000000))
            continue;
        if (type_off[idx[i]] == last)
            continue;
        last = type_off[idx[i]];
        tz->trans[tz->n] = t;
        tz->offs[tz->n] = last;
        tz->n++;
    }
    if (tsize == 8) {
        const unsigned char *foot = p + need, *end = p + len;
        if (foot >= end || *foot != '\n')
            return -1;
        foot++;
        const unsigned char *nl = memchr(foot, '\n', (size_t)(end - foot));
        if (!nl || nl - foot > 255)
            return -1;
        if (nl > foot) {
            char s[256];
            memcpy(s, foot, (size_t)(nl - foot));
            s[nl - foot] = '\0';
            if (parse_posix_tz(s, &tz->rule))
                return -1;
            if (tz->rule.std_off < -MAX_OFFSET || tz->rule.std_off > MAX_OFFSET ||
                tz->rule.dst_off < -MAX_OFFSET || tz->rule.dst_off > MAX_OFFSET)
                return -1;
        }
    }
    return 0;
}

int weir_tz_load_data(const char *name, const void *data, size_t len, weir_tz **out,
                      weir_error *err)
{
    weir_tz *tz = weir_xcalloc(1, sizeof(*tz));
    tz->name = weir_xstrdup(name);
    if (parse_tzif(tz, data, len)) {
        weir_tz_free(tz);
        *out = NULL;
        return weir_error_set(err, WEIR_EINVALID, "invalid time zone file for '%s'", name);
    }
    *out = tz;
    return 0;
}

/* --- loading by name -------------------------------------------------- */

static const char *tz_dir(void)
{
    const char *d = getenv("TZDIR");
    return d && *d ? d : "/usr/share/zoneinfo";
}

/* Zone names are paths below TZDIR: letters, digits, '_', '-', '+', '/'. */
static int valid_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 255 || name[0] == '/' || name[n - 1] == '/')
        return 0;
    for (const char *s = name; *s; s++) {
        if (!isalnum((unsigned char)*s) && !strchr("_-+/.", *s))
            return 0;
        if (*s == '/' && s[1] == '/')
            return 0;
        /* no "." or ".." components, no hidden files */
        if (*s == '.' && (s == name || s[-1] == '/'))
            return 0;
    }
    return 1;
}

/* Adds the zone names listed in TZDIR's zone1970.tab / zone.tab (third column). */
static void list_zone_names(weir_strvec *names)
{
    static const char *const tabs[] = { "zone1970.tab", "zone.tab" };
    weir_strvec_push(names, "UTC");
    for (size_t t = 0; t < WEIR_ARRAY_SIZE(tabs); t++) {
        weir_buf path = WEIR_BUF_INIT, text = WEIR_BUF_INIT;
        weir_path_join(&path, tz_dir(), tabs[t]);
        if (weir_fs_read_file(path.ptr, &text, 4 << 20, NULL) == 0) {
            char *line = text.ptr;
            while (line && *line) {
                char *nl = strchr(line, '\n');
                if (nl)
                    *nl = '\0';
                if (*line != '#') {
                    char *f = strchr(line, '\t');
                    f = f ? strchr(f + 1, '\t') : NULL;
                    if (f) {
                        f++;
                        size_t k = strcspn(f, "\t");
                        f[k] = '\0';
                        weir_strvec_push(names, f);
                    }
                }
                line = nl ? nl + 1 : NULL;
            }
        }
        weir_buf_release(&path);
        weir_buf_release(&text);
    }
}

static int unknown_zone(const char *name, weir_error *err)
{
    weir_strvec names = WEIR_VEC_INIT;
    list_zone_names(&names);
    const char *hint = NULL;
    for (size_t i = 0; i < names.len && !hint; i++)
        if (weir_str_ieq(names.items[i], name))
            hint = names.items[i];
    if (!hint)
        hint = weir_str_suggest(name, (const char *const *)names.items, names.len);
    if (hint)
        weir_error_set(err, WEIR_ENOTFOUND, "unknown time zone '%s'; did you mean '%s'?", name,
                       hint);
    else
        weir_error_set(err, WEIR_ENOTFOUND, "unknown time zone '%s'", name);
    weir_strvec_release(&names);
    return WEIR_ENOTFOUND;
}

int weir_tz_load(const char *name, weir_tz **out, weir_error *err)
{
    weir_buf path = WEIR_BUF_INIT, data = WEIR_BUF_INIT;
    int rc = 0;
    *out = NULL;
    if (!strcmp(name, "UTC") || !strcmp(name, "Etc/UTC") || !strcmp(name, "Z")) {
        weir_tz *tz = weir_xcalloc(1, sizeof(*tz));
        tz->name = weir_xstrdup(name);
        tz->rule.present = 1;
        *out = tz;
        return 0;
    }
    if (!valid_name(name))
        return weir_error_set(err, WEIR_EINVALID, "invalid time zone name '%s'", name);
    weir_path_join(&path, tz_dir(), name);
    struct stat st;
    if (stat(path.ptr, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = unknown_zone(name, err);
        goto cleanup;
    }
    rc = weir_fs_read_file(path.ptr, &data, TZ_FILE_LIMIT, err);
    if (rc) {
        weir_error_wrap(err, "cannot load time zone '%s'", name);
        goto cleanup;
    }
    if (data.len < 4 || memcmp(data.ptr, "TZif", 4) != 0) {
        rc = unknown_zone(name, err);
        goto cleanup;
    }
    rc = weir_tz_load_data(name, data.ptr, data.len, out, err);
cleanup:
    weir_buf_release(&path);
    weir_buf_release(&data);
    return rc;
}

/* --- queries ---------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

typedef struct point {
    int64_t t;
    int32_t off;
} point;

/* The period containing UTC second s, in seconds. */
static void period_seconds(const weir_tz *tz, int64_t s, int64_t *start, int64_t *end,
                           int32_t *off, int32_t *prev)
{
    size_t n = tz->n;
    if (n && s < tz->trans[n - 1]) {
        if (s < tz->trans[0]) {
            *start = INT64_MIN, *end = tz->trans[0];
            *off = *prev = tz->initial;
            return;
        }
        size_t lo = 0, hi = n - 1; /* trans[lo] <= s < trans[hi] */
        while (hi - lo > 1) {
            size_t mid = lo + (hi - lo) / 2;
            if (tz->trans[mid] <= s)
                lo = mid;
            else
                hi = mid;
        }
        *start = tz->trans[lo], *end = tz->trans[lo + 1];
        *off = tz->offs[lo];
        *prev = lo ? tz->offs[lo - 1] : tz->initial;
        return;
    }
    /* At or after the last transition: the footer rule (or the last offset). */
    int32_t table_off = n ? tz->offs[n - 1] : tz->initial;
    int32_t table_prev = n > 1 ? tz->offs[n - 2] : tz->initial;
    int64_t table_end = n ? tz->trans[n - 1] : INT64_MIN;
    const tz_rule *r = &tz->rule;
    if (!r->present || !r->has_dst) {
        int32_t o = r->present ? r->std_off : table_off;
        *start = table_end, *end = INT64_MAX;
        *off = o;
        *prev = n ? table_prev : o;
        if (n && o != table_off) /* an inconsistent footer: it wins after the table */
            *prev = table_off;
        return;
    }
    point pts[8];
    size_t np = 0;
    if (n)
        pts[np++] = (point){ table_end, table_off };
    int year;
    int mo, dd;
    int64_t day = floor_div(s, 86400);
    day = WEIR_MAX(day, -719162); /* keep the year computation in 1..9999 */
    day = WEIR_MIN(day, 2932896);
    weir_date_to_ymd((weir_date)day, &year, &mo, &dd);
    year = WEIR_MAX(2, WEIR_MIN(year, 9998));
    point rp[6];
    size_t nr = 0;
    for (int y = year - 1; y <= year + 1; y++) {
        rp[nr++] = (point){ rule_local_seconds(&r->start, y) - r->std_off, r->dst_off };
        rp[nr++] = (point){ rule_local_seconds(&r->end, y) - r->dst_off, r->std_off };
    }
    /* sort the six rule points (southern zones start DST late in the year) */
    for (size_t i = 1; i < nr; i++)
        for (size_t j = i; j > 0 && rp[j].t < rp[j - 1].t; j--) {
            point tmp = rp[j];
            rp[j] = rp[j - 1];
            rp[j - 1] = tmp;
        }
    for (size_t i = 0; i < nr; i++) {
        if (np && (rp[i].t <= pts[np - 1].t || rp[i].off == pts[np - 1].off))
            continue;
        pts[np++] = rp[i];
    }
    size_t k = np;
    for (size_t i = 0; i < np; i++)
        if (pts[i].t <= s)
            k = i;
    if (k == np) { /* before every point: only when the table is empty */
        *start = INT64_MIN, *end = pts[0].t;
        *off = *prev = pts[0].off == r->dst_off ? r->std_off : r->dst_off;
        return;
    }
    *start = pts[k].t;
    *end = k + 1 < np ? pts[k + 1].t : INT64_MAX;
    *off = pts[k].off;
    if (k > 0)
        *prev = pts[k - 1].off;
    else if (n)
        *prev = table_prev;
    else
        *prev = pts[k].off == r->dst_off ? r->std_off : r->dst_off;
}

static weir_ts sec_to_us(int64_t s, int is_end)
{
    if (s == INT64_MIN || s < INT64_MIN / WEIR_USEC_PER_SEC)
        return INT64_MIN;
    if (s == INT64_MAX || s > INT64_MAX / WEIR_USEC_PER_SEC)
        return is_end ? INT64_MAX : INT64_MAX;
    return s * WEIR_USEC_PER_SEC;
}

void weir_tz_period_at(const weir_tz *tz, weir_ts utc, weir_tz_period *out)
{
    int64_t a, b;
    period_seconds(tz, floor_div(utc, WEIR_USEC_PER_SEC), &a, &b, &out->offset,
                   &out->prev_offset);
    out->start = sec_to_us(a, 0);
    out->end = sec_to_us(b, 1);
}

int32_t weir_tz_offset(const weir_tz *tz, weir_ts utc)
{
    weir_tz_period p;
    weir_tz_period_at(tz, utc, &p);
    return p.offset;
}

weir_ts weir_tz_to_local(const weir_tz *tz, weir_ts utc)
{
    return utc + (weir_ts)weir_tz_offset(tz, utc) * WEIR_USEC_PER_SEC;
}

int weir_tz_from_local(const weir_tz *tz, weir_ts local, weir_tz_choice choice, weir_ts *utc)
{
    /* Every instant that could read as local lies within MAX_OFFSET of it:
     * walk the periods there and keep the offsets that map back to local. */
    const weir_ts window = (weir_ts)MAX_OFFSET * WEIR_USEC_PER_SEC;
    const weir_ts limit = INT64_C(1) << 62;
    weir_ts found[2];
    size_t nfound = 0;
    weir_ts t = local - window;
    weir_tz_period p;
    if (local < -limit || local > limit) { /* far outside years 1..9999 */
        *utc = local - (weir_ts)weir_tz_offset(tz, local) * WEIR_USEC_PER_SEC;
        return WEIR_TZ_UNIQUE;
    }
    for (int guard = 0; guard < 64; guard++) {
        weir_tz_period_at(tz, t, &p);
        weir_ts u = local - (weir_ts)p.offset * WEIR_USEC_PER_SEC;
        if (u >= p.start && u < p.end && nfound < 2)
            found[nfound++] = u;
        /* a gap at this period's start: local falls between the two readings */
        if (p.start != INT64_MIN && p.prev_offset < p.offset &&
            local >= p.start + (weir_ts)p.prev_offset * WEIR_USEC_PER_SEC &&
            local < p.start + (weir_ts)p.offset * WEIR_USEC_PER_SEC && nfound == 0) {
            *utc = choice == WEIR_TZ_LATER ? local - (weir_ts)p.prev_offset * WEIR_USEC_PER_SEC
                                           : local - (weir_ts)p.offset * WEIR_USEC_PER_SEC;
            return WEIR_TZ_GAP;
        }
        if (p.end == INT64_MAX || p.end > local + window)
            break;
        t = p.end;
    }
    if (nfound == 2) {
        *utc = choice == WEIR_TZ_LATER ? found[1] : found[0];
        return WEIR_TZ_OVERLAP;
    }
    if (nfound == 1) {
        *utc = found[0];
        return WEIR_TZ_UNIQUE;
    }
    /* Not reachable with consistent data; read it with the first offset. */
    weir_tz_period_at(tz, local, &p);
    *utc = local - (weir_ts)p.offset * WEIR_USEC_PER_SEC;
    return WEIR_TZ_GAP;
}

weir_ts weir_tz_day_start(const weir_tz *tz, weir_date d)
{
    weir_ts u;
    if (weir_tz_from_local(tz, weir_ts_from_date(d), WEIR_TZ_EARLIER, &u) == WEIR_TZ_GAP) {
        /* midnight does not exist: the day starts when the gap ends */
        weir_tz_period p;
        weir_tz_period_at(tz, u, &p);
        u = p.end;
    }
    return u;
}

static void put2(char *out, int v)
{
    out[0] = (char)('0' + v / 10 % 10);
    out[1] = (char)('0' + v % 10);
}

char *weir_tz_format_iso(const weir_tz *tz, weir_ts utc, char *out)
{
    int32_t off = weir_tz_offset(tz, utc);
    weir_ts local = utc + (weir_ts)off * WEIR_USEC_PER_SEC;
    weir_date d;
    int h, mi, s, us;
    char date[WEIR_DATE_STRLEN];
    weir_ts_to_parts(local, &d, &h, &mi, &s, &us);
    weir_date_format(d, date);
    size_t n = (size_t)snprintf(out, WEIR_TZ_ISO_STRLEN, "%sT%02d:%02d:%02d", date, h, mi, s);
    if (us)
        n += (size_t)snprintf(out + n, WEIR_TZ_ISO_STRLEN - n, ".%06d", us);
    int32_t a = off < 0 ? -off : off;
    out[n++] = off < 0 ? '-' : '+';
    put2(out + n, a / 3600);
    out[n + 2] = ':';
    put2(out + n + 3, a / 60 % 60);
    n += 5;
    if (a % 60) {
        out[n] = ':';
        put2(out + n + 1, a % 60);
        n += 3;
    }
    out[n] = '\0';
    return out;
}
