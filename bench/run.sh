#!/usr/bin/env bash
# bench/run.sh: understudy's side-by-side performance harness.
#
#   bench/run.sh [--quick] [--worktree] [--keep] [--only SECTION[,SECTION...]]
#
# Builds shadow and synth (from the last commit, or the working tree with
# --worktree) and the helpers under bench/cmd, installs what it lacks
# (nginx, wrk, curl, valgrind via apt-get; the vegeta CLI via go install), then
# measures on loopback, in one run:
#   latency     added latency and CPU per request at 1,000 req/s (open
#               model) against 0 ms and 1 ms upstreams: direct (twice: the
#               noise floor), plain ReverseProxy, shadow (fast / 2 s / dead
#               candidate), nginx mirror (same mirrors); interleaved rounds
#   tls         added latency and CPU per request at 1,000 req/s over
#               HTTPS/1.1 and h2 (0 ms TLS upstreams, private CA): direct
#               (twice), plain ReverseProxy, shadow (--tls-cert, https
#               primary and candidate), nginx `listen ssl http2` + mirror
#   throughput  maximum throughput (wrk) through shadow and nginx mirror,
#               and drops
#   cost        CPU per request at 1,000 req/s, 0 ms upstream: direct (the
#               upstream's own), plain ReverseProxy, shadow with mirroring
#               off / one candidate / candidate + secondary / capture on /
#               two candidates (when the build supports it), nginx mirror
#   stages      shadow's CPU profile under load, folded into stages (serve,
#               primary, tee, queue, candidate, judge, metrics, capture...)
#   growth      how CPU per request grows with body size, fields per body,
#               endpoints and rate, beside a plain ReverseProxy, with slopes
#   uploads     RSS of shadow and a plain ReverseProxy under 800 slow
#               uploaders (a whole body slowly; headers and one byte)
#   wide        small GETs' p50 while a few clients get wide JSON answers
#               whose candidate changes every type, shadow vs plain proxy
#   stream      the cost of flushing every write (FlushInterval) on small
#               answers
#   synth       rate accuracy, CPU per request against the vegeta CLI at the
#               same rate, and the maximum sustained rate against vegeta's
#   gobench     the compare and capture Go benchmarks, and the whole path's
#               allocations per request (bench's BenchmarkWholePath) and,
#               with valgrind installed, its instructions per request
#   soak        shadow's memory over a soak at constant load
# and writes bench/results/DATE-MODE.md and BENCHMARKS.md. --only runs the
# named sections alone and writes bench/results/DATE-MODE-only-SECTIONS.md,
# leaving BENCHMARKS.md as it is. --keep keeps the raw output. Every process
# it starts is stopped on exit; all traffic goes to 127.0.0.1; every load is
# bounded in count and time. Not part of CI.
set -euo pipefail

SECTIONS="latency tls throughput cost stages growth uploads wide stream synth gobench soak"
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
		sed -n '2,44p' "$0" | sed 's/^# \{0,1\}//'
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
mkdir -p "$RAW"/{throughput,synth,maxrate,gobench,soak,growth,synthcost,stages} "$BIN" "$LOG"
T0=$SECONDS

if [[ $MODE == quick ]]; then
	LAT_ROUNDS=3 LAT_DUR=800ms LAT_WARM=150ms
	TP_ROUNDS=2 TP_SECS=3
	COST_ROUNDS=3 COST_DUR=1200ms COST_WARM=200ms
	PROF_SECS=5
	G_ROUNDS=1 G_DUR=1s G_WARM=200ms
	G_BYTES="1024 16384 262144 1048576" G_FIELDS="10 100 1000 10000"
	G_ENDPOINTS="10 50 200 500" G_RATES="500 1000 2000 4000 8000"
	UP_SECS=4 UP_ROUNDS=1 UP_ANSWER=5s
	WIDE_ROUNDS=2 WIDE_DUR=2s
	ST_ROUNDS=3 ST_DUR=800ms
	SYN_DUR=2s LADDER_DUR=2s SC_ROUNDS=2 SC_DUR=2s
	LADDER="2500 5000 7500 10000 12500 15000 17500 20000 22500 25000 27500 30000"
	BENCHTIME=0.3s WHOLE_BENCHTIME=3000x SOAK_SECS=120 SOAK_RATE=300 SOAK_WARM=20
	INSTR_N1=200 INSTR_N2=1200
else
	LAT_ROUNDS=5 LAT_DUR=3s LAT_WARM=500ms
	TP_ROUNDS=3 TP_SECS=8
	COST_ROUNDS=5 COST_DUR=3s COST_WARM=500ms
	PROF_SECS=10
	G_ROUNDS=3 G_DUR=3s G_WARM=500ms
	G_BYTES="1024 4096 16384 65536 262144 1048576" G_FIELDS="10 100 1000 10000 70000"
	G_ENDPOINTS="10 50 100 200 500" G_RATES="250 500 1000 2000 4000 8000 16000"
	UP_SECS=10 UP_ROUNDS=2 UP_ANSWER=10s
	WIDE_ROUNDS=3 WIDE_DUR=5s
	ST_ROUNDS=5 ST_DUR=3s
	SYN_DUR=10s LADDER_DUR=4s SC_ROUNDS=3 SC_DUR=5s
	LADDER="2500 5000 7500 10000 12500 15000 17500 20000 22500 25000 27500 30000 35000 40000 50000 60000"
	BENCHTIME=1s WHOLE_BENCHTIME=20000x SOAK_SECS=600 SOAK_RATE=1000 SOAK_WARM=60
	INSTR_N1=300 INSTR_N2=2300
