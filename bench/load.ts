/**
 * How busy the machine was with work that is not the bench's. On a shared 2-core machine a test
 * run elsewhere shifts every latency figure, so each scenario reports the CPU other processes
 * used while it ran, and the table warns when that was enough to distort it.
 */
import { readFileSync } from "node:fs";
import { descendantPids } from "./proc.ts";

/** Clock ticks per second in /proc (USER_HZ, 100 on every mainstream Linux build). */
const TICKS_PER_SECOND = 100;

/**
 * User and system ticks of the whole machine (all CPUs). Interrupt time is left out: loopback
 * traffic's softirq work is the bench's own but is not charged to any of its processes.
 */
function machineBusyTicks(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0] ?? "";
  const [user = 0, nice = 0, system = 0] = line.trim().split(/\s+/).slice(1).map(Number);
  return user + nice + system;
}

/**
 * CPU ticks a process has used (user + system), plus those of its children that have exited and
 * been reaped (cutime + cstime), so a process the bench starts and stops within one scenario is
 * still counted as the bench's own; 0 once it has gone.
 */
function processTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  } catch {
    return 0;
  }
}

/** CPU seconds a process has used so far (user + system, its reaped children included). */
export function cpuSeconds(pid: number): number {
  return processTicks(pid) / TICKS_PER_SECOND;
}

/** Ticks of `root` and of every process now descended from it. */
function treeTicks(root: number): number {
  return [root, ...descendantPids(root)].reduce((a, p) => a + processTicks(p), 0);
}

/**
 * Measures, between `start` and `stop`, the CPU used by processes outside the bench's own tree
 * (this process, the mock, every workerd, and any target a scenario starts for itself).
 */
export class ForeignLoad {
  readonly #root: number;
  #busy = 0;
  #mine = 0;
  #at = 0;

  constructor(root: number) {
    this.#root = root;
  }

  start(): void {
    this.#busy = machineBusyTicks();
    this.#mine = treeTicks(this.#root);
    this.#at = performance.now();
  }

  /**
   * Average cores used by other processes since `start` (0 = a quiet machine); NaN for a window
   * under a second, which 10 ms ticks cannot resolve (one stray tick would read as many cores).
   */
  stop(): number {
    const seconds = (performance.now() - this.#at) / 1000;
    if (seconds < 1) return Number.NaN;
    const busy = machineBusyTicks() - this.#busy;
    const mine = treeTicks(this.#root) - this.#mine;
    // Kernel threads working for us (e.g. ksoftirqd under heavy loopback traffic) count as
    // foreign, so a quiet machine may still show a little; the caller's threshold allows for it.
    return Math.max(0, (busy - mine) / TICKS_PER_SECOND / seconds);
  }
}
