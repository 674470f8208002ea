#!/bin/sh
# run.sh: `make bench` (bench/README.md): jwtgate side by side with its
# peers and with the ceilings of the web-server path, all in one run on one
# machine.  Prints a Markdown report and writes it to bench/results/LATEST.md.
#
# Needs (Debian 12): lighttpd wrk hyperfine libjwt-dev python3-jwt nodejs
# npm, and `npm ci` in bench/node (the jose and oidc-provider packages).
#
# Environment (all optional):
#   BENCH_SECONDS       wrk time of each HTTP and token case (default 10)
#   BENCH_ROUNDS        in how many alternating slices (default 5)
#   BENCH_JOSE_SECONDS  time per JOSE operation (default 1)
#   BENCH_CONNECTIONS   wrk connections (default 8; one wrk thread)
#   BENCH_TOKENS        codes and refresh tokens prepared per server (40000)
#   BENCH_FOOTPRINT     requests per FastCGI program before its RSS is read
#                       (default 100000)
#   BENCH_CGI_RUNS      hyperfine runs per plain-CGI cold start (default 50)
#   BENCH_OUT           the report file (default bench/results/LATEST.md)
#   BENCH_ONLY          "jose", "http", "token" or "footprint": one part only
set -u

S=${JG_SRCDIR:?JG_SRCDIR: the source tree}
B=${JG_BUILDDIR:?JG_BUILDDIR: the build tree}
SECS=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-5}
JOSE_SECS=${BENCH_JOSE_SECONDS:-1}
CONNS=${BENCH_CONNECTIONS:-8}
NTOK=${BENCH_TOKENS:-40000}
FOOT=${BENCH_FOOTPRINT:-100000}
CGI_RUNS=${BENCH_CGI_RUNS:-50}
OUT=${BENCH_OUT:-$S/bench/results/LATEST.md}
ONLY=${BENCH_ONLY:-}
PY=/usr/bin/python3
LUA=$S/bench/wrk/lines.lua

die() {
	echo "bench/run.sh: $*" >&2
	exit 1
}

for tool in /usr/sbin/lighttpd wrk hyperfine node $PY; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (see bench/README.md)"
done
[ -d "$S/bench/node/node_modules/oidc-provider" ] ||
	die "run 'npm ci' in $S/bench/node first"

WORK=$(mktemp -d /tmp/jg-bench-XXXXXX) || die "mktemp failed"
LT_PID=
NODE_PID=
cleanup() {
	[ -n "$LT_PID" ] && kill "$LT_PID" 2>/dev/null
	[ -n "$NODE_PID" ] && kill "$NODE_PID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

REPORT=$WORK/report.md
: >"$REPORT"
say() {
	printf '%s\n' "$*" >>"$REPORT"
	printf '%s\n' "$*"
}
want() {
	[ -z "$ONLY" ] || [ "$ONLY" = "$1" ]
}
# verdict TARGET FIGURE STATUS: one row of the summary of targets printed
# at the end (STATUS: met or MISSED).
: >"$WORK/targets.md"
verdict() {
	printf '| %s | %s | %s |\n' "$1" "$2" "$3" >>"$WORK/targets.md"
}
STARTED=$(date +%s)
free_port() {
	$PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_port() {
	i=0
	while ! $PY -c "import socket, sys; socket.create_connection(('127.0.0.1', $1), 1)" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 100 ] || die "nothing listens on port $1"
		sleep 0.1
	done
}
# ratio A B: A/B in percent, no decimals.
pct() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f%%", 100 * a / b; else print "n/a" }'
}
ratio_x() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "n/a" }'
}

# ------------------------------------------------------------ machine
say "# jwtgate benchmark"
say ""
say "$(date -u '+%Y-%m-%d %H:%M UTC'), \`make bench\` (bench/run.sh)."
say ""
say "- machine: $(uname -srm), $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
say "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (shared machine: compare ratios from the same run, not absolute rates)"
say "- compiler: $(${CC:-cc} --version 2>/dev/null | head -1)"
say "- GnuTLS $(pkg-config --modversion gnutls 2>/dev/null), json-c $(pkg-config --modversion json-c 2>/dev/null), SQLite $(pkg-config --modversion sqlite3 2>/dev/null), libfcgi $(dpkg-query -W -f '${Version}' libfcgi-bin libfcgi0ldbl 2>/dev/null | head -c 20)"
say "- peers: libjwt $(dpkg-query -W -f '${Version}' libjwt0 2>/dev/null), PyJWT $(dpkg-query -W -f '${Version}' python3-jwt 2>/dev/null) ($($PY --version 2>&1), $($PY -c 'import cryptography; print("cryptography", cryptography.__version__)' 2>/dev/null)), node $(node --version), jose $(node -p "require('$S/bench/node/node_modules/jose/package.json').version"), oidc-provider $(node -p "require('$S/bench/node/node_modules/oidc-provider/package.json').version")"
say "- $(/usr/sbin/lighttpd -v 2>&1 | head -1), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2), $(hyperfine --version)"
say ""