fi
# The fixed rates: latency, cost, streaming and the stage profile are
# measured at 1,000 req/s; synth's and vegeta's CPU at 2,000/s; growth in
# body size and fields at 50 req/s (a 1 MiB answer judged 1,000 times a
# second would saturate a shared 2-core machine and measure the queue, not
# the cost); endpoints at 500; the uploaders are 800 connections of 1 MiB;
# the wide answers come at 2 per second beside 200 small GETs per second.
COST_RATE=1000 STAGE_RATE=1000 G_BODY_RATE=50 G_EP_RATE=500 UP_CONNS=800 UP_BODY=1048576
WIDE_RATE=200 WIDE_BESIDE=2 WIDE_FIELDS=70000 SC_RATE=2000
# SETTLE bounds how long a cell waits for its processes to go idle after
# its last answer (copies still in flight, judging) before reading their CPU.
SETTLE=1s
LAT_RATE=1000 TP_CONNS=64 TP_MAX_PER_THREAD=2000000
INSTR_CASES="direct reverseproxy shadow-off shadow-unjudged-transport shadow-unjudged shadow shadow-secondary shadow-capture"

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
# The logs are emptied first, here: the background job's own redirections
# truncate them only once it runs, and a process started again under the
# same name (uploads starts shadow-up once per mode) must not be found
# ready, at its old address, from the last one's lines.
start() {
	local name=$1
	shift
	: >"$LOG/$name.out"
	: >"$LOG/$name.err"
	"$@" >>"$LOG/$name.out" 2>>"$LOG/$name.err" &
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
	if want latency || want tls || want throughput || want cost; then
		command -v nginx >/dev/null || missing+=(nginx)
		command -v wrk >/dev/null || missing+=(wrk)
	fi
	command -v curl >/dev/null || missing+=(curl)
	! want gobench || command -v valgrind >/dev/null || missing+=(valgrind)
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
		local load1
		load1=$(cut -d' ' -f1 /proc/loadavg)
		if awk -v l="$load1" -v n="$(nproc)" 'BEGIN {exit !(l > n / 2)}'; then
			echo "notes: The machine was busy with other work when the run began (load average $load1 on $(nproc) cores): absolute times and CPU figures are inflated and noisy (a shared core slows syscalls and wake-ups); read the ratios, each taken against a baseline measured in the same rounds, and the instruction counts of the whole path (callgrind), which do not move with the load."
		fi
	} >"$f"
}

# ---- servers
addr() { sed -n "s/^$1=//p" "$2"; }

start_upstreams() {
	start upstream "$BIN/upstream" -serve p0=0ms -serve p1=1ms -serve fast=0ms -serve fast2=0ms -serve var=0ms \
		-serve slow=2s -dead dead -variant var -addrs "$WORK/addrs.txt"
	UP_PID=$LAST_PID
	wait_for "$WORK/addrs.txt" '^dead='
	P0=$(addr p0 "$WORK/addrs.txt") P1=$(addr p1 "$WORK/addrs.txt")
	FAST=$(addr fast "$WORK/addrs.txt") FAST2=$(addr fast2 "$WORK/addrs.txt") VAR=$(addr var "$WORK/addrs.txt")
	SLOW=$(addr slow "$WORK/addrs.txt") DEAD=$(addr dead "$WORK/addrs.txt")
}

# start_shadow NAME PRIMARY CANDIDATE [ARGS...]: sets URL[NAME],
# ADMIN[NAME] and PID_OF[NAME]; ARGS go to shadow run (--config FILE,
# --secondary URL, --capture DIR). An empty CANDIDATE passes none (a config
# file names the candidates). It fails, rather than ending the run, when
# shadow does not start: the caller says what is skipped.
start_shadow() {
	local name=$1 primary=$2 candidate=$3
	shift 3
	local args=(run --listen 127.0.0.1:0 --admin 127.0.0.1:0 --no-tui --primary "$primary"
		--summary-interval 1h --shutdown-timeout 2s "$@")
	[[ -z $candidate ]] || args+=(--candidate "$candidate")
	start "$name" "$BIN/shadow" "${args[@]}"
	PID_OF[$name]=$LAST_PID
	local i
	for ((i = 0; i < 150; i++)); do
		grep -q '^shadow: admin on ' "$LOG/$name.out" 2>/dev/null && break
		if ! kill -0 "$LAST_PID" 2>/dev/null; then
			wait "$LAST_PID" 2>/dev/null || true
			forget "$LAST_PID"
			unset "PID_OF[$name]"
			START_ERR=$(grep -v '^\s*$' "$LOG/$name.err" | tail -2 | tr '\n' ' ')
			return 1
		fi
		sleep 0.1
	done
	((i < 150)) || die "shadow $name did not start: $(tail -3 "$LOG/$name.err")"
	URL[$name]=$(sed -n 's/^shadow: listening on \([^,]*\),.*/\1/p' "$LOG/$name.out")
	ADMIN[$name]=$(sed -n 's/^shadow: admin on \([^ ]*\).*/\1/p' "$LOG/$name.out")
}

