#!/usr/bin/env bash
# Local single-node Kafka broker that only speaks SASL_SSL (SCRAM-SHA-512 over TLS), as a
# production cluster should: for testing gridwatch's Kafka security settings. It runs from
# kafka.sh's jars, next to the plaintext broker and independent of it (other ports and state).
#
#   kafka-secure.sh up|start   create the CA, certificate and passwords (once), format with the
#                              SCRAM users (once), start, wait until the TLS port answers
#   kafka-secure.sh down|stop  stop it (SIGTERM, SIGKILL after 30 s)
#   kafka-secure.sh status     exit 0 running, 3 stopped, 4 process alive but port not answering
#   kafka-secure.sh env        print the GRID_KAFKA__* settings a client needs (eval-able)
#   kafka-secure.sh reset      stop, then delete everything but the jars (new CA, new passwords)
#   kafka-secure.sh logs [-f]  last 100 lines of the server log (-f to follow)
#
# Listeners: SASL_SSL://127.0.0.1:9192 for clients and between brokers (SCRAM-SHA-512 users
# "gridwatch" and "broker", the latter the super user), CONTROLLER on 9193 over TLS (KRaft
# controllers cannot use SCRAM: the credentials live in the metadata they serve). The CA,
# the broker's certificate (for IP 127.0.0.1 and localhost) and the random passwords are
# written to $GRIDWATCH_KAFKA_SECURE_HOME/tls and .../credentials, mode 0600.
#
# Environment:
#   GRIDWATCH_KAFKA_SECURE_HOME           state dir (default ${XDG_CACHE_HOME:-$HOME/.cache}/gridwatch/kafka-secure)
#   GRIDWATCH_KAFKA_SECURE_PORT           client port (default 9192; controller uses port+1)
#   GRIDWATCH_KAFKA_HOME                  where kafka.sh keeps the jars (its default likewise)
#   GRIDWATCH_KAFKA_SECURE_START_TIMEOUT  seconds `up` waits for the port (default 90)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KAFKA_SH="$SCRIPT_DIR/kafka.sh"
LOG4J="$SCRIPT_DIR/log4j2.properties"

# The jars of kafka.sh (same default as kafka.sh: keep them in step).
LIB="${GRIDWATCH_KAFKA_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/gridwatch/kafka}/lib"

SHOME="${GRIDWATCH_KAFKA_SECURE_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/gridwatch/kafka-secure}"
DATA="$SHOME/data"
LOGS="$SHOME/logs"
TLS="$SHOME/tls"
CREDS="$SHOME/credentials"
PIDFILE="$SHOME/kafka.pid"
PROPS="$SHOME/server.properties"

HOST=127.0.0.1   # not "localhost": avoids clients trying ::1 first
PORT="${GRIDWATCH_KAFKA_SECURE_PORT:-9192}"
CPORT=$((PORT + 1))
START_TIMEOUT="${GRIDWATCH_KAFKA_SECURE_START_TIMEOUT:-90}"
STOP_TIMEOUT=30
CERT_DAYS=365

die() { echo "kafka-secure.sh: $*" >&2; exit 1; }
log() { echo "kafka-secure.sh: $*"; }

need() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' not found on PATH: $2"
}

# Fetched only when missing: the plaintext broker may be running from them.
ensure_jars() {
  compgen -G "$LIB/kafka_2.13-*.jar" >/dev/null || bash "$KAFKA_SH" fetch
  compgen -G "$LIB/kafka_2.13-*.jar" >/dev/null || die "no broker jars in $LIB after 'kafka.sh fetch'"
}

# Hex passwords: nothing in them needs quoting in JAAS, --add-scram or a shell.
new_secret() { openssl rand -hex 16; }

# $1 name: a value from the credentials file.
cred() { sed -n "s/^$1=//p" "$CREDS"; }

ensure_credentials() {
  [[ -s "$CREDS" ]] && return 0
  mkdir -p "$SHOME"
  (
    umask 077
    {
      echo "client_user=gridwatch"
      echo "client_password=$(new_secret)"
      echo "broker_user=broker"
      echo "broker_password=$(new_secret)"
      echo "keystore_password=$(new_secret)"
    } >"$CREDS"
  )
}

