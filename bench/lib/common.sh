# Shared by bench/backup/run.sh and bench/restore/run.sh: the sandbox's servers, a generated database
# (pgbench -i, made once and reused), a bucket, and a hivectl.yaml pointing at them.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HIVECTL="node $REPO/bin/hivectl.js"
DATA="${BENCH_DATA:-tasks}"         # tasks: agent-task rows (text + jsonb, dump ~1/4 of the db); pgbench: pgbench -i
SCALE="${BENCH_SCALE:-1}"           # GB for tasks (1 or 4); pgbench scale otherwise (70 ~ 1 GB)
DB="hivectl_bench_${DATA}_${SCALE}"
BUCKET="hivectl-bench-${DATA}-${SCALE}"
WORK="${BENCH_DIR:-/tmp/hivectl-bench}"
mkdir -p "$WORK"

for t in pgbench pg_dump pg_restore psql aws /usr/bin/time; do
  command -v "$t" >/dev/null || { echo "missing $t (apt-get install postgresql-client awscli time)" >&2; exit 2; }
done

# The sandbox's environment: PGURL, AWS_ENDPOINT_URL, credentials, KUBECONFIG.
eval "$($HIVECTL sandbox env 2>/dev/null)"
export AWS_DEFAULT_REGION=us-east-1 NODE_NO_WARNINGS=1
: "${PGURL:?sandbox not up: run node bin/hivectl.js sandbox up}"
: "${AWS_ENDPOINT_URL:?sandbox not up}"
AWS=(aws --endpoint-url "$AWS_ENDPOINT_URL" --region us-east-1)

db_url() { python3 -c "import sys,urllib.parse as u; p=u.urlparse(sys.argv[1]); print(p._replace(path='/'+sys.argv[2]).geturl())" "$PGURL" "$1"; }
DBURL="$(db_url "$DB")"

ensure_db() {
  if [ "$(psql "$PGURL" -XAtc "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != 1 ]; then
    echo "generating $DB ($DATA, scale $SCALE; once, reused by later runs)..." >&2
    psql "$PGURL" -Xqc "CREATE DATABASE $DB"
    if [ "$DATA" = pgbench ]; then
      pgbench -i -q -s "$SCALE" "$DBURL" >&2
    else
      psql "$DBURL" -Xq -v ON_ERROR_STOP=1 -v rows="$((SCALE * 2900000))" -f "$REPO/bench/lib/gen-tasks.sql" >&2
    fi
    psql "$DBURL" -Xqc "VACUUM ANALYZE"
  fi
  DB_BYTES="$(psql "$DBURL" -XAtc "SELECT pg_database_size(current_database())")"
}

ensure_bucket() { "${AWS[@]}" s3api head-bucket --bucket "$BUCKET" 2>/dev/null || "${AWS[@]}" s3 mb "s3://$BUCKET" >/dev/null; }

write_config() { # $1 = dir
  mkdir -p "$1"
  kubectl create namespace hivectl-bench >/dev/null 2>&1 || true
  cat > "$1/hivectl.yaml" <<YAML
cluster:
  namespace: hivectl-bench
aws:
  region: us-east-1
  endpointUrl: $AWS_ENDPOINT_URL
backup:
  bucket: $BUCKET
  prefix: bench/
database:
  url: $DBURL
platform:
  namespaces:
    api: hivectl-bench-none
    agents: hivectl-bench-none
YAML
}

# timed LABEL CMD... : runs under /usr/bin/time -v, sets WALL (s) and RSS (KiB) of the process tree's
# largest member (for a shell pipeline, /usr/bin/time reports the biggest child).
timed() {
  local label="$1"; shift
  local tf="$WORK/time-$label.txt"
  /usr/bin/time -v -o "$tf" "$@" > "$WORK/out-$label.txt" 2> "$WORK/err-$label.txt" || { echo "$label failed:" >&2; tail -20 "$WORK/err-$label.txt" >&2; exit 1; }
  WALL="$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$tf")"
  RSS="$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tf")"
}

mbps() { python3 -c "print(f'{$1/$2/1e6:.1f}')"; }
