/*
 * docs.c: `weir docs generate`: one self-contained static page,
 * target/index.html (dbt's file name), that documents every model, seed,
 * snapshot and source: its relation, description, columns with their tests,
 * what it reads and what reads it, its compiled SQL, and the lineage graph
 * drawn as an SVG picture (columns by depth in the DAG).
 */
#include "core/compat.h"

#include "core/alloc.h"
#include "core/fs.h"
#include "transform/tf_int.h"

#define GRAPH_MAX_NODES 400

static void html(weir_buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': weir_buf_adds(b, "&lt;"); break;
        case '>': weir_buf_adds(b, "&gt;"); break;
        case '&': weir_buf_adds(b, "&amp;"); break;
        case '"': weir_buf_adds(b, "&quot;"); break;
        default: weir_buf_addch(b, *s);
        }
    }
}

static int documented(const weir_tnode *n)
{
    return n->kind != WEIR_NODE_TEST && tf_cfg_bool(n, "enabled", 1);
}

static void anchor(weir_buf *b, const weir_tnode *n)
{
    weir_buf_adds(b, "<a href=\"#");
    html(b, n->unique_id);
    weir_buf_adds(b, "\">");
    html(b, n->name);
    weir_buf_adds(b, "</a>");
}

/* The lineage picture: x by longest path from a root, y by order. */
static void graph_svg(weir_transform *tf, weir_buf *b)
{
    size_t n = tf->nodes.len, shown = 0;
    for (size_t i = 0; i < n; i++)
        shown += documented(tf->nodes.items[i]);
    if (shown > GRAPH_MAX_NODES) {
        weir_buf_addf(b, "<p>The lineage graph has %zu nodes, too many to draw here; each node's "
                         "section lists what it reads and what reads it.</p>\n", shown);
        return;
    }
    size_t *order = weir_xmalloc((n + 1) * sizeof(size_t));
    int *depth = weir_xcalloc(n + 1, sizeof(int)), *row = weir_xcalloc(n + 1, sizeof(int));
    int rows_in[GRAPH_MAX_NODES + 1] = { 0 }, maxd = 0, maxr = 0;
    weir_error err = WEIR_ERROR_INIT;
    if (tf_dag_order(tf, order, &err)) {
        weir_error_release(&err);
        free(order);
        free(depth);
        free(row);
        return;
    }
    for (size_t k = 0; k < n; k++) {
        weir_tnode *nd = tf->nodes.items[order[k]];
        if (!documented(nd))
            continue;
        int d = 0;
        for (size_t j = 0; j < nd->deps.len; j++)
            if (documented(tf->nodes.items[nd->deps.items[j]]) && depth[nd->deps.items[j]] + 1 > d)
                d = depth[nd->deps.items[j]] + 1;
        if (d > GRAPH_MAX_NODES)
            d = GRAPH_MAX_NODES;
        depth[order[k]] = d;
        row[order[k]] = rows_in[d]++;
        if (d > maxd)
            maxd = d;
        if (row[order[k]] > maxr)
            maxr = row[order[k]];
    }
    const int W = 230, H = 46, BW = 200, BH = 28;
    weir_buf_addf(b, "<svg class=\"dag\" width=\"%d\" height=\"%d\" xmlns=\"http://www.w3.org/2000/svg\">\n",
                  (maxd + 1) * W + 20, (maxr + 1) * H + 20);
    for (size_t i = 0; i < n; i++) {
        weir_tnode *nd = tf->nodes.items[i];
        if (!documented(nd))
            continue;
        for (size_t j = 0; j < nd->deps.len; j++) {
            size_t p = nd->deps.items[j];
            if (!documented(tf->nodes.items[p]))
                continue;
            int x1 = 10 + depth[p] * W + BW, y1 = 10 + row[p] * H + BH / 2;
            int x2 = 10 + depth[i] * W, y2 = 10 + row[i] * H + BH / 2;
            weir_buf_addf(b, "<path d=\"M%d %d C%d %d %d %d %d %d\" class=\"edge\"/>\n", x1, y1,
                          (x1 + x2) / 2, y1, (x1 + x2) / 2, y2, x2, y2);
        }
    }
    for (size_t i = 0; i < n; i++) {
        weir_tnode *nd = tf->nodes.items[i];
        if (!documented(nd))
            continue;
        int x = 10 + depth[i] * W, y = 10 + row[i] * H;
        weir_buf_adds(b, "<a href=\"#");
        html(b, nd->unique_id);
        weir_buf_addf(b, "\"><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"5\" class=\"%s\"/>"
                         "<text x=\"%d\" y=\"%d\">",
                      x, y, BW, BH, weir_node_kind_name(nd->kind), x + 8, y + 18);
        html(b, nd->name);
        weir_buf_adds(b, "</text></a>\n");
    }
    weir_buf_adds(b, "</svg>\n");
    free(order);
    free(depth);
    free(row);
}

