-- lines.lua: wrk script of `make bench` (bench/run.sh).
--   wrk -tTHREADS ... -s lines.lua URL -- FILE AUTH LIMIT THREADS
-- FILE: one form body per line, each sent once as a POST (authorization
-- codes and refresh tokens are single-use); thread i of n sends lines
-- i, i+n, i+2n ...  When the list runs out the thread stops.  "-" sends
-- wrk's own request (the URL, method and -H headers) every time.
-- AUTH: the Authorization header of every POST ("" for none).
-- LIMIT: the thread stops sending after this many answers (0: no limit;
-- wrk itself still runs for its -d).
-- THREADS: the -t given to wrk.  A fifth argument "cycle" starts the list
-- again when it runs out (for requests that may repeat).
local threads = 0

function setup(thread)
	thread:set("id", threads)
	threads = threads + 1
end

function init(args)
	file, auth, limit = args[1], args[2] or "", tonumber(args[3] or "0")
	nthreads = tonumber(args[4] or "1")
	cycle = args[5] == "cycle"
	lines = {}
	if file ~= "-" then
		for l in io.lines(file) do
			lines[#lines + 1] = l
		end
	end
	answers = 0
	next_line = nil
end

function request()
	if file == "-" then
		return wrk.request()
	end
	if next_line == nil then
		next_line = id + 1
	end
	local body = lines[next_line]
	if body == nil and cycle then
		next_line = id + 1
		body = lines[next_line]
	end
	next_line = next_line + nthreads
	if body == nil then
		wrk.thread:stop()
		body = "exhausted"
	end
	local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
	if auth ~= "" then
		headers["Authorization"] = auth
	end
	return wrk.format("POST", nil, headers, body)
end

function response(status, headers, body)
	answers = answers + 1
	if limit > 0 and answers >= limit then
		wrk.thread:stop()
	end
end
