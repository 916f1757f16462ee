/*
 * render.h: the Jinja of templated kwargs (params.c), behind a header that
 * includes neither engine/ nor template/ (both name a type weir_value).
 */
#ifndef WEIR_QUALITY_RENDER_H
#define WEIR_QUALITY_RENDER_H

#include <jansson.h>

#include "core/buf.h"

typedef struct weir_qx_render weir_qx_render;

/* Whether v (a string, or a list or object holding one) contains Jinja. */
int weir_qx_has_template(const json_t *v);

/*
 * A renderer whose templates see ds, ds_nodash, data_interval_start and
 * data_interval_end (NULL: none; the interval defaults to [ds, ds + 1))
 * and var() over vars (an object, borrowed, or NULL). Free with
 * weir_qx_render_free.
 */
weir_qx_render *weir_qx_render_new(const char *ds, const char *start, const char *end,
                                   const json_t *vars);
void weir_qx_render_free(weir_qx_render *rc);

/*
 * Renders every templated string in the object kw in place. Returns 0, or
 * -1 with "kwarg 'NAME': cannot render: ..." appended to msg.
 */
int weir_qx_render_kwargs(weir_qx_render *rc, json_t *kw, weir_buf *msg);

#endif
