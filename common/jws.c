/* jws.c: placeholder until implemented. */
#include "config.h"
#include "jws.h"
