// Share log set-up against a file another process holds locked waits for the lock instead of failing with "database is locked"; on a file already set up, set-up writes nothing, so session threads opening it at once never collide.
import { afterEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { scratchDir } from "../../support/scratch_dir.ts";
import { setupShareDb } from "../../../src/store/share_db.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("setupShareDb", () => {
  test("waits for a lock held by another process (busy_timeout before the journal mode switch), then sets WAL and the schema", async () => {
    const d = scratchDir("se-sharedb-");
    dirs.push(d);
    const path = join(d, "shares.sqlite");
    // Another process takes the exclusive lock on the fresh file, says so, and holds it for 400 ms.
    const script = `const { Database } = require("bun:sqlite"); const db = new Database(${JSON.stringify(path)}, { create: true });
db.exec("BEGIN EXCLUSIVE"); db.exec("CREATE TABLE held (x)"); console.log("locked"); await Bun.sleep(400); db.exec("COMMIT"); db.close();`;
    const holder = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "inherit" });
    const reader = holder.stdout.getReader();
    let out = "";
    while (!out.includes("locked")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`lock holder exited early: ${out}`);
      out += new TextDecoder().decode(value);
    }
    const db = new Database(path, { create: true });
    try {
      const t0 = performance.now();
      setupShareDb(db, false);
      expect(performance.now() - t0).toBeGreaterThan(100); // it did wait for the other process
      expect(db.prepare("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" });
      expect(db.prepare("SELECT count(*) AS n FROM shares").get()).toEqual({ n: 0 });
    } finally {
      db.close();
    }
    expect(await holder.exited).toBe(0);
  });

  test("on a file already set up, four processes setting it up at the same moment all succeed (it writes nothing: what relay.ts relies on before session threads open the file)", async () => {
    const d = scratchDir("se-sharedb-");
    dirs.push(d);
    const path = join(d, "shares.sqlite");
    const first = new Database(path, { create: true });
    setupShareDb(first, false);
    first.close();
    const mod = join(import.meta.dir, "../../../src/store/share_db.ts");
    const at = Date.now() + 300;
    const script = `const { Database } = require("bun:sqlite"); const { setupShareDb } = require(${JSON.stringify(mod)});
await Bun.sleep(Math.max(0, ${at} - Date.now()));
try { const db = new Database(${JSON.stringify(path)}); setupShareDb(db, false); db.close(); console.log("ok"); } catch (e) { console.log("ERR " + e.message); }`;
    const procs = Array.from({ length: 4 }, () => Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "inherit" }));
    const outs = await Promise.all(procs.map(async (p) => (await new Response(p.stdout).text()).trim()));
    expect(outs).toEqual(["ok", "ok", "ok", "ok"]);
  });
});