# start_plain NAME UPSTREAM [ARGS...]: a plain ReverseProxy.
start_plain() {
	local name=$1 up=$2
	shift 2
	start "$name" "$BIN/plainproxy" -upstream "$up" "$@"
	PID_OF[$name]=$LAST_PID
	wait_for "$LOG/$name.out" '^listening on '
	URL[$name]=$(sed -n 's/^listening on //p' "$LOG/$name.out")
}

# stop_proc NAME...: stops processes started by start_shadow or
# start_plain (their memory and CPU must not weigh on later sections).
stop_proc() {
	local name pid i
	for name in "$@"; do
		pid=${PID_OF[$name]:-}
		[[ -n $pid ]] || continue
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		forget "$pid"
		unset "PID_OF[$name]"
	done
}

# skip SECTION WHAT WHY: records a variant that is not measured, and why.
skip() {
	echo "$1: $2: $3" >>"$RAW/skipped.txt"
	say "   skipped $2: $3"
}

# shadow_has KEY: whether this build of shadow knows the config key or flag
# KEY (its --help or its --print-config lists it).
shadow_has() {
	# grep reads everything (no -q): under pipefail, a grep that quits at
	# its first match makes shadow die of SIGPIPE and the test fail.
	"$BIN/shadow" run --help 2>&1 | grep -- "$1" >/dev/null && return 0
	"$BIN/shadow" run --print-config --primary http://127.0.0.1:1 --candidate http://127.0.0.1:2 2>/dev/null |
		grep -E "^ *$1:" >/dev/null
}

# start_nginx: one nginx (master + workers, foreground) with a mirroring
# server per primary delay and mirror.
start_nginx() {
	local ng=$WORK/nginx ports i=0 d m
	mkdir -p "$ng/tmp"
	mapfile -t ports < <("$BIN/freeport" -n 7)
	hp() { echo "${1#http://}"; }
	{
		nginx_common "$ng" crit
		cat <<-EOF
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
		# nginx without a mirror: what its mirror itself costs (cost section)
		URL[nginx0-plain]=http://127.0.0.1:${ports[$i]}
		cat <<-EOF
			  server {
			    listen 127.0.0.1:${ports[$i]};
			    location / {
			      proxy_set_header Connection "";
			      proxy_pass http://p0;
			    }
			  }
		EOF
		echo "}"
	} >"$ng/nginx.conf"
	start nginx "$NGINX" -p "$ng" -e "$ng/error.log" -c "$ng/nginx.conf" -g 'daemon off;'
	NGINX_PIDS=$(nginx_ready "$LAST_PID" "${URL[nginx1-fast]}") ||
		die "nginx did not start: $(tail -3 "$ng/error.log" "$LOG/nginx.err" 2>/dev/null)"
}

