/*
 * docs.c: Data Docs, static HTML pages of validation results (GX's Data
 * Docs, in weir's look).
 *
 *   DIR/data_docs/index.html                  every suite: its last run and
 *                                             a strip of its history
 *   DIR/data_docs/suites/SUITE.html           one suite: its runs over time and
 *                                             its expectations as last run
 *   DIR/data_docs/runs/SUITE/RUNTIME.html     one validation: pass/fail per
 *                                             expectation, observed values,
 *                                             samples of unexpected values
 *
 * The validations come from the store when one is given (the history kept
 * with the runs), else from the result files under DIR/validations/. Pages
 * are self-contained: styles inline in each page, no script, nothing
 * fetched, so they open from the disk or any static file server.
 */
#include "core/compat.h"

#include "core/alloc.h"
#include "core/fs.h"
#include "core/json.h"
#include "core/str.h"
#include "quality/quality.h"

/* How many runs a suite's history shows. */
#define HISTORY_MAX 200
/* How many squares the index's history strip shows. */
#define STRIP_MAX 40

static const char *const CSS =
    "*{box-sizing:border-box}"
    "body{margin:0;font:14px/1.5 -apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,"
    "Helvetica,Arial,sans-serif;color:#1f2933;background:#f5f7fa}"
    "header{background:#102a43;color:#fff;padding:14px 32px;display:flex;align-items:baseline;"
    "gap:16px}header a{color:#fff;text-decoration:none;font-weight:600;font-size:17px}"
    "header span{color:#9fb3c8}"
    "main{max-width:1180px;margin:0 auto;padding:24px 32px}"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 10px}"
    ".sub{color:#627d98;margin-bottom:18px}"
    ".cards{display:flex;gap:14px;flex-wrap:wrap;margin:12px 0 8px}"
    ".card{background:#fff;border:1px solid #d9e2ec;border-radius:8px;padding:12px 18px;"
    "min-width:150px}.card b{display:block;font-size:22px}.card small{color:#627d98}"
    "table{width:100%;border-collapse:collapse;background:#fff;border:1px solid #d9e2ec;"
    "border-radius:8px;overflow:hidden}"
    "th{text-align:left;font-weight:600;color:#486581;background:#f0f4f8;padding:8px 12px;"
    "border-bottom:1px solid #d9e2ec;font-size:12px;text-transform:uppercase;"
    "letter-spacing:.04em}"
    "td{padding:8px 12px;border-bottom:1px solid #eef2f7;vertical-align:top}"
    "tr:last-child td{border-bottom:0}"
    "a{color:#2680c2}code,.mono{font-family:SFMono-Regular,Menlo,Consolas,monospace;"
    "font-size:12.5px}"
    ".badge{display:inline-block;padding:1px 9px;border-radius:10px;font-size:12px;"
    "font-weight:600}"
    ".ok{background:#e3f9e5;color:#207227}.fail{background:#ffe3e3;color:#a61b1b}"
    ".err{background:#fff3c4;color:#8d6708}"
    ".strip{display:flex;gap:2px}.strip a{display:block;width:10px;height:18px;"
    "border-radius:2px}.strip .s1{background:#3ebd93}.strip .s0{background:#e66a6a}"
    ".kw{color:#486581}.sample{color:#a61b1b}.muted{color:#829ab1}"
    ".msg{white-space:pre-wrap;color:#8d6708}.nw{white-space:nowrap}";

static void esc(weir_buf *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': weir_buf_adds(out, "&lt;"); break;
        case '>': weir_buf_adds(out, "&gt;"); break;
        case '&': weir_buf_adds(out, "&amp;"); break;
        case '"': weir_buf_adds(out, "&quot;"); break;
        case '\'': weir_buf_adds(out, "&#39;"); break;
        default: weir_buf_addch(out, *s); break;
        }
    }
}

/* A JSON value, compact, escaped, cut at max bytes. */
static void esc_json(weir_buf *out, const json_t *v, size_t max)
{
    weir_buf t = WEIR_BUF_INIT;
    /* 15 digits: 0.4, not the 0.40000000000000002 that round-trips */
    char *d = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
    weir_buf_adds(&t, d ? d : "null");
    free(d);
    if (t.len > max) {
        weir_buf_truncate(&t, max);
        weir_buf_adds(&t, "...");
    }
    esc(out, t.ptr);
    weir_buf_release(&t);
}

