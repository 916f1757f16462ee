/*
 * banned.h: functions that are easy to misuse, made impossible to call.
 *
 * Included last by every weir source file (through weir.h). Use weir_buf,
 * snprintf or memcpy with an explicit length instead.
 */
#ifndef WEIR_BANNED_H
#define WEIR_BANNED_H

#define WEIR_BANNED(func) sorry_##func##_is_banned_in_weir

#undef strcpy
#define strcpy(x, y) WEIR_BANNED(strcpy)
#undef strcat
#define strcat(x, y) WEIR_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) WEIR_BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) WEIR_BANNED(strncat)
#undef sprintf
#define sprintf(...) WEIR_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) WEIR_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) WEIR_BANNED(strtok)
#undef gmtime
#define gmtime(t) WEIR_BANNED(gmtime)
#undef localtime
#define localtime(t) WEIR_BANNED(localtime)

#endif
