#!/usr/bin/env bash
# The load run of BENCHMARKS.md: the example app (sessions and stores in
# Redis, a logged-in browser) beside a bare scs app on the same Redis,
# loaded in turns by wrk on loopback. Bounded: ROUNDS rounds of SECONDS
# seconds per app. Needs redis-server, wrk and curl.
#
#	internal/loadrun/run.sh            # 5 rounds of 10 s
#	ROUNDS=3 SECONDS_PER_ROUND=5 internal/loadrun/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${ROUNDS:-5}
secs=${SECONDS_PER_ROUND:-10}
conns=${CONNS:-32}

dir=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
rport=$(port); aport=$(port); bport=$(port)

redis-server --bind 127.0.0.1 --port "$rport" --save "" --appendonly no --dir "$dir" >"$dir/redis.log" 2>&1 &
pids+=($!)
go build -o "$dir/example" ./example
go build -o "$dir/bare" ./internal/loadrun/bare
REDIS_ADDR=127.0.0.1:$rport ADDR=127.0.0.1:$aport WECHATAUTH_DEBUG=1 "$dir/example" >"$dir/example.log" 2>&1 &
pids+=($!)
REDIS_ADDR=127.0.0.1:$rport ADDR=127.0.0.1:$bport "$dir/bare" >"$dir/bare.log" 2>&1 &
pids+=($!)
for p in $aport $bport; do
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$p/" && break; sleep 0.1; done
done

# Log in: the example through its debug login, the bare app through /login.
cookie() { awk '$6 == "session" { print $7 }' "$1"; }
curl -s -o /dev/null -c "$dir/a.jar" "http://127.0.0.1:$aport/account/?_user=oLoadTest000000000000000001"
curl -s -o /dev/null -c "$dir/b.jar" "http://127.0.0.1:$bport/login"
ca=$(cookie "$dir/a.jar"); cb=$(cookie "$dir/b.jar")
for check in "$aport $ca" "$bport $cb"; do
  set -- $check
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: session=$2" "http://127.0.0.1:$1/account/")
  [ "$code" = 200 ] || { echo "login on port $1 failed: HTTP $code"; exit 1; }
done

load() { wrk -t1 -c"$conns" -d"${secs}s" --latency -H "Cookie: session=$2" "http://127.0.0.1:$1/account/"; }
rps() { awk '/^Requests\/sec:/ { print $2 }'; }
p99() { awk '$1 == "99%" { v=$2; if (v ~ /us$/) { sub(/us$/,"",v); v/=1000 } else if (v ~ /ms$/) { sub(/ms$/,"",v) } else if (v ~ /s$/) { sub(/s$/,"",v); v*=1000 }; print v }'; }

echo "round bare_rps example_rps rps_ratio bare_p99_ms example_p99_ms"
for r in $(seq "$rounds"); do
  load "$bport" "$cb" >"$dir/b.out"
  load "$aport" "$ca" >"$dir/a.out"
  br=$(rps <"$dir/b.out"); ar=$(rps <"$dir/a.out")
  bp=$(p99 <"$dir/b.out"); ap=$(p99 <"$dir/a.out")
  echo "$r $br $ar $(python3 -c "print(round($ar/$br, 3))") $bp $ap"
done | tee "$dir/rounds.txt"
python3 - "$dir/rounds.txt" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l[0].isdigit()]
ratio = sorted(float(r[3]) for r in rows)
print(f"median rps ratio example/bare: {statistics.median(ratio):.3f} (min {ratio[0]:.3f}, max {ratio[-1]:.3f}, {len(ratio)} rounds)")
print(f"median p99 ms: bare {statistics.median(float(r[4]) for r in rows):.2f}, example {statistics.median(float(r[5]) for r in rows):.2f}")
PY
