/*
 * parse.c: template source to syntax tree.
 *
 * The lexer cuts the source into text and tag tokens the way Jinja2's does,
 * with dbt's settings: newlines normalised to "\n", one trailing newline
 * dropped, `{%-`/`-%}` (and the {{ }} and {# #} forms) strip whitespace
 * next to the tag, `{% raw %}` passes text through. Inside tags it tracks
 * bracket depth so that `}}` inside a dict literal does not end the tag.
 * The parser is recursive descent with Jinja2's precedence:
 *     cond-expr < or < and < not < compare < + - < ~ < * / // % < ** <
 *     unary - + < postfix (. [] ()) and filters/tests
 * Nodes live in the template's arena.
 */
#include "core/compat.h"

#include "core/alloc.h"
#include "core/str.h"
#include "template/tpl_int.h"

enum { T_TEXT, T_VBEGIN, T_VEND, T_BBEGIN, T_BEND, T_NAME, T_STRING, T_INT, T_FLOAT,
       T_OP, T_EOF };

typedef struct {
    int type;
    int op;
    const char *s; /* names, text, decoded strings (arena) */
    size_t len;
    int64_t i;
    double f;
    unsigned line, col;
} token;

typedef struct {
    weir_template *t;
    weir_error *err;
    WEIR_VEC(token) toks;
    size_t pos;
    int depth;
    /* macro bodies being parsed, innermost last, for varargs/kwargs/caller */
    WEIR_VEC(node *) macros;
} parser;

#define MAX_NESTING 200

/* --- errors ------------------------------------------------------------------- */

static void snippet(const weir_template *t, unsigned line, unsigned col, weir_buf *out)
{
    const char *p = t->src, *end = t->src + t->srclen;
    for (unsigned l = 1; l < line && p < end; p++)
        if (*p == '\n')
            l++;
    const char *e = memchr(p, '\n', (size_t)(end - p));
    if (!e)
        e = end;
    if (e - p > 200)
        return;
    weir_buf_adds(out, "\n  ");
    for (const char *q = p; q < e; q++)
        weir_buf_addch(out, (unsigned char)*q < 0x20 && *q != '\t' ? ' ' : *q);
    weir_buf_adds(out, "\n  ");
    for (unsigned c = 1; c < col && p + c - 1 < e; c++)
        weir_buf_addch(out, p[c - 1] == '\t' ? '\t' : ' ');
    weir_buf_addch(out, '^');
}

int weir_tpl__locate(const weir_template *t, unsigned line, unsigned col, weir_error *err)
{
    if (!err || err->file)
        return err ? err->code : WEIR_ERROR;
    if (!err->code)
        err->code = WEIR_ERROR;
    err->file = weir_xstrdup(t->name);
    err->line = line;
    err->col = col;
    snippet(t, line, col, &err->msg);
    return err->code;
}

int weir_tpl__error_at(const weir_template *t, unsigned line, unsigned col, int code,
                       weir_error *err, const char *fmt, ...)
{
    if (!err)
        return code;
    va_list ap;
    va_start(ap, fmt);
    weir_error_vset(err, code, fmt, ap);
    va_end(ap);
    return weir_tpl__locate(t, line, col, err);
}

/* --- lexer -------------------------------------------------------------------- */

typedef struct {
    weir_template *t;
    const char *s;
    size_t n, i;
    unsigned line;
    size_t line_start;
    size_t scanned; /* position up to which line/line_start are computed */
} lexer;

static void where(lexer *lx, size_t pos, unsigned *line, unsigned *col)
{
    for (; lx->scanned < pos; lx->scanned++)
        if (lx->s[lx->scanned] == '\n') {
            lx->line++;
            lx->line_start = lx->scanned + 1;
        }
    *line = lx->line;
    *col = (unsigned)(pos - lx->line_start + 1);
}

static token *push_tok(parser *p, lexer *lx, int type, size_t pos)
{
    token tk;
    memset(&tk, 0, sizeof(tk));
    tk.type = type;
    where(lx, pos, &tk.line, &tk.col);
    weir_vec_push(&p->toks, tk);
    return &p->toks.items[p->toks.len - 1];
}

