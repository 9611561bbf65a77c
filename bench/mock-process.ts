/** Starts bench/mock-server.ts in a child process and tells where it listens. */
import { fork } from "node:child_process";
import path from "node:path";

/** The running mock upstream. */
export interface MockProcess {
  /** Origin like `http://127.0.0.1:PORT`. */
  readonly origin: string;
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

function isReady(msg: unknown): msg is { type: "ready"; port: number } {
  return typeof msg === "object" && msg !== null && "type" in msg && msg.type === "ready" && "port" in msg;
}

/**
 * Forks the mock with this process's Node flags (type stripping included), so it runs on the
 * project's Node 22 and on its own core when the client is busy.
 */
export function startMock(): Promise<MockProcess> {
  const child = fork(path.resolve(process.cwd(), "bench/mock-server.ts"), [], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`bench mock exited early (code ${code})`)));
    child.on("message", (msg: unknown) => {
      if (!isReady(msg)) return;
      resolve({
        origin: `http://127.0.0.1:${msg.port}`,
        pid: child.pid,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once("exit", () => done());
            child.kill("SIGTERM");
          }),
      });
    });
  });
}