static void node_section(weir_transform *tf, weir_tnode *n, weir_buf *b)
{
    weir_buf_adds(b, "<section id=\"");
    html(b, n->unique_id);
    weir_buf_adds(b, "\">\n<h2>");
    html(b, n->name);
    weir_buf_addf(b, " <small>%s", weir_node_kind_name(n->kind));
    if (n->kind == WEIR_NODE_MODEL && tf_cfg_str(n, "materialized"))
        weir_buf_addf(b, " · %s", tf_cfg_str(n, "materialized"));
    weir_buf_adds(b, "</small></h2>\n<p class=\"rel\">");
    html(b, n->relation);
    weir_buf_adds(b, " — ");
    html(b, n->path);
    weir_buf_adds(b, "</p>\n");
    if (n->description && *n->description) {
        weir_buf adesc = WEIR_BUF_INIT;
        /* descriptions may use {{ doc('name') }} */
        weir_error err = WEIR_ERROR_INIT;
        if (!strstr(n->description, "{{") ||
            tf_tpl_render_string(tf, NULL, n->path, n->description, 0, &adesc, &err)) {
            weir_buf_reset(&adesc);
            weir_buf_adds(&adesc, n->description);
        }
        weir_buf_adds(b, "<p>");
        html(b, adesc.ptr);
        weir_buf_adds(b, "</p>\n");
        weir_buf_release(&adesc);
        weir_error_release(&err);
    }
    /* columns, with the tests on each */
    size_t ncols = json_object_size(n->columns);
    if (ncols) {
        weir_buf_adds(b, "<table><tr><th>column</th><th>type</th><th>description</th><th>tests</th></tr>\n");
        const char *cname;
        json_t *col;
        json_object_foreach(n->columns, cname, col)
        {
            weir_buf_adds(b, "<tr><td>");
            html(b, cname);
            weir_buf_adds(b, "</td><td>");
            html(b, json_string_value(json_object_get(col, "data_type")));
            weir_buf_adds(b, "</td><td>");
            html(b, json_string_value(json_object_get(col, "description")));
            weir_buf_adds(b, "</td><td>");
            for (size_t k = 0; k < n->children.len; k++) {
                weir_tnode *t = tf->nodes.items[n->children.items[k]];
                if (t->kind == WEIR_NODE_TEST && t->attached == n->index && t->column &&
                    !strcmp(t->column, cname)) {
                    weir_buf_adds(b, "<span class=\"test\">");
                    html(b, t->test_kind);
                    weir_buf_adds(b, "</span> ");
                }
            }
            weir_buf_adds(b, "</td></tr>\n");
        }
        weir_buf_adds(b, "</table>\n");
    }
    int any = 0;
    for (size_t k = 0; k < n->deps.len; k++) {
        weir_tnode *d = tf->nodes.items[n->deps.items[k]];
        weir_buf_adds(b, any++ ? ", " : "<p>Reads: ");
        anchor(b, d);
    }
    if (any)
        weir_buf_adds(b, "</p>\n");
    any = 0;
    for (size_t k = 0; k < n->children.len; k++) {
        weir_tnode *c = tf->nodes.items[n->children.items[k]];
        if (c->kind == WEIR_NODE_TEST)
            continue;
        weir_buf_adds(b, any++ ? ", " : "<p>Read by: ");
        anchor(b, c);
    }
    if (any)
        weir_buf_adds(b, "</p>\n");
    if (n->compiled_sql && *n->compiled_sql) {
        weir_buf_adds(b, "<details><summary>compiled SQL</summary><pre>");
        html(b, n->compiled_sql);
        weir_buf_adds(b, "</pre></details>\n");
    }
    weir_buf_adds(b, "</section>\n");
}

