// In-memory socket pair: delivery order, sync vs microtask delivery, backpressure via pauseReading, end/destroy propagation, close once.
import { describe, expect, test } from "bun:test";
import { createSocketPair } from "../../../src/runtime/memory_socket.ts";
import type { SocketHandle, SocketHandlers } from "../../../src/runtime/types.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

function recorder() {
  const events: string[] = [];
  const h: SocketHandlers = {
    open: (s) => events.push(`open:${s.id > 0}`),
    data: (_s, c) => events.push(`data:${dec(c)}`),
    close: () => events.push("close"),
  };
  return { events, h };
}

describe("memory socket pair", () => {
  test("sync delivery both ways; addresses; unique ids", () => {
    const srv = recorder();
    const cli = recorder();
    const p = createSocketPair({ server: srv.h, client: cli.h, remoteAddress: "10.1.2.3", remotePort: 4000 });
    expect(srv.events).toEqual(["open:true"]);
    expect(cli.events).toEqual(["open:true"]);
    expect(p.server.remoteAddress).toBe("10.1.2.3");
    expect(p.server.remotePort).toBe(4000);
    expect(p.server.id).not.toBe(p.client.id);
    expect(p.client.write(enc("hello"))).toBe(0);
    expect(srv.events).toEqual(["open:true", "data:hello"]);
    p.server.write(enc("a"));
    p.server.write(enc("b"));
    expect(cli.events.slice(1)).toEqual(["data:a", "data:b"]);
  });

  test("written bytes are copied: mutating the buffer afterwards does not change what arrived", () => {
    const got: Uint8Array[] = [];
    const p = createSocketPair({ server: { open() {}, data: (_s, c) => got.push(c), close() {} } });
    const b = enc("xyz");
    p.client.write(b);
    b[0] = 0x41;
    expect(dec(got[0]!)).toBe("xyz");
  });

  test("microtask delivery: nothing until a tick, then in order", async () => {
    const srv = recorder();
    const p = createSocketPair({ server: srv.h, delivery: "microtask" });
    p.client.write(enc("1"));
    p.client.write(enc("2"));
    expect(srv.events).toEqual(["open:true"]);
    await Promise.resolve();
    await Promise.resolve();
    expect(srv.events).toEqual(["open:true", "data:1", "data:2"]);
  });

  test("microtask delivery: data written before end() arrives before close", async () => {
    const srv = recorder();
    const p = createSocketPair({ server: srv.h, delivery: "microtask" });
    p.client.write(enc("last"));
    p.client.end();
    expect(p.client.closed).toBe(true);
    await new Promise((r) => setTimeout(r, 0));
    expect(srv.events).toEqual(["open:true", "data:last", "close"]);
  });

  test("pauseReading makes the writer's buffered grow; resume delivers in order and empties it", () => {
    const cli = recorder();
    const p = createSocketPair({ server: { open() {}, data() {}, close() {} }, client: cli.h });
    p.pauseReading("client");
    expect(p.server.write(enc("abc"))).toBe(3);
    expect(p.server.write(enc("de"))).toBe(5);
    expect(p.server.buffered).toBe(5);
    expect(cli.events).toEqual(["open:true"]);
    p.resumeReading("client");
    expect(cli.events).toEqual(["open:true", "data:abc", "data:de"]);
    expect(p.server.buffered).toBe(0);
  });

  test("end() waits for a paused reader, then closes both sides once (closer first)", () => {
    const order: string[] = [];
    const mk = (name: string): SocketHandlers => ({ open() {}, data: (_s, c) => order.push(`${name}<${dec(c)}`), close: () => order.push(`${name} close`) });
    const p = createSocketPair({ server: mk("server"), client: mk("client") });
    p.pauseReading("client");
    p.server.write(enc("bye"));
    p.server.end();
    expect(p.server.closed).toBe(false);
    p.server.write(enc("ignored"));
    p.resumeReading("client");
    expect(order).toEqual(["client<bye", "server close", "client close"]);
    p.server.end();
    p.client.destroy();
    expect(order.length).toBe(3);
  });

  test("destroy() drops queued bytes and closes both; later writes are no-ops", () => {
    const cli = recorder();
    let serverCloses = 0;
    let srvSock: SocketHandle | undefined;
    const p = createSocketPair({ server: { open: (s) => (srvSock = s), data() {}, close: () => serverCloses++ }, client: cli.h });
    p.pauseReading("client");
    p.server.write(enc("lost"));
    p.server.destroy();
    p.resumeReading("client");
    expect(cli.events).toEqual(["open:true", "close"]);
    expect(serverCloses).toBe(1);
    expect(srvSock).toBe(p.server);
    expect(p.server.buffered).toBe(0);
    expect(p.client.write(enc("x"))).toBe(0);
    expect(serverCloses).toBe(1);
  });
});
