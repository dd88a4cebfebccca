#!/usr/bin/env bash
# Starts throwaway PostgreSQL, Redis and etcd servers from Debian's packages on loopback, for the tests that use the
# real ones, and prints the environment that points the tests at them. Usage:
#   eval "$(scripts/services.sh start)"   # exports SDGRADE_DATABASE_URL, SDGRADE_REDIS_URL, SDGRADE_ETCD_URL, TEST_*
#   scripts/services.sh stop            # stops the servers this folder's start started, whatever their ports
set -euo pipefail
state=${SDGRADE_SERVICES_DIR:-/tmp/sdgrade-services}
pg_port=${SDGRADE_PG_PORT:-55432}
redis_port=${SDGRADE_REDIS_PORT:-56379}
etcd_port=${SDGRADE_ETCD_PORT:-52379}
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)

start() {
  # A failed start prints `false` as its last line, so `eval "$(scripts/services.sh start)"` fails too instead of
  # leaving the shell without the variables and nothing to show for it but stderr.
  trap 'echo false; echo "services.sh: start failed (logs in $state)" >&2' EXIT
  mkdir -p "$state"
  if [ -z "$pg_bin" ]; then echo "PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; fi
  command -v redis-server >/dev/null || { echo "redis-server is not installed (apt-get install redis-server)" >&2; exit 1; }
  if ! redis-cli -p "$redis_port" ping >/dev/null 2>&1; then
    redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
      --logfile "$state/redis.log" --pidfile "$state/redis.pid" >&2
  fi
  local pgdata="$state/pg"
  if [ ! -f "$pgdata/PG_VERSION" ]; then
    mkdir -p "$pgdata"; chown postgres:postgres "$state" "$pgdata"
    runuser -u postgres -- "$pg_bin/initdb" -D "$pgdata" -A trust -U postgres >"$state/initdb.log" 2>&1
  fi
  if ! runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
    runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pgdata" -l "$state/pg.log" -w \
      -o "-p $pg_port -k $state -c listen_addresses=127.0.0.1 -c fsync=on" start >&2
  fi
  for db in sdgrade sdgrade_test; do
    runuser -u postgres -- "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1 ||
      runuser -u postgres -- "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -qc "CREATE DATABASE $db" >&2
  done
  for i in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  start_etcd
  echo "export SDGRADE_DATABASE_URL=postgres://postgres@127.0.0.1:$pg_port/sdgrade"
  echo "export SDGRADE_REDIS_URL=redis://127.0.0.1:$redis_port/0"
  echo "export SDGRADE_ETCD_URL=http://127.0.0.1:$etcd_port"
  echo "export TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$pg_port/sdgrade_test"
  echo "export TEST_REDIS_URL=redis://127.0.0.1:$redis_port/1"
  trap - EXIT
}

# etcd (chapter 20's coordination service): one member, data in the services dir, its peer port next to its client
# port (the peer URL must not be etcd's default 2380, which another etcd may hold).
etcd_healthy() { # without curl: bash's /dev/tcp
  { exec 3<>"/dev/tcp/127.0.0.1/$etcd_port"; } 2>/dev/null || return 1
  printf 'GET /health HTTP/1.0\r\n\r\n' >&3
  grep -q '"health":"true"' <&3; local ok=$?; exec 3<&-; return $ok
}

start_etcd() {
  command -v etcd >/dev/null || { echo "etcd is not installed (apt-get install etcd-server)" >&2; exit 1; }
  local url="http://127.0.0.1:$etcd_port" peer="http://127.0.0.1:$((etcd_port + 1))"
  if ! etcd_healthy; then
    nohup etcd --name sdgrade --data-dir "$state/etcd" --listen-client-urls "$url" --advertise-client-urls "$url" \
      --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" --initial-cluster "sdgrade=$peer" \
      >"$state/etcd.log" 2>&1 &
    echo $! >"$state/etcd.pid"
  fi
  for _ in $(seq 100); do etcd_healthy && return; sleep 0.1; done
  echo "etcd did not become healthy on $url (log: $state/etcd.log)" >&2; exit 1
}

stop() {
  # By its pid file, not by SDGRADE_REDIS_PORT: a stop without the port must not shut down another Redis on the
  # default port.
  local pid
  pid=$(cat "$state/redis.pid" 2>/dev/null || true)
  if [ -n "$pid" ] && [ "$(ps -p "$pid" -o comm= 2>/dev/null)" = redis-server ]; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  pid=$(cat "$state/etcd.pid" 2>/dev/null || true)
  if [ -n "$pid" ] && [ "$(ps -p "$pid" -o comm= 2>/dev/null)" = etcd ]; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  [ -n "$pg_bin" ] && [ -d "$state/pg" ] && runuser -u postgres -- "$pg_bin/pg_ctl" -D "$state/pg" -m fast stop >&2 || true
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
