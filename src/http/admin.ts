// Admin API on hono, present only when an admin token is configured: list, add and lift temporary bans.
import type { Hono, MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { HTTPException } from "hono/http-exception";
import type { Guard } from "../server/guard.ts";

/**
 * GET /api/bans, POST /api/bans {"address", "seconds"}, DELETE /api/bans/:address, each with
 * `Authorization: Bearer TOKEN`. Without a configured token these routes do not exist (404), so an
 * exposed HTTP port never offers an unauthenticated way to lift a ban.
 */
export function mountAdmin(app: Hono, deps: { token: string; guard: Guard; clock: { now(): number } }): void {
  // hono's bearer-auth parses the header and compares in constant time. It answers a malformed
  // header (e.g. "Bearer " with nothing after it) with 400; ours has always been 401 for every
  // refusal, so a refusal before the route runs is answered 401 {"error":"unauthorized"}.
  const bearer = bearerAuth({ token: deps.token });
  const auth: MiddlewareHandler = async (c, next) => {
    let passed = false;
    try {
      await bearer(c, async () => {
        passed = true;
        await next();
      });
    } catch (e) {
      if (passed || !(e instanceof HTTPException)) throw e;
      c.header("WWW-Authenticate", e.getResponse().headers.get("WWW-Authenticate") ?? 'Bearer realm=""');
      return c.json({ error: "unauthorized" }, 401);
    }
  };
  app.use("/api/bans", auth);
  app.use("/api/bans/*", auth);

  app.get("/api/bans", (c) => {
    const now = deps.clock.now();
    return c.json({
      bans: deps.guard.policy.list(now).map((b) => ({
        key: b.key,
        reason: b.reason,
        offence: b.offence,
        until: new Date(b.until).toISOString(),
        secondsLeft: Math.max(0, Math.round((b.until - now) / 1000)),
      })),
    });
  });

  app.post("/api/bans", async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return c.json({ error: 'body must be JSON: {"address": "1.2.3.4", "seconds": 3600}' }, 400);
    }
    const { address, seconds } = (body ?? {}) as { address?: unknown; seconds?: unknown };
    if (typeof address !== "string" || address.length === 0 || address.length > 64) return c.json({ error: "address must be a non-empty string" }, 400);
    if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds <= 0) return c.json({ error: "seconds must be a positive number" }, 400);
    const r = deps.guard.banManually(address, seconds, deps.clock.now());
    if (!r.ok) return c.json({ error: r.error }, 409);
    return c.json({ key: r.key, until: new Date(r.until).toISOString() }, 201);
  });

  app.delete("/api/bans/:address", (c) => {
    const address = decodeURIComponent(c.req.param("address"));
    return deps.guard.lift(address) ? c.json({ lifted: address }) : c.json({ error: "not banned", address }, 404);
  });
}
