// CloudWatch reads for failover: the newest ReplicaLag datapoint of a read replica (AWS/RDS), which is
// the data a promotion of that replica loses, i.e. the RPO at the moment of failover.
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { type AwsTarget, sharedClient } from './aws.js';

export interface ReplicaLag {
  /** Seconds behind the source, as RDS reported it. */
  seconds: number;
  /** When that datapoint was taken (the start of its 60 s period). */
  at: string;
}

function client(t: AwsTarget, region: string): Promise<CloudWatchClient> {
  return sharedClient(
    'cloudwatch',
    t,
    region,
    (cfg) => new CloudWatchClient(cfg as import('@aws-sdk/client-cloudwatch').CloudWatchClientConfig),
  );
}

/**
 * The newest ReplicaLag of `replicaId` over the last `windowMs` (60 s periods, the maximum in each),
 * or undefined when CloudWatch holds no datapoint. Errors (AccessDenied, throttling) are thrown as
 * they come: the caller decides that a lag it cannot read is "unknown", not a failure.
 */
export async function newestReplicaLag(
  t: AwsTarget,
  region: string,
  replicaId: string,
  opts: { signal?: AbortSignal; windowMs?: number; now?: Date; timeoutMs?: number } = {},
): Promise<ReplicaLag | undefined> {
  const c = await client(t, region);
  const end = opts.now ?? new Date();
  const start = new Date(end.getTime() - (opts.windowMs ?? 5 * 60_000));
  const r = await c.send(
    new GetMetricDataCommand({
      StartTime: start,
      EndTime: end,
      ScanBy: 'TimestampDescending',
      MetricDataQueries: [
        {
          Id: 'lag',
          ReturnData: true,
          MetricStat: {
            Metric: {
              Namespace: 'AWS/RDS',
              MetricName: 'ReplicaLag',
              Dimensions: [{ Name: 'DBInstanceIdentifier', Value: replicaId }],
            },
            Period: 60,
            Stat: 'Maximum',
          },
        },
      ],
    }),
    // Bounded: a metrics endpoint that hangs must not hold a failover up (the caller reports "unknown").
    {
      abortSignal: AbortSignal.any([
        ...(opts.signal ? [opts.signal] : []),
        AbortSignal.timeout(opts.timeoutMs ?? 10_000),
      ]),
    },
  );
  const res = r.MetricDataResults?.find((m) => m.Id === 'lag');
  const points = (res?.Timestamps ?? [])
    .map((ts, i) => ({ ts, v: res?.Values?.[i] }))
    .filter((p): p is { ts: Date; v: number } => typeof p.v === 'number' && Number.isFinite(p.v))
    .sort((a, b) => b.ts.getTime() - a.ts.getTime());
  const p = points[0];
  return p ? { seconds: p.v, at: p.ts.toISOString() } : undefined;
}
