// AWS posture checks over what src/adapters/aws-posture.ts read: S3 buckets (all of them for the
// generic controls; backup buckets also for Object Lock, lifecycle and DR replication) and RDS
// instances (encryption, exposure, backups, snapshots against the RPO and the DR copy).
import type { AwsInventory, BucketPosture, Check, DbInstancePosture, Finding, Inventory } from '../types.js';
import { awsDoc, cisAws } from './refs.js';

const s3 = (b: BucketPosture) => `s3://${b.name}`;
const rds = (d: DbInstancePosture) => `rds:${d.region}/${d.id}`;

function buckets(inv: Inventory, backupOnly = false): BucketPosture[] {
  return (inv.aws?.buckets ?? []).filter((b) => !backupOnly || b.backup);
}
function dbs(inv: Inventory): DbInstancePosture[] {
  return inv.aws?.dbInstances ?? [];
}
function f(checkId: string, severity: Finding['severity'], target: string, message: string): Finding {
  return { checkId, severity, target, message };
}

function fmtAge(s: number): string {
  if (s < 120) return `${Math.round(s)}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}

// biome-ignore lint/suspicious/noExplicitAny: IAM statements are arbitrary JSON
function publicStatements(policy: any): string[] {
  if (!policy || typeof policy !== 'object') return [];
  const stmts = Array.isArray(policy.Statement) ? policy.Statement : policy.Statement ? [policy.Statement] : [];
  const out: string[] = [];
  for (const s of stmts) {
    if (s?.Effect !== 'Allow') continue;
    const p = s.Principal;
    const star =
      p === '*' || (p && typeof p === 'object' && (p.AWS === '*' || (Array.isArray(p.AWS) && p.AWS.includes('*'))));
    if (!star) continue;
    // A condition narrowing to an account, VPC endpoint or organisation makes it non-public.
    const cond = JSON.stringify(s.Condition ?? {});
    if (/aws:(SourceVpce|SourceVpc|PrincipalOrgID|PrincipalAccount|SourceAccount|SourceArn|PrincipalArn)/i.test(cond))
      continue;
    const actions = Array.isArray(s.Action) ? s.Action : [s.Action];
    out.push(`${s.Sid ? `${s.Sid}: ` : ''}${actions.join(',')}`);
  }
  return out;
}

function newestAgeSeconds(snaps: { created?: string | undefined }[], now: Date): number | undefined {
  const times = snaps.map((s) => (s.created ? Date.parse(s.created) : Number.NaN)).filter((t) => !Number.isNaN(t));
  if (!times.length) return undefined;
  return (now.getTime() - Math.max(...times)) / 1000;
}

const backupRefs = [
  awsDoc(
    'AWS Prescriptive Guidance: backup and recovery',
    'https://docs.aws.amazon.com/prescriptive-guidance/latest/backup-recovery/welcome.html',
  ),
];

export const awsChecks: Check[] = [
  {
    id: 'HIVE-S3-001',
    severity: 'high',
    scope: 'aws',
    title: 'S3 Block Public Access not fully enabled',
    why: 'Without all four Block Public Access settings, one ACL or policy change can publish the backups.',
    remediation:
      'aws s3api put-public-access-block --bucket B --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true',
    frameworks: ['aws-backup'],
    references: [cisAws('2.1.4', 'Ensure that S3 Buckets are configured with Block public access')],
    run: (inv) =>
      buckets(inv).flatMap((b) => {
        const p = b.publicAccessBlock;
        const off = ['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'].filter(
          (k) => !p || (p as Record<string, boolean | undefined>)[k] !== true,
        );
        return off.length
          ? [
              f(
                'HIVE-S3-001',
                'high',
                s3(b),
                p ? `public access block: ${off.join(', ')} off` : 'no public access block configured',
              ),
            ]
          : [];
      }),
  },
  {
    id: 'HIVE-S3-002',
    severity: 'high',
    scope: 'aws',
    title: 'S3 bucket without default encryption',
    why: 'Objects written without a server-side encryption configuration are stored in the clear.',
    remediation: 'Enable default encryption (SSE-KMS with a customer-managed key for backups, or SSE-S3).',
    frameworks: ['aws-backup'],
    references: [
      cisAws('2.1.1 (v1.4)', 'Ensure all S3 buckets employ encryption-at-rest'),
      awsDoc(
        'Amazon S3: default bucket encryption',
        'https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-encryption.html',
      ),
    ],
    run: (inv) =>
      buckets(inv).flatMap((b) =>
        b.encryption?.algorithm ? [] : [f('HIVE-S3-002', 'high', s3(b), 'no default server-side encryption')],
      ),
  },
  {
    id: 'HIVE-S3-003',
    severity: 'medium',
    scope: 'aws',
    title: 'S3 versioning not enabled',
    why: 'Without versioning an overwrite or delete (a bug, or ransomware) destroys the only copy.',
    remediation: 'aws s3api put-bucket-versioning --bucket B --versioning-configuration Status=Enabled',
    frameworks: ['aws-backup'],
    references: [
      awsDoc('Amazon S3: using versioning', 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html'),
    ],
    run: (inv) =>
      buckets(inv).flatMap((b) =>
        b.versioning === 'Enabled' ? [] : [f('HIVE-S3-003', 'medium', s3(b), `versioning is ${b.versioning ?? 'off'}`)],
      ),
  },
  {
    id: 'HIVE-S3-004',
    severity: 'medium',
    scope: 'aws',
    title: 'Backup bucket without Object Lock',
    why: 'Object Lock (WORM) keeps backups from being deleted or encrypted by an attacker holding write credentials.',
    remediation:
      'Create the backup bucket with Object Lock enabled and a default retention (compliance or governance mode).',
    frameworks: ['aws-backup'],
    references: [
      awsDoc('Amazon S3: Object Lock', 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html'),
    ],
    run: (inv) =>
      buckets(inv, true).flatMap((b) =>
        b.objectLock ? [] : [f('HIVE-S3-004', 'medium', s3(b), 'backup bucket has no Object Lock')],
      ),
  },
  {
    id: 'HIVE-S3-005',
    severity: 'low',
    scope: 'aws',
    title: 'Backup bucket without lifecycle rules',
    why: 'Without lifecycle rules old backups and noncurrent versions accumulate forever (cost) or are never moved to colder storage.',
    remediation: 'Add a lifecycle configuration that expires noncurrent versions and transitions old backups.',
    frameworks: ['aws-backup'],
    references: [
      awsDoc(
        'Amazon S3: lifecycle',
        'https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lifecycle-mgmt.html',
      ),
    ],
    run: (inv) =>
      buckets(inv, true).flatMap((b) =>
        (b.lifecycleRules ?? 0) > 0 ? [] : [f('HIVE-S3-005', 'low', s3(b), 'no lifecycle rules')],
      ),
  },
  {
    id: 'HIVE-S3-006',
    severity: 'medium',
    scope: 'aws',
    title: 'Backup bucket not replicated to the DR region',
    why: 'A region-wide outage or account mistake takes the only copy of the backups with it.',
    remediation: 'Add an S3 replication rule to a bucket in the DR region (hivectl.yaml backup.drBucket).',
    frameworks: ['aws-backup'],
    references: [
      awsDoc(
        'Amazon S3: replicating objects',
        'https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication.html',
      ),
    ],
    run: (inv) =>
      buckets(inv, true).flatMap((b) => {
        const dests = b.replicationDestinations ?? [];
        if (!dests.length) return [f('HIVE-S3-006', 'medium', s3(b), 'no replication rule')];
        const dr = inv.aws?.drRegion;
        if (dr && b.replicationRegions?.length && !b.replicationRegions.includes(dr))
          return [
            f(
              'HIVE-S3-006',
              'medium',
              s3(b),
              `replicates to ${b.replicationRegions.join(', ')}, not the DR region ${dr}`,
            ),
          ];
        return [];
      }),
  },
  {
    id: 'HIVE-S3-007',
    severity: 'critical',
    scope: 'aws',
    title: 'Bucket policy grants access to everyone ("*")',
    why: 'An Allow statement for Principal "*" without a narrowing condition opens the bucket to the internet.',
    remediation:
      'Replace Principal "*" with the account or role ARNs that need access, or add an aws:PrincipalOrgID condition.',
    frameworks: ['aws-backup'],
    references: [cisAws('2.1.5', 'Ensure that S3 buckets are not publicly accessible')],
    run: (inv) =>
      buckets(inv).flatMap((b) => {
        const st = publicStatements(b.policy);
        return st.length ? [f('HIVE-S3-007', 'critical', s3(b), `policy allows Principal "*": ${st.join('; ')}`)] : [];
      }),
  },
  {
    id: 'HIVE-RDS-001',
    severity: 'high',
    scope: 'aws',
    title: 'RDS storage not encrypted',
    why: 'Unencrypted storage leaves the data, its snapshots and its replicas readable to anyone who gets the volume or a snapshot.',
    remediation:
      'Encryption cannot be turned on in place: snapshot, copy the snapshot with a KMS key, restore, and switch over.',
    frameworks: ['aws-backup'],
    references: [cisAws('2.3.1', 'Ensure that encryption is enabled for RDS Instances')],
    run: (inv) =>
      dbs(inv).flatMap((d) =>
        d.storageEncrypted ? [] : [f('HIVE-RDS-001', 'high', rds(d), 'storage is not encrypted')],
      ),
  },
  {
    id: 'HIVE-RDS-002',
    severity: 'critical',
    scope: 'aws',
    title: 'RDS instance publicly accessible',
    why: 'A public endpoint exposes the database to password guessing and exploits from the internet.',
    remediation: 'aws rds modify-db-instance --db-instance-identifier ID --no-publicly-accessible --apply-immediately',
    frameworks: ['aws-backup'],
    references: [cisAws('2.3.3', 'Ensure that public access is not given to RDS Instance')],
    run: (inv) =>
      dbs(inv).flatMap((d) =>
        d.publiclyAccessible ? [f('HIVE-RDS-002', 'critical', rds(d), 'publicly accessible')] : [],
      ),
  },
  {
    id: 'HIVE-RDS-003',
    severity: 'high',
    scope: 'aws',
    title: 'RDS automated backups off or retention under 7 days',
    why: 'Point-in-time recovery needs automated backups; a short retention means a late-noticed corruption cannot be undone.',
    remediation:
      'Set BackupRetentionPeriod to at least 7 days (aws rds modify-db-instance --backup-retention-period 7).',
    frameworks: ['aws-backup'],
    references: [
      awsDoc(
        'Amazon RDS: backup retention period',
        'https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithAutomatedBackups.html',
      ),
    ],
    run: (inv) =>
      dbs(inv).flatMap((d) => {
        const r = d.backupRetentionPeriod ?? 0;
        return r >= 7
          ? []
          : [
              f(
                'HIVE-RDS-003',
                'high',
                rds(d),
                r === 0 ? 'automated backups are off' : `backup retention is ${r} day(s)`,
              ),
            ];
      }),
  },
  {
    id: 'HIVE-RDS-004',
    severity: 'medium',
    scope: 'aws',
    title: 'RDS deletion protection off',
    why: 'One mistaken delete-db-instance (or a runaway automation) removes the production database.',
    remediation: 'aws rds modify-db-instance --db-instance-identifier ID --deletion-protection',
    frameworks: ['aws-backup'],
    references: [
      awsDoc(
        'Amazon RDS: deletion protection',
        'https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_DeleteInstance.html#USER_DeletionProtection',
      ),
    ],
    run: (inv) =>
      dbs(inv).flatMap((d) =>
        d.deletionProtection ? [] : [f('HIVE-RDS-004', 'medium', rds(d), 'deletion protection is off')],
      ),
  },
  {
    id: 'HIVE-RDS-005',
    severity: 'medium',
    scope: 'aws',
    title: 'RDS instance not Multi-AZ',
    why: 'A single-AZ instance is down for the whole of an AZ outage or a host failure, and recovery means a restore.',
    remediation: 'aws rds modify-db-instance --db-instance-identifier ID --multi-az',
    frameworks: ['aws-backup'],
    references: [
      awsDoc(
        'Amazon RDS: Multi-AZ deployments',
        'https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.MultiAZ.html',
      ),
    ],
    run: (inv) => dbs(inv).flatMap((d) => (d.multiAZ ? [] : [f('HIVE-RDS-005', 'medium', rds(d), 'not Multi-AZ')])),
  },
  {
    id: 'HIVE-RDS-006',
    severity: 'low',
    scope: 'aws',
    title: 'RDS IAM database authentication off',
    why: 'IAM authentication replaces long-lived database passwords with short-lived tokens tied to roles.',
    remediation: 'aws rds modify-db-instance --db-instance-identifier ID --enable-iam-database-authentication',
    frameworks: ['aws-backup'],
    references: [
      awsDoc(
        'Amazon RDS: IAM database authentication',
        'https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.html',
      ),
    ],
    run: (inv) =>
      dbs(inv).flatMap((d) =>
        d.iamAuth ? [] : [f('HIVE-RDS-006', 'low', rds(d), 'IAM database authentication is off')],
      ),
  },
  {
    id: 'HIVE-RDS-007',
    severity: 'critical',
    scope: 'aws',
    title: 'RDS snapshot shared publicly',
    why: 'A public snapshot can be restored by any AWS account: the whole database is published.',
    remediation:
      'aws rds modify-db-snapshot-attribute --db-snapshot-identifier S --attribute-name restore --values-to-remove all',
    frameworks: ['aws-backup'],
    references: [
      awsDoc(
        'Amazon RDS: sharing a DB snapshot',
        'https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ShareSnapshot.html',
      ),
    ],
    run: (inv) =>
      dbs(inv).flatMap((d) =>
        d.snapshots
          .filter((s) => s.public)
          .map((s) =>
            f('HIVE-RDS-007', 'critical', `rds-snapshot:${d.region}/${s.id}`, `snapshot of ${d.id} is public`),
          ),
      ),
  },
  {
    id: 'HIVE-RDS-008',
    severity: 'high',
    scope: 'aws',
    title: 'Newest RDS snapshot older than the RPO',
    why: 'If the newest restorable snapshot is older than the recovery point objective, a restore today would lose more data than promised.',
    remediation: 'Take snapshots at least as often as slo.rpo (`hivectl backup`), or fix the schedule that stopped.',
    frameworks: ['aws-backup'],
    references: backupRefs,
    run: (inv) => {
      const a = inv.aws as AwsInventory | undefined;
      if (!a) return [];
      return dbs(inv).flatMap((d) => {
        const points: { created?: string | undefined }[] = [...d.snapshots];
        if ((d.backupRetentionPeriod ?? 0) > 0 && d.latestRestorableTime)
          points.push({ created: d.latestRestorableTime });
        const age = newestAgeSeconds(points, a.now);
        if (age === undefined) return [f('HIVE-RDS-008', 'high', rds(d), 'no snapshot and no restorable point at all')];
        return age > a.rpoSeconds
          ? [
              f(
                'HIVE-RDS-008',
                'high',
                rds(d),
                `newest recovery point is ${fmtAge(age)} old, RPO is ${fmtAge(a.rpoSeconds)}`,
              ),
            ]
          : [];
      });
    },
  },
  {
    id: 'HIVE-RDS-009',
    severity: 'high',
    scope: 'aws',
    title: 'No RDS snapshot copy in the DR region',
    why: 'Without a copy in the DR region, losing the primary region means losing the database.',
    remediation:
      'Copy snapshots to the DR region (`hivectl backup` with --dr-region, or aws rds copy-db-snapshot --source-region).',
    frameworks: ['aws-backup'],
    references: [
      awsDoc(
        'Amazon RDS: copying a snapshot across regions',
        'https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_CopySnapshot.html',
      ),
    ],
    run: (inv) => {
      const a = inv.aws;
      if (!a?.drRegion) return [];
      return dbs(inv).flatMap((d) =>
        (d.drSnapshots ?? []).length ? [] : [f('HIVE-RDS-009', 'high', rds(d), `no snapshot copy in ${a.drRegion}`)],
      );
    },
  },
];
