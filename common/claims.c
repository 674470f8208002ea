/* claims.c: placeholder until implemented. */
#include "config.h"
#include "claims.h"
