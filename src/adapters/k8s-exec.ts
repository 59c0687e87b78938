// Streams over the Kubernetes exec API (client-node Exec, websocket v5 channel so stdin can be half-closed).
// stdout can be piped anywhere (e.g. an S3 upload); stdin is fed with backpressure on the socket's buffer.
// A non-zero exit comes back as a Status "Failure" (KWOK reports it as an error with "exit status N").
import { PassThrough, type Readable, type Writable } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import { StepError } from '../core/errors.js';
import { type K8s, secureContextFor } from './k8s.js';

export interface ExecOptions {
  namespace: string;
  pod: string;
  container?: string;
  command: string[];
  stdin?: Readable;
  stdout?: Writable;
  signal?: AbortSignal;
}

export interface ExecResult {
  stdout?: string;
  stderr: string;
}

export interface K8sExec {
  /** Run a command in a pod; resolves when it exits 0, rejects with StepError otherwise. */
  exec(o: ExecOptions): Promise<ExecResult>;
}

const MAX_BUFFERED = 4 * 1024 * 1024;

export function createK8sExec(kube: K8s): K8sExec {
  // Each exec is a new TLS websocket; without a shared secureContext every one re-parses the CA,
  // client certificate and key (~2 ms of CPU per exec; a drill runs six). client-node builds the
  // websocket's TLS options with applyToHTTPSOptions, so add the shared context there.
  const kc: k8s.KubeConfig = Object.create(kube.kc);
  kc.applyToHTTPSOptions = async (opts) => {
    await kube.kc.applyToHTTPSOptions(opts);
    Object.assign(opts, { secureContext: secureContextFor(opts as { ca?: unknown; cert?: unknown; key?: unknown }) });
  };
  const ex = new k8s.Exec(kc);
  const once = execOnce.bind(null, ex);
  return {
    async exec(o) {
      // A failed upgrade (HTTP 5xx before the socket opened) ran nothing in the pod: safe to retry.
      for (let attempt = 0; ; attempt++) {
        try {
          return await once(o);
        } catch (e) {
          const pre = (e as { preOpen?: boolean }).preOpen === true;
          if (!pre || attempt >= 5 || o.signal?.aborted) throw e;
          await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
        }
      }
    },
  };
}

