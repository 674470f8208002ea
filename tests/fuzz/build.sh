#!/bin/sh
# build.sh: builds the libFuzzer harnesses of tests/fuzz with clang
# (-fsanitize=fuzzer,address,undefined) against the library sources, which
# are compiled again with clang and the same sanitizers (the main build uses
# gcc, whose objects libFuzzer cannot instrument).
#
# usage: tests/fuzz/build.sh OUTDIR [BUILDDIR]
#   OUTDIR    where the objects and the fuzz_* programs go
#   BUILDDIR  a configured build tree whose config.h is used; without it a
#             minimal config.h is written into OUTDIR
# Needs Debian's clang (clang-14) and libclang-rt-14-dev.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${1:?usage: build.sh OUTDIR [BUILDDIR]}
builddir=${2:-}
CC=${CLANG:-clang}
mkdir -p "$out/obj"
out=$(cd "$out" && pwd)

if [ -n "$builddir" ] && [ -f "$builddir/config.h" ]; then
	cp "$builddir/config.h" "$out/config.h.new"
else
	printf '%s\n' '#define _GNU_SOURCE 1' '#define PACKAGE "jwtgate"' \
		'#define PACKAGE_NAME "jwtgate"' '#define PACKAGE_VERSION "fuzz"' \
		'#define VERSION "fuzz"' '#define PACKAGE_STRING "jwtgate fuzz"' \
		>"$out/config.h.new"
fi
if cmp -s "$out/config.h.new" "$out/config.h"; then rm "$out/config.h.new"
else mv "$out/config.h.new" "$out/config.h"; fi

pkgs="gnutls json-c sqlite3 libcurl libcrypt"
cflags="-std=gnu11 -g -O1 -fno-omit-frame-pointer -Wall -Wextra -Werror
	-Wno-unused-parameter -fsanitize=address,undefined
	-fno-sanitize-recover=undefined -I$out -I$top/common
	-DSYSCONFDIR=\"/etc\" -DJG_FUZZ_SRCDIR=\"$top\"
	$(pkg-config --cflags $pkgs)"
libs="$(pkg-config --libs $pkgs) -lfcgi"

# The library: every common/*.c, rebuilt only when newer than its object
# or than any header.
newest_h=$(ls -t "$top"/common/*.h | head -1)
objs=""
for src in "$top"/common/*.c; do
	obj="$out/obj/$(basename "$src" .c).o"
	if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ "$newest_h" -nt "$obj" ] ||
	   [ "$out/config.h" -nt "$obj" ]; then
		echo "  CLANG    $src"
		# shellcheck disable=SC2086
		$CC $cflags -fsanitize=fuzzer-no-link -c "$src" -o "$obj"
	fi
	objs="$objs $obj"
done

for h in "$here"/fuzz_*.c; do
	name=$(basename "$h" .c)
	bin="$out/$name"
	echo "  FUZZER   $name"
	# shellcheck disable=SC2086
	$CC $cflags -fsanitize=fuzzer "$h" $objs $libs -o "$bin"
done
