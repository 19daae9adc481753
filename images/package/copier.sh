#!/bin/sh
# Entrypoint of the default CA package image (docs/upstream-compatibility.md §5), in POSIX sh:
#
#   copier [--wait] <input-folder> <output-folder>
#   copier [--wait] /copyandmaybepause <input-folder> <output-folder>   (deprecated form)
#
# Copies every regular *.json file found under <input-folder> (recursively, symlinks not followed)
# into <output-folder>, flattening the directory structure (subdirectories are recreated empty, as
# upstream's copier does). Then exits, or with --wait waits for SIGINT/SIGTERM and exits 0.
# Both folders must exist. Log lines go to stderr, prefixed like Go's log package.
set -u

log() {
	printf '%s %s\n' "$(date '+%Y/%m/%d %H:%M:%S')" "$*" >&2
}

usage() {
	log "usage: $0 [flags] <input-folder> <output-folder>"
	log "  -wait"
	log "    	if true, wait for a signal before exiting"
	log "    	if false, exit with a status code after copying"
}

wait_for_signal=false
while [ $# -gt 0 ]; do
	case $1 in
	-wait | --wait | -wait=true | --wait=true | -wait=1 | --wait=1 | -wait=t | --wait=t) wait_for_signal=true ;;
	-wait=false | --wait=false | -wait=0 | --wait=0 | -wait=f | --wait=f) wait_for_signal=false ;;
	-h | -help | --help)
		usage
		exit 0
		;;
	--)
		shift
		break
		;;
	-?*)
		log "flag provided but not defined: $1"
		usage
		exit 2
		;;
	*) break ;;
	esac
	shift
done

if [ $# -eq 3 ] && [ "$1" = /copyandmaybepause ]; then
	log "DEPRECATED: use the image's entrypoint instead of /copyandmaybepause"
	src=$2
	dst=$3
elif [ $# -eq 2 ]; then
	src=$1
	dst=$2
else
	usage
	exit 1
fi

log "reading from $src"
log "writing to   $dst"

if [ ! -d "$src" ]; then
	log "couldn't confirm that input path is a directory that exists: $src: no such directory"
	exit 1
fi
if [ ! -d "$dst" ]; then
	log "couldn't confirm that output path is a directory that exists: $dst: no such directory"
	exit 1
fi

# One pass over directories and regular *.json files; "$src/" makes find enter a symlinked root.
# shellcheck disable=SC2016 # expanded by the inner shell
find "$src/" \( -type d -o \( -type f -name '*.json' \) \) -exec sh -c '
	src=$1 dst=$2
	shift 2
	for path; do
		rel=${path#"$src/"}
		[ -n "$rel" ] || continue
		if [ -d "$path" ]; then
			mkdir -p "$dst/$rel" || exit 1
			continue
		fi
		out="$dst/${path##*/}"
		if ! cat "$path" >"$out"; then
			printf "%s failed to copy source %s to destination %s\n" "$(date "+%Y/%m/%d %H:%M:%S")" "$path" "$out" >&2
			exit 1
		fi
		printf "%s successfully copied %s to %s\n" "$(date "+%Y/%m/%d %H:%M:%S")" "$path" "$out" >&2
	done
' copier "$src" "$dst" {} + || exit 1

if [ "$wait_for_signal" = true ]; then
	log "finished copying, waiting for termination signal"
	sleeper=
	trap 'log "received interrupt, closing"; [ -z "$sleeper" ] || kill "$sleeper" 2>/dev/null; exit 0' INT TERM
	while :; do
		sleep 86400 &
		sleeper=$!
		wait "$sleeper"
	done
fi
