/*
 * value_int.h: the layout of value objects, shared by the files of
 * src/template only. Other modules use value.h.
 */
#ifndef WEIR_TEMPLATE_VALUE_INT_H
#define WEIR_TEMPLATE_VALUE_INT_H

#include "template/value.h"

enum { OBJ_STR, OBJ_LIST, OBJ_DICT, OBJ_FUNC, OBJ_LOOP };
enum { OBJF_TUPLE = 1, OBJF_NAMESPACE = 2, OBJF_OBJECT = 4 };

typedef struct weir_tvalue_obj {
    uint32_t rc;
    uint8_t type;
    uint8_t flags;
    uint16_t depth; /* containers: 1 + the deepest container inside (at most) */
} vobj;

/* Containers nest at most this deep, so that recursion over values is bounded. */
#define WEIR_TVALUE_MAX_DEPTH 200

typedef struct {
    vobj h;
    size_t len;
    uint64_t hash; /* 0: not computed yet */
    char data[];
} vstr;

typedef struct {
    vobj h;
    size_t len, cap;
    weir_tvalue *items;
} vlist;

typedef struct {
    weir_tvalue key, val;
    uint64_t hash;
} ventry;

typedef struct {
    vobj h;
    size_t len, cap;
    ventry *e;
    uint32_t *index; /* open addressing over e, 0 = empty, else i+1 */
    size_t icap;     /* 0 while small: then lookups scan */
    char *display;   /* host objects: what str() gives */
} vdict;

enum { FN_HOST, FN_MACRO, FN_METHOD, FN_CALLER };

struct frame;
typedef struct {
    vobj h;
    int kind;
    char *name;
    weir_host_fn fn;
    void *ud;
    const void *macro;    /* FN_MACRO, FN_CALLER: the AST node */
    const void *tpl;      /* the template that defined it */
    struct frame *frame;  /* FN_CALLER: the caller's frame while alive */
    weir_tvalue self;      /* FN_METHOD: the receiver */
    int method;           /* FN_METHOD: which method */
    weir_tvalue attrs;     /* a dict, or undefined */
} vfunc;

typedef struct {
    vobj h;
    int64_t index0, length, depth0;
    const void *node;     /* a recursive loop's for node, while it runs */
    struct frame *frame;  /* and the frame it runs in */
    weir_tvalue prev, next;
    weir_tvalue last_changed; /* for loop.changed() */
    int has_changed;
} vloop;

#define VSTR(v) ((vstr *)(v)->u.o)
#define VLIST(v) ((vlist *)(v)->u.o)
#define VDICT(v) ((vdict *)(v)->u.o)
#define VFUNC(v) ((vfunc *)(v)->u.o)
#define VLOOP(v) ((vloop *)(v)->u.o)

/* Hash of a hashable value (strings, numbers, bool, none, tuples). */
uint64_t weir_tvalue__hash(const weir_tvalue *v);
/* 1 when v is container and target is reachable from it (or v is target). */
int weir_tvalue__reaches(const weir_tvalue *v, const vobj *target);
/* Python's repr of a float into out. */
void weir_tvalue__float_repr(double f, weir_buf *out);
/* A new string of n uninitialised bytes (the caller fills data). */
weir_tvalue weir_tvalue__string_alloc(size_t n);
/* Function objects of the engine's own kinds. */
weir_tvalue weir_tvalue__func_new(int kind, const char *name);
/* Immortal values are not reference counted (constants of macro files,
 * which threads share): copy and free leave them alone. */
void weir_tvalue__make_immortal(weir_tvalue *v);
void weir_tvalue__free_immortal(weir_tvalue v);
/* Creates a loop object. */
weir_tvalue weir_tvalue__loop_new(void);

#endif