# nginx_common DIR LEVEL: the settings every nginx of the bench shares, up
# to and into its http block (left open), with its files under DIR and
# its error log at LEVEL.
nginx_common() {
	cat <<-EOF
		worker_processes 2;
		worker_rlimit_nofile 20000;
		pid $1/nginx.pid;
		error_log $1/error.log $2;
		events { worker_connections 16384; }
		http {
		  access_log off;
		  client_body_temp_path $1/tmp/body;
		  proxy_temp_path $1/tmp/proxy;
		  fastcgi_temp_path $1/tmp/fastcgi;
		  uwsgi_temp_path $1/tmp/uwsgi;
		  scgi_temp_path $1/tmp/scgi;
		  keepalive_requests 1000000;
		  proxy_http_version 1.1;
		  proxy_connect_timeout 2s;
		  proxy_read_timeout 5s;
		  proxy_send_timeout 5s;
	EOF
}

# nginx_ready MASTER URL [CURL_ARGS...]: waits (10 s at most) until
# URL/ready answers, then prints the nginx's pids (the master and its
# workers, colon-separated) for loadgen's CPU reading; fails if it never does.
nginx_ready() {
	local master=$1 url=$2 i
	shift 2
	for ((i = 0; i < 100; i++)); do
		if curl -fsS "$@" -o /dev/null "$url/ready" 2>/dev/null; then
			echo $master $(pgrep -P "$master") | tr ' ' ':'
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# ---- latency
latency() {
	say "latency: added latency and CPU at $LAT_RATE req/s: $LAT_ROUNDS rounds × 18 cells × $LAT_DUR"
	local d p targets=() m
	for d in 0 1; do # one round measures every cell of both delays, in this order
		p=P$d
		# direct twice in a row: how far the two differ is the noise floor
		targets+=(-target "direct=${!p},group=$d ms,pids=$UP_PID" -target "direct-again=${!p},group=$d ms,pids=$UP_PID")
		targets+=(-target "plain=${URL[plain$d]},group=$d ms,pids=${PID_OF[plain$d]}")
		for m in fast slow dead; do
			targets+=(-target "shadow-$m=${URL[shadow$d-$m]},admin=${ADMIN[shadow$d-$m]},group=$d ms,pids=${PID_OF[shadow$d-$m]}")
		done
		for m in fast slow dead; do
			targets+=(-target "nginx-$m=${URL[nginx$d-$m]},group=$d ms,pids=$NGINX_PIDS")
		done
	done
	run_fg "$BIN/loadgen" -rate "$LAT_RATE" -duration "$LAT_DUR" -warmup "$LAT_WARM" -rounds "$LAT_ROUNDS" -settle "$SETTLE" \
		-out "$RAW/latency.jsonl" "${targets[@]}"
}

# ---- tls
# start_nginx_tls PRIMARY MIRROR CERTDIR: a second nginx, listening HTTPS
# with h2 (`listen ... ssl http2`), proxying to the https PRIMARY and
# mirroring to MIRROR, both verified against the private CA. Sets
# URL[nginx-tls], PID_OF[nginx-tls] (the master) and NGINX_TLS_PIDS.
start_nginx_tls() {
	local ng=$WORK/nginx-tls c=$3 port
	mkdir -p "$ng/tmp"
	port=$("$BIN/freeport" -n 1)
	hp() { echo "${1#https://}"; }
	{
		nginx_common "$ng" error
		cat <<-EOF
		  proxy_ssl_trusted_certificate $c/ca.pem;
		  proxy_ssl_verify on;
		  proxy_ssl_name localhost;
		  proxy_ssl_session_reuse on;
		  upstream tp { server $(hp "$1"); keepalive 256; keepalive_requests 1000000; }
		  upstream tm { server $(hp "$2"); keepalive 256; keepalive_requests 1000000; }
		  server {
		    listen 127.0.0.1:$port ssl http2;
		    ssl_certificate $c/server.pem;
		    ssl_certificate_key $c/server-key.pem;
		    ssl_session_cache shared:tls:1m;
		    location / {
		      mirror /__mirror;
		      mirror_request_body on;
		      proxy_set_header Connection "";
		      proxy_pass https://tp;
		    }
		    location = /__mirror {
		      internal;
		      proxy_set_header Connection "";
		      proxy_set_header X-Shadow-Request 1;
		      proxy_pass https://tm\$request_uri;
		    }
		  }
		}
		EOF
	} >"$ng/nginx.conf"
	start nginx-tls "$NGINX" -p "$ng" -e "$ng/error.log" -c "$ng/nginx.conf" -g 'daemon off;'
	PID_OF[nginx-tls]=$LAST_PID
	URL[nginx-tls]=https://127.0.0.1:$port
	NGINX_TLS_PIDS=$(nginx_ready "$LAST_PID" "${URL[nginx-tls]}" --cacert "$c/ca.pem") ||
		die "nginx (TLS) did not start: $(tail -3 "$ng/error.log" "$LOG/nginx-tls.err" 2>/dev/null)"
}

tls() {
	local c=$WORK/tls g proto label
	run_fg go -C "$REPO" build -trimpath -o "$BIN/" ./internal/testio/testca
	run_fg "$BIN/testca" -out "$c" -host 127.0.0.1,localhost
	start upstream-tls "$BIN/upstream" -serve tp=0ms -serve tm=0ms -tls-cert "$c/server.pem" -tls-key "$c/server-key.pem" \
		-addrs "$WORK/tls-addrs.txt"
	PID_OF[upstream-tls]=$LAST_PID
	wait_for "$WORK/tls-addrs.txt" '^tm='
	local tp tm
	tp=$(addr tp "$WORK/tls-addrs.txt") tm=$(addr tm "$WORK/tls-addrs.txt")
	cat >"$WORK/tls.yaml" <<-EOF
		mirror:
		  primary_target: {tls: {ca_file: "$c/ca.pem"}}
		  candidate_target: {tls: {ca_file: "$c/ca.pem"}}
	EOF
	need_shadow shadow-tls "$tp" "$tm" --config "$WORK/tls.yaml" --tls-cert "$c/server.pem" --tls-key "$c/server-key.pem"
	start_plain plain-tls "$tp" -ca "$c/ca.pem" -tls-cert "$c/server.pem" -tls-key "$c/server-key.pem"
	start_nginx_tls "$tp" "$tm" "$c"
	local targets=()
	for proto in h1 h2; do # one round measures every cell of both protocols
		label=HTTPS/1.1
		[[ $proto == h1 ]] || label=h2
		g="group=$label,proto=$proto"
		targets+=(-target "direct=$tp,$g,pids=${PID_OF[upstream-tls]}" -target "direct-again=$tp,$g,pids=${PID_OF[upstream-tls]}")
		targets+=(-target "plain=${URL[plain-tls]},$g,pids=${PID_OF[plain-tls]}")
		targets+=(-target "shadow-fast=${URL[shadow-tls]},admin=${ADMIN[shadow-tls]},$g,pids=${PID_OF[shadow-tls]}")
		targets+=(-target "nginx-fast=${URL[nginx-tls]},$g,pids=$NGINX_TLS_PIDS")
	done
	say "tls: added latency and CPU over HTTPS/1.1 and h2 at $LAT_RATE req/s: $LAT_ROUNDS rounds × 10 cells × $LAT_DUR"
	run_fg "$BIN/loadgen" -ca "$c/ca.pem" -rate "$LAT_RATE" -duration "$LAT_DUR" -warmup "$LAT_WARM" -rounds "$LAT_ROUNDS" \
		-settle "$SETTLE" -out "$RAW/tls.jsonl" "${targets[@]}"
	stop_proc shadow-tls plain-tls nginx-tls upstream-tls
}

# ---- throughput
wrk_script() {
	cat >"$WORK/bounded.lua" <<-EOS
		-- stop each thread after $TP_MAX_PER_THREAD answers, so the load is bounded in count as well as time
		local n = 0
		function response(status, headers, body)
		  n = n + 1
		  if n >= $TP_MAX_PER_THREAD then wrk.thread:stop() end
		end
	EOS
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
	say "throughput: $TP_ROUNDS rounds × 4 targets × ${TP_SECS}s (wrk -c$TP_CONNS)"
	wrk_script
	for ((r = 1; r <= TP_ROUNDS; r++)); do
		throughput_cell "$r" direct "$P0"
		throughput_cell "$r" plain "${URL[plain0]}"
		throughput_cell "$r" shadow-fast "${URL[shadow0-fast]}" "${ADMIN[shadow0-fast]}"
		throughput_cell "$r" nginx-fast "${URL[nginx0-fast]}"
	done
}

# ---- cost
# cost_shadows: the shadows only the cost (and stage) sections use.
cost_shadows() {
	[[ -z ${PID_OF[shadow-capture]:-} ]] || return 0
	printf 'mirror:\n  routes:\n    - disabled: true # mirroring off: every request is served, none copied\n' >"$WORK/off.yaml"
	need_shadow shadow-off "$P0" "$FAST" --config "$WORK/off.yaml"
	need_shadow shadow-secondary "$P0" "$FAST" --secondary "$FAST2"
	mkdir -p "$WORK/capture"
	need_shadow shadow-capture "$P0" "$FAST" --capture "$WORK/capture"
	printf 'mirror:\n  copy_client: transport # copies through http.Transport, as before the copy client\n' >"$WORK/transport.yaml"
	need_shadow shadow-transport "$P0" "$FAST" --config "$WORK/transport.yaml"
	# One P (GOMAXPROCS=1): how much of the CPU per request is the Go
	# runtime waking idle Ps (a spinning thread per hand-off) on this machine.
	GOMAXPROCS=1 start_plain plain-1p "$P0"
	GOMAXPROCS=1 need_shadow shadow-1p "$P0" "$FAST"
	TWO=""
	if shadow_has candidates; then
		printf 'candidates:\n  - {name: a, url: "%s"}\n  - {name: b, url: "%s"}\n' "$FAST" "$FAST2" >"$WORK/two.yaml"
		if start_shadow shadow-two "$P0" "" --config "$WORK/two.yaml"; then
			TWO=shadow-two
		else
			skip cost "shadow-two (two candidates)" "shadow did not start with candidates: [a, b]: $START_ERR"
		fi
	else
		skip cost "shadow-two (two candidates)" "not supported by this build (shadow run --help and --print-config list no candidates)"
	fi
}

cost() {
	cost_shadows
	# plain twice in a row: how far the two differ is the CPU noise floor
	local t targets=(-target "direct=$P0,pids=$UP_PID" -target "plain=${URL[plain0]},pids=${PID_OF[plain0]}"
		-target "plain-again=${URL[plain0]},pids=${PID_OF[plain0]}")
	for t in shadow-off shadow-transport shadow0-fast shadow-secondary shadow-capture $TWO; do
		targets+=(-target "${t/shadow0-fast/shadow-fast}=${URL[$t]},admin=${ADMIN[$t]},pids=${PID_OF[$t]}")
	done
	targets+=(-target "plain-1p=${URL[plain-1p]},pids=${PID_OF[plain-1p]}" -target "shadow-1p=${URL[shadow-1p]},admin=${ADMIN[shadow-1p]},pids=${PID_OF[shadow-1p]}")
	targets+=(-target "nginx-fast=${URL[nginx0-fast]},pids=$NGINX_PIDS" -target "nginx-plain=${URL[nginx0-plain]},pids=$NGINX_PIDS")
	say "cost: CPU per request at $COST_RATE req/s, 0 ms upstream: $COST_ROUNDS rounds × $((${#targets[@]} / 2)) cells × $COST_DUR"
	run_fg "$BIN/loadgen" -rate "$COST_RATE" -duration "$COST_DUR" -warmup "$COST_WARM" -rounds "$COST_ROUNDS" -settle "$SETTLE" \
		-group cost -out "$RAW/cost.jsonl" "${targets[@]}"
}

# ---- stages
stages() {
	cost_shadows
	local s=shadow-capture
	say "stages: CPU profile of shadow (candidate, capture on) at $STAGE_RATE req/s for ${PROF_SECS}s"
	curl -fsS -H "X-Admin-Request: 1" -o "$WORK/shadow.pprof" "${ADMIN[$s]}/debug/pprof/profile?seconds=$PROF_SECS" &
	local prof=$!
	PIDS+=("$prof")
	run_fg "$BIN/loadgen" -rate "$STAGE_RATE" -duration "$((PROF_SECS + 1))s" -warmup 0 -settle "$SETTLE" -group stages \
		-out "$RAW/stages/load.jsonl" -target "shadow-capture=${URL[$s]},admin=${ADMIN[$s]},pids=${PID_OF[$s]}"
	local ok=0
	wait "$prof" && ok=1
	forget "$prof"
	if ((ok)); then
		go tool pprof -traces "$BIN/shadow" "$WORK/shadow.pprof" >"$RAW/stages/traces.txt" 2>/dev/null || true
		{
			go tool pprof -top -nodecount=25 "$BIN/shadow" "$WORK/shadow.pprof" 2>/dev/null
			echo
			go tool pprof -top -cum -nodecount=40 "$BIN/shadow" "$WORK/shadow.pprof" 2>/dev/null | sed -n '/flat%/,$p'
		} >"$RAW/pprof-top.txt" || true
		printf 'rate: %s\nseconds: %s\ntarget: shadow run, 0 ms primary, fast candidate, --capture on\n' \
			"$STAGE_RATE" "$PROF_SECS" >"$RAW/stages/meta.txt"
	else
		skip stages profile "the admin endpoint gave no CPU profile"
	fi
}

# ---- growth
# growth_table NAME RATE TARGETS...: one table of the growth section.
growth_table() {
	local name=$1 rate=$2
	shift 2
	run_fg "$BIN/loadgen" -rate "$rate" -duration "$G_DUR" -warmup "$G_WARM" -rounds "$G_ROUNDS" -settle "$SETTLE" -timeout 5s \
		-out "$RAW/growth/$name.jsonl" "$@"
}

growth() {
	say "growth: body size ($G_BYTES bytes) and fields ($G_FIELDS) at $G_BODY_RATE req/s, candidate differing"
	need_shadow shadow-var "$P0" "$VAR"
	local x targets=() sh=shadow-var
	for x in $G_BYTES; do
		targets+=(-target "plain=${URL[plain0]},group=$x,path=/__bench/body?bytes=$x,pids=${PID_OF[plain0]}")
		targets+=(-target "shadow=${URL[$sh]},admin=${ADMIN[$sh]},group=$x,path=/__bench/body?bytes=$x,pids=${PID_OF[$sh]}")
	done
	growth_table bytes "$G_BODY_RATE" "${targets[@]}"
	targets=()
	for x in $G_FIELDS; do
		targets+=(-target "plain=${URL[plain0]},group=$x,path=/__bench/body?fields=$x,pids=${PID_OF[plain0]}")
		targets+=(-target "shadow=${URL[$sh]},admin=${ADMIN[$sh]},group=$x,path=/__bench/body?fields=$x,pids=${PID_OF[$sh]}")
	done
	growth_table fields "$G_BODY_RATE" "${targets[@]}"
	stop_proc "$sh"

	say "   endpoints ($G_ENDPOINTS) at $G_EP_RATE req/s: a fresh shadow per count"
	printf 'compare:\n  max_endpoints: 1000\n' >"$WORK/endpoints.yaml"
	targets=()
	for x in $G_ENDPOINTS; do
		need_shadow "shadow-ep$x" "$P0" "$FAST" --config "$WORK/endpoints.yaml"
		targets+=(-target "plain=${URL[plain0]},group=$x,spread=$x,pids=${PID_OF[plain0]}")
		targets+=(-target "shadow=${URL[shadow-ep$x]},admin=${ADMIN[shadow-ep$x]},group=$x,spread=$x,pids=${PID_OF[shadow-ep$x]}")
	done
	growth_table endpoints "$G_EP_RATE" "${targets[@]}"
	for x in $G_ENDPOINTS; do stop_proc "shadow-ep$x"; done

	say "   rate ($G_RATES req/s) up to saturation"
	for x in $G_RATES; do
		growth_table rate "$x" -target "plain=${URL[plain0]},group=$x,pids=${PID_OF[plain0]}" \
			-target "shadow=${URL[shadow0-fast]},admin=${ADMIN[shadow0-fast]},group=$x,pids=${PID_OF[shadow0-fast]}"
		"$BIN/benchreport" kept -target shadow -group "$x" "$RAW/growth/rate.jsonl" >&2 || break
	done
}

# ---- uploads
uploads() {
	say "uploads: $UP_CONNS slow uploaders of $UP_BODY bytes for ${UP_SECS}s, shadow vs plain ReverseProxy"
	printf 'mirror:\n  routes:\n    - {path: /upload, methods: [POST], unsafe: true} # bodies are buffered to be mirrored\n' >"$WORK/uploads.yaml"
	local mode r t
	for ((r = 1; r <= UP_ROUNDS; r++)); do
		for mode in body hold; do # fresh processes for each, so that one's peak is not the other's start
			need_shadow shadow-up "$P0" "$FAST" --config "$WORK/uploads.yaml"
			start_plain plain-up "$P0"
			for t in shadow-up plain-up; do
				local metrics=()
				[[ -z ${ADMIN[$t]:-} ]] || metrics=(-metrics "${ADMIN[$t]}/metrics")
				run_fg "$BIN/slowclient" -url "${URL[$t]}/upload" -conns "$UP_CONNS" -body "$UP_BODY" -duration "${UP_SECS}s" \
					-mode "$mode" -watch "${PID_OF[$t]}" "${metrics[@]}" -target "${t%-up}" -round "$r" -answer-timeout "$UP_ANSWER" \
					-out "$RAW/uploads.jsonl"
			done
			stop_proc shadow-up plain-up
		done
	done
}

# ---- wide
wide() {
	local path="/__bench/body?fields=$WIDE_FIELDS&types=1"
	say "wide: small GETs at $WIDE_RATE req/s beside $WIDE_BESIDE/s answers of $WIDE_FIELDS keys whose candidate changes every type"
	need_shadow shadow-wide "$P0" "$VAR"
	local s=shadow-wide
	# shadow-quiet first, before any wide answer: the same shadow without them.
	# -settle 20s: a wide pair can take the judge seconds; the next cell
	# waits for it (the settle time is in the records).
	run_fg "$BIN/loadgen" -rate "$WIDE_RATE" -duration "$WIDE_DUR" -warmup 300ms -rounds "$WIDE_ROUNDS" -settle 20s -group wide \
		-out "$RAW/wide.jsonl" \
		-target "shadow-quiet=${URL[$s]},admin=${ADMIN[$s]},pids=${PID_OF[$s]}" \
		-target "shadow=${URL[$s]},admin=${ADMIN[$s]},pids=${PID_OF[$s]},beside=$path@$WIDE_BESIDE" \
		-target "plain=${URL[plain0]},pids=${PID_OF[plain0]},beside=$path@$WIDE_BESIDE"
	stop_proc "$s"
}

# ---- stream
stream() {
	say "stream: flushing every write (FlushInterval -1) on small answers at $LAT_RATE req/s"
	start_plain plain-flush "$P0" -flush-interval -1ns
	local targets=(-target "plain=${URL[plain0]},pids=${PID_OF[plain0]}" -target "plain-flush=${URL[plain-flush]},pids=${PID_OF[plain-flush]}"
		-target "shadow=${URL[shadow0-fast]},admin=${ADMIN[shadow0-fast]},pids=${PID_OF[shadow0-fast]}")
	if shadow_has flush_interval; then
		printf 'mirror:\n  flush_interval: -1ns\n' >"$WORK/flush.yaml"
		if start_shadow shadow-flush "$P0" "$FAST" --config "$WORK/flush.yaml"; then
			targets+=(-target "shadow-flush=${URL[shadow-flush]},admin=${ADMIN[shadow-flush]},pids=${PID_OF[shadow-flush]}")
		else
			skip stream "shadow-flush (mirror.flush_interval: -1ns)" "shadow did not start with it: $START_ERR"
		fi
	else
		skip stream "shadow-flush" "not supported by this build (no flush_interval in shadow run --print-config): shadow streams as its build does"
	fi
	run_fg "$BIN/loadgen" -rate "$LAT_RATE" -duration "$ST_DUR" -warmup "$LAT_WARM" -rounds "$ST_ROUNDS" -settle "$SETTLE" -group stream \
		-out "$RAW/stream.jsonl" "${targets[@]}"
	stop_proc plain-flush shadow-flush
}

# ---- synth
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

# vegeta_targets: vegeta sends the tag headers synth adds to every
# request, so that the server does the same work for both tools.
vegeta_targets() {
	printf '%s\n' "GET $P0/ping" "X-Synthetic: true" "X-Synthetic-Run: 0123456789ab" \
		"X-Synthetic-Journey: 0123456789ab-1000000" "Baggage: synthetic=true,synthetic-run=0123456789ab"
}

# vegeta_step RATE: one step of the ladder.
vegeta_step() {
	vegeta_targets | "$VEGETA" attack -rate="$1" -duration="$LADDER_DUR" -timeout=5s -max-workers=5000 2>>"$LOG/vegeta.err" |
		"$VEGETA" report -type=json
}

# synth_cost: CPU per request of synth and of the vegeta CLI at the same
# rate, in interleaved rounds, each measured whole by rusage.
synth_cost() {
	say "   CPU per request, synth vs vegeta CLI at $SC_RATE/s: $SC_ROUNDS rounds × ${SC_DUR}"
	local r tool order out=$RAW/synthcost
	for ((r = 1; r <= SC_ROUNDS; r++)); do
		if ((r % 2)); then order="synth vegeta"; else order="vegeta synth"; fi
		for tool in $order; do
			if [[ $tool == synth ]]; then
				run_fg "$BIN/rusage" -out "$out/synth_r$r.usage.json" -- "$BIN/synth" run --rate "$SC_RATE" --duration "$SC_DUR" \
					--no-tui --progress-interval 1h --report-out "$out/synth_r$r.json" "$WORK/ping.yaml" \
					>>"$LOG/synth.out" 2>>"$LOG/synth.err" || true
			else
				vegeta_targets | run_fg "$BIN/rusage" -out "$out/vegeta_r$r.usage.json" -- "$VEGETA" attack -rate="$SC_RATE" \
					-duration="$SC_DUR" -timeout=5s -max-workers=5000 >"$WORK/vegeta.bin" 2>>"$LOG/vegeta.err" || true
				"$VEGETA" report -type=json <"$WORK/vegeta.bin" >"$out/vegeta_r$r.json" || true
			fi
		done
	done
}


synth_section() {
	scenario
	say "synth: rate accuracy at 200, 1000, 5000/s (${SYN_DUR} each)"
	local rate
	for rate in 200 1000 5000; do
		synth_run "$rate" "$SYN_DUR" "$RAW/synth/accuracy_$rate.json"
	done
	synth_cost
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

# ---- gobench
gobench() {
	say "gobench: compare and capture Go benchmarks (-benchtime $BENCHTIME), the whole path ($WHOLE_BENCHTIME)"
	run_fg go -C "$SRCDIR" test -trimpath -run '^$' -bench BenchmarkCompareJSON -benchtime "$BENCHTIME" ./compare/ \
		>"$RAW/gobench/compare.txt" 2>&1 || say "   compare benchmarks failed: see the results file"
	run_fg go -C "$SRCDIR" test -trimpath -run '^$' -bench BenchmarkWrite -benchtime "$BENCHTIME" ./capture/ \
		>"$RAW/gobench/capture.txt" 2>&1 || say "   capture benchmarks failed: see the results file"
	run_fg go -C "$SRCDIR" test -trimpath -run '^$' -bench BenchmarkWholePath -benchtime "$WHOLE_BENCHTIME" ./bench/ \
		>"$RAW/gobench/wholepath.txt" 2>&1 || say "   whole-path benchmark failed: see the results file"
	instructions
}

# instructions: BenchmarkWholePath's cases under callgrind, when valgrind
# is installed: instructions per request, the slope between INSTR_N1 and
# INSTR_N2 requests (start-up and warm-up cancel out), as go test bench
# lines (see bench/instructions.go). GOMAXPROCS=1 keeps idle Ps from
# spinning (instructions that depend on time, not on the work);
# asyncpreemptoff because callgrind mishandles the preemption signal.
instructions() {
	command -v valgrind >/dev/null || { skip gobench "instructions per request" "valgrind is not installed" && return 0; }
	local c n ir out=$RAW/gobench/instructions.txt
	run_fg go -C "$SRCDIR" test -c -trimpath -o "$BIN/bench.test" ./bench/ || { skip gobench "instructions per request" "the bench test binary did not build" && return 0; }
	say "   instructions per request (callgrind): $INSTR_CASES at $INSTR_N1 and $INSTR_N2 requests"
	for c in $INSTR_CASES; do
		local irs=()
		for n in "$INSTR_N1" "$INSTR_N2"; do
			ir=$(cd "$SRCDIR/bench" && GOMAXPROCS=1 GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
				"$BIN/bench.test" -test.run '^$' -test.bench "BenchmarkWholePath/$c\$" -test.benchtime "${n}x" 2>&1 |
				sed -n 's/.*Collected : //p') || true
			irs+=("${ir:-0}")
		done
		if ((irs[0] > 0 && irs[1] > irs[0])); then
			echo "BenchmarkWholePathInstructions/$c $INSTR_N2 $(((irs[1] - irs[0]) / (INSTR_N2 - INSTR_N1))) instr/op" >>"$out"
		else
			skip gobench "instructions of $c" "callgrind counted nothing (${irs[*]})"
		fi
	done
}

# ---- soak
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

soak_start() { # CONCURRENT(yes|no)
	start upstream-soak "$BIN/upstream" -serve p1=1ms -serve fast=0ms -addrs "$WORK/soak-addrs.txt"
	wait_for "$WORK/soak-addrs.txt" '^fast='
	need_shadow soak "$(addr p1 "$WORK/soak-addrs.txt")" "$(addr fast "$WORK/soak-addrs.txt")"
	local pid=${PID_OF[soak]}
	cat >"$RAW/soak/meta.txt" <<-EOF
		rate: $SOAK_RATE
		duration: ${SOAK_SECS}s
		warmup_s: $SOAK_WARM
		idle_rss_kb: $(rss_kb "$pid")
		concurrent: $1
	EOF
	say "soak: ${SOAK_SECS}s at $SOAK_RATE req/s through shadow (concurrent with the rest: $1)"
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
declare -A URL ADMIN PID_OF
# need_shadow NAME PRIMARY CANDIDATE [ARGS...]: start_shadow, or the end of
# the run when it does not start.
need_shadow() { start_shadow "$@" || die "shadow $1 did not start: $START_ERR"; }

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
if want latency || want throughput || want cost || want stages || want growth || want wide || want stream; then
	for d in 0 1; do
		p=P$d
		start_plain "plain$d" "${!p}"
		need_shadow "shadow$d-fast" "${!p}" "$FAST"
		if want latency; then
			need_shadow "shadow$d-slow" "${!p}" "$SLOW"
			need_shadow "shadow$d-dead" "${!p}" "$DEAD"
		fi
	done
	say "servers up: upstreams, 2 plain proxies, shadows"
fi
if want latency || want throughput || want cost; then
	start_nginx
	say "nginx up (6 mirroring servers, 1 without a mirror)"
fi

for s in $SECTIONS; do
	[[ $s == soak ]] && continue
	want "$s" || continue
	case $s in
	synth) synth_section ;;
	*) "$s" ;;
	esac
done
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
