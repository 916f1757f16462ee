/*
 * compat.h: the first include of every weir source file.
 *
 * It pulls in the standard and POSIX headers the code base uses, then
 * banned.h, so that a banned function cannot be called from any file that
 * follows the rule (git's git-compat-util.h does the same). Headers included
 * after it must not redeclare a banned function; the ones weir uses do not.
 */
#ifndef WEIR_COMPAT_H
#define WEIR_COMPAT_H

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define WEIR_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define WEIR_UNUSED(x) ((void)(x))
#define WEIR_MIN(a, b) ((a) < (b) ? (a) : (b))
#define WEIR_MAX(a, b) ((a) > (b) ? (a) : (b))

#include "core/banned.h"

#endif
