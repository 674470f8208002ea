#!/bin/sh
# run.sh: runs every libFuzzer harness built by build.sh for SECONDS seconds
# each (default 60), starting from its seed corpus in corpus/NAME, after
# replaying every input kept in regressions/NAME (crashes found before,
# which must stay fixed).  Exits non-zero on any crash, leak, timeout,
# out-of-memory or undefined behaviour.
#
# usage: tests/fuzz/run.sh [-j JOBS] [SECONDS] [FUZZDIR]
#   FUZZDIR  where build.sh put the programs (default: $JG_FUZZ_DIR, else
#            ./fuzz); the programs are built there first when missing.
#   JOBS     how many harnesses run at the same time (default:
#            $JG_FUZZ_JOBS, else 1).  Each harness writes only to its own
#            files; its report is printed, whole, once its batch is done,
#            in the usual order, so the output is the same as with -j 1.
# New inputs found while fuzzing go to FUZZDIR/corpus/NAME (the seed
# corpus in the source tree is never written); a crashing input is saved
# as FUZZDIR/crash-NAME-* : copy it into regressions/NAME once fixed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
jobs=${JG_FUZZ_JOBS:-1}
if [ "${1:-}" = "-j" ]; then
	jobs=${2:?usage: run.sh [-j JOBS] [SECONDS] [FUZZDIR]}
	shift 2
fi
case $jobs in
''|*[!0-9]*|0) echo "run.sh: JOBS must be a positive number" >&2; exit 2 ;;
esac
seconds=${1:-60}
dir=${2:-${JG_FUZZ_DIR:-./fuzz}}
names="fuzz_jws fuzz_jwk fuzz_json fuzz_params fuzz_cookie_auth fuzz_request fuzz_config"

for n in $names; do
	if [ ! -x "$dir/$n" ]; then
		"$here/build.sh" "$dir" || exit 1
		break
	fi
done
dir=$(cd "$dir" && pwd)

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# One harness: its regressions, then SECONDS of fuzzing.  Prints its report
# on stdout and returns non-zero on any failure.
run_one() {
	n=$1
	mkdir -p "$dir/corpus/$n"
	# Regressions: every kept input, replayed once.
	if [ -d "$here/regressions/$n" ] &&
	   [ -n "$(ls -A "$here/regressions/$n" 2>/dev/null)" ]; then
		if ! "$dir/$n" -runs=1 "$here/regressions/$n"/* \
			>"$dir/$n.regressions.log" 2>&1; then
			echo "FAIL: $n: a regression input fails again:"
			tail -40 "$dir/$n.regressions.log"
			return 1
		fi
		echo "PASS: $n: $(ls "$here/regressions/$n" | wc -l) regression inputs"
	fi
	start=$(date +%s)
	if "$dir/$n" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-max_len=65536 -print_final_stats=1 \
		-artifact_prefix="$dir/crash-$n-" \
		"$dir/corpus/$n" "$here/corpus/$n" >"$dir/$n.log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/$n.log")
		echo "PASS: $n: ${runs:-?} runs in $(( $(date +%s) - start )) s"
	else
		echo "FAIL: $n (log: $dir/$n.log):"
		grep -E 'ERROR|SUMMARY|runtime error|Test unit written|^ *#[0-9]+ ' \
			"$dir/$n.log" | head -40
		return 1
	fi
	return 0
}

# Harnesses run in batches of JOBS; each one's report and exit status go to
# its own files (FUZZDIR/NAME.report, NAME.status) and are printed and
# collected after the batch, in order.
status=0
batch=""
pids=""
trap 'kill $pids 2>/dev/null; exit 130' INT TERM
flush() {
	wait
	pids=""
	for b in $batch; do
		cat "$dir/$b.report"
		if [ "$(cat "$dir/$b.status" 2>/dev/null)" != 0 ]; then
			status=1
		fi
	done
	batch=""
}
count=0
for n in $names; do
	rm -f "$dir/$n.report" "$dir/$n.status"
	( run_one "$n"; echo $? >"$dir/$n.status" ) >"$dir/$n.report" 2>&1 &
	pids="$pids $!"
	batch="$batch $n"
	count=$((count + 1))
	if [ "$count" -ge "$jobs" ]; then
		flush
		count=0
	fi
done
flush
exit "$status"
