/* min_fcgi.c: the FastCGI ceiling of `make bench`: a libfcgi responder
 * that does nothing but answer every request with the headers of
 * resource.fcgi's /api/me answer and a fixed JSON string of the size given
 * in $MIN_FCGI_BODY (bench/run.sh sets the size of the real answer;
 * default 196 bytes). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <fcgiapp.h>

int
main(void)
{
	FCGX_Request req;
	char *body;
	const char *size = getenv("MIN_FCGI_BODY");
	size_t len = size ? strtoul(size, NULL, 10) : 196;

	if (len < 2 || len > 65536)
		return 2;
	body = malloc(len + 1);
	if (body == NULL)
		return 1;
	memset(body, 'x', len);
	body[0] = '"';
	body[len - 1] = '"';
	body[len] = '\0';
	if (FCGX_Init() != 0 || FCGX_InitRequest(&req, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&req) >= 0) {
		FCGX_FPrintF(req.out, "Status: 200 OK\r\n"
			     "Content-Type: application/json\r\n"
			     "Cache-Control: no-store\r\n"
			     "Pragma: no-cache\r\n"
			     "Content-Length: %u\r\n\r\n%s", (unsigned)len, body);
		FCGX_Finish_r(&req);
	}
	free(body);
	return 0;
}
