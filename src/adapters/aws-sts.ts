// Read-only AWS probes for `hivectl doctor`: who the credentials belong to (STS GetCallerIdentity)
// and whether a bucket exists and is reachable (HeadBucket). One attempt each, short timeouts, so an
// unreachable endpoint fails in seconds.
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { type AwsTarget, awsClientConfig } from './aws.js';

export interface CallerIdentity {
  account: string;
  arn: string;
  userId: string;
}

const quick = (timeoutMs: number) => ({
  maxAttempts: 1,
  requestHandler: { connectionTimeout: Math.min(timeoutMs, 3000), requestTimeout: timeoutMs },
});

/** A plain-language reason for an SDK failure (no credentials, refused connection, denied...). */
export function awsFailure(e: unknown): string {
  const err = e as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const status = err?.$metadata?.httpStatusCode;
  if (err?.name === 'CredentialsProviderError' || /credential/i.test(err?.message ?? ''))
    return `no usable AWS credentials (${err.message})`;
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return 'no answer before the timeout';
  const code = err?.code ?? (err as { cause?: { code?: string } })?.cause?.code;
  if (code) return `${code}: ${err?.message ?? ''}`.trim();
  return `${err?.name ?? 'Error'}${status ? ` (HTTP ${status})` : ''}: ${err?.message ?? String(e)}`;
}

export async function getCallerIdentity(t: AwsTarget, timeoutMs = 5000): Promise<CallerIdentity> {
  const cfg = await awsClientConfig(t);
  const client = new STSClient({ ...(cfg as object), ...quick(timeoutMs) });
  try {
    const r = await client.send(new GetCallerIdentityCommand({}), { abortSignal: AbortSignal.timeout(timeoutMs) });
    return { account: r.Account ?? '', arn: r.Arn ?? '', userId: r.UserId ?? '' };
  } finally {
    client.destroy();
  }
}

/** HeadBucket: resolves when the bucket exists and the identity may read it; else throws (status in $metadata). */
export async function headBucket(t: AwsTarget, bucket: string, region?: string, timeoutMs = 5000): Promise<void> {
  const cfg = await awsClientConfig(t, region ?? t.region);
  const client = new S3Client({ ...(cfg as object), ...quick(timeoutMs) });
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal: AbortSignal.timeout(timeoutMs) });
  } finally {
    client.destroy();
  }
}