/* A name safe in a file name: letters, digits, '.', '-', '_'. */
static void slug(weir_buf *out, const char *s)
{
    for (; s && *s; s++)
        weir_buf_addch(out, isalnum((unsigned char)*s) || strchr(".-_", *s) ? *s : '_');
}

static void page_open(weir_buf *b, const char *title, const char *root)
{
    weir_buf_adds(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                     "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                     "<title>");
    esc(b, title);
    weir_buf_addf(b, " - weir Data Docs</title><style>%s</style></head><body>\n"
                  "<header><a href=\"%sindex.html\">weir Data Docs</a>"
                  "<span>expectation suites and validation results</span></header><main>\n",
                  CSS, root);
}

static void page_close(weir_buf *b)
{
    weir_buf_adds(b, "</main></body></html>\n");
}

static const char *str_at(const json_t *o, const char *a, const char *b)
{
    const json_t *v = json_object_get(o, a);
    if (b)
        v = json_object_get(v, b);
    return json_string_value(v);
}

static const char *suite_of(const json_t *res)
{
    const char *s = str_at(json_object_get(res, "meta"), "expectation_suite_name", NULL);
    return s ? s : "unnamed";
}

static const char *run_time_of(const json_t *res)
{
    const char *t = str_at(json_object_get(res, "meta"), "validation_time", NULL);
    return t ? t : "unknown";
}

/* "runs/SUITE/RUNTIME.html", relative to the site's root. */
static void run_href(weir_buf *out, const json_t *res)
{
    weir_buf_adds(out, "runs/");
    slug(out, suite_of(res));
    weir_buf_addch(out, '/');
    slug(out, run_time_of(res));
    weir_buf_adds(out, ".html");
}

static void status_badge(weir_buf *b, int success, int error)
{
    weir_buf_adds(b, error ? "<span class=\"badge err\">error</span>"
                 : success ? "<span class=\"badge ok\">passed</span>"
                           : "<span class=\"badge fail\">failed</span>");
}

/* "2026-11-26 08:18:22" from the run_id's run time, or the raw text. */
static void when(weir_buf *b, const json_t *res)
{
    const char *t = str_at(json_object_get(res, "meta"), "run_id", "run_time");
    if (t && strlen(t) >= 19) {
        weir_buf tmp = WEIR_BUF_INIT;
        weir_buf_add(&tmp, t, 19);
        if (tmp.ptr[10] == 'T')
            tmp.ptr[10] = ' ';
        esc(b, tmp.ptr);
        weir_buf_release(&tmp);
    } else {
        esc(b, t ? t : run_time_of(res));
    }
}

/* The kwargs worth showing next to the type (all but result_format and co.). */
static void kwargs_text(weir_buf *b, const json_t *kw)
{
    const char *k;
    json_t *v;
    int first = 1;
    json_object_foreach((json_t *)kw, k, v) {
        if (strcmp(k, "result_format") == 0 || strcmp(k, "include_config") == 0 ||
            strcmp(k, "catch_exceptions") == 0)
            continue;
        weir_buf_adds(b, first ? "" : ", ");
        esc(b, k);
        weir_buf_adds(b, "=");
        esc_json(b, v, 120);
        first = 0;
    }
}

/* One validation's page. */
static void run_page(weir_buf *b, const json_t *res)
{
    const json_t *stats = json_object_get(res, "statistics");
    const json_t *meta = json_object_get(res, "meta");
    const char *suite = suite_of(res);
    weir_buf tmp = WEIR_BUF_INIT;
    weir_buf_addf(&tmp, "%s run", suite);
    page_open(b, tmp.ptr, "../../");
    weir_buf_adds(b, "<h1>");
    esc(b, suite);
    weir_buf_adds(b, " ");
    status_badge(b, json_is_true(json_object_get(res, "success")), 0);
    weir_buf_adds(b, "</h1><div class=\"sub\">on <code>");
    esc(b, str_at(meta, "batch_spec", "table_name"));
    weir_buf_adds(b, "</code> at ");
    when(b, res);
    if (str_at(meta, "ds", NULL)) {
        weir_buf_adds(b, " &middot; ds ");
        esc(b, str_at(meta, "ds", NULL));
    }
    weir_buf_adds(b, " &middot; <a href=\"../../suites/");
    weir_buf_reset(&tmp);
    slug(&tmp, suite);
    esc(b, tmp.ptr);
    weir_buf_adds(b, ".html\">history of the suite</a></div>\n<div class=\"cards\">");
    json_int_t ev = json_integer_value(json_object_get(stats, "evaluated_expectations"));
    json_int_t ok = json_integer_value(json_object_get(stats, "successful_expectations"));
    const json_t *pct = json_object_get(stats, "success_percent");
    weir_buf_addf(b, "<div class=\"card\"><b>%" JSON_INTEGER_FORMAT "</b><small>expectations"
                  "</small></div><div class=\"card\"><b>%" JSON_INTEGER_FORMAT "</b><small>passed"
                  "</small></div><div class=\"card\"><b>%" JSON_INTEGER_FORMAT "</b><small>failed"
                  "</small></div>", ev, ok, ev - ok);
    if (json_is_number(pct))
        weir_buf_addf(b, "<div class=\"card\"><b>%.1f%%</b><small>success</small></div>",
                      json_number_value(pct));
    if (json_is_integer(json_object_get(meta, "queries")))
        weir_buf_addf(b, "<div class=\"card\"><b>%" JSON_INTEGER_FORMAT "</b><small>queries"
                      "</small></div>", json_integer_value(json_object_get(meta, "queries")));
    weir_buf_adds(b, "</div>\n<h2>Expectations</h2><table><tr><th>status</th><th>expectation"
                     "</th><th>observed</th><th>unexpected values</th></tr>\n");
    size_t i;
    json_t *one;
    json_array_foreach(json_object_get(res, "results"), i, one) {
        const json_t *cfg = json_object_get(one, "expectation_config");
        const json_t *r = json_object_get(one, "result");
        const char *msg = str_at(one, "exception_info", "exception_message");
        const char *type = str_at(cfg, "expectation_type", NULL);
        if (!type)
            type = str_at(cfg, "type", NULL);
        weir_buf_adds(b, "<tr><td>");
        status_badge(b, json_is_true(json_object_get(one, "success")), msg != NULL);
        weir_buf_adds(b, "</td><td><code>");
        esc(b, type ? type : "?");
        weir_buf_adds(b, "</code><br><span class=\"kw mono\">");
        kwargs_text(b, json_object_get(cfg, "kwargs"));
        weir_buf_adds(b, "</span></td><td>");
        const json_t *obs = json_object_get(r, "observed_value");
        const json_t *unexp = json_object_get(r, "unexpected_count");
        if (msg) {
            weir_buf_adds(b, "<div class=\"msg mono\">");
            esc(b, msg);
            weir_buf_adds(b, "</div>");
        } else if (obs) {
            weir_buf_adds(b, "<span class=\"mono\">");
            esc_json(b, obs, 300);
            weir_buf_adds(b, "</span>");
        } else if (json_is_integer(unexp)) {
            const json_t *p = json_object_get(r, "unexpected_percent");
            weir_buf_addf(b, "%" JSON_INTEGER_FORMAT " unexpected of %" JSON_INTEGER_FORMAT,
                          json_integer_value(unexp),
                          json_integer_value(json_object_get(r, "element_count")));
            if (json_is_number(p))
                weir_buf_addf(b, " <span class=\"muted\">(%.4g%%)</span>", json_number_value(p));
            if (json_is_integer(json_object_get(r, "missing_count")) &&
                json_integer_value(json_object_get(r, "missing_count")))
                weir_buf_addf(b, "<br><span class=\"muted\">%" JSON_INTEGER_FORMAT " missing</span>",
                              json_integer_value(json_object_get(r, "missing_count")));
        } else {
            weir_buf_adds(b, "<span class=\"muted\">&mdash;</span>");
        }
        weir_buf_adds(b, "</td><td>");
        const json_t *counts = json_object_get(r, "partial_unexpected_counts");
        const json_t *sample = json_object_get(r, "partial_unexpected_list");
        if (json_array_size(counts)) {
            size_t k;
            json_t *c;
            json_array_foreach(counts, k, c) {
                weir_buf_adds(b, k ? ", " : "");
                weir_buf_adds(b, "<span class=\"sample mono\">");
                esc_json(b, json_object_get(c, "value"), 80);
                weir_buf_addf(b, "</span>&nbsp;&times;%" JSON_INTEGER_FORMAT,
                              json_integer_value(json_object_get(c, "count")));
            }
        } else if (json_array_size(sample)) {
            weir_buf_adds(b, "<span class=\"sample mono\">");
            esc_json(b, sample, 300);
            weir_buf_adds(b, "</span>");
        }
        weir_buf_adds(b, "</td></tr>\n");
    }
    weir_buf_adds(b, "</table>\n");
    page_close(b);
    weir_buf_release(&tmp);
}

/* A suite's page: its runs, newest first, and its expectations as last run. */
static void suite_page(weir_buf *b, const char *suite, json_t *const *runs, size_t n)
{
    page_open(b, suite, "../");
    weir_buf_adds(b, "<h1>");
    esc(b, suite);
    weir_buf_addf(b, "</h1><div class=\"sub\">%zu validation%s", n, n == 1 ? "" : "s");
    if (n) {
        weir_buf_adds(b, " &middot; last on <code>");
        esc(b, str_at(json_object_get(runs[n - 1], "meta"), "batch_spec", "table_name"));
        weir_buf_adds(b, "</code>");
    }
    weir_buf_adds(b, "</div>\n<h2>History</h2><table><tr><th>run</th><th>ds</th><th>status</th>"
                     "<th>passed</th><th>failed expectations</th></tr>\n");
    for (size_t k = n; k-- > 0 && n - k <= HISTORY_MAX;) {
        const json_t *res = runs[k];
        const json_t *stats = json_object_get(res, "statistics");
        weir_buf_adds(b, "<tr><td class=\"nw\"><a href=\"../");
        run_href(b, res);
        weir_buf_adds(b, "\">");
        when(b, res);
        weir_buf_adds(b, "</a></td><td class=\"nw\">");
        esc(b, str_at(json_object_get(res, "meta"), "ds", NULL));
        weir_buf_adds(b, "</td><td>");
        status_badge(b, json_is_true(json_object_get(res, "success")), 0);
        weir_buf_addf(b, "</td><td>%" JSON_INTEGER_FORMAT " / %" JSON_INTEGER_FORMAT "</td><td>",
                      json_integer_value(json_object_get(stats, "successful_expectations")),
                      json_integer_value(json_object_get(stats, "evaluated_expectations")));
        size_t i, shown = 0;
        json_t *one;
        json_array_foreach(json_object_get(res, "results"), i, one) {
            if (json_is_true(json_object_get(one, "success")))
                continue;
            const json_t *cfg = json_object_get(one, "expectation_config");
            const char *type = str_at(cfg, "expectation_type", NULL);
            const char *col = str_at(cfg, "kwargs", "column");
            if (shown++ == 3) {
                weir_buf_adds(b, ", ...");
                break;
            }
            weir_buf_adds(b, shown > 1 ? ", <code>" : "<code>");
            esc(b, type ? type + (strncmp(type, "expect_", 7) == 0 ? 7 : 0) : "?");
            if (col) {
                weir_buf_addch(b, '(');
                esc(b, col);
                weir_buf_addch(b, ')');
            }
            weir_buf_adds(b, "</code>");
        }
        if (!shown)
            weir_buf_adds(b, "<span class=\"muted\">none</span>");
        weir_buf_adds(b, "</td></tr>\n");
    }
    weir_buf_adds(b, "</table>\n");
    if (n) {
        /* the suite's expectations, with how each fared over the runs shown */
        weir_buf_adds(b, "<h2>Expectations</h2><table><tr><th>expectation</th><th>last</th>"
                         "<th>passed in</th></tr>\n");
        const json_t *last = json_object_get(runs[n - 1], "results");
        size_t i;
        json_t *one;
        json_array_foreach(last, i, one) {
            const json_t *cfg = json_object_get(one, "expectation_config");
            size_t seen = 0, passed = 0;
            for (size_t k = 0; k < n; k++) {
                size_t j;
                json_t *o;
                json_array_foreach(json_object_get(runs[k], "results"), j, o)
                    if (json_equal(json_object_get(o, "expectation_config"), cfg)) {
                        seen++;
                        passed += json_is_true(json_object_get(o, "success"));
                        break;
                    }
            }
            const char *type = str_at(cfg, "expectation_type", NULL);
            if (!type)
                type = str_at(cfg, "type", NULL);
            weir_buf_adds(b, "<tr><td><code>");
            esc(b, type ? type : "?");
            weir_buf_adds(b, "</code><br><span class=\"kw mono\">");
            kwargs_text(b, json_object_get(cfg, "kwargs"));
            weir_buf_adds(b, "</span></td><td>");
            status_badge(b, json_is_true(json_object_get(one, "success")),
                         str_at(one, "exception_info", "exception_message") != NULL);
            weir_buf_addf(b, "</td><td>%zu of %zu runs</td></tr>\n", passed, seen);
        }
        weir_buf_adds(b, "</table>\n");
    }
    page_close(b);
}

static int write_page(const char *root, const char *rel, const weir_buf *b, weir_error *err)
{
    weir_buf path = WEIR_BUF_INIT, dir = WEIR_BUF_INIT;
    int rc;
    weir_path_join(&path, root, rel);
    weir_buf_adds(&dir, path.ptr);
    char *slash = strrchr(dir.ptr, '/');
    if (slash)
        weir_buf_truncate(&dir, (size_t)(slash - dir.ptr));
    rc = weir_fs_mkdir_p(dir.ptr, err);
    if (rc == 0)
        rc = weir_fs_write_atomic(path.ptr, b->ptr, b->len, err);
    weir_buf_release(&path);
    weir_buf_release(&dir);
    return rc;
}

/* Every validation, oldest first: from the store, or from the result files. */
static int collect(const char *target_dir, weir_store *st, json_t *all, weir_error *err)
{
    if (st) {
        weir_store_stmt *q = NULL;
        int rc = weir_store_prepare(st, "SELECT result FROM validations ORDER BY executed_at, id",
                                    &q, err);
        if (rc)
            return rc;
        while ((rc = weir_store_step(q, err)) > 0) {
            const char *text = weir_store_col_text(q, 0);
            json_t *v = text ? json_loads(text, 0, NULL) : NULL;
            if (json_is_object(v))
                json_array_append_new(all, v);
            else
                json_decref(v);
        }
        weir_store_stmt_free(q);
        return rc < 0 ? rc : 0;
    }
    static const char *const exts[] = { ".json" };
    weir_strvec files = WEIR_VEC_INIT;
    weir_buf dir = WEIR_BUF_INIT;
    weir_path_join(&dir, target_dir, "validations");
    int rc = weir_fs_list(dir.ptr, exts, 1, 1, &files, err);
    for (size_t i = 0; rc == 0 && i < files.len; i++) {
        weir_buf text = WEIR_BUF_INIT;
        weir_error e2 = WEIR_ERROR_INIT;
        if (weir_fs_read_file(files.items[i], &text, WEIR_FS_READ_LIMIT, &e2) == 0) {
            json_t *v = json_loadb(text.ptr, text.len, 0, NULL);
            if (json_is_object(v) && json_object_get(v, "results"))
                json_array_append_new(all, v);
            else
                json_decref(v);
        }
        weir_error_release(&e2);
        weir_buf_release(&text);
    }
    weir_strvec_release(&files);
    weir_buf_release(&dir);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int weir_quality_docs_write(const char *target_dir, weir_store *st, char **index_path,
                            weir_error *err)
{
    json_t *all = json_array();
    weir_buf root = WEIR_BUF_INIT, b = WEIR_BUF_INIT, rel = WEIR_BUF_INIT;
    weir_strvec suites = WEIR_VEC_INIT;
    json_t **runs = NULL;
    int rc;
    if (index_path)
        *index_path = NULL;
    weir_path_join(&root, target_dir, "data_docs");
    if ((rc = collect(target_dir, st, all, err)))
        goto cleanup;
    /* suites in order of first appearance, then by name */
    size_t i;
    json_t *v;
    json_array_foreach(all, i, v) {
        int seen = 0;
        for (size_t k = 0; k < suites.len && !seen; k++)
            seen = strcmp(suites.items[k], suite_of(v)) == 0;
        if (!seen)
            weir_strvec_push(&suites, suite_of(v));
    }
    qsort(suites.items, suites.len, sizeof(*suites.items), cmp_str);
    runs = weir_xcalloc(json_array_size(all) + 1, sizeof(*runs));

    weir_buf idx = WEIR_BUF_INIT;
    page_open(&idx, "Suites", "");
    weir_buf_addf(&idx, "<h1>Expectation suites</h1><div class=\"sub\">%zu suite%s, %zu "
                  "validation%s</div>\n<table><tr><th>suite</th><th>table</th><th>last run</th>"
                  "<th>status</th><th>passed</th><th>history (oldest to newest)</th></tr>\n",
                  suites.len, suites.len == 1 ? "" : "s", json_array_size(all),
                  json_array_size(all) == 1 ? "" : "s");
    for (size_t s = 0; s < suites.len; s++) {
        size_t n = 0;
        json_array_foreach(all, i, v)
            if (strcmp(suite_of(v), suites.items[s]) == 0)
                runs[n++] = v;
        /* runs */
        for (size_t k = 0; k < n; k++) {
            weir_buf_reset(&b);
            weir_buf_reset(&rel);
            run_page(&b, runs[k]);
            run_href(&rel, runs[k]);
            if ((rc = write_page(root.ptr, rel.ptr, &b, err))) {
                weir_buf_release(&idx);
                goto cleanup;
            }
        }
        /* the suite */
        weir_buf_reset(&b);
        weir_buf_reset(&rel);
        suite_page(&b, suites.items[s], runs, n);
        weir_buf_adds(&rel, "suites/");
        slug(&rel, suites.items[s]);
        weir_buf_adds(&rel, ".html");
        if ((rc = write_page(root.ptr, rel.ptr, &b, err))) {
            weir_buf_release(&idx);
            goto cleanup;
        }
        /* its line in the index */
        const json_t *last = runs[n - 1];
        const json_t *stats = json_object_get(last, "statistics");
        weir_buf_adds(&idx, "<tr><td><a href=\"");
        esc(&idx, rel.ptr);
        weir_buf_adds(&idx, "\">");
        esc(&idx, suites.items[s]);
        weir_buf_adds(&idx, "</a></td><td><code>");
        esc(&idx, str_at(json_object_get(last, "meta"), "batch_spec", "table_name"));
        weir_buf_adds(&idx, "</code></td><td><a href=\"");
        weir_buf_reset(&rel);
        run_href(&rel, last);
        esc(&idx, rel.ptr);
        weir_buf_adds(&idx, "\">");
        when(&idx, last);
        weir_buf_adds(&idx, "</a></td><td>");
        status_badge(&idx, json_is_true(json_object_get(last, "success")), 0);
        weir_buf_addf(&idx, "</td><td>%" JSON_INTEGER_FORMAT " / %" JSON_INTEGER_FORMAT
                      "</td><td><div class=\"strip\">",
                      json_integer_value(json_object_get(stats, "successful_expectations")),
                      json_integer_value(json_object_get(stats, "evaluated_expectations")));
        for (size_t k = n > STRIP_MAX ? n - STRIP_MAX : 0; k < n; k++) {
            weir_buf_reset(&rel);
            run_href(&rel, runs[k]);
            weir_buf_addf(&idx, "<a class=\"s%d\" href=\"",
                          json_is_true(json_object_get(runs[k], "success")));
            esc(&idx, rel.ptr);
            weir_buf_adds(&idx, "\" title=\"");
            when(&idx, runs[k]);
            weir_buf_adds(&idx, "\"></a>");
        }
        weir_buf_adds(&idx, "</div></td></tr>\n");
    }
    weir_buf_adds(&idx, "</table>\n");
    if (!suites.len)
        weir_buf_adds(&idx, "<p class=\"muted\">No validation yet: run <code>weir validate "
                            "SUITE</code>.</p>\n");
    page_close(&idx);
    rc = write_page(root.ptr, "index.html", &idx, err);
    weir_buf_release(&idx);
    if (rc == 0 && index_path) {
        weir_buf p = WEIR_BUF_INIT;
        weir_path_join(&p, root.ptr, "index.html");
        *index_path = weir_buf_detach(&p, NULL);
    }
cleanup:
    free(runs);
    json_decref(all);
    weir_strvec_release(&suites);
    weir_buf_release(&root);
    weir_buf_release(&b);
    weir_buf_release(&rel);
    return rc;
}
