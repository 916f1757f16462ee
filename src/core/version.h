/*
 * version.h: weir's own version, shown by `weir version` and written into
 * artifacts.
 */
#ifndef WEIR_VERSION_H
#define WEIR_VERSION_H

#define WEIR_VERSION "0.1.0"

#endif
