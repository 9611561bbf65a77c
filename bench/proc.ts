/** Linux /proc readings: which workerd process belongs to which target, and how much memory it holds. */
import { readdirSync, readFileSync } from "node:fs";

/** One process as /proc lists it: pid, executable name and parent. */
interface ProcEntry {
  readonly pid: number;
  readonly comm: string;
  readonly ppid: number;
}

/** Every process now running (from /proc/<pid>/stat). */
function processes(): ProcEntry[] {
  const found: ProcEntry[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited while we scanned
    }
    // Format: `pid (comm) state ppid ...`; comm may contain spaces, so split after its last ')'.
    const close = stat.lastIndexOf(")");
    const comm = stat.slice(stat.indexOf("(") + 1, close);
    const ppid = Number(stat.slice(close + 2).split(" ")[1]);
    found.push({ pid: Number(entry), comm, ppid });
  }
  return found;
}

/** Children of `parent` whose executable name is `name`. */
export function childPids(parent: number, name: string): number[] {
  return processes()
    .filter((p) => p.comm === name && p.ppid === parent)
    .map((p) => p.pid);
}

/** Every process descended from `root` (children, their children, ...), `root` excluded. */
export function descendantPids(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const p of processes()) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  const out: number[] = [];
  const queue = [...(children.get(root) ?? [])];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** Resident memory of a process in MiB: current (VmRSS) and peak since start (VmHWM). */
export interface MemoryReading {
  readonly rssMiB: number;
  readonly peakMiB: number;
}

/** Reads a process's memory; undefined when it has gone. */
export function readMemory(pid: number): MemoryReading | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return undefined;
  }
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1]);
  return { rssMiB: kib("VmRSS") / 1024, peakMiB: kib("VmHWM") / 1024 };
}

/** Samples a process's RSS on an interval and keeps the highest value seen. */
export class RssSampler {
  readonly pid: number;
  #peak = 0;
  readonly #timer: NodeJS.Timeout;

  constructor(pid: number, intervalMs = 50) {
    this.pid = pid;
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), intervalMs);
  }

  #sample(): void {
    const m = readMemory(this.pid);
    if (m !== undefined && m.rssMiB > this.#peak) this.#peak = m.rssMiB;
  }

  /** Stops sampling and returns the highest RSS seen, in MiB. */
  stop(): number {
    clearInterval(this.#timer);
    this.#sample();
    return this.#peak;
  }
}