int weir_transform_write_docs(weir_transform *tf, weir_error *err)
{
    weir_buf b = WEIR_BUF_INIT, path = WEIR_BUF_INIT;
    size_t counts[5] = { 0 };
    int rc;
    for (size_t i = 0; i < tf->nodes.len; i++)
        if (tf_cfg_bool(tf->nodes.items[i], "enabled", 1))
            counts[tf->nodes.items[i]->kind]++;
    weir_buf_adds(&b, "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>");
    html(&b, tf->name);
    weir_buf_adds(&b, " — weir docs</title>\n<style>\n"
                      "body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#222;max-width:1100px}\n"
                      "h2 small{color:#777;font-weight:normal;font-size:60%}\n"
                      "section{border-top:1px solid #ddd;padding-top:.5em;margin-top:1.5em}\n"
                      ".rel{font-family:monospace;color:#555}\n"
                      "table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:2px 8px;text-align:left}\n"
                      ".test{background:#eef;border-radius:3px;padding:0 4px;font-size:90%}\n"
                      "pre{background:#f6f6f6;padding:8px;overflow:auto}\n"
                      ".dag{display:block;overflow:visible}.dag text{font:12px monospace}\n"
                      ".dag .edge{fill:none;stroke:#999}\n"
                      ".dag rect{stroke:#555;fill:#fff}.dag rect.seed{fill:#efe}.dag rect.source{fill:#ffe}\n"
                      ".dag rect.snapshot{fill:#fef}.dag rect.model{fill:#eef}\n"
                      "</style></head><body>\n<h1>");
    html(&b, tf->name);
    weir_buf_addf(&b, "</h1>\n<p>%zu models, %zu seeds, %zu snapshots, %zu sources, %zu tests.</p>\n"
                      "<h2>Lineage</h2>\n",
                  counts[WEIR_NODE_MODEL], counts[WEIR_NODE_SEED], counts[WEIR_NODE_SNAPSHOT],
                  counts[WEIR_NODE_SOURCE], counts[WEIR_NODE_TEST]);
    {
        /* the Data Docs of the suites' validations, when written beside */
        weir_buf dd = WEIR_BUF_INIT;
        weir_path_join(&dd, tf->target_dir, "data_docs/index.html");
        if (weir_fs_exists(dd.ptr))
            weir_buf_adds(&b, "<p>Expectation suites and their validation runs: "
                              "<a href=\"data_docs/index.html\">Data Docs</a>.</p>\n");
        weir_buf_release(&dd);
    }
    graph_svg(tf, &b);
    static const weir_node_kind kinds[] = { WEIR_NODE_MODEL, WEIR_NODE_SEED, WEIR_NODE_SNAPSHOT,
                                            WEIR_NODE_SOURCE };
    for (size_t k = 0; k < 4; k++)
        for (size_t i = 0; i < tf->nodes.len; i++) {
            weir_tnode *n = tf->nodes.items[i];
            if (n->kind == kinds[k] && documented(n))
                node_section(tf, n, &b);
        }
    weir_buf_adds(&b, "</body></html>\n");
    if ((rc = weir_fs_mkdir_p(tf->target_dir, err)))
        goto cleanup;
    weir_path_join(&path, tf->target_dir, "index.html");
    rc = weir_fs_write_atomic(path.ptr, b.ptr, b.len, err);
cleanup:
    weir_buf_release(&b);
    weir_buf_release(&path);
    return rc;
}
