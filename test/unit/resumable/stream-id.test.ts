import { describe, expect, it, vi } from "vitest";
import { isStreamId, newStreamId, objectNameOf, streamHostName } from "../../../src/resumable/stream-id.ts";

describe("stream ids and the objects that hold them (issue 17)", () => {
  it("names a host by the colo, lower-cased, and an index below the number of hosts", () => {
    const random = vi.spyOn(Math, "random");
    random.mockReturnValueOnce(0).mockReturnValueOnce(0.999999);
    expect(streamHostName("DFW", 16)).toBe("dfw-0");
    expect(streamHostName("DFW", 16)).toBe("dfw-15");
    random.mockRestore();
    // A colo the runtime does not report (local runs) or reports oddly still gives a valid name.
    expect(streamHostName("", 4)).toMatch(/^any-[0-3]$/);
    expect(streamHostName("Some Place!/..", 4)).toMatch(/^someplac-[0-3]$/);
  });

  it("mints ids on a host, named by their host, and ids of their own, named by themselves", () => {
    const hosted = newStreamId("dfw-3");
    expect(hosted).toMatch(/^dfw-3\.[A-Za-z0-9_-]{22}$/);
    expect(isStreamId(hosted)).toBe(true);
    expect(objectNameOf(hosted)).toBe("dfw-3");
    const own = newStreamId();
    expect(own).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(isStreamId(own)).toBe(true);
    expect(objectNameOf(own)).toBe(own);
    expect(newStreamId("dfw-3")).not.toBe(hosted);
  });

  it.each([
    ["", "empty"],
    ["dfw-3.short", "a random part that is too short"],
    ["DFW-3.Abcdefghijklmnopqrstuv", "an upper-case host"],
    ["dfw.Abcdefghijklmnopqrstuv", "a host without an index"],
    ["dfw-12345.Abcdefghijklmnopqrstuv", "an index of five digits"],
    ["dfw-3.Abcdefghijklmnopqrstu!", "a character outside base64url"],
    ["../dfw-3.Abcdefghijklmnopqrstuv", "a path"],
  ])("refuses %j (%s) before any lookup", (id) => {
    expect(isStreamId(id)).toBe(false);
  });
});
