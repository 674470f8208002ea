/* jwk.c: placeholder until implemented. */
#include "config.h"
#include "jwk.h"
