// S3 facade for backups: streamed multipart uploads with SHA-256 on the fly, streamed reads, listing,
// server-side copies to the DR bucket, Object Lock lookup. Errors become StepErrors naming bucket/key.
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { HashingCounter, hexToBase64 } from '../backup/checksum.js';
import { onAbort } from '../core/abort.js';
import { StepError } from '../core/errors.js';
import { type AwsTarget, awsClientConfig } from './aws.js';

export interface UploadResult {
  size: number;
  sha256: string;
}

export interface ObjectInfo {
  key: string;
  size: number;
  lastModified?: Date;
}

export interface S3 {
  region: string;
  client: S3Client;
  /** Stream `body` into bucket/key as a multipart upload (bounded memory: partSize x queueSize). */
  uploadStream(
    bucket: string,
    key: string,
    body: Readable,
    opts?: { signal?: AbortSignal; partSize?: number; queueSize?: number; kmsKeyId?: string; contentType?: string },
  ): Promise<UploadResult>;
  putBytes(
    bucket: string,
    key: string,
    data: string | Buffer,
    opts?: { kmsKeyId?: string; contentType?: string },
  ): Promise<UploadResult>;
  getStream(bucket: string, key: string, signal?: AbortSignal): Promise<Readable>;
  getText(bucket: string, key: string, signal?: AbortSignal): Promise<string | undefined>;
  head(bucket: string, key: string, withChecksum?: boolean): Promise<{ size: number; sha256?: string } | undefined>;
  /** Everything under prefix (all pages); with startAfter, only keys sorting after it. */
  list(
    bucket: string,
    prefix: string,
    delimiter?: string,
    startAfter?: string,
  ): Promise<{ objects: ObjectInfo[]; prefixes: string[] }>;
  /** Server-side copy (S3 computes a full-object SHA-256 of the copy, which head() then returns). */
  copy(
    srcBucket: string,
    srcRegion: string,
    key: string,
    dstBucket: string,
    dstKey: string,
    kmsKeyId?: string,
  ): Promise<void>;
  deleteKeys(bucket: string, keys: string[]): Promise<void>;
  retainUntil(bucket: string, key: string): Promise<Date | undefined>;
  bucketExists(bucket: string): Promise<boolean>;
}

function s3Error(e: unknown, what: string): StepError {
  if (e instanceof StepError) return e;
  const name = (e as { name?: string })?.name ?? '';
  const msg = (e as Error)?.message ?? String(e);
  if (name === 'NoSuchBucket')
    return new StepError(`${what}: bucket does not exist`, {
      hint: 'create it or set backup.bucket in hivectl.yaml',
      cause: e,
    });
  if (name === 'AccessDenied' || name === 'Forbidden')
    return new StepError(`${what}: access denied`, {
      hint: 'grant the missing S3 permission (`hivectl iam-policy`)',
      cause: e,
    });
  if (name === 'AbortError') return new StepError(`${what}: aborted`, { cause: e });
  return new StepError(`${what}: ${name && name !== 'Error' ? `${name}: ` : ''}${msg}`, { cause: e });
}

const isNotFound = (e: unknown) => {
  const x = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return x?.name === 'NotFound' || x?.name === 'NoSuchKey' || x?.$metadata?.httpStatusCode === 404;
};