# ------------------------------------------------------------ 1. JOSE
if want jose; then
	say "## 1. JOSE: operations per second, one thread"
	say ""
	say "Same claims (RFC 9068 access token, header alg, kid, typ at+jwt) for"
	say "all; jwtgate and bare GnuTLS from bench/jws, the peers on tokens and keys"
	say "bench/jose_export made with jwtgate's library.  \"verify\" is the whole"
	say "JWS check of the token (decode, header, signature), and for the peers"
	say "their usual decode call with algorithm, issuer and audience checks."
	say "libjwt 1.10 has no PS256 or EdDSA, and accepts only typ JWT: it"
	say "verifies the same token signed with typ JWT."
	say ""
	mkdir -p "$WORK/jose"
	"$B/bench/jose_export" "$WORK/jose" || die "jose_export failed"
	"$B/bench/jws" --markdown --seconds "$JOSE_SECS" >"$WORK/jws.txt" || die "bench/jws failed"
	"$B/bench/jose_libjwt" "$WORK/jose" "$JOSE_SECS" >"$WORK/libjwt.txt" || die "libjwt failed"
	(cd "$S/bench/node" && node jose_bench.mjs "$WORK/jose" "$JOSE_SECS") >"$WORK/node.txt" ||
		die "jose (node) failed"
	$PY "$S/bench/pyjwt_bench.py" "$WORK/jose" "$JOSE_SECS" >"$WORK/pyjwt.txt" ||
		die "PyJWT failed"
	say "| alg | verify: jwtgate | bare GnuTLS | jwtgate/GnuTLS | libjwt | jose (node) | PyJWT | sign: jwtgate | bare GnuTLS | libjwt | jose (node) | PyJWT |"
	say "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	for alg in RS256 PS256 ES256 EdDSA HS256; do
		row=$(awk -F'|' -v OFS='|' -v a="$alg" '{ gsub(/ /, "", $2) } $2 == a { gsub(/ /, ""); print $3 " " $4 " " $7 " " $8 }' "$WORK/jws.txt")
		set -- $row
		vl=${1:-0} vp=${2:-0} sl=${3:-0} sp=${4:-0}
		set -- $(awk -v a="$alg" '$1 == a { print $2, $3 }' "$WORK/libjwt.txt")
		jv=${1:-n/a} js=${2:-n/a}
		set -- $(awk -v a="$alg" '$1 == a { print $2, $3 }' "$WORK/node.txt")
		nv=${1:-n/a} ns=${2:-n/a}
		set -- $(awk -v a="$alg" '$1 == a { print $2, $3 }' "$WORK/pyjwt.txt")
		pv=${1:-n/a} ps=${2:-n/a}
		say "| $alg | $vl | $vp | $(pct "$vl" "$vp") | $jv | $nv | $pv | $sl | $sp | $js | $ns | $ps |"
		echo "$alg $vl $vp $jv $nv $pv" >>"$WORK/jose-verify.txt"
	done
	say ""
	say "Verify targets (jwtgate within 1.1x of bare GnuTLS, i.e. >= 91%; faster than every peer):"
	say ""
	while read -r alg vl vp jv nv pv; do
		miss=""
		if awk -v a="$vl" -v b="$vp" 'BEGIN { exit !(a * 1.1 >= b) }'; then
			verdict "$alg verify within 1.1x of bare GnuTLS" "$(pct "$vl" "$vp") of its rate" met
		else
			miss="$miss slower than 1.1x GnuTLS;"
			verdict "$alg verify within 1.1x of bare GnuTLS" "$(pct "$vl" "$vp") of its rate" MISSED
		fi
		for peer in "libjwt:$jv" "jose:$nv" "PyJWT:$pv"; do
			r=${peer#*:}
			[ "$r" = n/a ] && continue
			if awk -v a="$vl" -v b="$r" 'BEGIN { exit !(a > b) }'; then
				verdict "$alg verify faster than ${peer%%:*}" "$(ratio_x "$vl" "$r")" met
			else
				miss="$miss slower than ${peer%%:*} ($(ratio_x "$r" "$vl"));"
				verdict "$alg verify faster than ${peer%%:*}" "$(ratio_x "$vl" "$r")" MISSED
			fi
		done
		if [ "$alg" = HS256 ]; then
			# issue 2, point 6: 1,000,000 HS256 verifies per second on one core
			if awk -v a="$vl" 'BEGIN { exit !(a >= 1000000) }'; then v=met; else v=MISSED; fi
			verdict "HS256 >= 1,000,000 verifies/s on one core (the 623-byte access token)" "$vl/s ($(pct "$vl" 1000000))" "$v"
			# The same on RFC 7515 A.1's 179-byte token (bench/jws).
			a1=$(sed -n 's/.*RFC 7515 A.1 token ([0-9]* bytes): verify lib \([0-9]*\)\/s.*/\1/p' "$WORK/jws.txt")
			a1=${a1:-0}
			if awk -v a="$a1" 'BEGIN { exit !(a >= 1000000) }'; then v=met; else v=MISSED; fi
			verdict "HS256 >= 1,000,000 verifies/s on one core (RFC 7515 A.1 token, 179 bytes)" "$a1/s ($(pct "$a1" 1000000))" "$v"
		fi
		if [ -z "$miss" ]; then
			say "- $alg: met"
		else
			say "- $alg: MISSED:$miss"
		fi
	done <"$WORK/jose-verify.txt"
	say ""
fi

# ------------------------------------------------------------ servers
need_servers=false
for part in http token footprint; do
	want $part && need_servers=true
done
BODY=196
if $need_servers; then
	PORT=$(free_port)
	mkdir -p "$WORK/srv/htdocs/static" "$WORK/srv/htdocs/private"
	echo "preparing $NTOK codes and refresh tokens ..." >&2
	"$B/bench/setup" "$WORK/srv" "$PORT" "$NTOK" || die "bench/setup failed"
	RS=$(cat "$WORK/srv/token-rs256.txt")
	ES=$(cat "$WORK/srv/token-es256.txt")
	# The /api/me answer, run once as plain CGI: its size sets the static
	# file's and the minimal responder's.
	env -i JWTGATE_CONF="$WORK/srv/jwtgate.conf" GATEWAY_INTERFACE=CGI/1.1 \
		REQUEST_METHOD=GET SCRIPT_NAME=/api/me REQUEST_URI=/api/me \
		SERVER_NAME=127.0.0.1 SERVER_PORT="$PORT" SERVER_PROTOCOL=HTTP/1.1 \
		REMOTE_ADDR=127.0.0.1 HTTP_AUTHORIZATION="Bearer $RS" \
		"$B/cgi-bin/resource.fcgi" >"$WORK/me.txt" || die "resource.fcgi as CGI failed"
	$PY -c 'import sys; sys.stdout.buffer.write(open(sys.argv[1], "rb").read().split(b"\r\n\r\n", 1)[1])' \
		"$WORK/me.txt" >"$WORK/me.json"
	BODY=$(wc -c <"$WORK/me.json")
	cp "$WORK/me.json" "$WORK/srv/htdocs/static/me.json"
	cp "$WORK/me.json" "$WORK/srv/htdocs/private/me.json"
	cp "$S/htdocs/"*.html "$S/htdocs/jwtgate.css" "$WORK/srv/htdocs/"	# authorize.fcgi's templates
	conf=$WORK/srv/jwtgate.conf
	cat >"$WORK/lighttpd.conf" <<EOF
server.document-root = "$WORK/srv/htdocs"
server.bind = "127.0.0.1"
server.port = $PORT
server.errorlog = "$WORK/error.log"
server.modules = ( "mod_fastcgi" )
server.max-keep-alive-requests = 100000
mimetype.assign = ( ".json" => "application/json" )
fastcgi.server = (
  "/min" => (( "bin-path" => "$B/bench/min_fcgi", "socket" => "$WORK/min.sock",
    "max-procs" => 1, "check-local" => "disable",
    "bin-environment" => ( "MIN_FCGI_BODY" => "$BODY" ) )),
  "/plainclose" => (( "bin-path" => "$B/bench/min_fcgi", "socket" => "$WORK/minplain.sock",
    "max-procs" => 1, "check-local" => "disable",
    "bin-environment" => ( "MIN_FCGI_BODY" => "$BODY", "MIN_FCGI_PLAIN_CLOSE" => "1" ) )),
  "/api/" => (( "bin-path" => "$B/cgi-bin/resource.fcgi", "socket" => "$WORK/api.sock",
    "max-procs" => 1, "check-local" => "disable",
    "bin-environment" => ( "JWTGATE_CONF" => "$conf" ) )),
  "/private/" => (( "bin-path" => "$B/cgi-bin/resource.fcgi", "socket" => "$WORK/gate.sock",
    "max-procs" => 1, "check-local" => "disable", "mode" => "authorizer",
    "bin-environment" => ( "JWTGATE_CONF" => "$conf" ) )),
  "/oauth/token" => (( "bin-path" => "$B/cgi-bin/token.fcgi", "socket" => "$WORK/token.sock",
    "max-procs" => 1, "check-local" => "disable",
    "bin-environment" => ( "JWTGATE_CONF" => "$conf" ) )),
  "/oauth/authorize" => (( "bin-path" => "$B/cgi-bin/authorize.fcgi", "socket" => "$WORK/authz.sock",
    "max-procs" => 1, "check-local" => "disable",
    "bin-environment" => ( "JWTGATE_CONF" => "$conf" ) )),
)
EOF
	/usr/sbin/lighttpd -D -f "$WORK/lighttpd.conf" >"$WORK/lighttpd.out" 2>&1 &
	LT_PID=$!
	wait_port "$PORT"
	URL=http://127.0.0.1:$PORT
fi

# fcgi_pid PROGRAM SOCKET: the pid of lighttpd's FastCGI child running
# PROGRAM whose fd 0 is the listening socket SOCKET (lighttpd appends -N).
fcgi_pid() {
	for p in $(ps -o pid= --ppid "$LT_PID"); do
		if tr '\0' '\n' <"/proc/$p/cmdline" 2>/dev/null | head -1 | grep -q "$1" &&
			ls -l "/proc/$p/fd/0" 2>/dev/null | grep -q "socket"; then
			for s in $(ls -l /proc/$p/fd/0 | sed 's/.*socket:\[\([0-9]*\)\]/\1/'); do
				if grep -qE " $s .*/$2(-[0-9]+)?\$" /proc/net/unix; then
					echo "$p"
					return
				fi
			done
		fi
	done
}
rss_kib() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}
# run_wrk NAME WRK-ARGS...: runs wrk for RSECS seconds (options, URL, then
# -- and the script's arguments); appends "requests seconds non2xx p50_ms
# p99_ms cpu_ticks" to $WORK/wrk-NAME.runs, where cpu_ticks is the CPU time
# the process CPU_PID (if set) used meanwhile.  Cases run in alternating
# rounds, so that a change in the machine's load hits them all alike.
run_wrk() {
	name=$1
	shift
	t0=$(cpu_ticks "${CPU_PID:-}")
	wrk -t1 -c"$CONNS" -d"${RSECS}s" --latency "$@" >"$WORK/wrk-$name.txt" 2>&1 ||
		die "wrk $name failed: $(cat "$WORK/wrk-$name.txt")"
	t1=$(cpu_ticks "${CPU_PID:-}")
	awk -v ticks=$((t1 - t0)) '
	     function ms(v) {
		     if (v ~ /us$/) return v * 0.001
		     if (v ~ /ms$/) return v + 0
		     if (v ~ /m$/) return v * 60000
		     return v * 1000
	     }
	     / requests in / { total = $1; secs = $4; sub(/,$/, "", secs)
			       secs = ms(secs) / 1000 }
	     /Non-2xx or 3xx responses:/ { non = $NF }
	     /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) }
	     END { printf "%d %.3f %d %.3f %.3f %d\n", total, secs, non, p50, p99, ticks }' \
		"$WORK/wrk-$name.txt" >>"$WORK/wrk-$name.runs"
}
# cpu_ticks PID: user + system CPU time of the process so far, in clock
# ticks (0 without a pid).
cpu_ticks() {
	if [ -n "$1" ] && [ -r "/proc/$1/stat" ]; then
		sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
	else
		echo 0
	fi
}
# res NAME: "rate total non2xx p50 p99 cpu_us_per_request" over all rounds
# (latencies: the median of the rounds' values).
res() {
	sort -t' ' -k4,4g "$WORK/wrk-$1.runs" | awk -v hz="$(getconf CLK_TCK)" '
		{ n++; total += $1; secs += $2; non += $3; ticks += $6; p50[n] = $4; p99[n] = $5 }
		END {
			m = int((n + 1) / 2)
			printf "%.0f %d %d %.2fms %.2fms %.0f\n", secs ? total / secs : 0, total,
			       non, p50[m], p99[m], total ? ticks * 1e6 / hz / total : 0
		}'
}
RSECS=$(awk -v s="$SECS" -v r="$ROUNDS" 'BEGIN { x = s / r; printf "%g", x < 1 ? 1 : x }')
warm() {
	wrk -t1 -c"$CONNS" -d1s "$@" >/dev/null 2>&1
}

