// Shared AWS client configuration: region (never silently defaulted), endpoint (S3-compatible
// stores, the sandbox's moto), profile. SDK clients are imported lazily by the adapters that use them.
import { UsageError } from '../core/errors.js';

export interface AwsTarget {
  region?: string | undefined;
  endpointUrl?: string | undefined;
  profile?: string | undefined;
}

export interface AwsClientConfig {
  region: string;
  endpoint?: string;
  forcePathStyle?: boolean;
  credentials?: unknown;
}

/** Client config for one region; throws exit 2 with how to set a region when none is given. */
export async function awsClientConfig(t: AwsTarget, region = t.region): Promise<AwsClientConfig> {
  if (!region) {
    throw new UsageError('no AWS region configured', {
      hint: 'pass --region, set HIVECTL_REGION or AWS_REGION, or set aws.region in hivectl.yaml',
    });
  }
  const cfg: AwsClientConfig = { region };
  if (t.endpointUrl) {
    cfg.endpoint = t.endpointUrl;
    // moto and most S3-compatible stores need path-style addressing.
    cfg.forcePathStyle = true;
  }
  if (t.profile) {
    const { fromIni } = await import('@aws-sdk/credential-provider-ini');
    cfg.credentials = fromIni({ profile: t.profile });
  }
  return cfg;
}

const clients = new Map<string, Promise<unknown>>();

/**
 * One SDK client per service, region, endpoint and profile for the whole process (its connections,
 * credentials and endpoint rules are set up once); `make` gets the config without S3's path-style flag.
 */
export function sharedClient<C>(
  service: string,
  t: AwsTarget,
  region: string,
  make: (cfg: Omit<AwsClientConfig, 'forcePathStyle'>) => C,
): Promise<C> {
  const key = JSON.stringify([service, region, t.endpointUrl ?? '', t.profile ?? '']);
  let c = clients.get(key) as Promise<C> | undefined;
  if (!c) {
    c = awsClientConfig(t, region).then(({ forcePathStyle: _f, ...cfg }) => make(cfg));
    clients.set(key, c);
  }
  return c;
}