async function execOnce(ex: k8s.Exec, o: ExecOptions): Promise<ExecResult> {
  const what = `exec in ${o.namespace}/${o.pod} (${o.command.join(' ')})`;
  const collectOut = !o.stdout;
  // client-node writes each websocket frame into `out` without looking at write()'s return value, so a
  // slow consumer (an S3 upload) would let frames pile up in memory: pause the socket until it drains.
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  if (o.stdout) out.pipe(o.stdout);
  const rawWrite = out.write.bind(out) as (chunk: unknown, ...rest: unknown[]) => boolean;
  out.write = ((chunk: unknown, ...rest: unknown[]) => {
    const ok = rawWrite(chunk, ...rest);
    if (!ok && ws?.pause && !paused) {
      paused = true;
      ws.pause();
      out.once('drain', () => {
        paused = false;
        ws?.resume?.();
      });
    }
    return ok;
  }) as typeof out.write;
  const outChunks: Buffer[] = [];
  if (collectOut) out.on('data', (c: Buffer) => outChunks.push(c));
  const err = new PassThrough();
  const errChunks: Buffer[] = [];
  err.on('data', (c: Buffer) => {
    if (errChunks.reduce((a, b) => a + b.length, 0) < 64 * 1024) errChunks.push(c);
  });
  const stdin = o.stdin ? new PassThrough() : null;
  let ws:
    | {
        close(): void;
        pause?(): void;
        resume?(): void;
        bufferedAmount: number;
        on(ev: string, f: (...a: unknown[]) => void): void;
      }
    | undefined;
  let paused = false;
  let status: k8s.V1Status | undefined;
  return await new Promise<ExecResult>((resolve, reject) => {
    let settled = false;
    const finish = (e?: Error) => {
      if (settled) return;
      settled = true;
      o.signal?.removeEventListener('abort', onAbort);
      if (e) reject(e);
      else
        resolve({
          ...(collectOut ? { stdout: Buffer.concat(outChunks).toString('utf8') } : {}),
          stderr: Buffer.concat(errChunks).toString('utf8'),
        });
    };
    const onAbort = () => {
      ws?.close();
      finish(new StepError(`${what}: aborted`));
    };
    o.signal?.addEventListener('abort', onAbort, { once: true });
    if (o.signal?.aborted) return onAbort();
    ex.exec(o.namespace, o.pod, o.container ?? '', o.command, out, err, stdin, false, (s) => {
      status = s;
    })
      .then((sock) => {
        ws = sock as unknown as typeof ws;
        ws!.on('close', () => {
          const stderr = Buffer.concat(errChunks).toString('utf8').trim();
          if (status?.status === 'Success') return finish();
          if (!status)
            return finish(
              new StepError(`${what}: connection closed before the command finished${stderr ? `: ${stderr}` : ''}`),
            );
          const code = status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message;
          const m = /exit status (\d+)/.exec(status.message ?? '');
          finish(
            new StepError(
              `${what} failed (exit ${code ?? m?.[1] ?? '?'}): ${stderr || status.message || status.reason || 'unknown error'}`,
            ),
          );
        });
        ws!.on('error', (e) => finish(new StepError(`${what}: ${(e as Error).message}`)));
        if (o.stdin && stdin) {
          const src = o.stdin;
          src.on('data', (c: Buffer) => {
            stdin.write(c);
            if (ws!.bufferedAmount > MAX_BUFFERED) {
              src.pause();
              const t = setInterval(() => {
                if (ws!.bufferedAmount < MAX_BUFFERED / 4) {
                  clearInterval(t);
                  src.resume();
                }
              }, 10);
            }
          });
          src.on('end', () => stdin.end());
          src.on('error', (e) => {
            ws?.close();
            finish(new StepError(`${what}: input failed: ${e.message}`));
          });
        }
      })
      .catch((e: unknown) => {
        const m = describeError(e);
        // The websocket upgrade is refused with a bare status: say what it means and what to grant.
        const err = /Unexpected server response: 403/.test(m)
          ? new StepError(`${what}: permission denied: exec into pods (pods/exec, verbs get and create) is forbidden`, {
              hint: 'grant pods/exec get+create in that namespace (see `hivectl iam-policy --commands <command>`)',
              cause: e,
            })
          : /Unexpected server response: 401/.test(m)
            ? new StepError(`${what}: the cluster rejected the credentials (401)`, {
                hint: 'refresh the kubeconfig credentials or pick another --context',
                cause: e,
              })
            : new StepError(`${what}: ${m}`, { cause: e });
        if (/Unexpected server response: 5\d\d|ECONNRESET|ECONNREFUSED/.test(m)) Object.assign(err, { preOpen: true });
        finish(err);
      });
  });
}

/** The websocket layer rejects with Errors, ErrorEvents or plain objects; get a readable message out. */
function describeError(e: unknown): string {
  if (e instanceof Error) return e.message;
  const o = e as { message?: unknown; error?: { message?: unknown }; type?: string; target?: { url?: string } };
  if (o && typeof o === 'object') {
    if (typeof o.message === 'string' && o.message) return o.message;
    if (o.error && typeof o.error.message === 'string') return o.error.message;
    try {
      return JSON.stringify(o, (k, v) => (k === 'target' ? undefined : v));
    } catch {
      /* fall through */
    }
  }
  return String(e);
}

/** Server-side apply of one object (field manager hivectl, force: the backup is the source of truth). */
export async function serverSideApply(kube: K8s, body: k8s.KubernetesObject): Promise<void> {
  await kube.objects.patch(body, undefined, undefined, 'hivectl', true, k8s.PatchStrategy.ServerSideApply);
}
