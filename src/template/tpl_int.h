/*
 * tpl_int.h: what the files of src/template share and nobody else sees:
 * the syntax tree, the environment and compiled-template structs, and the
 * entry points between lexer/parser (parse.c), evaluator (eval.c) and
 * built-ins (builtins.c).
 */
#ifndef WEIR_TEMPLATE_TPL_INT_H
#define WEIR_TEMPLATE_TPL_INT_H

#include "core/arena.h"
#include "core/map.h"
#include "core/vec.h"
#include "template/template.h"
#include "template/value_int.h"

/* Operators are single characters; two-character ones get a letter. */
enum {
    OP_FLOORDIV = 'F', OP_POW = 'P', OP_EQ = 'E', OP_NE = 'N', OP_LE = 'L', OP_GE = 'G',
    OP_IN = 'i', OP_NOTIN = 'n', OP_NOT = '!'
};

typedef struct render render;
typedef int (*builtin_fn)(render *r, const weir_tvalue *in, const weir_args *args,
                          weir_tvalue *out, weir_error *err);
typedef int (*builtin_test)(render *r, const weir_tvalue *in, const weir_args *args,
                            int *result, weir_error *err);

typedef enum {
    /* expressions */
    N_CONST, N_NAME, N_LIST, N_TUPLE, N_DICT, N_GETATTR, N_GETITEM, N_SLICE,
    N_CALL, N_FILTER, N_TEST, N_BINOP, N_UNARY, N_AND, N_OR, N_COMPARE,
    N_CONDEXPR, N_PLACEHOLDER,
    /* statements */
    N_TEXT, N_OUTPUT, N_IF, N_FOR, N_SET, N_SETBLOCK, N_MACRO, N_CALLBLOCK,
    N_FILTERBLOCK, N_DO, N_BREAK, N_CONTINUE, N_WITH
} node_type;

enum { MF_VARARGS = 1, MF_KWARGS = 2, MF_CALLER = 4 };

typedef struct node node;
struct node {
    node_type type;
    int op;              /* operator; flags for macros; negation for tests */
    unsigned line, col;
    node *a, *b, *c;
    node **list;         /* items, positional args, body, keys, operands */
    size_t n;
    node **list2;        /* keyword values, else body, dict values, defaults */
    size_t n2;
    const char **names;  /* keyword names, parameter names, with-targets */
    const char *name;    /* variable, attribute, filter, macro name; text */
    size_t len;          /* length of name (text nodes) */
    uint64_t hash;       /* of name, for frame lookups */
    int *ops;            /* comparison operators */
    weir_tvalue val;      /* constants (owned by the template) */
    builtin_fn filter;   /* a built-in filter, resolved when parsed */
    builtin_test test;   /* a test, resolved when parsed */
};

struct weir_template {
    weir_template_env *env;
    weir_arena arena;
    char *name;
    const char *src;    /* normalised source, in the arena */
    size_t srclen;
    node **body;
    size_t n;
    WEIR_VEC(weir_tvalue) consts;
    int shared;         /* a macro file owned by the environment */
};

typedef struct {
    char *prefix;
    int no_signature;
    weir_macro_namer namer; /* or NULL: prefix + name */
    void *ud;
} macro_tag;

struct weir_template_env {
    weir_map globals;    /* name -> weir_tvalue * */
    weir_map filters;    /* name -> weir_tvalue * (host filters) */
    weir_map tags;       /* tag -> macro_tag * */
    weir_map macros;     /* global macros: name -> weir_tvalue * */
    weir_map namespaces; /* ns -> weir_tvalue * (a dict of macros) */
    WEIR_VEC(weir_template *) files;
    weir_strvec traced;
    int strict;
    int lenient;
    int max_depth;
    size_t max_output;
    uint64_t max_steps;
};

