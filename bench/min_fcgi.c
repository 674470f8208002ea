/* min_fcgi.c: the FastCGI ceiling of `make bench`: a libfcgi responder
 * that does nothing but answer every request with the headers of
 * resource.fcgi's /api/me answer and a fixed JSON string of the size given
 * in $MIN_FCGI_BODY (bench/run.sh sets the size of the real answer;
 * default 196 bytes).  With MIN_FCGI_PLAIN_CLOSE=1 it ends each connection
 * as jwtgate's programs do (common/server.c): a plain close instead of
 * libfcgi's lingering close when the web server has sent the whole request
 * and none of it is left unread. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <fcgiapp.h>

/* common/server.c's request_complete, the same steps: the end of
 * FCGI_STDIN read (with the socket non-blocking for that one read) and no
 * input waiting in the kernel. */
static int
complete(FCGX_Request *r)
{
	const char *cl = FCGX_GetParam("CONTENT_LENGTH", r->envp);
	int n = -1, c;

	if (r->ipcFd <= 0)
		return 0;
	if (FCGX_HasSeenEOF(r->in) != EOF) {
		if (cl != NULL && cl[0] != '\0' && strcmp(cl, "0") != 0)
			return 0;
		if (fcntl(r->ipcFd, F_SETFL, O_NONBLOCK) != 0)
			return 0;
		c = FCGX_GetChar(r->in);
		if (fcntl(r->ipcFd, F_SETFL, 0) != 0 || c != EOF)
			return 0;
	}
	if (FCGX_HasSeenEOF(r->in) != EOF || FCGX_GetError(r->in) != 0)
		return 0;
	return ioctl(r->ipcFd, FIONREAD, &n) == 0 && n == 0;
}

int
main(void)
{
	FCGX_Request req;
	char *body;
	const char *size = getenv("MIN_FCGI_BODY");
	const char *plain = getenv("MIN_FCGI_PLAIN_CLOSE");
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
		if (plain != NULL && strcmp(plain, "1") == 0 && complete(&req))
			FCGX_Detach(&req);
		FCGX_Finish_r(&req);
		FCGX_Attach(&req);
	}
	free(body);
	return 0;
}
