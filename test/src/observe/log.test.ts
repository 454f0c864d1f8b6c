// Logger: exact human and JSON line formats, level filtering, child fields, values that must not break a line.
import { describe, expect, test } from "bun:test";
import { createLogger, type LoggerOptions } from "../../../src/observe/log.ts";

const T = Date.parse("2026-11-21T12:00:00.000Z");

function capture(opts: Omit<LoggerOptions, "write" | "now">) {
  const lines: string[] = [];
  const log = createLogger({ ...opts, write: (l) => lines.push(l), now: () => T });
  return { lines, log };
}

describe("logger", () => {
  test("human format", () => {
    const { lines, log } = capture({ format: "human", level: "info" });
    log.info("listening", { port: 3333, host: "0.0.0.0" });
    log.warn("bad line", { addr: "1.2.3.4", text: 'say "hi" a=b', empty: "", n: 10n, ok: true });
    log.error("boom", { err: new Error("it broke"), obj: { a: [1, 2] } });
    expect(lines).toEqual([
      "2026-11-21T12:00:00.000Z INFO  listening port=3333 host=0.0.0.0",
      '2026-11-21T12:00:00.000Z WARN  bad line addr=1.2.3.4 text="say \\"hi\\" a=b" empty="" n=10 ok=true',
      '2026-11-21T12:00:00.000Z ERROR boom err="it broke" obj={"a":[1,2]}',
    ]);
  });

  test("json format: one object per line, fields cannot clobber ts/level/msg", () => {
    const { lines, log } = capture({ format: "json", level: "debug" });
    log.debug("job", { id: "1a", height: 5, big: 2n ** 70n, msg: "inner", bytes: new Uint8Array([0, 255]) });
    expect(lines.length).toBe(1);
    expect(JSON.parse(lines[0]!)).toEqual({
      ts: "2026-11-21T12:00:00.000Z",
      level: "debug",
      msg: "job",
      id: "1a",
      height: 5,
      big: "1180591620717411303424",
      field_msg: "inner",
      bytes: "00ff",
    });
    expect(lines[0]!.startsWith('{"ts":"2026-11-21T12:00:00.000Z","level":"debug","msg":"job"')).toBe(true);
  });

  test("level filtering", () => {
    const { lines, log } = capture({ format: "human", level: "warn" });
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.error("e");
    expect(lines.map((l) => l.split(" ")[1])).toEqual(["WARN", "ERROR"]);
  });

  test("child loggers add fields; call fields win; cycles do not throw", () => {
    const { lines, log } = capture({ format: "json", level: "info" });
    const conn = log.child({ conn: 7, addr: "10.0.0.1" });
    const cyc: Record<string, unknown> = { a: 1 };
    cyc.self = cyc;
    conn.info("share", { addr: "override", cyc });
    expect(JSON.parse(lines[0]!)).toEqual({ ts: "2026-11-21T12:00:00.000Z", level: "info", msg: "share", conn: 7, addr: "override", cyc: { a: 1, self: "[circular]" } });
    log.info("plain");
    expect(JSON.parse(lines[1]!)).toEqual({ ts: "2026-11-21T12:00:00.000Z", level: "info", msg: "plain" });
  });
});