static int lex_error(parser *p, lexer *lx, size_t pos, const char *msg)
{
    unsigned line, col;
    where(lx, pos, &line, &col);
    return weir_tpl__error_at(p->t, line, col, WEIR_EINVALID, p->err, "%s", msg);
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static void utf8_put(weir_buf *b, uint32_t cp)
{
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

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* A string literal with Python's escapes; lx->i is at the quote. */
static int lex_string(parser *p, lexer *lx)
{
    size_t start = lx->i;
    char q = lx->s[lx->i++];
    weir_buf b = WEIR_BUF_INIT;
    while (lx->i < lx->n && lx->s[lx->i] != q) {
        char c = lx->s[lx->i++];
        if (c != '\\') {
            weir_buf_addch(&b, c);
            continue;
        }
        if (lx->i >= lx->n)
            break;
        c = lx->s[lx->i++];
        switch (c) {
        case 'n': weir_buf_addch(&b, '\n'); break;
        case 't': weir_buf_addch(&b, '\t'); break;
        case 'r': weir_buf_addch(&b, '\r'); break;
        case '0': weir_buf_addch(&b, '\0'); break;
        case 'a': weir_buf_addch(&b, '\a'); break;
        case 'b': weir_buf_addch(&b, '\b'); break;
        case 'f': weir_buf_addch(&b, '\f'); break;
        case 'v': weir_buf_addch(&b, '\v'); break;
        case '\\': case '\'': case '"': weir_buf_addch(&b, c); break;
        case '\n': break;
        case 'x': case 'u': case 'U': {
            int nd = c == 'x' ? 2 : c == 'u' ? 4 : 8;
            uint32_t cp = 0;
            int k;
            for (k = 0; k < nd && lx->i < lx->n && hexval(lx->s[lx->i]) >= 0; k++)
                cp = cp * 16 + (uint32_t)hexval(lx->s[lx->i++]);
            if (k < nd || cp > 0x10ffff) {
                weir_buf_release(&b);
                return lex_error(p, lx, start, "invalid escape in string literal");
            }
            utf8_put(&b, cp);
            break;
        }
        default:
            weir_buf_addch(&b, '\\');
            weir_buf_addch(&b, c);
        }
    }
    if (lx->i >= lx->n) {
        weir_buf_release(&b);
        return lex_error(p, lx, start, "unterminated string");
    }
    lx->i++;
    token *tk = push_tok(p, lx, T_STRING, start);
    tk->s = weir_arena_memdup(&p->t->arena, b.ptr, b.len + 1);
    tk->len = b.len;
    weir_buf_release(&b);
    return 0;
}

static int lex_number(parser *p, lexer *lx)
{
    size_t start = lx->i;
    char buf[128];
    size_t k = 0;
    int is_float = 0;
    while (lx->i < lx->n) {
        char c = lx->s[lx->i];
        if (isdigit((unsigned char)c)) {
            if (k < sizeof(buf) - 1) buf[k++] = c;
        } else if (c == '_' && lx->i + 1 < lx->n && isdigit((unsigned char)lx->s[lx->i + 1])) {
            /* digit separator */
        } else if (c == '.' && !is_float && lx->i + 1 < lx->n &&
                   isdigit((unsigned char)lx->s[lx->i + 1])) {
            is_float = 1;
            if (k < sizeof(buf) - 1) buf[k++] = c;
        } else if ((c == 'e' || c == 'E') && lx->i + 1 < lx->n &&
                   (isdigit((unsigned char)lx->s[lx->i + 1]) ||
                    ((lx->s[lx->i + 1] == '+' || lx->s[lx->i + 1] == '-') && lx->i + 2 < lx->n &&
                     isdigit((unsigned char)lx->s[lx->i + 2])))) {
            is_float = 2;
            if (k < sizeof(buf) - 2) { buf[k++] = c; buf[k++] = lx->s[lx->i + 1]; }
            lx->i++;
        } else
            break;
        lx->i++;
    }
    buf[k] = '\0';
    token *tk = push_tok(p, lx, T_INT, start);
    errno = 0;
    if (!is_float) {
        long long v = strtoll(buf, NULL, 10);
        if (errno == ERANGE) {
            tk->type = T_FLOAT;
            tk->f = strtod(buf, NULL);
        } else
            tk->i = v;
    } else {
        tk->type = T_FLOAT;
        tk->f = strtod(buf, NULL);
    }
    return 0;
}

/* Tokens of one tag, up to its end delimiter. Returns 0 and sets *strip. */
static int lex_tag(parser *p, lexer *lx, size_t open, char close, int end_type,
                   int *strip_after)
{
    char stack[MAX_NESTING];
    int depth = 0;
    for (;;) {
        while (lx->i < lx->n && is_ws(lx->s[lx->i]))
            lx->i++;
        if (lx->i >= lx->n)
            return lex_error(p, lx, open, close == '}' ? "unexpected end of template: '}}' expected"
                                                       : "unexpected end of template: '%}' expected");
        const char *s = lx->s + lx->i;
        size_t rest = lx->n - lx->i;
        if (depth == 0) {
            if ((s[0] == '-' || s[0] == '+') && rest >= 3 && s[1] == close && s[2] == '}') {
                push_tok(p, lx, end_type, lx->i);
                *strip_after = s[0] == '-';
                lx->i += 3;
                return 0;
            }
            if (rest >= 2 && s[0] == close && s[1] == '}') {
                push_tok(p, lx, end_type, lx->i);
                *strip_after = 0;
                lx->i += 2;
                return 0;
            }
        }
        char c = s[0];
        if (isalpha((unsigned char)c) || c == '_') {
            size_t st = lx->i;
            while (lx->i < lx->n && (isalnum((unsigned char)lx->s[lx->i]) || lx->s[lx->i] == '_'))
                lx->i++;
            token *tk = push_tok(p, lx, T_NAME, st);
            tk->s = weir_arena_strndup(&p->t->arena, lx->s + st, lx->i - st);
            tk->len = lx->i - st;
            continue;
        }
        if (isdigit((unsigned char)c)) {
            if (lex_number(p, lx))
                return WEIR_EINVALID;
            continue;
        }
        if (c == '\'' || c == '"') {
            if (lex_string(p, lx))
                return WEIR_EINVALID;
            continue;
        }
        int op = 0, w = 1;
        char c1 = rest > 1 ? s[1] : 0;
        switch (c) {
        case '/': if (c1 == '/') { op = OP_FLOORDIV; w = 2; } else op = '/'; break;
        case '*': if (c1 == '*') { op = OP_POW; w = 2; } else op = '*'; break;
        case '=': if (c1 == '=') { op = OP_EQ; w = 2; } else op = '='; break;
        case '!': if (c1 == '=') { op = OP_NE; w = 2; } break;
        case '<': if (c1 == '=') { op = OP_LE; w = 2; } else op = '<'; break;
        case '>': if (c1 == '=') { op = OP_GE; w = 2; } else op = '>'; break;
        case '(': case '[': case '{':
            op = c;
            if (depth == MAX_NESTING)
                return lex_error(p, lx, lx->i, "brackets nested too deeply");
            stack[depth++] = c == '(' ? ')' : c == '[' ? ']' : '}';
            break;
        case ')': case ']': case '}':
            op = c;
            if (depth > 0 && stack[depth - 1] != c) {
                char msg[64];
                snprintf(msg, sizeof(msg), "unexpected '%c', expected '%c'", c, stack[depth - 1]);
                return lex_error(p, lx, lx->i, msg);
            }
            if (depth > 0)
                depth--;
            break;
        case '+': case '-': case '%': case '~': case ',': case '.': case ':': case '|':
        case ';':
            op = c;
            break;
        }
        if (!op)
            return lex_error(p, lx, lx->i, "unexpected character in tag");
        token *tk = push_tok(p, lx, T_OP, lx->i);
        tk->op = op;
        lx->i += (size_t)w;
    }
}

static void strip_prev_text(parser *p)
{
    if (!p->toks.len)
        return;
    token *tk = &p->toks.items[p->toks.len - 1];
    if (tk->type != T_TEXT)
        return;
    while (tk->len && is_ws(tk->s[tk->len - 1]))
        tk->len--;
}

static void add_text(parser *p, lexer *lx, size_t from, size_t to, int lstrip)
{
    if (lstrip)
        while (from < to && is_ws(lx->s[from]))
            from++;
    token *tk = push_tok(p, lx, T_TEXT, from);
    tk->s = lx->s + from;
    tk->len = to - from;
}

/* After `{% raw %}`: text up to `{% endraw %}` (with optional - forms). */
static int lex_raw(parser *p, lexer *lx, size_t open, int lstrip)
{
    size_t i = lx->i;
    for (;;) {
        const char *f = NULL;
        for (size_t k = i; k + 1 < lx->n; k++)
            if (lx->s[k] == '{' && lx->s[k + 1] == '%') {
                f = lx->s + k;
                break;
            }
        if (!f)
            return lex_error(p, lx, open, "unexpected end of template: 'endraw' expected");
        size_t k = (size_t)(f - lx->s) + 2;
        int strip_before = 0;
        if (k < lx->n && (lx->s[k] == '-' || lx->s[k] == '+')) {
            strip_before = lx->s[k] == '-';
            k++;
        }
        while (k < lx->n && is_ws(lx->s[k]))
            k++;
        if (k + 6 <= lx->n && memcmp(lx->s + k, "endraw", 6) == 0) {
            size_t e = k + 6;
            while (e < lx->n && is_ws(lx->s[e]))
                e++;
            int strip_after = 0;
            if (e < lx->n && (lx->s[e] == '-' || lx->s[e] == '+')) {
                strip_after = lx->s[e] == '-';
                e++;
            }
            if (e + 1 < lx->n && lx->s[e] == '%' && lx->s[e + 1] == '}') {
                add_text(p, lx, lx->i, (size_t)(f - lx->s), lstrip);
                if (strip_before)
                    strip_prev_text(p);
                lx->i = e + 2;
                return strip_after;
            }
        }
        i = (size_t)(f - lx->s) + 2;
    }
}

static int lex(parser *p)
{
    weir_template *t = p->t;
    lexer lx = { t, t->src, t->srclen, 0, 1, 0, 0 };
    int lstrip = 0;
    while (lx.i < lx.n) {
        /* text up to the next tag opener */
        size_t k = lx.i;
        const char *open = NULL;
        while (k + 1 < lx.n) {
            const char *q = memchr(lx.s + k, '{', lx.n - k - 1);
            if (!q)
                break;
            if (q[1] == '{' || q[1] == '%' || q[1] == '#') {
                open = q;
                break;
            }
            k = (size_t)(q - lx.s) + 1;
        }
        size_t text_end = open ? (size_t)(open - lx.s) : lx.n;
        if (text_end > lx.i || lstrip)
            add_text(p, &lx, lx.i, text_end, lstrip);
        lstrip = 0;
        if (!open) {
            lx.i = lx.n;
            break;
        }
        size_t tag = text_end;
        char kind = open[1];
        lx.i = tag + 2;
        if (lx.i < lx.n && (lx.s[lx.i] == '-' || lx.s[lx.i] == '+')) {
            if (lx.s[lx.i] == '-')
                strip_prev_text(p);
            lx.i++;
        }
        if (kind == '#') {
            const char *e = NULL;
            for (size_t j = lx.i; j + 1 < lx.n; j++)
                if (lx.s[j] == '#' && lx.s[j + 1] == '}') {
                    e = lx.s + j;
                    break;
                }
            if (!e)
                return lex_error(p, &lx, tag, "unexpected end of template: unclosed comment");
            lstrip = e > lx.s + lx.i && e[-1] == '-';
            lx.i = (size_t)(e - lx.s) + 2;
            continue;
        }
        size_t first = p->toks.len;
        push_tok(p, &lx, kind == '{' ? T_VBEGIN : T_BBEGIN, tag);
        if (lex_tag(p, &lx, tag, kind == '{' ? '}' : '%', kind == '{' ? T_VEND : T_BEND, &lstrip))
            return WEIR_EINVALID;
        /* {% raw %} */
        if (kind == '%' && p->toks.len == first + 3 && p->toks.items[first + 1].type == T_NAME &&
            strcmp(p->toks.items[first + 1].s, "raw") == 0) {
            p->toks.len = first;
            int r = lex_raw(p, &lx, tag, lstrip);
            if (r < 0)
                return r;
            lstrip = r;
        }
    }
    push_tok(p, &lx, T_EOF, lx.n);
    return 0;
}

/* --- parser helpers --------------------------------------------------------- */

static token *cur(parser *p) { return &p->toks.items[p->pos]; }
static token *peek(parser *p, size_t k)
{
    size_t i = p->pos + k;
    return &p->toks.items[i < p->toks.len ? i : p->toks.len - 1];
}
static void advance(parser *p)
{
    if (p->pos + 1 < p->toks.len)
        p->pos++;
}

static int is_op(token *t, int op) { return t->type == T_OP && t->op == op; }
static int is_name(token *t, const char *s) { return t->type == T_NAME && strcmp(t->s, s) == 0; }

static const char *tok_desc(token *t, char *buf, size_t n)
{
    switch (t->type) {
    case T_TEXT: return "text";
    case T_VBEGIN: return "'{{'";
    case T_VEND: return "end of print statement";
    case T_BBEGIN: return "'{%'";
    case T_BEND: return "end of statement block";
    case T_NAME: snprintf(buf, n, "'%s'", t->s); return buf;
    case T_STRING: return "string";
    case T_INT: return "integer";
    case T_FLOAT: return "float";
    case T_EOF: return "end of template";
    default:
        switch (t->op) {
        case OP_FLOORDIV: return "'//'";
        case OP_POW: return "'**'";
        case OP_EQ: return "'=='";
        case OP_NE: return "'!='";
        case OP_LE: return "'<='";
        case OP_GE: return "'>='";
        }
        snprintf(buf, n, "'%c'", t->op);
        return buf;
    }
}

static int fail(parser *p, token *t, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(parser *p, token *t, const char *fmt, ...)
{
    if (p->err && p->err->code)
        return p->err->code;
    va_list ap;
    va_start(ap, fmt);
    weir_error_vset(p->err, WEIR_EINVALID, fmt, ap);
    va_end(ap);
    return weir_tpl__locate(p->t, t->line, t->col, p->err);
}

static int unexpected(parser *p, const char *expected)
{
    char b[64];
    token *t = cur(p);
    if (expected)
        return fail(p, t, "unexpected %s, expected %s", tok_desc(t, b, sizeof(b)), expected);
    return fail(p, t, "unexpected %s", tok_desc(t, b, sizeof(b)));
}

static int expect_op(parser *p, int op)
{
    if (!is_op(cur(p), op)) {
        char e[16];
        if (op == OP_FLOORDIV || op == OP_POW)
            snprintf(e, sizeof(e), "'%s'", op == OP_POW ? "**" : "//");
        else
            snprintf(e, sizeof(e), "'%c'", op);
        return unexpected(p, e);
    }
    advance(p);
    return 0;
}

static node *mknode(parser *p, node_type type, token *at)
{
    node *n = weir_arena_calloc(&p->t->arena, 1, sizeof(*n));
    n->type = type;
    n->line = at->line;
    n->col = at->col;
    return n;
}

typedef WEIR_VEC(node *) nodevec;
typedef WEIR_VEC(const char *) namevec;

static node **finish_list(parser *p, nodevec *v, size_t *n)
{
    *n = v->len;
    node **out = v->len ? weir_arena_memdup(&p->t->arena, v->items, v->len * sizeof(node *)) : NULL;
    weir_vec_release(v);
    return out;
}

static const char **finish_names(parser *p, namevec *v)
{
    const char **out = v->len ? weir_arena_memdup(&p->t->arena, v->items,
                                                  v->len * sizeof(char *)) : NULL;
    weir_vec_release(v);
    return out;
}

static uint64_t name_hash(const char *s)
{
    return (uint64_t)weir_hash_str(s, strlen(s));
}

static node *mkconst(parser *p, token *at, weir_tvalue v)
{
    node *n = mknode(p, N_CONST, at);
    if (p->t->shared)
        weir_tvalue__make_immortal(&v);
    n->val = v;
    weir_vec_push(&p->t->consts, v);
    return n;
}

static int expr(parser *p, node **out);
static int expr_noif(parser *p, node **out);
static int tuple_expr(parser *p, node **out, int simplified, int with_condexpr,
                      int explicit_parens);
static int unary(parser *p, node **out, int with_filter);

static int enter(parser *p)
{
    if (++p->depth > MAX_NESTING)
        return fail(p, cur(p), "expression nested too deeply");
    return 0;
}

/* Arguments of a call, after '(' up to and including ')'. */
static int call_args(parser *p, node *call)
{
    nodevec pos = WEIR_VEC_INIT, kwv = WEIR_VEC_INIT;
    namevec kwn = WEIR_VEC_INIT;
    int rc = 0;
    while (!is_op(cur(p), ')')) {
        if (pos.len + kwv.len || call->b || call->c) {
            if ((rc = expect_op(p, ',')))
                goto cleanup;
            if (is_op(cur(p), ')'))
                break;
        }
        node *e = NULL;
        if (is_op(cur(p), '*')) {
            advance(p);
            if ((rc = expr(p, &e)))
                goto cleanup;
            call->b = e;
        } else if (is_op(cur(p), OP_POW)) {
            advance(p);
            if ((rc = expr(p, &e)))
                goto cleanup;
            call->c = e;
        } else if (cur(p)->type == T_NAME && is_op(peek(p, 1), '=')) {
            const char *name = cur(p)->s;
            advance(p);
            advance(p);
            if ((rc = expr(p, &e)))
                goto cleanup;
            weir_vec_push(&kwn, name);
            weir_vec_push(&kwv, e);
        } else {
            if (kwv.len || call->c) {
                rc = fail(p, cur(p), "positional argument follows keyword argument");
                goto cleanup;
            }
            if ((rc = expr(p, &e)))
                goto cleanup;
            weir_vec_push(&pos, e);
        }
    }
    advance(p);
cleanup:
    call->list = finish_list(p, &pos, &call->n);
    call->list2 = finish_list(p, &kwv, &call->n2);
    call->names = finish_names(p, &kwn);
    return rc;
}

static int primary(parser *p, node **out)
{
    token *t = cur(p);
    int rc;
    switch (t->type) {
    case T_NAME: {
        const char *s = t->s;
        if (!strcmp(s, "true") || !strcmp(s, "True"))
            *out = mkconst(p, t, weir_tvalue_bool(1));
        else if (!strcmp(s, "false") || !strcmp(s, "False"))
            *out = mkconst(p, t, weir_tvalue_bool(0));
        else if (!strcmp(s, "none") || !strcmp(s, "None"))
            *out = mkconst(p, t, weir_tvalue_none());
        else {
            node *n = mknode(p, N_NAME, t);
            n->name = s;
            n->hash = name_hash(s);
            for (size_t i = 0; i < p->macros.len; i++) {
                node *m = p->macros.items[i];
                if (!strcmp(s, "varargs")) m->op |= MF_VARARGS;
                else if (!strcmp(s, "kwargs")) m->op |= MF_KWARGS;
                else if (!strcmp(s, "caller")) m->op |= MF_CALLER;
            }
            *out = n;
        }
        advance(p);
        return 0;
    }
    case T_STRING: {
        /* adjacent literals concatenate */
        weir_buf b = WEIR_BUF_INIT;
        while (cur(p)->type == T_STRING) {
            weir_buf_add(&b, cur(p)->s, cur(p)->len);
            advance(p);
        }
        *out = mkconst(p, t, weir_tvalue_string_buf(&b));
        weir_buf_release(&b);
        return 0;
    }
    case T_INT:
        *out = mkconst(p, t, weir_tvalue_int(t->i));
        advance(p);
        return 0;
    case T_FLOAT:
        *out = mkconst(p, t, weir_tvalue_float(t->f));
        advance(p);
        return 0;
    case T_OP:
        if (t->op == '(') {
            advance(p);
            if ((rc = tuple_expr(p, out, 0, 1, 1)))
                return rc;
            return expect_op(p, ')');
        }
        if (t->op == '[') {
            nodevec items = WEIR_VEC_INIT;
            node *n = mknode(p, N_LIST, t);
            advance(p);
            rc = 0;
            while (!is_op(cur(p), ']')) {
                if (items.len && ((rc = expect_op(p, ','))))
                    break;
                if (is_op(cur(p), ']'))
                    break;
                node *e;
                if ((rc = expr(p, &e)))
                    break;
                weir_vec_push(&items, e);
            }
            n->list = finish_list(p, &items, &n->n);
            if (rc)
                return rc;
            advance(p);
            *out = n;
            return 0;
        }
        if (t->op == '{') {
            nodevec keys = WEIR_VEC_INIT, vals = WEIR_VEC_INIT;
            node *n = mknode(p, N_DICT, t);
            advance(p);
            rc = 0;
            while (!is_op(cur(p), '}')) {
                if (keys.len && ((rc = expect_op(p, ','))))
                    break;
                if (is_op(cur(p), '}'))
                    break;
                node *k, *v;
                if ((rc = expr(p, &k)) || (rc = expect_op(p, ':')) || (rc = expr(p, &v)))
                    break;
                weir_vec_push(&keys, k);
                weir_vec_push(&vals, v);
            }
            n->list = finish_list(p, &keys, &n->n);
            n->list2 = finish_list(p, &vals, &n->n2);
            if (rc)
                return rc;
            advance(p);
            *out = n;
            return 0;
        }
        break;
    default:
        break;
    }
    return unexpected(p, "an expression");
}

static int subscript_item(parser *p, node **out)
{
    /* expr, or a slice start:stop:step with parts optional */
    token *t = cur(p);
    node *parts[3] = { NULL, NULL, NULL };
    int rc;
    if (!is_op(cur(p), ':')) {
        if ((rc = expr(p, &parts[0])))
            return rc;
        if (!is_op(cur(p), ':')) {
            *out = parts[0];
            return 0;
        }
    }
    advance(p);
    if (!is_op(cur(p), ']') && !is_op(cur(p), ',') && !is_op(cur(p), ':'))
        if ((rc = expr(p, &parts[1])))
            return rc;
    if (is_op(cur(p), ':')) {
        advance(p);
        if (!is_op(cur(p), ']') && !is_op(cur(p), ','))
            if ((rc = expr(p, &parts[2])))
                return rc;
    }
    node *n = mknode(p, N_SLICE, t);
    n->a = parts[0];
    n->b = parts[1];
    n->c = parts[2];
    *out = n;
    return 0;
}

static int postfix(parser *p, node **io)
{
    int rc;
    for (;;) {
        token *t = cur(p);
        if (is_op(t, '.')) {
            advance(p);
            token *a = cur(p);
            if (a->type == T_NAME) {
                node *n = mknode(p, N_GETATTR, t);
                n->line = (*io)->line;
                n->col = (*io)->col;
                n->a = *io;
                n->name = a->s;
                advance(p);
                *io = n;
            } else if (a->type == T_INT) {
                node *n = mknode(p, N_GETITEM, t);
                n->a = *io;
                n->b = mkconst(p, a, weir_tvalue_int(a->i));
                advance(p);
                *io = n;
            } else
                return unexpected(p, "an attribute name");
        } else if (is_op(t, '[')) {
            advance(p);
            nodevec items = WEIR_VEC_INIT;
            rc = 0;
            while (!is_op(cur(p), ']')) {
                if (items.len && (rc = expect_op(p, ',')))
                    break;
                if (is_op(cur(p), ']'))
                    break;
                node *e;
                if ((rc = subscript_item(p, &e)))
                    break;
                weir_vec_push(&items, e);
            }
            if (!rc && !items.len)
                rc = unexpected(p, "an expression");
            if (rc) {
                weir_vec_release(&items);
                return rc;
            }
            advance(p);
            node *n = mknode(p, N_GETITEM, t);
            n->line = (*io)->line;
            n->col = (*io)->col;
            n->a = *io;
            if (items.len == 1) {
                n->b = items.items[0];
                weir_vec_release(&items);
            } else {
                node *tu = mknode(p, N_TUPLE, t);
                tu->list = finish_list(p, &items, &tu->n);
                n->b = tu;
            }
            *io = n;
        } else if (is_op(t, '(')) {
            advance(p);
            node *n = mknode(p, N_CALL, t);
            n->line = (*io)->line;
            n->col = (*io)->col;
            n->a = *io;
            if ((rc = call_args(p, n)))
                return rc;
            *io = n;
        } else
            return 0;
    }
}

static int dotted_name(parser *p, const char **out)
{
    if (cur(p)->type != T_NAME)
        return unexpected(p, "a name");
    const char *s = cur(p)->s;
    advance(p);
    while (is_op(cur(p), '.') && peek(p, 1)->type == T_NAME) {
        advance(p);
        s = weir_arena_printf(&p->t->arena, "%s.%s", s, cur(p)->s);
        advance(p);
    }
    *out = s;
    return 0;
}

static int filter_one(parser *p, node **io)
{
    token *t = cur(p);
    node *n = mknode(p, N_FILTER, t);
    int rc;
    if ((rc = dotted_name(p, &n->name)))
        return rc;
    /* host filters win over built-in ones; those are resolved now */
    if (!weir_map_get(&p->t->env->filters, n->name) &&
        !(n->filter = weir_tpl__find_filter(n->name))) {
        const char *hint = weir_tpl__suggest(n->name, 0);
        if (hint)
            return fail(p, t, "no filter named '%s' (did you mean '%s'?)", n->name, hint);
        return fail(p, t, "no filter named '%s'", n->name);
    }
    n->a = *io;
    if (is_op(cur(p), '(')) {
        advance(p);
        if ((rc = call_args(p, n)))
            return rc;
    }
    *io = n;
    return 0;
}

static int test_one(parser *p, node **io)
{
    token *t = cur(p);
    node *n = mknode(p, N_TEST, t);
    int rc;
    if (is_name(cur(p), "not")) {
        n->op = 1;
        advance(p);
    }
    token *nt = cur(p);
    if ((rc = dotted_name(p, &n->name)))
        return rc;
    if (!(n->test = weir_tpl__find_test(n->name))) {
        const char *hint = weir_tpl__suggest(n->name, 1);
        if (hint)
            return fail(p, nt, "no test named '%s' (did you mean '%s'?)", n->name, hint);
        return fail(p, nt, "no test named '%s'", n->name);
    }
    n->a = *io;
    token *c = cur(p);
    if (is_op(c, '(')) {
        advance(p);
        if ((rc = call_args(p, n)))
            return rc;
    } else if ((c->type == T_NAME || c->type == T_STRING || c->type == T_INT ||
                c->type == T_FLOAT || is_op(c, '[') || is_op(c, '{')) &&
               !is_name(c, "else") && !is_name(c, "or") && !is_name(c, "and")) {
        if (is_name(c, "is"))
            return fail(p, c, "you cannot chain multiple tests with is");
        node *arg;
        if ((rc = primary(p, &arg)) || (rc = postfix(p, &arg)))
            return rc;
        n->list = weir_arena_alloc(&p->t->arena, sizeof(node *));
        n->list[0] = arg;
        n->n = 1;
    }
    *io = n;
    return 0;
}

static int filter_expr(parser *p, node **io)
{
    int rc;
    for (;;) {
        if (is_op(cur(p), '|')) {
            advance(p);
            if ((rc = filter_one(p, io)))
                return rc;
        } else if (is_name(cur(p), "is")) {
            advance(p);
            if ((rc = test_one(p, io)))
                return rc;
        } else if (is_op(cur(p), '(')) {
            token *t = cur(p);
            advance(p);
            node *n = mknode(p, N_CALL, t);
            n->a = *io;
            if ((rc = call_args(p, n)))
                return rc;
            *io = n;
        } else
            return 0;
    }
}

static int unary(parser *p, node **out, int with_filter)
{
    token *t = cur(p);
    int rc;
    if ((rc = enter(p)))
        return rc;
    if (is_op(t, '-') || is_op(t, '+')) {
        advance(p);
        node *n = mknode(p, N_UNARY, t);
        n->op = t->op;
        if ((rc = unary(p, &n->a, 0)))
            return rc;
        *out = n;
    } else if ((rc = primary(p, out)))
        return rc;
    if ((rc = postfix(p, out)))
        return rc;
    if (with_filter && (rc = filter_expr(p, out)))
        return rc;
    p->depth--;
    return 0;
}

static node *binop(parser *p, token *t, int op, node *a, node *b)
{
    node *n = mknode(p, N_BINOP, t);
    n->op = op;
    n->a = a;
    n->b = b;
    return n;
}

static int pow_expr(parser *p, node **out)
{
    int rc = unary(p, out, 1);
    while (!rc && is_op(cur(p), OP_POW)) {
        token *t = cur(p);
        advance(p);
        node *r;
        if ((rc = unary(p, &r, 1)))
            break;
        *out = binop(p, t, OP_POW, *out, r);
    }
    return rc;
}

static int math2(parser *p, node **out)
{
    int rc = pow_expr(p, out);
    while (!rc && (is_op(cur(p), '*') || is_op(cur(p), '/') || is_op(cur(p), OP_FLOORDIV) ||
                   is_op(cur(p), '%'))) {
        token *t = cur(p);
        advance(p);
        node *r;
        if ((rc = pow_expr(p, &r)))
            break;
        *out = binop(p, t, t->op, *out, r);
    }
    return rc;
}

static int concat(parser *p, node **out)
{
    int rc = math2(p, out);
    while (!rc && is_op(cur(p), '~')) {
        token *t = cur(p);
        advance(p);
        node *r;
        if ((rc = math2(p, &r)))
            break;
        *out = binop(p, t, '~', *out, r);
    }
    return rc;
}

static int math1(parser *p, node **out)
{
    int rc = concat(p, out);
    while (!rc && (is_op(cur(p), '+') || is_op(cur(p), '-'))) {
        token *t = cur(p);
        advance(p);
        node *r;
        if ((rc = concat(p, &r)))
            break;
        *out = binop(p, t, t->op, *out, r);
    }
    return rc;
}

static int compare(parser *p, node **out)
{
    int rc;
    token *t0 = cur(p);
    node *first;
    if ((rc = math1(p, &first)))
        return rc;
    nodevec ops = WEIR_VEC_INIT;
    WEIR_VEC(int) codes = WEIR_VEC_INIT;
    for (;;) {
        token *t = cur(p);
        int op = 0;
        if (t->type == T_OP && (t->op == OP_EQ || t->op == OP_NE || t->op == '<' ||
                                t->op == '>' || t->op == OP_LE || t->op == OP_GE)) {
            op = t->op;
            advance(p);
        } else if (is_name(t, "in")) {
            op = OP_IN;
            advance(p);
        } else if (is_name(t, "not") && is_name(peek(p, 1), "in")) {
            op = OP_NOTIN;
            advance(p);
            advance(p);
        } else
            break;
        node *r;
        if ((rc = math1(p, &r))) {
            weir_vec_release(&ops);
            weir_vec_release(&codes);
            return rc;
        }
        weir_vec_push(&ops, r);
        weir_vec_push(&codes, op);
    }
    if (!ops.len) {
        *out = first;
        return 0;
    }
    node *n = mknode(p, N_COMPARE, t0);
    n->a = first;
    n->ops = weir_arena_memdup(&p->t->arena, codes.items, codes.len * sizeof(int));
    weir_vec_release(&codes);
    n->list = finish_list(p, &ops, &n->n);
    *out = n;
    return 0;
}

static int not_expr(parser *p, node **out)
{
    if (is_name(cur(p), "not")) {
        token *t = cur(p);
        int rc;
        if ((rc = enter(p)))
            return rc;
        advance(p);
        node *n = mknode(p, N_UNARY, t);
        n->op = OP_NOT;
        if ((rc = not_expr(p, &n->a)))
            return rc;
        p->depth--;
        *out = n;
        return 0;
    }
    return compare(p, out);
}

static int and_expr(parser *p, node **out)
{
    int rc = not_expr(p, out);
    while (!rc && is_name(cur(p), "and")) {
        token *t = cur(p);
        advance(p);
        node *n = mknode(p, N_AND, t);
        n->a = *out;
        if ((rc = not_expr(p, &n->b)))
            break;
        *out = n;
    }
    return rc;
}

static int or_expr(parser *p, node **out)
{
    int rc = and_expr(p, out);
    while (!rc && is_name(cur(p), "or")) {
        token *t = cur(p);
        advance(p);
        node *n = mknode(p, N_OR, t);
        n->a = *out;
        if ((rc = and_expr(p, &n->b)))
            break;
        *out = n;
    }
    return rc;
}

static int expr_noif(parser *p, node **out)
{
    return or_expr(p, out);
}

static int expr(parser *p, node **out)
{
    int rc;
    if ((rc = enter(p)))
        return rc;
    if ((rc = or_expr(p, out)))
        return rc;
    while (is_name(cur(p), "if")) {
        token *t = cur(p);
        advance(p);
        node *n = mknode(p, N_CONDEXPR, t);
        n->b = *out;
        if ((rc = or_expr(p, &n->a)))
            return rc;
        if (is_name(cur(p), "else")) {
            advance(p);
            if ((rc = expr(p, &n->c)))
                return rc;
        }
        *out = n;
    }
    p->depth--;
    return 0;
}

/*
 * A comma-separated list that becomes a tuple when it has a comma. simplified
 * parses names only (assignment targets); with_condexpr allows `a if b`.
 */
static int tuple_expr(parser *p, node **out, int simplified, int with_condexpr,
                      int explicit_parens)
{
    token *t = cur(p);
    nodevec items = WEIR_VEC_INIT;
    int comma = 0, rc = 0;
    for (;;) {
        if (items.len) {
            if (!is_op(cur(p), ','))
                break;
            advance(p);
            comma = 1;
        }
        token *c = cur(p);
        if (c->type == T_VEND || c->type == T_BEND || is_op(c, ')') || is_name(c, "in") ||
            (items.len && is_op(c, '=')) || (explicit_parens && items.len == 0 && is_op(c, ')')))
            break;
        node *e;
        if (simplified && is_op(c, '(')) {
            advance(p);
            if ((rc = tuple_expr(p, &e, 1, 0, 1)) || (rc = expect_op(p, ')')))
                break;
        } else if (simplified) {
            if (c->type != T_NAME) {
                rc = unexpected(p, "a name");
                break;
            }
            if ((rc = primary(p, &e)))
                break;
        } else if ((rc = with_condexpr ? expr(p, &e) : expr_noif(p, &e)))
            break;
        weir_vec_push(&items, e);
    }
    if (rc) {
        weir_vec_release(&items);
        return rc;
    }
    if (!comma && items.len == 1) {
        *out = items.items[0];
        weir_vec_release(&items);
        return 0;
    }
    if (!items.len && !explicit_parens) {
        weir_vec_release(&items);
        return unexpected(p, "an expression");
    }
    node *n = mknode(p, N_TUPLE, t);
    n->list = finish_list(p, &items, &n->n);
    *out = n;
    return 0;
}

/* --- statements --------------------------------------------------------------- */

static int body(parser *p, nodevec *out, const char *const *ends, size_t n_ends,
                const char *opener, token *open_tok, const char **matched);

static int block_end(parser *p)
{
    if (cur(p)->type != T_BEND)
        return unexpected(p, "end of statement block");
    advance(p);
    return 0;
}

static int assign_target(parser *p, node **out)
{
    token *t = cur(p);
    if (t->type == T_NAME && is_op(peek(p, 1), '.') && peek(p, 2)->type == T_NAME) {
        node *n = mknode(p, N_GETATTR, t);
        n->a = NULL;
        node *base;
        int rc;
        if ((rc = primary(p, &base)))
            return rc;
        advance(p);
        n->a = base;
        n->name = cur(p)->s;
        advance(p);
        *out = n;
        return 0;
    }
    int rc = tuple_expr(p, out, 1, 0, 0);
    if (!rc && (*out)->type == N_CONST)
        return fail(p, t, "cannot assign to '%s'", t->s);
    return rc;
}

static int parse_if(parser *p, token *open, node **out)
{
    node *n = mknode(p, N_IF, open);
    *out = n;
    int rc;
    /* as in Jinja2, the condition may not itself be an inline if */
    if ((rc = tuple_expr(p, &n->a, 0, 0, 0)) || (rc = block_end(p)))
        return rc;
    static const char *const ends[] = { "elif", "else", "endif" };
    nodevec b = WEIR_VEC_INIT;
    const char *m;
    rc = body(p, &b, ends, 3, "if", open, &m);
    n->list = finish_list(p, &b, &n->n);
    if (rc)
        return rc;
    if (!strcmp(m, "elif")) {
        node *sub;
        token *t = &p->toks.items[p->pos - 1];
        if ((rc = parse_if(p, t, &sub)))
            return rc;
        n->list2 = weir_arena_alloc(&p->t->arena, sizeof(node *));
        n->list2[0] = sub;
        n->n2 = 1;
        return 0;
    }
    if (!strcmp(m, "else")) {
        if ((rc = block_end(p)))
            return rc;
        static const char *const e2[] = { "endif" };
        rc = body(p, &b, e2, 1, "if", open, &m);
        n->list2 = finish_list(p, &b, &n->n2);
        if (rc)
            return rc;
    }
    return block_end(p);
}

static int parse_for(parser *p, token *open, node **out)
{
    node *n = mknode(p, N_FOR, open);
    *out = n;
    int rc;
    if ((rc = assign_target(p, &n->a)))
        return rc;
    if (n->a->type == N_GETATTR)
        return fail(p, open, "cannot assign to an attribute in a for loop");
    if (!is_name(cur(p), "in"))
        return unexpected(p, "'in'");
    advance(p);
    if ((rc = tuple_expr(p, &n->b, 0, 0, 0)))
        return rc;
    if (is_name(cur(p), "if")) {
        advance(p);
        if ((rc = expr(p, &n->c)))
            return rc;
    }
    if (is_name(cur(p), "recursive")) {
        advance(p);
        n->op = 1;
    }
    if ((rc = block_end(p)))
        return rc;
    static const char *const ends[] = { "else", "endfor" };
    nodevec b = WEIR_VEC_INIT;
    const char *m;
    rc = body(p, &b, ends, 2, "for", open, &m);
    n->list = finish_list(p, &b, &n->n);
    if (rc)
        return rc;
    if (!strcmp(m, "else")) {
        if ((rc = block_end(p)))
            return rc;
        static const char *const e2[] = { "endfor" };
        rc = body(p, &b, e2, 1, "for", open, &m);
        n->list2 = finish_list(p, &b, &n->n2);
        if (rc)
            return rc;
    }
    return block_end(p);
}

static int filter_chain(parser *p, token *at, node **out)
{
    node *n = mknode(p, N_PLACEHOLDER, at);
    int rc;
    do {
        if ((rc = filter_one(p, &n)))
            return rc;
        if (!is_op(cur(p), '|'))
            break;
        advance(p);
    } while (1);
    *out = n;
    return 0;
}

static int parse_set(parser *p, token *open, node **out)
{
    node *target;
    int rc;
    if ((rc = assign_target(p, &target)))
        return rc;
    if (is_op(cur(p), '=')) {
        advance(p);
        node *n = mknode(p, N_SET, open);
        n->a = target;
        *out = n;
        if ((rc = tuple_expr(p, &n->b, 0, 1, 0)))
            return rc;
        return block_end(p);
    }
    node *n = mknode(p, N_SETBLOCK, open);
    n->a = target;
    *out = n;
    if (target->type != N_NAME && target->type != N_GETATTR)
        return fail(p, open, "a block set takes one name");
    if (is_op(cur(p), '|')) {
        advance(p);
        if ((rc = filter_chain(p, cur(p), &n->c)))
            return rc;
    }
    if ((rc = block_end(p)))
        return rc;
    static const char *const ends[] = { "endset" };
    nodevec b = WEIR_VEC_INIT;
    const char *m;
    rc = body(p, &b, ends, 1, "set", open, &m);
    n->list = finish_list(p, &b, &n->n);
    if (rc)
        return rc;
    return block_end(p);
}

/* (a, b=1, ...) after a macro name or `call`. */
static int signature(parser *p, node *n)
{
    namevec names = WEIR_VEC_INIT;
    nodevec defs = WEIR_VEC_INIT;
    int rc = 0;
    if ((rc = expect_op(p, '(')))
        return rc;
    while (!is_op(cur(p), ')')) {
        if (names.len && (rc = expect_op(p, ',')))
            break;
        if (is_op(cur(p), ')'))
            break;
        if (cur(p)->type != T_NAME) {
            rc = unexpected(p, "a parameter name");
            break;
        }
        const char *nm = cur(p)->s;
        for (size_t i = 0; i < names.len; i++)
            if (!strcmp(names.items[i], nm)) {
                rc = fail(p, cur(p), "duplicate parameter '%s'", nm);
                break;
            }
        if (rc)
            break;
        advance(p);
        node *d = NULL;
        if (is_op(cur(p), '=')) {
            advance(p);
            if ((rc = expr(p, &d)))
                break;
        } else if (defs.len && defs.items[defs.len - 1]) {
            rc = fail(p, cur(p), "non-default argument follows default argument");
            break;
        }
        weir_vec_push(&names, nm);
        weir_vec_push(&defs, d);
    }
    n->names = finish_names(p, &names);
    n->list2 = finish_list(p, &defs, &n->n2);
    if (!rc)
        advance(p);
    return rc;
}

static int parse_macro(parser *p, token *open, const char *end_tag, const char *prefix,
                       int no_sig, node **out)
{
    node *n = mknode(p, N_MACRO, open);
    *out = n;
    int rc;
    if (cur(p)->type != T_NAME)
        return unexpected(p, "a macro name");
    n->name = prefix ? weir_arena_printf(&p->t->arena, "%s%s", prefix, cur(p)->s) : cur(p)->s;
    n->hash = name_hash(n->name);
    advance(p);
    if (!no_sig && (rc = signature(p, n)))
        return rc;
    /* dbt's materialization tag has `, adapter='x'` style options: skip them */
    while (is_op(cur(p), ',')) {
        advance(p);
        node *skip;
        if (cur(p)->type == T_NAME && is_op(peek(p, 1), '=')) {
            advance(p);
            advance(p);
        }
        if ((rc = expr(p, &skip)))
            return rc;
    }
    if ((rc = block_end(p)))
        return rc;
    weir_vec_push(&p->macros, n);
    const char *ends[] = { end_tag };
    nodevec b = WEIR_VEC_INIT;
    const char *m;
    rc = body(p, &b, ends, 1, end_tag + 3, open, &m);
    p->macros.len--;
    n->list = finish_list(p, &b, &n->n);
    if (rc)
        return rc;
    return block_end(p);
}

static int parse_call_block(parser *p, token *open, node **out)
{
    node *n = mknode(p, N_CALLBLOCK, open);
    *out = n;
    int rc;
    if (is_op(cur(p), '(')) {
        if ((rc = signature(p, n)))
            return rc;
    }
    n->name = "caller";
    if ((rc = expr(p, &n->a)))
        return rc;
    if (n->a->type != N_CALL)
        return fail(p, open, "expected a call after 'call'");
    if ((rc = block_end(p)))
        return rc;
    weir_vec_push(&p->macros, n);
    static const char *const ends[] = { "endcall" };
    nodevec b = WEIR_VEC_INIT;
    const char *m;
    rc = body(p, &b, ends, 1, "call", open, &m);
    p->macros.len--;
    n->list = finish_list(p, &b, &n->n);
    if (rc)
        return rc;
    return block_end(p);
}

static int parse_with(parser *p, token *open, node **out)
{
    node *n = mknode(p, N_WITH, open);
    *out = n;
    namevec names = WEIR_VEC_INIT;
    nodevec vals = WEIR_VEC_INIT;
    int rc = 0;
    while (cur(p)->type != T_BEND) {
        if (names.len && (rc = expect_op(p, ',')))
            break;
        if (cur(p)->type != T_NAME) {
            rc = unexpected(p, "a name");
            break;
        }
        weir_vec_push(&names, cur(p)->s);
        advance(p);
        node *v;
        if ((rc = expect_op(p, '=')) || (rc = expr(p, &v)))
            break;
        weir_vec_push(&vals, v);
    }
    n->names = finish_names(p, &names);
    n->list2 = finish_list(p, &vals, &n->n2);
    if (rc || (rc = block_end(p)))
        return rc;
    static const char *const ends[] = { "endwith" };
    nodevec b = WEIR_VEC_INIT;
    const char *m;
    rc = body(p, &b, ends, 1, "with", open, &m);
    n->list = finish_list(p, &b, &n->n);
    if (rc)
        return rc;
    return block_end(p);
}

static int statement(parser *p, token *open, node **out)
{
    token *t = cur(p);
    int rc;
    *out = NULL;
    if (t->type != T_NAME)
        return unexpected(p, "a statement name");
    const char *s = t->s;
    advance(p);
    if (!strcmp(s, "if"))
        return parse_if(p, open, out);
    if (!strcmp(s, "for"))
        return parse_for(p, open, out);
    if (!strcmp(s, "set"))
        return parse_set(p, open, out);
    if (!strcmp(s, "macro"))
        return parse_macro(p, open, "endmacro", NULL, 0, out);
    if (!strcmp(s, "call"))
        return parse_call_block(p, open, out);
    if (!strcmp(s, "with"))
        return parse_with(p, open, out);
    if (!strcmp(s, "do")) {
        node *n = mknode(p, N_DO, open);
        *out = n;
        if ((rc = tuple_expr(p, &n->a, 0, 1, 0)))
            return rc;
        return block_end(p);
    }
    if (!strcmp(s, "break") || !strcmp(s, "continue")) {
        *out = mknode(p, s[0] == 'b' ? N_BREAK : N_CONTINUE, open);
        return block_end(p);
    }
    if (!strcmp(s, "filter")) {
        node *n = mknode(p, N_FILTERBLOCK, open);
        *out = n;
        if ((rc = filter_chain(p, cur(p), &n->c)) || (rc = block_end(p)))
            return rc;
        static const char *const ends[] = { "endfilter" };
        nodevec b = WEIR_VEC_INIT;
        const char *m;
        rc = body(p, &b, ends, 1, "filter", open, &m);
        n->list = finish_list(p, &b, &n->n);
        if (rc)
            return rc;
        return block_end(p);
    }
    macro_tag *mt = weir_map_get(&p->t->env->tags, s);
    if (mt) {
        const char *end = weir_arena_printf(&p->t->arena, "end%s", s);
        return parse_macro(p, open, end, mt->prefix, mt->no_signature, out);
    }
    p->pos--;
    return fail(p, t, "unknown tag '%s'", s);
}

/*
 * Statements up to one of the end tags (whose name is left as the current
 * token, after it). With no end tags, up to the end of the template.
 */
static int body(parser *p, nodevec *out, const char *const *ends, size_t n_ends,
                const char *opener, token *open_tok, const char **matched)
{
    for (;;) {
        token *t = cur(p);
        node *n = NULL;
        int rc;
        switch (t->type) {
        case T_EOF:
            if (n_ends) {
                weir_error_set(p->err, WEIR_EINVALID,
                               "unexpected end of template: '%s' opened here is not closed "
                               "(expected '%s')", opener, ends[n_ends - 1]);
                return weir_tpl__locate(p->t, open_tok->line, open_tok->col, p->err);
            }
            return 0;
        case T_TEXT:
            if (t->len) {
                n = mknode(p, N_TEXT, t);
                n->name = t->s;
                n->len = t->len;
            }
            advance(p);
            break;
        case T_VBEGIN:
            advance(p);
            n = mknode(p, N_OUTPUT, t);
            if ((rc = tuple_expr(p, &n->a, 0, 1, 0)))
                return rc;
            if (cur(p)->type != T_VEND)
                return unexpected(p, "end of print statement");
            advance(p);
            break;
        case T_BBEGIN: {
            token *name = peek(p, 1);
            if (name->type == T_NAME) {
                for (size_t i = 0; i < n_ends; i++)
                    if (!strcmp(name->s, ends[i])) {
                        p->pos += 2;
                        *matched = ends[i];
                        return 0;
                    }
                if (!strncmp(name->s, "end", 3) || !strcmp(name->s, "else") ||
                    !strcmp(name->s, "elif")) {
                    if (n_ends)
                        return fail(p, name, "unexpected '%s': '%s' opened at line %u expects '%s'",
                                    name->s, opener, open_tok->line, ends[n_ends - 1]);
                    return fail(p, name, "unexpected '%s': no block to close", name->s);
                }
            }
            advance(p);
            if ((rc = statement(p, t, &n)))
                return rc;
            break;
        }
        default:
            return unexpected(p, NULL);
        }
        if (n)
            weir_vec_push(out, n);
    }
}

int weir_tpl__parse(weir_template *t, weir_error *err)
{
    parser p;
    memset(&p, 0, sizeof(p));
    p.t = t;
    p.err = err;
    int rc = lex(&p);
    if (!rc) {
        nodevec b = WEIR_VEC_INIT;
        const char *m;
        rc = body(&p, &b, NULL, 0, NULL, NULL, &m);
        t->body = finish_list(&p, &b, &t->n);
    }
    weir_vec_release(&p.toks);
    weir_vec_release(&p.macros);
    return rc;
}