export async function connectS3(t: AwsTarget, region?: string): Promise<S3> {
  const cfg = await awsClientConfig(t, region);
  // biome-ignore lint/suspicious/noExplicitAny: credentials type from the provider package
  const client = new S3Client(cfg as any);
  const kms = (kmsKeyId?: string) =>
    kmsKeyId ? { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: kmsKeyId } : {};
  return {
    region: cfg.region,
    client,
    async uploadStream(bucket, key, body, opts = {}) {
      const hasher = new HashingCounter();
      const up = new Upload({
        client,
        params: {
          Bucket: bucket,
          Key: key,
          Body: hasher,
          ContentType: opts.contentType ?? 'application/octet-stream',
          ...kms(opts.kmsKeyId),
        },
        partSize: opts.partSize ?? 8 * 1024 * 1024,
        queueSize: opts.queueSize ?? 4,
        leavePartsOnError: false,
      });
      const unlinkAbort = onAbort(opts.signal, () => void up.abort().catch(() => {}));
      try {
        // Both sides must finish: the pipe (the producer's errors) and the upload (S3's).
        await Promise.all([pipeline(body, hasher), up.done()]);
      } catch (e) {
        await up.abort().catch(() => {});
        body.destroy();
        throw s3Error(e, `upload s3://${bucket}/${key}`);
      } finally {
        unlinkAbort();
      }
      return { size: hasher.bytes, sha256: hasher.sha256() };
    },
    async putBytes(bucket, key, data, opts = {}) {
      const buf = Buffer.isBuffer(data) ? data : Buffer.from(data);
      const { sha256Hex } = await import('../backup/checksum.js');
      const sha = sha256Hex(buf);
      try {
        await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: buf,
            ContentType: opts.contentType ?? 'application/octet-stream',
            ChecksumSHA256: hexToBase64(sha),
            ...kms(opts.kmsKeyId),
          }),
        );
      } catch (e) {
        throw s3Error(e, `put s3://${bucket}/${key}`);
      }
      return { size: buf.length, sha256: sha };
    },
    async getStream(bucket, key, signal) {
      try {
        const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
        return r.Body as Readable;
      } catch (e) {
        throw s3Error(e, `read s3://${bucket}/${key}`);
      }
    },
    async getText(bucket, key, signal) {
      try {
        const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
        return await r.Body!.transformToString('utf8');
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw s3Error(e, `read s3://${bucket}/${key}`);
      }
    },
    async head(bucket, key, withChecksum) {
      try {
        const r = await client.send(
          new HeadObjectCommand({
            Bucket: bucket,
            Key: key,
            ...(withChecksum ? { ChecksumMode: 'ENABLED' as const } : {}),
          }),
        );
        const b64 = r.ChecksumSHA256;
        // A multipart object's checksum is a checksum of part checksums (`...-N`): not the object's SHA-256.
        const full =
          b64 && !b64.includes('-') && r.ChecksumType !== 'COMPOSITE'
            ? Buffer.from(b64, 'base64').toString('hex')
            : undefined;
        return { size: r.ContentLength ?? 0, ...(full ? { sha256: full } : {}) };
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw s3Error(e, `head s3://${bucket}/${key}`);
      }
    },
    async list(bucket, prefix, delimiter, startAfter) {
      const objects: ObjectInfo[] = [];
      const prefixes: string[] = [];
      let token: string | undefined;
      try {
        do {
          const r = await client.send(
            new ListObjectsV2Command({
              Bucket: bucket,
              Prefix: prefix,
              Delimiter: delimiter,
              ...(startAfter ? { StartAfter: startAfter } : {}),
              ContinuationToken: token,
            }),
          );
          for (const o of r.Contents ?? [])
            objects.push({
              key: o.Key!,
              size: o.Size ?? 0,
              ...(o.LastModified ? { lastModified: o.LastModified } : {}),
            });
          for (const p of r.CommonPrefixes ?? []) if (p.Prefix) prefixes.push(p.Prefix);
          token = r.IsTruncated ? r.NextContinuationToken : undefined;
        } while (token);
      } catch (e) {
        throw s3Error(e, `list s3://${bucket}/${prefix}`);
      }
      return { objects, prefixes };
    },
    async copy(srcBucket, srcRegion, key, dstBucket, dstKey, kmsKeyId) {
      const dst = client;
      void srcRegion; // CopyObject is sent to the destination's region; S3 fetches the source itself.
      try {
        await dst.send(
          new CopyObjectCommand({
            Bucket: dstBucket,
            Key: dstKey,
            CopySource: `${srcBucket}/${key.split('/').map(encodeURIComponent).join('/')}`,
            ChecksumAlgorithm: 'SHA256',
            ...kms(kmsKeyId),
          }),
        );
      } catch (e) {
        throw s3Error(e, `copy s3://${srcBucket}/${key} -> s3://${dstBucket}/${dstKey}`);
      }
    },
    async deleteKeys(bucket, keys) {
      for (let i = 0; i < keys.length; i += 1000) {
        const batch = keys.slice(i, i + 1000);
        try {
          const r = await client.send(
            new DeleteObjectsCommand({
              Bucket: bucket,
              Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
            }),
          );
          if (r.Errors?.length)
            throw new StepError(
              `delete in s3://${bucket}: ${r.Errors.length} object(s) refused, e.g. ${r.Errors[0]!.Key}: ${r.Errors[0]!.Code} ${r.Errors[0]!.Message ?? ''}`,
              { hint: 'objects under Object Lock retention cannot be deleted before their retain-until date' },
            );
        } catch (e) {
          throw s3Error(e, `delete in s3://${bucket}`);
        }
      }
    },
    async retainUntil(bucket, key) {
      // HEAD carries the retention (and needs only s3:GetObject); moto answers GetObjectRetention with a 500.
      try {
        const r = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return r.ObjectLockRetainUntilDate;
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw s3Error(e, `head s3://${bucket}/${key}`);
      }
    },
    async bucketExists(bucket) {
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }));
        return true;
      } catch (e) {
        if (isNotFound(e)) return false;
        throw s3Error(e, `head bucket ${bucket}`);
      }
    },
  };
}
