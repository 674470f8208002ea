/* json.c: placeholder until implemented. */
#include "config.h"
#include "json.h"