# A CA and a broker certificate signed by it, valid for 127.0.0.1 and localhost; renewed
# when less than a day is left (the CA with it: clients take the CA file from here anyway).
ensure_tls() {
  if [[ -f "$TLS/broker.p12" ]] && openssl x509 -checkend 86400 -noout -in "$TLS/broker.crt" >/dev/null 2>&1; then
    return 0
  fi
  need openssl "install OpenSSL (e.g. apt-get install openssl); it makes the local CA"
  log "creating a CA and the broker certificate in $TLS"
  rm -rf "$TLS"
  mkdir -p "$TLS"
  chmod 700 "$TLS"
  (
    cd "$TLS"
    openssl req -x509 -newkey rsa:2048 -nodes -days "$CERT_DAYS" -subj "/CN=gridwatch local CA" \
      -keyout ca.key -out ca.crt 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$HOST" -keyout broker.key -out broker.csr 2>/dev/null
    printf 'subjectAltName=IP:%s,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' "$HOST" >broker.ext
    openssl x509 -req -in broker.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days "$CERT_DAYS" \
      -extfile broker.ext -out broker.crt 2>/dev/null
    openssl pkcs12 -export -name broker -inkey broker.key -in broker.crt -certfile ca.crt \
      -passout "pass:$(cred keystore_password)" -out broker.p12
    rm -f broker.csr broker.ext ca.srl
    chmod 600 ./*
  )
}

# Pid from our pid file, if that process is still a Kafka broker using our config.
our_pid() {
  [[ -f "$PIDFILE" ]] || return 1
  local pid args
  pid="$(cat "$PIDFILE" 2>/dev/null || true)"
  if [[ "$pid" =~ ^[0-9]+$ ]] && args="$(ps -ww -o args= -p "$pid" 2>/dev/null)" \
     && [[ "$args" == *java* && "$args" == *kafka.Kafka* && "$args" == *"$PROPS"* ]]; then
    echo "$pid"
    return 0
  fi
  rm -f "$PIDFILE"
  return 1
}

port_open() {
  (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

write_config() {
  mkdir -p "$DATA" "$LOGS"
  (
    umask 077  # holds the broker's passwords
    cat >"$PROPS" <<EOF
# Generated by kafka-secure.sh on every 'up'; edit the script, not this file.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$CPORT
listeners=SASL_SSL://$HOST:$PORT,CONTROLLER://$HOST:$CPORT
advertised.listeners=SASL_SSL://$HOST:$PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:SSL
log.dirs=$DATA

# Clients and the broker itself authenticate with SCRAM-SHA-512 over TLS.
inter.broker.listener.name=SASL_SSL
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$(cred broker_user)" password="$(cred broker_password)";
super.users=User:$(cred broker_user)

# One certificate for both listeners; the CA (PEM) is what the broker trusts as a client.
ssl.keystore.type=PKCS12
ssl.keystore.location=$TLS/broker.p12
ssl.keystore.password=$(cred keystore_password)
ssl.key.password=$(cred keystore_password)
ssl.truststore.type=PEM
ssl.truststore.location=$TLS/ca.crt
ssl.client.auth=none
ssl.endpoint.identification.algorithm=https

# One node: every replication factor is 1.
default.replication.factor=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
offsets.topic.num.partitions=4
transaction.state.log.num.partitions=4
group.initial.rebalance.delay.ms=0
log.cleaner.dedupe.buffer.size=16777216
auto.create.topics.enable=false
num.partitions=1
EOF
  )
}

cluster_id() {
  local id
  while :; do
    id="$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    [[ "$id" != -* ]] && { echo "$id"; return; }
  done
}

# SCRAM users exist from the first start: they are written into the bootstrap metadata.
format_storage() {
  [[ -f "$DATA/meta.properties" ]] && return 0
  log "formatting storage in $DATA with SCRAM users $(cred broker_user), $(cred client_user)"
  java -cp "$LIB/*" -Dlog4j2.configurationFile="$LOG4J" -Dkafka.logs.dir="$LOGS" \
    kafka.tools.StorageTool format -t "$(cluster_id)" -c "$PROPS" \
    --add-scram "SCRAM-SHA-512=[name=$(cred broker_user),password=$(cred broker_password)]" \
    --add-scram "SCRAM-SHA-512=[name=$(cred client_user),password=$(cred client_password)]" \
    >"$LOGS/format.out" 2>&1 \
    || { cat "$LOGS/format.out" >&2; die "formatting storage failed"; }
}

show_log_tail() {
  local from="${1:-1}"
  if [[ -f "$LOGS/server.log" ]]; then
    echo "---- errors from this start ----" >&2
    tail -n "+$from" "$LOGS/server.log" | grep -E '\] (ERROR|FATAL) |^Caused by:' | tail -n 12 >&2 || true
  fi
  echo "---- last 40 lines of $LOGS/server.log ----" >&2
  tail -n 40 "$LOGS/server.log" >&2 2>/dev/null || echo "(no server.log)" >&2
  if [[ -s "$LOGS/kafka.out" ]]; then
    echo "---- last 40 lines of $LOGS/kafka.out (JVM stdout/stderr) ----" >&2
    tail -n 40 "$LOGS/kafka.out" >&2
  fi
}

cmd_up() {
  local pid
  if pid="$(our_pid)"; then
    port_open "$PORT" && { log "already running (pid $pid), bootstrap $HOST:$PORT (SASL_SSL)"; return 0; }
    die "broker pid $pid is alive but $HOST:$PORT does not answer (still starting? see 'kafka-secure.sh logs')"
  fi
  local port
  for port in "$PORT" "$CPORT"; do
    port_open "$port" && die "$HOST:$port is already in use; set GRIDWATCH_KAFKA_SECURE_PORT to use other ports"
  done
  need java "install a Java 17+ runtime (e.g. apt-get install openjdk-17-jre-headless)"
  need openssl "install OpenSSL (e.g. apt-get install openssl)"
  ensure_jars
  ensure_credentials
  ensure_tls
  write_config
  format_storage

  local log_from=1
  [[ -f "$LOGS/server.log" ]] && log_from=$(( $(wc -l <"$LOGS/server.log") + 1 ))
  local detach=(nohup)
  command -v setsid >/dev/null 2>&1 && detach=(setsid nohup)
  "${detach[@]}" java -Xms256m -Xmx"${GRIDWATCH_KAFKA_HEAP:-512m}" -XX:+UseG1GC \
    -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$LOG4J" -Dkafka.logs.dir="$LOGS" \
    -cp "$LIB/*" kafka.Kafka "$PROPS" >"$LOGS/kafka.out" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$PIDFILE"
  log "starting broker (pid $pid), waiting up to ${START_TIMEOUT}s for $HOST:$PORT ..."

  local start=$SECONDS
  until port_open "$PORT"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PIDFILE"
      echo "kafka-secure.sh: ERROR: the broker exited during start-up" >&2
      show_log_tail "$log_from"
      exit 1
    fi
    if (( SECONDS - start >= START_TIMEOUT )); then
      echo "kafka-secure.sh: ERROR: $HOST:$PORT not answering after ${START_TIMEOUT}s; stopping pid $pid" >&2
      show_log_tail "$log_from"
      cmd_down >&2 || true
      exit 1
    fi
    sleep 0.5
  done
  log "up in $((SECONDS - start))s: bootstrap $HOST:$PORT (SASL_SSL); client settings: 'kafka-secure.sh env'"
}

cmd_down() {
  local pid i
  if ! pid="$(our_pid)"; then
    log "not running"
    return 0
  fi
  log "stopping broker (pid $pid) ..."
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < STOP_TIMEOUT * 2; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "no exit after ${STOP_TIMEOUT}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$PIDFILE"
  log "stopped"
}

cmd_status() {
  local pid
  if ! pid="$(our_pid)"; then
    echo "stopped (home $SHOME)"
    return 3
  fi
  if port_open "$PORT"; then
    echo "running pid=$pid bootstrap=$HOST:$PORT (SASL_SSL) home=$SHOME"
    return 0
  fi
  echo "starting/unhealthy pid=$pid: $HOST:$PORT not answering (home $SHOME)"
  return 4
}

cmd_env() {
  [[ -s "$CREDS" && -f "$TLS/ca.crt" ]] || die "no credentials yet: run 'kafka-secure.sh up' first"
  cat <<EOF
export GRID_KAFKA__BOOTSTRAP_SERVERS=$HOST:$PORT
export GRID_KAFKA__SECURITY_PROTOCOL=SASL_SSL
export GRID_KAFKA__SASL_MECHANISM=SCRAM-SHA-512
export GRID_KAFKA__SASL_USERNAME=$(cred client_user)
export GRID_KAFKA__SASL_PASSWORD=$(cred client_password)
export GRID_KAFKA__SSL_CAFILE=$TLS/ca.crt
EOF
}

cmd_reset() {
  cmd_down
  rm -rf "$DATA" "$LOGS" "$TLS" "$CREDS"
  log "deleted data, logs, certificates and passwords under $SHOME (kept the jars in $LIB)"
}

cmd_logs() {
  [[ -f "$LOGS/server.log" ]] || die "no log yet at $LOGS/server.log"
  if [[ "${1:-}" == "-f" ]]; then
    exec tail -n 100 -F "$LOGS/server.log"
  fi
  tail -n 100 "$LOGS/server.log"
}

usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
}

case "${1:-}" in
  up|start)   cmd_up ;;
  down|stop)  cmd_down ;;
  status)     cmd_status ;;
  env)        cmd_env ;;
  reset)      cmd_reset ;;
  logs)       shift; cmd_logs "$@" ;;
  -h|--help|help) usage ;;
  *)          usage >&2; exit 2 ;;
esac
