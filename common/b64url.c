/* b64url.c: placeholder until implemented. */
#include "config.h"
#include "b64url.h"
