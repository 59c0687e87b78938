// Kubernetes resource quantities, just enough to size quotas: CPU in millicores, memory in bytes.

const BIN: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
const DEC: Record<string, number> = { k: 1e3, M: 1e6, G: 1e9, T: 1e12 };

export function parseCpuMillis(q: string | number): number {
  const s = String(q).trim();
  if (s.endsWith('m')) return Number(s.slice(0, -1));
  const n = Number(s);
  if (!Number.isFinite(n)) throw new Error(`not a CPU quantity: ${s}`);
  return Math.round(n * 1000);
}

export function parseMemoryBytes(q: string | number): number {
  const s = String(q).trim();
  const m = /^(\d+(?:\.\d+)?)([KMGT]i|[kMGT])?$/.exec(s);
  if (!m) throw new Error(`not a memory quantity: ${s}`);
  const unit = m[2];
  const mult = unit ? (BIN[unit] ?? DEC[unit] ?? 1) : 1;
  return Math.round(Number(m[1]) * mult);
}

export function formatCpu(millis: number): string {
  return millis % 1000 === 0 ? String(millis / 1000) : `${Math.ceil(millis)}m`;
}

export function formatMemory(bytes: number): string {
  const gi = 2 ** 30;
  if (bytes % gi === 0) return `${bytes / gi}Gi`;
  return `${Math.ceil(bytes / 2 ** 20)}Mi`;
}