/* parse.c */
int weir_tpl__parse(weir_template *t, weir_error *err);
/* Sets err to "file:line:col: msg" plus the source line and a caret. */
int weir_tpl__error_at(const weir_template *t, unsigned line, unsigned col, int code,
                       weir_error *err, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* Adds the location of (line, col) to an error that has none. */
int weir_tpl__locate(const weir_template *t, unsigned line, unsigned col, weir_error *err);

/* eval.c: the render state is opaque to builtins except through these. */
/* Calls a callable with evaluated arguments; *out gets a new reference. */
int weir_tpl__call_value(render *r, const weir_tvalue *fn, const weir_args *args,
                         weir_tvalue *out, weir_error *err);
int weir_tpl__strict(render *r);
/* Renders a list of arguments for select()/map() filter forms. */
int weir_tpl__apply_filter(render *r, const char *name, const weir_tvalue *in,
                           const weir_args *args, weir_tvalue *out, weir_error *err);
int weir_tpl__apply_test(render *r, const char *name, const weir_tvalue *in,
                         const weir_args *args, int *result, weir_error *err);
/* Python's rich comparison used by sort/min/max; sets *cmp, or errors. */
int weir_tpl__compare(const weir_tvalue *a, const weir_tvalue *b, int case_sensitive,
                      int *cmp, weir_error *err);
/* Getattr as templates see it (dict key, method, loop field...). */
int weir_tpl__getattr(render *r, const weir_tvalue *obj, const char *name,
                      weir_tvalue *out, weir_error *err);
/* Iterates any iterable into a new list (strings by character, dicts by key). */
int weir_tpl__to_list(render *r, const weir_tvalue *v, weir_tvalue *out, weir_error *err);

/* builtins.c */
builtin_fn weir_tpl__find_filter(const char *name);
/* The nearest built-in filter or test name to a misspelt one, or NULL. */
const char *weir_tpl__suggest(const char *name, int tests);
builtin_test weir_tpl__find_test(const char *name);
/* Methods of str, list and dict: returns a method id or -1. */
int weir_tpl__find_method(const weir_tvalue *self, const char *name);
int weir_tpl__call_method(render *r, const weir_tvalue *self, int method,
                          const weir_args *args, weir_tvalue *out, weir_error *err);
const char *weir_tpl__method_name(int method);
/* Global functions every template has: range, dict, namespace, ... */
int weir_tpl__builtin_global(const char *name, weir_tvalue *out);


/* datetime.c: modules.datetime (datetime, date and timedelta host objects) */
weir_tvalue weir_tpl__datetime_module(void);
/* 0, or which of datetime (1), date (2), timedelta (3) v is. */
int weir_tpl__dt_type(const weir_tvalue *v);
/* a op b when either is one of them: 0 with *out set, an error, or
 * WEIR_ENOTFOUND when the operator does not apply (err untouched). */
int weir_tpl__dt_binop(int op, const weir_tvalue *a, const weir_tvalue *b, weir_tvalue *out,
                       weir_error *err);
/* 1 with *cmp set when a and b are of one of those types, else 0. */
int weir_tpl__dt_compare(const weir_tvalue *a, const weir_tvalue *b, int *cmp);
int weir_tpl__dt_strftime(render *r, const weir_tvalue *self, const weir_args *a,
                          weir_tvalue *out, weir_error *err);
int weir_tpl__dt_isoformat(render *r, const weir_tvalue *self, const weir_args *a,
                           weir_tvalue *out, weir_error *err);
int weir_tpl__dt_date(render *r, const weir_tvalue *self, const weir_args *a, weir_tvalue *out,
                      weir_error *err);
int weir_tpl__dt_replace(render *r, const weir_tvalue *self, const weir_args *a,
                         weir_tvalue *out, weir_error *err);
int weir_tpl__dt_weekday(render *r, const weir_tvalue *self, const weir_args *a,
                         weir_tvalue *out, weir_error *err);
int weir_tpl__dt_isoweekday(render *r, const weir_tvalue *self, const weir_args *a,
                            weir_tvalue *out, weir_error *err);
int weir_tpl__dt_total_seconds(render *r, const weir_tvalue *self, const weir_args *a,
                               weir_tvalue *out, weir_error *err);

/* eval.c: entry points used by template.c */
int weir_tpl__render(const weir_template *t, const weir_tvalue *ctx, weir_buf *out,
                     weir_tvalue *calls, weir_error *err);
int weir_tpl__env_call(weir_template_env *env, const weir_tvalue *fn, const weir_args *args,
                       const weir_tvalue *ctx, weir_tvalue *out, weir_error *err);
/* Python's "fmt % arg" on strings. */
int weir_tpl__percent(const weir_tvalue *fmt, const weir_tvalue *arg, weir_tvalue *out,
                      weir_error *err);
/* memmem, which POSIX lacks. */
const char *weir_tpl__memmem(const char *h, size_t hn, const char *n, size_t nn);
/* A macro value for a macro node of template t. */
weir_tvalue weir_tpl__macro_value(const weir_template *t, const node *m);

#endif
