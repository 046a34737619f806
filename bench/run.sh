#!/usr/bin/env bash
# bench/run.sh: understudy's side-by-side performance harness.
#
#   bench/run.sh [--quick] [--worktree] [--keep] [--only SECTION[,SECTION...]]
#
# Builds shadow and synth (from the last commit, or the working tree with
# --worktree) and the helpers under bench/cmd, installs what it lacks
# (nginx, wrk, curl via apt-get; the vegeta CLI via go install), then
# measures on loopback, in one run:
#   1. latency: added latency at 1,000 req/s (open model) against 0 ms and
#      1 ms upstreams: direct (twice: the noise floor), plain ReverseProxy,
#      shadow (fast / 2 s / dead candidate), nginx mirror (same mirrors);
#      interleaved rounds
#   2. throughput: maximum throughput (wrk) through shadow and nginx
#      mirror, and drops
#   3. synth: rate accuracy at 200, 1,000, 5,000/s, and the maximum
#      sustained rate against the vegeta CLI's
#   4. gobench: the compare and capture Go benchmarks
#   5. soak: shadow's memory over a soak at constant load
# and writes bench/results/DATE-MODE.md and BENCHMARKS.md. --only runs the
# named sections alone and writes bench/results/DATE-MODE-only-SECTIONS.md,
# leaving BENCHMARKS.md as it is. --keep keeps the raw output. Every process
# it starts is stopped on exit; all traffic goes to 127.0.0.1; every load is
# bounded in count and time. Not part of CI.
set -euo pipefail