# ------------------------------------------------------------ 2. HTTP
if want http; then
	say "## 2. HTTP: wrk against lighttpd on 127.0.0.1"
	say ""
	say "wrk -t1 -c$CONNS, keep-alive, $SECS s per case in $ROUNDS alternating rounds;"
	say "one process per FastCGI program (max-procs 1); answer body $BODY bytes"
	say "everywhere (the /api/me answer).  CPU µs/request: user + system time of"
	say "the FastCGI process (of lighttpd for the static file) per request."
	say ""
	warm "$URL/static/me.json"
	warm "$URL/min"
	warm "$URL/plainclose"
	warm -H "Authorization: Bearer $RS" "$URL/api/me"
	warm -H "Authorization: Bearer $RS" "$URL/private/me.json"
	minp=$(fcgi_pid min_fcgi min.sock)
	minplainp=$(fcgi_pid min_fcgi minplain.sock)
	api=$(fcgi_pid resource.fcgi api.sock)
	gate=$(fcgi_pid resource.fcgi gate.sock)
	r=0
	while [ $r -lt "$ROUNDS" ]; do
		CPU_PID=$LT_PID run_wrk static "$URL/static/me.json"
		CPU_PID=$minp run_wrk min "$URL/min"
		CPU_PID=$minplainp run_wrk minplain "$URL/plainclose"
		CPU_PID=$api run_wrk me_rs -H "Authorization: Bearer $RS" "$URL/api/me"
		CPU_PID=$api run_wrk me_es -H "Authorization: Bearer $ES" "$URL/api/me"
		CPU_PID=$gate run_wrk gate -H "Authorization: Bearer $RS" "$URL/private/me.json"
		CPU_PID=$api run_wrk notoken "$URL/api/me"
		r=$((r + 1))
	done
	set -- $(res min)
	min=$1
	say "| case | requests/s | of the libfcgi ceiling | unexpected answers | p50 | p99 | CPU µs/request |"
	say "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
	for c in "static:static file (lighttpd ceiling)" "min:minimal libfcgi responder (FastCGI ceiling)" \
		"minplain:the same, closing as jwtgate does (no lingering close after a whole request)" \
		"me_rs:resource.fcgi /api/me, RS256 token" "me_es:resource.fcgi /api/me, ES256 token" \
		"gate:authorizer (RS256 token) + static file" "notoken:/api/me without a token (401)"; do
		n=${c%%:*}
		set -- $(res "$n")
		rate=$1 total=$2 non=$3 p50=$4 p99=$5 cpu=$6
		if [ "$n" = notoken ]; then
			bad=$((total - non))	# every answer should be a 401
		else
			bad=$non
		fi
		say "| ${c#*:} | $rate | $(pct "$rate" "$min") | $bad of $total | $p50 | $p99 | $cpu |"
		eval "rate_$n=$rate bad_$n=$bad"
	done
	say ""
	say "Targets:"
	say ""
	for c in "me_rs:/api/me RS256:90" "me_es:/api/me ES256:90" "gate:authorizer-gated static file:80"; do
		n=${c%%:*} rest=${c#*:}
		eval "r=\$rate_$n b=\$bad_$n"
		target=${rest##*:}
		if awk -v a="$r" -v b="$min" -v t="$target" 'BEGIN { exit !(100 * a >= t * b) }'; then
			v=met
		else
			v=MISSED
		fi
		say "- ${rest%:*}: $(pct "$r" "$min") of the minimal responder (target >= $target%): $v; unexpected answers: $b"
		verdict "${rest%:*}: >= $target% of the minimal libfcgi responder" "$(pct "$r" "$min")" "$v"
	done
	set -- $(res minplain)
	say ""
	say "jwtgate's programs end a FastCGI connection with a plain close when the"
	say "web server has sent the whole request and none of it is unread, where"
	say "libfcgi lingers (shutdown, then a wait for the web server's close)."
	say "Against a minimal responder that closes the same way (the third row):"
	say "/api/me RS256 $(pct "$rate_me_rs" "$1"), ES256 $(pct "$rate_me_es" "$1"), gate $(pct "$rate_gate" "$1")."
	for n in static min minplain me_rs me_es gate notoken; do
		eval "b=\$bad_$n"
		if [ "$b" -eq 0 ]; then v=met; else v=MISSED; fi
		verdict "HTTP $n: no unexpected status" "$b" "$v"
	done
	say ""
fi

# ------------------------------------------------------------ 3. token endpoint
AUTH_APP="Basic $(printf 'bench-app:bench-secret-0123456789abcdefghijklmnopqrstuvwxyz' | base64 -w0)"
AUTH_CC="Basic $(printf 'bench-cc:bench-secret-0123456789abcdefghijklmnopqrstuvwxyz' | base64 -w0)"
if want token; then
	NPORT=$(free_port)
	mkdir -p "$WORK/node"
	(cd "$S/bench/node" && exec node oidc_bench.mjs "$NPORT" "$WORK/node" "$NTOK") \
		>"$WORK/node-oidc.out" 2>&1 &
	NODE_PID=$!
	i=0
	while [ ! -e "$WORK/node/ready" ]; do
		kill -0 "$NODE_PID" 2>/dev/null || die "oidc_bench.mjs died: $(cat "$WORK/node-oidc.out")"
		i=$((i + 1))
		[ $i -lt 1200 ] || die "oidc_bench.mjs did not get ready"
		sleep 0.1
	done
	NURL=http://127.0.0.1:$NPORT
	echo 'grant_type=client_credentials&scope=api' >"$WORK/cc.txt"
	say "## 3. Token endpoint: grants per second"
	say ""
	say "wrk -t1 -c$CONNS, $SECS s per grant and server in $ROUNDS alternating rounds,"
	say "client_secret_basic, each code and refresh"
	say "token used once (prepared in advance in each server's store: jwtgate's"
	say "SQLite database through jg_store_code_insert / jg_store_refresh_create,"
	say "node-oidc-provider's in-memory adapter through its models).  Both sign"
	say "ES256 JWT access tokens (oidc-provider through resourceIndicators with"
	say "accessTokenFormat jwt) and ES256 ID tokens; codes carry PKCE S256 and"
	say "scope openid profile offline_access; refresh tokens rotate on use in"
	say "both.  One process each (token.fcgi max-procs 1; node is one thread)."
	say ""
	for side in jg node; do
		if [ $side = jg ]; then
			u=$URL/oauth/token codes=$WORK/srv/codes.txt refresh=$WORK/srv/refresh.txt
		else
			u=$NURL/token codes=$WORK/node/codes.txt refresh=$WORK/node/refresh.txt
		fi
		warm -s "$LUA" "$u" -- "$WORK/cc.txt" "$AUTH_CC" 0 1 cycle
		# one slice of the single-use lists per round
		split -n l/"$ROUNDS" -d -a 3 "$codes" "$WORK/$side-codes."
		split -n l/"$ROUNDS" -d -a 3 "$refresh" "$WORK/$side-refresh."
	done
	tokp=$(fcgi_pid token.fcgi token.sock)
	r=0
	while [ $r -lt "$ROUNDS" ]; do
		chunk=$(printf '%03d' $r)
		for side in jg node; do
			if [ $side = jg ]; then
				u=$URL/oauth/token CPU_PID=$tokp
			else
				u=$NURL/token CPU_PID=$NODE_PID
			fi
			run_wrk "${side}_cc" -s "$LUA" "$u" -- "$WORK/cc.txt" "$AUTH_CC" 0 1 cycle
			run_wrk "${side}_code" -s "$LUA" "$u" -- "$WORK/$side-codes.$chunk" "$AUTH_APP" 0 1
			run_wrk "${side}_refresh" -s "$LUA" "$u" -- "$WORK/$side-refresh.$chunk" "$AUTH_APP" 0 1
		done
		r=$((r + 1))
	done
	CPU_PID=
	say "| grant | jwtgate token.fcgi /s | unexpected | CPU µs/grant | node-oidc-provider /s | unexpected | CPU µs/grant | rate ratio (target >= 5x) | CPU ratio |"
	say "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	for g in "cc:client_credentials" "code:authorization_code" "refresh:refresh_token"; do
		n=${g%%:*}
		set -- $(res "jg_$n")
		jr=$1 jt=$2 jn=$3 jc=$6
		set -- $(res "node_$n")
		nr=$1 nt=$2 nn=$3 nc=$6
		if awk -v a="$jr" -v b="$nr" 'BEGIN { exit !(a >= 5 * b) }'; then v=met; else v=MISSED; fi
		say "| ${g#*:} | $jr | $jn of $jt | $jc | $nr | $nn of $nt | $nc | $(ratio_x "$jr" "$nr") $v | $(ratio_x "$nc" "$jc") |"
		verdict "token endpoint ${g#*:}: >= 5x node-oidc-provider" "$(ratio_x "$jr" "$nr") (CPU per grant: $(ratio_x "$nc" "$jc"))" "$v"
	done
	say ""
	kill "$NODE_PID" 2>/dev/null
	wait "$NODE_PID" 2>/dev/null
	NODE_PID=
fi

# ------------------------------------------------------------ 4. footprint
if want footprint; then
	say "## 4. Footprint"
	say ""
	say "Resident memory (VmRSS) of each FastCGI process after at least"
	say "$FOOT requests to it (valid requests: /api/me with the RS256 token,"
	say "the gate with it, client_credentials grants, and GET /oauth/authorize"
	say "of a valid request, answered with the login page)."
	say ""
	AZ="/oauth/authorize?response_type=code&client_id=bench-app&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&scope=openid&state=s&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
	old=$RSECS
	RSECS=5
	foot() {
		name=$1
		shift
		while [ "$(res "$name" 2>/dev/null | cut -d' ' -f2)" -lt "$FOOT" ] 2>/dev/null ||
			[ ! -e "$WORK/wrk-$name.runs" ]; do
			run_wrk "$name" "$@"
		done
	}
	foot foot_api -H "Authorization: Bearer $RS" "$URL/api/me"
	foot foot_gate -H "Authorization: Bearer $RS" "$URL/private/me.json"
	[ -e "$WORK/cc.txt" ] || echo 'grant_type=client_credentials&scope=api' >"$WORK/cc.txt"
	foot foot_token -s "$LUA" "$URL/oauth/token" -- "$WORK/cc.txt" "$AUTH_CC" 0 1 cycle
	foot foot_authz "$URL$AZ"
	RSECS=$old
	say "| program | requests | unexpected answers | VmRSS | of which shared libraries' pages shared with other processes | private (anonymous + file) | target <= 8 MiB |"
	say "| --- | ---: | ---: | ---: | ---: | ---: | --- |"
	for c in "api:resource.fcgi:api.sock:resource.fcgi (responder)" \
		"gate:resource.fcgi:gate.sock:resource.fcgi (authorizer)" \
		"token:token.fcgi:token.sock:token.fcgi" "authz:authorize.fcgi:authz.sock:authorize.fcgi"; do
		n=${c%%:*} rest=${c#*:}
		prog=${rest%%:*} rest=${rest#*:}
		sock=${rest%%:*} label=${rest#*:}
		pid=$(fcgi_pid "$prog" "$sock")
		set -- $(res "foot_$n")
		kib=$(rss_kib "$pid")
		if [ "${kib:-99999999}" -le 8192 ]; then v=met; else v=MISSED; fi
		set -- "$@" $(awk '/^Shared_Clean:|^Shared_Dirty:/ { sh += $2 } /^Private_Clean:|^Private_Dirty:/ { pr += $2 }
			END { printf "%.1f %.1f", sh / 1024, pr / 1024 }' "/proc/$pid/smaps_rollup")
		say "| $label | $2 | $3 | $(awk -v k="$kib" 'BEGIN { printf "%.1f MiB", k / 1024 }') | $7 MiB | $8 MiB | $v |"
		verdict "$label: <= 8 MiB resident after $FOOT requests" "$(awk -v k="$kib" 'BEGIN { printf "%.1f MiB", k / 1024 }')" "$v"
	done
	say ""

	say "Plain-CGI cold start (hyperfine, shell start-up subtracted; the whole"
	say "run of one request: load the configuration, open the store, load the"
	say "keyring, answer):"
	say ""
	CGIENV="JWTGATE_CONF=$WORK/srv/jwtgate.conf GATEWAY_INTERFACE=CGI/1.1 SERVER_NAME=127.0.0.1 SERVER_PORT=$PORT SERVER_PROTOCOL=HTTP/1.1 REMOTE_ADDR=127.0.0.1"
	printf 'grant_type=client_credentials&scope=api' >"$WORK/cc.body"
	say "| program | request | mean | min | CPU (user + sys) | target <= 15 ms |"
	say "| --- | --- | ---: | ---: | ---: | --- |"
	for c in "resource.fcgi|GET /api/me, RS256 token|REQUEST_METHOD=GET SCRIPT_NAME=/api/me REQUEST_URI=/api/me HTTP_AUTHORIZATION='Bearer $RS'|/dev/null" \
		"token.fcgi|POST /oauth/token client_credentials|REQUEST_METHOD=POST SCRIPT_NAME=/oauth/token REQUEST_URI=/oauth/token CONTENT_TYPE=application/x-www-form-urlencoded CONTENT_LENGTH=$(wc -c <"$WORK/cc.body") HTTP_AUTHORIZATION='$AUTH_CC'|$WORK/cc.body" \
		"authorize.fcgi|GET /oauth/authorize (login page)|REQUEST_METHOD=GET SCRIPT_NAME=/oauth/authorize REQUEST_URI='$AZ' QUERY_STRING='${AZ#*\?}'|/dev/null"; do
		prog=${c%%|*} rest=${c#*|}
		what=${rest%%|*} rest=${rest#*|}
		vars=${rest%|*} input=${rest##*|}
		run1="$B/cgi-bin/$prog <$input"
		eval "env -i PATH=/usr/bin:/bin $CGIENV $vars sh -c \"\$run1 >/dev/null\"" ||
			die "$prog as CGI failed"
		eval "env -i PATH=/usr/bin:/bin $CGIENV $vars hyperfine --warmup 5 --runs $CGI_RUNS \
			--export-json \"\$WORK/hf.json\" \"\$run1\"" >/dev/null 2>&1 ||
			die "hyperfine $prog failed"
		set -- $($PY -c 'import json, sys; r = json.load(open(sys.argv[1]))["results"][0]; print("%.2f %.2f %.2f" % (r["mean"] * 1000, r["min"] * 1000, (r["user"] + r["system"]) * 1000))' "$WORK/hf.json")
		if awk -v m="$1" 'BEGIN { exit !(m <= 15) }'; then v=met; else v="MISSED (mean)"; fi
		say "| $prog | $what | $1 ms | $2 ms | $3 ms | $v |"
		verdict "$prog plain-CGI cold start <= 15 ms" "mean $1 ms, min $2 ms" "${v%% *}"
	done
	say ""
	libs=
	for prog in resource token authorize; do
		libs="$libs${libs:+, }$prog.fcgi $(ldd "$B/cgi-bin/$prog.fcgi" | grep -c '=>')"
	done
	if ldd "$B/cgi-bin/resource.fcgi" | grep -q libgnutls; then
		how="GnuTLS, json-c, SQLite and libfcgi shared (configure --enable-static-deps links them in)"
	else
		how="GnuTLS, json-c, SQLite and libfcgi linked in (configure --enable-static-deps)"
	fi
	say "Shared libraries each program loads (ldd): $libs; $how."
	say ""
fi

if [ -s "$WORK/targets.md" ]; then
	say "## Targets"
	say ""
	say "| target (issue 8; HS256 rate: issue 2) | figure | status |"
	say "| --- | --- | --- |"
	while IFS= read -r line; do
		say "$line"
	done <"$WORK/targets.md"
	say ""
	say "$(grep -c '| met |$' "$WORK/targets.md") met, $(grep -c '| MISSED |$' "$WORK/targets.md") missed."
	say ""
	say "Why the misses, from profiles (callgrind instruction counts, which a"
	say "loaded machine does not skew, and perf): bench/README.md, \"What the"
	say "profiles show\"."
	say ""
fi
say "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); the run took $(( $(date +%s) - STARTED )) s."
mkdir -p "$(dirname "$OUT")"
cp "$REPORT" "$OUT.tmp" && mv "$OUT.tmp" "$OUT"
echo "report written to $OUT" >&2
