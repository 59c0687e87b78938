#!/usr/bin/env bash
# hivectl restore ID --components db --target-db NEW  vs  aws s3 cp s3://.../db.dump - | pg_restore -d NEW
# All restore the same object (hivectl's dump) into a fresh empty database. hivectl's run includes what
# makes it trustworthy: the SHA-256 checked before anything changes, and the row count + checksum
# comparison afterwards. Default mode downloads the dump to a temp file (checksummed on the way) and runs
# pg_restore --jobs from it; --stream (the no-disk fallback) pre-reads the object, then pipes it into
# pg_restore. Run bench/backup/run.sh first (it leaves the backup id).
source "$(dirname "$0")/../lib/common.sh"
ensure_db; ensure_bucket
ID="$(cat "$WORK/last-backup-id-$DATA-$SCALE" 2>/dev/null || true)"
[ -n "$ID" ] || { echo "no backup yet: run bench/backup/run.sh first" >&2; exit 2; }
CFG="$WORK/restore-cfg"; write_config "$CFG"
for d in h s b; do psql "$PGURL" -Xqc "DROP DATABASE IF EXISTS ${DB}_r$d WITH (FORCE)"; psql "$PGURL" -Xqc "CREATE DATABASE ${DB}_r$d"; done

cd "$CFG"
timed baseline bash -c "${AWS[*]} s3 cp s3://$BUCKET/bench/$ID/db.dump - | pg_restore --no-owner -d '$(db_url "${DB}_rb")'"
B_WALL=$WALL B_RSS=$RSS

timed hivectl $HIVECTL restore "$ID" --components db --target-db "$(db_url "${DB}_rh")" -y -o json --journal-dir "$WORK/journal"
H_WALL=$WALL H_RSS=$RSS

timed hivectl-stream $HIVECTL restore "$ID" --components db --target-db "$(db_url "${DB}_rs")" -y --stream --journal-dir "$WORK/journal"
S_WALL=$WALL S_RSS=$RSS

printf '%-40s %9s %12s %11s\n' "restore of $DB ($DB_BYTES B)" "wall s" "MB/s (db)" "peak RSS"
printf '%-40s %9.1f %12s %8d KiB\n' "hivectl restore (db, verified)" "$H_WALL" "$(mbps "$DB_BYTES" "$H_WALL")" "$H_RSS"
printf '%-40s %9.1f %12s %8d KiB\n' "hivectl restore --stream (db, verified)" "$S_WALL" "$(mbps "$DB_BYTES" "$S_WALL")" "$S_RSS"
printf '%-40s %9.1f %12s %8d KiB\n' "aws s3 cp - | pg_restore" "$B_WALL" "$(mbps "$DB_BYTES" "$B_WALL")" "$B_RSS"
python3 -c "print(f'throughput ratio hivectl/baseline: {$B_WALL/$H_WALL:.2f} (target >= 1.0); --stream: {$B_WALL/$S_WALL:.2f}; hivectl peak RSS {$H_RSS/1024:.0f} MiB (target <= 200)')"
python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
for s in d['steps']:
    if s.get('durationMs') is not None: print(f\"  step {s['id']:<20} {s['durationMs'] / 1000:6.1f} s\")
" "$WORK/out-hivectl.txt"
for d in h s b; do psql "$PGURL" -Xqc "DROP DATABASE IF EXISTS ${DB}_r$d WITH (FORCE)"; done
