/**
 * Helpers for the doctor's end-to-end tests: free loopback ports, temp folders for proxy configs,
 * real proxy processes started and stopped by PID, an independent timing of a probe's body, and the
 * doctor's own code run against a URL.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { type AddressInfo, connect, createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import type { DoctorOptions } from "../../scripts/doctor/args.ts";
import type { ProbeResult } from "../../scripts/doctor/report.ts";
import { runDoctor } from "../../scripts/doctor/run.ts";
import type { ProbeName, Verdict } from "../../scripts/doctor/types.ts";

/** The tests' probe cadence: short, but far above loopback jitter. */
export const CADENCE = { events: 8, intervalMs: 100 } as const;

/** A free loopback port (asked of the kernel, then released for the server to take). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A temp folder the proxies' unprivileged workers can read (nginx drops root for its workers). */
export function tempFolder(name: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), `doctor-${name}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Where Debian installs the binary, if it is installed (scripts/ensure-proxies.sh installs it). */
export function binary(name: string): string {
  for (const dir of ["/usr/sbin", "/usr/bin"]) {
    const file = path.join(dir, name);
    if (existsSync(file)) return file;
  }
  throw new Error(`${name} is not installed: run bash scripts/ensure-proxies.sh (as root)`);
}

/** A server process this test started. */
export interface Proc {
  readonly pid: number;
  /** What it printed, for a failing test's message. */
  output(): string;
  /** Stops it by its PID and waits for it to exit. */
  stop(): Promise<void>;
}

async function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Starts `command` in the foreground and waits until every port in `ports` accepts connections. */
export async function startProcess(
  command: string,
  args: readonly string[],
  ports: readonly number[],
  env: Record<string, string> = {},
): Promise<Proc> {
  const child: ChildProcess = spawn(command, args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let output = "";
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${command} did not start`);
  const proc: Proc = {
    pid,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      process.kill(pid, "SIGTERM");
      const killed = setTimeout(() => process.kill(pid, "SIGKILL"), 5000);
      await exited;
      clearTimeout(killed);
    },
  };
  const deadline = performance.now() + 15_000;
  for (const port of ports) {
    while (!(await acceptsConnections(port))) {
      if (child.exitCode !== null || performance.now() > deadline) {
        await proc.stop();
        throw new Error(`${command} did not listen on ${port}:\n${output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return proc;
}

/** The doctor's options for a URL, with the tests' cadence. */
export function optionsFor(url: string, over: Partial<DoctorOptions> = {}): DoctorOptions {
  return {
    endpoint: new URL("/v1/chat/completions", url),
    key: undefined,
    pauseMs: 0,
    json: false,
    payloadBytes: 0,
    ...CADENCE,
    ...over,
  };
}

/** Runs the doctor's own code against `url` and returns its judgment of each probe, by name. */
export async function doctorOn(
  url: string,
  over: Partial<DoctorOptions> = {},
): Promise<Record<ProbeName, ProbeResult> & { ok: boolean }> {
  const outcome = await runDoctor(optionsFor(url, over));
  if (outcome.kind !== "report") throw new Error(`the doctor could not probe ${url}: ${outcome.message}`);
  const byName = Object.fromEntries(outcome.report.probes.map((p) => [p.record.spec.name, p]));
  const compressed = byName.compressed;
  const identity = byName.identity;
  if (compressed === undefined || identity === undefined) throw new Error("a probe is missing");
  return { compressed, identity, ok: outcome.report.ok };
}

/** When the body bytes of one probe request arrived, measured without any of the doctor's code. */
export interface BodyTiming {
  readonly headersMs: number;
  /** Arrival of each body piece, ms after the request started, and its size. */
  readonly pieces: readonly { readonly atMs: number; readonly bytes: number }[];
  readonly contentEncoding: string | undefined;
}

/**
 * Sends a probe request and times the raw body pieces, to confirm that a configuration really does
 * what a test says it does before the doctor's verdict on it is judged.
 */
export function timeBody(
  url: string,
  acceptEncoding: string,
  probe: Record<string, number> = { ...CADENCE },
): Promise<BodyTiming> {
  const body = JSON.stringify({
    model: "demo/probe",
    stream: true,
    messages: [{ role: "user", content: "timing" }],
    probe,
  });
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(new URL("/v1/chat/completions", url), {
      method: "POST",
      agent: false,
      headers: { "content-type": "application/json", "accept-encoding": acceptEncoding },
    });
    req.on("error", reject);
    req.on("response", (res) => {
      const headersMs = performance.now() - t0;
      const pieces: { atMs: number; bytes: number }[] = [];
      res.on("data", (d: Buffer) => pieces.push({ atMs: performance.now() - t0, bytes: d.byteLength }));
      res.on("end", () => resolve({ headersMs, pieces, contentEncoding: res.headers["content-encoding"] }));
      res.on("error", reject);
    });
    req.end(body);
  });
}

/** The emission span of the tests' cadence: the first event to the last. */
export const SPAN_MS = (CADENCE.events - 1) * CADENCE.intervalMs;

/** True when the body came in pieces spread over most of the span: the layer streamed. */
export function spread(t: BodyTiming): boolean {
  const first = t.pieces[0]?.atMs ?? 0;
  const last = t.pieces.at(-1)?.atMs ?? 0;
  return t.pieces.length >= CADENCE.events && last - first >= SPAN_MS * 0.8;
}

/**
 * True when (nearly) all of the body arrived at the end: the layer held it. "Nearly": a compressor
 * may send its few header bytes at once and hold everything after them.
 */
export function heldToTheEnd(t: BodyTiming): boolean {
  const total = t.pieces.reduce((n, p) => n + p.bytes, 0);
  const late = t.pieces.filter((p) => p.atMs - t.headersMs >= SPAN_MS * 0.8).reduce((n, p) => n + p.bytes, 0);
  // A layer that holds the headers too releases everything at once, long after the request.
  const headersHeld = t.headersMs >= SPAN_MS * 0.8;
  return total > 0 && (headersHeld || late >= total * 0.9);
}

/**
 * Every event arrived, none held as long as the cadence: each came on its own. (Not "no two events in
 * one piece": on two busy cores one event can be late by a scheduling hiccup without any layer at fault.)
 */
export function eachOnItsOwn(v: Verdict): boolean {
  return v.received === CADENCE.events && v.heldMs < CADENCE.intervalMs;
}

/** The verdict's timeline in a line, for a failing assertion's message. */
export function why(v: Verdict): string {
  return v.timeline.map((p) => `${p.seq}:${Math.round(p.emittedMs)}/${Math.round(p.arrivedMs)}`).join(" ");
}
