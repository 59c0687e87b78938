#!/usr/bin/env bash
# hivectl backup create --components db  vs  pg_dump -Fc DB | aws s3 cp - s3://...  (same sandbox S3, one run).
# Throughput = database bytes / wall time. BENCH_SCALE=280 for ~4 GB. No DR bucket: both sides write one copy.
source "$(dirname "$0")/../lib/common.sh"
ensure_db; ensure_bucket
CFG="$WORK/backup-cfg"; write_config "$CFG"
echo "database $DB: $DB_BYTES bytes" >&2

cd "$CFG"
timed hivectl $HIVECTL backup create --components db -o json --journal-dir "$WORK/journal"
H_WALL=$WALL H_RSS=$RSS
H_ID="$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['results']['backupId'])" "$WORK/out-hivectl.txt")"
H_BYTES="$("${AWS[@]}" s3api head-object --bucket "$BUCKET" --key "bench/$H_ID/db.dump" --query ContentLength --output text)"

timed baseline bash -c "pg_dump -Fc '$DBURL' | ${AWS[*]} s3 cp - s3://$BUCKET/baseline/$DB.dump"
B_WALL=$WALL B_RSS=$RSS
B_BYTES="$("${AWS[@]}" s3api head-object --bucket "$BUCKET" --key "baseline/$DB.dump" --query ContentLength --output text)"

echo "$H_ID" > "$WORK/last-backup-id-$DATA-$SCALE"
printf '%-34s %9s %12s %12s %11s\n' "backup of $DB ($DB_BYTES B)" "wall s" "MB/s (db)" "dump bytes" "peak RSS"
printf '%-34s %9.1f %12s %12s %8d KiB\n' "hivectl backup create (db)" "$H_WALL" "$(mbps "$DB_BYTES" "$H_WALL")" "$H_BYTES" "$H_RSS"
printf '%-34s %9.1f %12s %12s %8d KiB\n' "pg_dump -Fc | aws s3 cp -" "$B_WALL" "$(mbps "$DB_BYTES" "$B_WALL")" "$B_BYTES" "$B_RSS"
python3 -c "print(f'throughput ratio hivectl/baseline: {$B_WALL/$H_WALL:.2f} (target >= 1.0); hivectl peak RSS {$H_RSS/1024:.0f} MiB (target <= 200)')"
