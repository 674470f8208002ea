/* fuzz_config.c: libFuzzer harness for the configuration file parser
 * (jg_config_load in common/conf.c).  The loader only reads files, so the
 * input is written to a memory file (memfd) at every run and loaded through
 * its /proc/self/fd path.  On failure there must be a one-line message; on
 * success the configuration is freed again (leaks are caught by ASan). */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	struct jg_config *config = NULL;
	char *errmsg = NULL;
	enum jg_err err;

	if (fd < 0) {
		fd = memfd_create("jwtgate.conf", 0);
		if (fd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) != 0 ||
	    (size > 0 && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	err = jg_config_load(path, &config, &errmsg);
	if (err == JG_OK) {
		if (config == NULL || errmsg != NULL)
			abort();
		(void)jg_config_scope_rule(config, "/api/");
		(void)jg_config_find_issuer(config, "https://issuer.example");
		jg_config_free(config);
	} else {
		if (errmsg == NULL || config != NULL || strchr(errmsg, '\n') != NULL)
			abort();
		free(errmsg);
	}
	return 0;
}
