import { cpus } from 'node:os';
import { cpuSecondsOf, machineCpuSeconds, postgresCpuSecondsByPid } from './ocpp-system.js';

/** CPU use of the three parties of the benchmark over one phase, so the report can name the bottleneck. */

export interface CpuSnapshot {
  readonly wallS: number;
  readonly serverS: number;
  readonly postgresByPid: Map<number, number>;
  readonly generatorS: number;
  readonly machineBusyS: number;
  readonly machineTotalS: number;
}

export interface CpuShare {
  /** Percent of one core, so a single-threaded Node process saturates near 100. */
  readonly serverPct: number;
  readonly postgresPct: number;
  readonly generatorPct: number;
  /** Percent of the whole machine (all cores). */
  readonly machinePct: number;
  /** Percent of one core used by everything else on the machine (other test runs): noise in the figures. */
  readonly othersPct: number;
}

export function cpuSnapshot(serverPid: number, databaseName: string | null): CpuSnapshot {
  const own = process.cpuUsage();
  const machine = machineCpuSeconds();
  return {
    wallS: performance.now() / 1000,
    serverS: cpuSecondsOf(serverPid),
    postgresByPid: postgresCpuSecondsByPid(databaseName),
    generatorS: (own.user + own.system) / 1e6,
    machineBusyS: machine.busy,
    machineTotalS: machine.total,
  };
}

export function cpuShare(from: CpuSnapshot, to: CpuSnapshot): CpuShare {
  const wallS = Math.max(1e-3, to.wallS - from.wallS);
  const pct = (seconds: number) => (100 * seconds) / wallS;
  const machineTotal = Math.max(1e-3, to.machineTotalS - from.machineTotalS);
  let postgresS = 0;
  for (const [pid, seconds] of to.postgresByPid) postgresS += Math.max(0, seconds - (from.postgresByPid.get(pid) ?? 0));
  const serverPct = pct(to.serverS - from.serverS);
  const postgresPct = pct(postgresS);
  const generatorPct = pct(to.generatorS - from.generatorS);
  const machinePct = (100 * (to.machineBusyS - from.machineBusyS)) / machineTotal;
  const othersPct = Math.max(0, machinePct * cpus().length - serverPct - postgresPct - generatorPct);
  return { serverPct, postgresPct, generatorPct, machinePct, othersPct };
}

/** A plain-words verdict: which party ran out of CPU first. Thresholds are "close to one full core". */
export function bottleneckOf(share: CpuShare): string {
  const parts: string[] = [];
  if (share.serverPct >= 85) parts.push(`server event loop (${share.serverPct.toFixed(0)}% of a core)`);
  if (share.postgresPct >= 85) parts.push(`Postgres (${share.postgresPct.toFixed(0)}% of a core)`);
  if (share.generatorPct >= 85) parts.push(`the load generator (${share.generatorPct.toFixed(0)}% of a core)`);
  if (share.machinePct >= 90) parts.push(`the machine's CPUs (${share.machinePct.toFixed(0)}% busy, ${share.othersPct.toFixed(0)}% of a core by other processes)`);
  if (parts.length === 0) return `none saturated (server ${share.serverPct.toFixed(0)}%, Postgres ${share.postgresPct.toFixed(0)}%, generator ${share.generatorPct.toFixed(0)}% of a core; machine ${share.machinePct.toFixed(0)}%)`;
  return parts.join(' + ');
}

export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n');
}

export const fmt = {
  int: (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-'),
  ms: (n: number) => (Number.isFinite(n) ? `${n.toFixed(1)} ms` : '-'),
  s: (n: number) => (Number.isFinite(n) ? `${n.toFixed(2)} s` : '-'),
  kib: (bytes: number) => (Number.isFinite(bytes) ? `${(bytes / 1024).toFixed(1)} KiB` : '-'),
  mib: (bytes: number) => (Number.isFinite(bytes) ? `${(bytes / 1024 / 1024).toFixed(0)} MiB` : '-'),
  pct: (n: number) => `${n.toFixed(0)}%`,
};
