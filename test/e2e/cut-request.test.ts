import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalGateway, startGateway } from "../support/gateway.ts";

let gateway: LocalGateway;

beforeAll(async () => {
  gateway = await startGateway({ ANTHROPIC_API_KEY: "sk-ant-e2e" });
});

afterAll(async () => {
  await gateway.dispose();
});

/**
 * Sends a request whose body stops short of its content-length, then half-closes the connection (no
 * more bytes will come, but the answer can still be read): the raw HTTP a cut upload produces.
 */
function cutUpload(path: string, declared: number, sent: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(gateway.url.port), gateway.url.hostname, () => {
      socket.write(
        `POST ${path} HTTP/1.1\r\nhost: ${gateway.url.host}\r\ncontent-type: application/json\r\n` +
          `content-length: ${declared}\r\nconnection: close\r\n\r\n${sent}`,
      );
      socket.end();
    });
    let raw = "";
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => {
      raw += d;
    });
    socket.on("error", reject);
    socket.on("close", () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? "0");
      const body = raw.slice(raw.indexOf("\r\n\r\n") + 4);
      resolve({ status, body });
    });
  });
}

describe("a request body that fails to arrive", () => {
  it("is a 400 in OpenAI's shape on the unified route, not an internal error", async () => {
    const { status, body } = await cutUpload("/v1/chat/completions", 500, '{"model":"demo/story","mess');
    expect(status).toBe(400);
    expect(body).toContain('"type":"invalid_request_error"');
    expect(body).toContain("did not arrive completely");
    expect(body).not.toContain("internal");
  });

  it("is a 400 in Anthropic's shape on the Anthropic route", async () => {
    const { status, body } = await cutUpload("/anthropic/v1/messages", 300, '{"model":"claude","max_tok');
    expect(status).toBe(400);
    expect(body).toContain('"type":"error"');
    expect(body).toContain('"invalid_request_error"');
    expect(body).toContain("did not arrive completely");
  });
});