SECTIONS="latency throughput synth gobench soak"
MODE=full SRC=head KEEP=0 ONLY=""
while (($#)); do
	case $1 in
	--quick) MODE=quick ;;
	--worktree) SRC=worktree ;;
	--keep) KEEP=1 ;;
	--only=*) ONLY=${1#--only=} ;;
	--only)
		(($# > 1)) || { echo "bench/run.sh: --only needs a section list, like --only synth" >&2 && exit 2; }
		ONLY=$2
		shift
		;;
	-h | --help)
		sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "bench/run.sh: unknown argument $1 (want --quick, --worktree, --keep, --only SECTIONS)" >&2
		exit 2
		;;
	esac
	shift
done
for s in ${ONLY//,/ }; do
	[[ " $SECTIONS " == *" $s "* ]] || { echo "bench/run.sh: --only: unknown section $s (want some of: ${SECTIONS// /, })" >&2 && exit 2; }
done
ONLY=${ONLY//,/ }
ONLY=$(echo $ONLY) # one space between names, none around

# want SECTION: whether this run measures SECTION.
want() { [[ -z $ONLY || " $ONLY " == *" $1 "* ]]; }

REPO=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/understudy-bench.XXXXXX")
RAW=$WORK/raw BIN=$WORK/bin LOG=$WORK/log
mkdir -p "$RAW"/{throughput,synth,maxrate,gobench,soak} "$BIN" "$LOG"
T0=$SECONDS

if [[ $MODE == quick ]]; then
	LAT_ROUNDS=3 LAT_DUR=800ms LAT_WARM=150ms
	TP_ROUNDS=2 TP_SECS=3 PROF_SECS=3
	SYN_DUR=2s LADDER_DUR=2s
	LADDER="2500 5000 10000 15000 17500 20000 22500 25000 27500 30000"
	BENCHTIME=0.3s SOAK_SECS=120 SOAK_RATE=300 SOAK_WARM=20
else
	LAT_ROUNDS=5 LAT_DUR=3s LAT_WARM=500ms
	TP_ROUNDS=3 TP_SECS=8 PROF_SECS=5
	SYN_DUR=10s LADDER_DUR=4s
	LADDER="2500 5000 7500 10000 12500 15000 17500 20000 22500 25000 27500 30000 35000 40000 50000 60000"
	BENCHTIME=1s SOAK_SECS=600 SOAK_RATE=1000 SOAK_WARM=60
fi
LAT_RATE=1000 TP_CONNS=64 TP_MAX_PER_THREAD=2000000

say() { printf '[bench %4ds] %s\n' $((SECONDS - T0)) "$*" >&2; }
die() {
	say "error: $*"
	exit 1
}

# ---- processes: every one started here is remembered and stopped on exit.
PIDS=()
cleanup() {
	local rc=$? pid kids=()
	trap - EXIT INT TERM
	for pid in "${PIDS[@]}"; do # nginx workers are children of its master
		kids+=($(pgrep -P "$pid" 2>/dev/null || true))
	done
	for pid in "${PIDS[@]}" "${kids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		local alive=0
		for pid in "${PIDS[@]}" "${kids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
		((alive)) || break
		sleep 0.3
	done
	for pid in "${PIDS[@]}" "${kids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
	if ((KEEP)); then say "raw output kept in $WORK"; else rm -rf "$WORK"; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# forget PID: drops a process that has ended from PIDS, so that cleanup
# never signals a PID the system may have handed to someone else since.
forget() {
	local p keep=()
	for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}

# run_fg CMD...: runs CMD and waits for it, in a way an INT or TERM to this
# script interrupts at once (bash runs traps only between foreground
# commands, but during wait).
run_fg() {
	"$@" &
	local pid=$! rc=0
	PIDS+=("$pid")
	wait "$pid" || rc=$?
	forget "$pid"
	return "$rc"
}

# start NAME CMD...: runs CMD in the background, output in $LOG/NAME.{out,err}.
start() {
	local name=$1
	shift
	"$@" >"$LOG/$name.out" 2>"$LOG/$name.err" &
	PIDS+=($!)
	LAST_PID=$!
}

# wait_for FILE REGEX: waits up to 15 s for a line matching REGEX in FILE.
wait_for() {
	local i
	for ((i = 0; i < 150; i++)); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	die "timed out waiting for /$2/ in $1: $(tail -3 "${1%.out}.err" 2>/dev/null)"
}

# ---- tools
install_tools() {
	local missing=()
	if want latency || want throughput; then
		command -v nginx >/dev/null || missing+=(nginx)
		command -v wrk >/dev/null || missing+=(wrk)
	fi
	command -v curl >/dev/null || missing+=(curl)
	if ((${#missing[@]})); then
		say "installing ${missing[*]} with apt-get"
		local sudo=""
		((EUID == 0)) || sudo=sudo
		$sudo apt-get update -qq
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
	fi
	VEGETA=$(command -v vegeta || true)
	if [[ -z $VEGETA ]]; then
		VEGETA=$(go env GOPATH)/bin/vegeta
		if [[ ! -x $VEGETA ]] && want synth; then
			say "installing the vegeta CLI with go install"
			go install github.com/tsenart/vegeta/v12@latest
		fi
	fi
	NGINX=$(command -v nginx || true)
}

build() {
	local src=$REPO commit
	commit=$(git -C "$REPO" rev-parse --short HEAD)
	if [[ $SRC == head ]]; then
		src=$WORK/src
		mkdir -p "$src"
		git -C "$REPO" archive HEAD | tar -x -C "$src"
		SOURCE="built from the last commit"
	else
		SOURCE="built from the working tree"
		[[ -z $(git -C "$REPO" status --porcelain) ]] || commit="$commit+dirty"
	fi
	COMMIT=$commit SRCDIR=$src
	say "building shadow and synth ($SOURCE, $commit) and the helpers"
	run_fg go -C "$src" build -trimpath -o "$BIN/" ./cmd/shadow ./cmd/synth
	run_fg go -C "$REPO" build -trimpath -o "$BIN/" ./bench/cmd/...
}

machine() {
	local f=$RAW/machine.txt
	{
		echo "mode: $MODE"
		echo "date: $(date -u +%Y-%m-%d)"
		echo "source: $SOURCE"
		echo "commit: $COMMIT"
		echo "cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -1)"
		echo "cores: $(nproc)"
		echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
		echo "kernel: $(uname -sr)"
		echo "go: $(go version | awk '{print $3, $4}')"
		[[ -z $NGINX ]] || echo "nginx: $("$NGINX" -v 2>&1 | sed 's/^nginx version: //')"
		! command -v wrk >/dev/null || echo "wrk: $(wrk -v 2>&1 | head -1 | awk '{print $2}')"
		[[ ! -x $VEGETA ]] || echo "vegeta: $(go version -m "$VEGETA" 2>/dev/null | awk '$1 == "mod" {print $3}')"
		[[ -z $ONLY ]] || echo "only: ${ONLY// /,}"
		echo "uptime_before: $(uptime | sed 's/^ *//')"
	} >"$f"
}

# ---- servers
addr() { sed -n "s/^$1=//p" "$2"; }

start_upstreams() {
	start upstream "$BIN/upstream" -serve p0=0ms -serve p1=1ms -serve fast=0ms -serve slow=2s -dead dead -addrs "$WORK/addrs.txt"
	wait_for "$WORK/addrs.txt" '^dead='
	P0=$(addr p0 "$WORK/addrs.txt") P1=$(addr p1 "$WORK/addrs.txt")
	FAST=$(addr fast "$WORK/addrs.txt") SLOW=$(addr slow "$WORK/addrs.txt") DEAD=$(addr dead "$WORK/addrs.txt")
}

# start_shadow NAME PRIMARY CANDIDATE: sets URL_NAME and ADMIN_NAME.
start_shadow() {
	local name=$1
	start "$name" "$BIN/shadow" run --listen 127.0.0.1:0 --admin 127.0.0.1:0 --no-tui \
		--primary "$2" --candidate "$3" --summary-interval 1h --shutdown-timeout 2s
	PID_SHADOW[$name]=$LAST_PID
	wait_for "$LOG/$name.out" '^shadow: admin on '
	URL[$name]=$(sed -n 's/^shadow: listening on \([^,]*\),.*/\1/p' "$LOG/$name.out")
	ADMIN[$name]=$(sed -n 's/^shadow: admin on \([^ ]*\).*/\1/p' "$LOG/$name.out")
}

start_plain() {
	start "$1" "$BIN/plainproxy" -upstream "$2"
	wait_for "$LOG/$1.out" '^listening on '
	URL[$1]=$(sed -n 's/^listening on //p' "$LOG/$1.out")
}

# start_nginx: one nginx (master + workers, foreground) with a mirroring
# server per primary delay and mirror.
start_nginx() {
	local ng=$WORK/nginx ports i=0 d m
	mkdir -p "$ng/tmp"
	mapfile -t ports < <("$BIN/freeport" -n 6)
	hp() { echo "${1#http://}"; }
	{
		cat <<-EOF
			worker_processes 2;
			worker_rlimit_nofile 20000;
			pid $ng/nginx.pid;
			error_log $ng/error.log crit;
			events { worker_connections 16384; }
			http {
			  access_log off;
			  client_body_temp_path $ng/tmp/body;
			  proxy_temp_path $ng/tmp/proxy;
			  fastcgi_temp_path $ng/tmp/fastcgi;
			  uwsgi_temp_path $ng/tmp/uwsgi;
			  scgi_temp_path $ng/tmp/scgi;
			  keepalive_requests 1000000;
			  proxy_http_version 1.1;
			  proxy_connect_timeout 2s;
			  proxy_read_timeout 5s;
			  proxy_send_timeout 5s;
			  upstream p0 { server $(hp "$P0"); keepalive 256; keepalive_requests 1000000; }
			  upstream p1 { server $(hp "$P1"); keepalive 256; keepalive_requests 1000000; }
			  upstream fast { server $(hp "$FAST"); keepalive 256; keepalive_requests 1000000; }
			  upstream slow { server $(hp "$SLOW"); keepalive 256; keepalive_requests 1000000; }
			  upstream dead { server $(hp "$DEAD"); keepalive 16; }
		EOF
		for d in 0 1; do
			for m in fast slow dead; do
				URL[nginx$d-$m]=http://127.0.0.1:${ports[$i]}
				cat <<-EOF
					  server {
					    listen 127.0.0.1:${ports[$i]};
					    location / {
					      mirror /__mirror;
					      mirror_request_body on;
					      proxy_set_header Connection "";
					      proxy_pass http://p$d;
					    }
					    location = /__mirror {
					      internal;
					      proxy_set_header Connection "";
					      proxy_set_header X-Shadow-Request 1;
					      proxy_pass http://$m\$request_uri;
					    }
					  }
				EOF
				i=$((i + 1))
			done
		done
		echo "}"
	} >"$ng/nginx.conf"
	start nginx "$NGINX" -p "$ng" -e "$ng/error.log" -c "$ng/nginx.conf" -g 'daemon off;'
	for ((i = 0; i < 100; i++)); do
		curl -fsS -o /dev/null "${URL[nginx1-fast]}/ready" 2>/dev/null && return 0
		sleep 0.1
	done
	die "nginx did not start: $(tail -3 "$ng/error.log" "$LOG/nginx.err" 2>/dev/null)"
}

# ---- 1. added latency
latency() {
	say "1. added latency at $LAT_RATE req/s: $LAT_ROUNDS rounds × 18 cells × $LAT_DUR"
	local d p targets=()
	for d in 0 1; do # one round measures every cell of both delays, in this order
		p=P$d
		# direct twice in a row: how far the two differ is the noise floor
		targets+=(-target "direct=${!p},group=$d ms" -target "direct-again=${!p},group=$d ms")
		targets+=(-target "plain=${URL[plain$d]},group=$d ms")
		for m in fast slow dead; do
			targets+=(-target "shadow-$m=${URL[shadow$d-$m]},admin=${ADMIN[shadow$d-$m]},group=$d ms")
		done
		for m in fast slow dead; do
			targets+=(-target "nginx-$m=${URL[nginx$d-$m]},group=$d ms")
		done
	done
	run_fg "$BIN/loadgen" -rate "$LAT_RATE" -duration "$LAT_DUR" -warmup "$LAT_WARM" -rounds "$LAT_ROUNDS" \
		-out "$RAW/latency.jsonl" "${targets[@]}"
}

# ---- 2. throughput
wrk_script() {
	cat >"$WORK/bounded.lua" <<-EOF
		-- stop each thread after $TP_MAX_PER_THREAD answers, so the load is bounded in count as well as time
		local n = 0
		function response(status, headers, body)
		  n = n + 1
		  if n >= $TP_MAX_PER_THREAD then wrk.thread:stop() end
		end
	EOF
}

# poll ADMIN OUT: appends a snapshot every 0.25 s until killed.
poll() { while :; do curl -fsS "$1/snapshot" >>"$2" 2>/dev/null && echo >>"$2"; sleep 0.25; done; }

throughput_cell() { # ROUND TARGET URL [ADMIN]
	local base=$RAW/throughput/r$1_$2 poller=""
	curl -fsS "$P0/__bench/count" >"$base.counts0.json"
	if [[ -n ${4:-} ]]; then
		curl -fsS "$4/snapshot" >"$base.snap0.json"
		poll "$4" "$base.poll.jsonl" &
		poller=$!
		PIDS+=("$poller")
	fi
	run_fg wrk -t2 -c"$TP_CONNS" -d"${TP_SECS}s" --timeout 5s -s "$WORK/bounded.lua" "$3/orders/42" >"$base.wrk"
	if [[ -n $poller ]]; then
		kill "$poller" 2>/dev/null || true
		wait "$poller" 2>/dev/null || true
		forget "$poller"
	fi
	sleep 1 # copies still queued reach the mirror
	curl -fsS "$P0/__bench/count" >"$base.counts1.json"
	[[ -z ${4:-} ]] || curl -fsS "$4/snapshot" >"$base.snap1.json"
	say "   round $1 $2: $(sed -n 's/^Requests\/sec: *//p' "$base.wrk") req/s"
}

throughput() {
	say "2. maximum throughput: $TP_ROUNDS rounds × 4 targets × ${TP_SECS}s (wrk -c$TP_CONNS)"
	wrk_script
	for ((r = 1; r <= TP_ROUNDS; r++)); do
		throughput_cell "$r" direct "$P0"
		throughput_cell "$r" plain "${URL[plain0]}"
		throughput_cell "$r" shadow-fast "${URL[shadow0-fast]}" "${ADMIN[shadow0-fast]}"
		throughput_cell "$r" nginx-fast "${URL[nginx0-fast]}"
	done
	say "   CPU profile of shadow under the same load (${PROF_SECS}s)"
	curl -fsS -H "X-Admin-Request: 1" -o "$WORK/shadow.pprof" "${ADMIN[shadow0-fast]}/debug/pprof/profile?seconds=$PROF_SECS" &
	local prof=$!
	PIDS+=("$prof")
	run_fg wrk -t2 -c"$TP_CONNS" -d"$((PROF_SECS + 1))s" -s "$WORK/bounded.lua" "${URL[shadow0-fast]}/orders/42" >/dev/null
	local ok=0
	wait "$prof" && ok=1
	forget "$prof"
	if ((ok)); then
		{
			go tool pprof -top -nodecount=25 "$BIN/shadow" "$WORK/shadow.pprof" 2>/dev/null
			echo
			go tool pprof -top -cum -nodecount=40 "$BIN/shadow" "$WORK/shadow.pprof" 2>/dev/null | sed -n '/flat%/,$p'
		} >"$RAW/pprof-top.txt" || true
	fi
}

# ---- 3. synth
scenario() {
	cat >"$WORK/ping.yaml" <<-EOF
		name: bench-ping
		target: $P0
		rate: {type: constant, rate: 100}
		duration: 2s
		max_in_flight: 5000
		ceiling: 200000
		journeys:
		  - name: ping
		    steps:
		      - name: ping
		        path: /ping
		        assert: {status: [200]}
	EOF
}

synth_run() { # RATE DURATION OUT
	run_fg "$BIN/synth" run --rate "$1" --duration "$2" --no-tui --progress-interval 1h --report-out "$3" "$WORK/ping.yaml" \
		>>"$LOG/synth.out" 2>>"$LOG/synth.err" || true
}

# vegeta_step RATE: vegeta sends the tag headers synth adds to every
# request, so that the server does the same work for both tools.
vegeta_step() {
	printf '%s\n' "GET $P0/ping" "X-Synthetic: true" "X-Synthetic-Run: 0123456789ab" \
		"X-Synthetic-Journey: 0123456789ab-1000000" "Baggage: synthetic=true,synthetic-run=0123456789ab" |
		"$VEGETA" attack -rate="$1" -duration="$LADDER_DUR" -timeout=5s -max-workers=5000 2>>"$LOG/vegeta.err" |
		"$VEGETA" report -type=json
}

synth_section() {
	scenario
	say "3. synth rate accuracy at 200, 1000, 5000/s (${SYN_DUR} each)"
	local rate
	for rate in 200 1000 5000; do
		synth_run "$rate" "$SYN_DUR" "$RAW/synth/accuracy_$rate.json"
	done
	say "   maximum sustained rate, synth vs vegeta CLI: $LADDER (${LADDER_DUR} each)"
	# The tools take turns at each rate, the first one changing from step
	# to step so that neither always runs right after the other's heavier
	# try. A missed step is tried once more, after the other tool's try: on
	# a shared machine one burst of someone else's work can sink a step. A
	# tool stops at its first step missed twice.
	local -A active=([synth]=1 [vegeta]=1)
	local step=0 tool order missed
	for rate in $LADDER; do
		if ((step++ % 2)); then order="vegeta synth"; else order="synth vegeta"; fi
		missed=()
		for tool in $order; do
			((active[$tool])) || continue
			ladder_try "$tool" "$rate" || missed+=("$tool")
		done
		for tool in "${missed[@]}"; do
			ladder_try "$tool" "$rate" || active[$tool]=0
		done
		((active[synth] || active[vegeta])) || break
	done
}

# ladder_try TOOL RATE: one step of the ladder; succeeds when TOOL kept up.
ladder_try() {
	local out=$RAW/maxrate/$1_$2.json
	if [[ $1 == synth ]]; then
		synth_run "$2" "$LADDER_DUR" "$out"
	else
		run_fg vegeta_step "$2" >"$out"
	fi
	"$BIN/benchreport" sustained -tool "$1" -rate "$2" "$out" >&2
}

# ---- 4. Go benchmarks
gobench() {
	say "4. compare and capture Go benchmarks (-benchtime $BENCHTIME)"
	run_fg go -C "$SRCDIR" test -trimpath -run '^$' -bench BenchmarkCompareJSON -benchtime "$BENCHTIME" ./compare/ \
		>"$RAW/gobench/compare.txt" 2>&1 || say "   compare benchmarks failed: see the results file"
	run_fg go -C "$SRCDIR" test -trimpath -run '^$' -bench BenchmarkWrite -benchtime "$BENCHTIME" ./capture/ \
		>"$RAW/gobench/capture.txt" 2>&1 || say "   capture benchmarks failed: see the results file"
}

# ---- 5. soak
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

soak_start() { # CONCURRENT(yes|no)
	start upstream-soak "$BIN/upstream" -serve p1=1ms -serve fast=0ms -addrs "$WORK/soak-addrs.txt"
	wait_for "$WORK/soak-addrs.txt" '^fast='
	start_shadow soak "$(addr p1 "$WORK/soak-addrs.txt")" "$(addr fast "$WORK/soak-addrs.txt")"
	local pid=${PID_SHADOW[soak]}
	cat >"$RAW/soak/meta.txt" <<-EOF
		rate: $SOAK_RATE
		duration: ${SOAK_SECS}s
		warmup_s: $SOAK_WARM
		idle_rss_kb: $(rss_kb "$pid")
		concurrent: $1
	EOF
	say "5. soak: ${SOAK_SECS}s at $SOAK_RATE req/s through shadow (concurrent with the rest: $1)"
	start soak-load "$BIN/loadgen" -rate "$SOAK_RATE" -duration "${SOAK_SECS}s" -warmup 0 -group soak \
		-target "soak=${URL[soak]},admin=${ADMIN[soak]}" -poll 1s -out "$RAW/soak/load.jsonl"
	SOAK_LOAD=$LAST_PID
	local admin=${ADMIN[soak]}
	( # VmRSS every second; the Go heap in use every fifth
		t0=$(date +%s.%N) i=0
		while kill -0 "$SOAK_LOAD" 2>/dev/null; do
			now=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b-a}')
			echo "$now $(rss_kb "$pid")"
			if ((i++ % 5 == 0)); then
				curl -fsS "$admin/metrics" 2>/dev/null |
					awk -v t="$now" '$1 == "go_memstats_heap_inuse_bytes" {printf "%s %d\n", t, $2/1024}' >>"$RAW/soak/heap.txt" || true
			fi
			sleep 1
		done
	) >"$RAW/soak/rss.txt" &
	SOAK_SAMPLER=$!
	PIDS+=("$SOAK_SAMPLER")
}

soak_wait() {
	say "   waiting for the soak to end"
	wait "$SOAK_LOAD" || say "   soak load failed: $(tail -2 "$LOG/soak-load.err")"
	wait "$SOAK_SAMPLER" || true
	forget "$SOAK_LOAD"
	forget "$SOAK_SAMPLER"
}

# ---- main
declare -A URL ADMIN PID_SHADOW
install_tools
build
machine
[[ -z $ONLY ]] || say "sections: $ONLY"
start_upstreams
# In --quick the soak runs beside the other sections, unless it runs alone.
SOAK_BESIDE=no
if want soak && [[ $MODE == quick && $ONLY != soak ]]; then
	SOAK_BESIDE=yes
	soak_start yes
fi
if want latency || want throughput; then
	for d in 0 1; do
		p=P$d
		start_plain "plain$d" "${!p}"
		start_shadow "shadow$d-fast" "${!p}" "$FAST"
		start_shadow "shadow$d-slow" "${!p}" "$SLOW"
		start_shadow "shadow$d-dead" "${!p}" "$DEAD"
	done
	start_nginx
	say "servers up: upstreams, 2 plain proxies, 6 shadows, nginx (6 mirroring servers)"
fi

want latency && latency
want throughput && throughput
want synth && synth_section
want gobench && gobench
if want soak; then
	if [[ $SOAK_BESIDE == yes ]]; then soak_wait; else soak_start no && soak_wait; fi
fi

echo "uptime_after: $(uptime | sed 's/^ *//')" >>"$RAW/machine.txt"
if [[ -z $ONLY ]]; then
	OUT=$REPO/bench/results/$(date -u +%Y-%m-%d)-$MODE.md
	"$BIN/benchreport" render -raw "$RAW" -out "$OUT" -benchmarks "$REPO/BENCHMARKS.md" -root "$REPO"
	say "done in $((SECONDS - T0))s: $OUT and BENCHMARKS.md"
else
	OUT=$REPO/bench/results/$(date -u +%Y-%m-%d)-$MODE-only-${ONLY// /-}.md
	"$BIN/benchreport" render -raw "$RAW" -out "$OUT"
	say "done in $((SECONDS - T0))s: $OUT (BENCHMARKS.md left as it is: not every section ran)"
fi
