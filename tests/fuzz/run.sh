#!/bin/sh
# run.sh: runs every libFuzzer harness built by build.sh for SECONDS seconds
# each (default 60), starting from its seed corpus in corpus/NAME, after
# replaying every input kept in regressions/NAME (crashes found before,
# which must stay fixed).  Exits non-zero on any crash, leak, timeout,
# out-of-memory or undefined behaviour.
#
# usage: tests/fuzz/run.sh [SECONDS] [FUZZDIR]
#   FUZZDIR  where build.sh put the programs (default: $JG_FUZZ_DIR, else
#            ./fuzz); the programs are built there first when missing.
# New inputs found while fuzzing go to FUZZDIR/corpus/NAME (the seed
# corpus in the source tree is never written); a crashing input is saved
# as FUZZDIR/crash-NAME-* : copy it into regressions/NAME once fixed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
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
status=0
for n in $names; do
	mkdir -p "$dir/corpus/$n"
	# Regressions: every kept input, replayed once.
	if [ -d "$here/regressions/$n" ] &&
	   [ -n "$(ls -A "$here/regressions/$n" 2>/dev/null)" ]; then
		if ! "$dir/$n" -runs=1 "$here/regressions/$n"/* \
			>"$dir/$n.regressions.log" 2>&1; then
			echo "FAIL: $n: a regression input fails again:"
			tail -40 "$dir/$n.regressions.log"
			status=1
			continue
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
		status=1
	fi
done
exit "$status"
