/** Linux /proc readings: which workerd process belongs to which target, and how much memory it holds. */
import { readdirSync, readFileSync } from "node:fs";

/** Children of `parent` whose executable name is `name` (from /proc/<pid>/stat). */
export function childPids(parent: number, name: string): number[] {
  const found: number[] = [];
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
    if (comm === name && ppid === parent) found.push(Number(entry));
  }
  return found;
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
