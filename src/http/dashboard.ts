// GET / (the dashboard page) and its embedded assets under /dashboard/, with a same-origin-only Content-Security-Policy; the page reads /api/* itself.
import type { Hono } from "hono";
import { DASHBOARD_ASSETS } from "./dashboard_assets.ts";

/**
 * Everything the page loads comes from this origin: scripts, styles, and the /api fetches. No inline
 * script or style is allowed (uPlot sizes its elements through the CSSOM, which CSP does not govern);
 * frame-ancestors does not fall back to default-src, so framing is refused explicitly.
 */
export const DASHBOARD_CSP = "default-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

export function mountDashboard(app: Hono): void {
  for (const asset of DASHBOARD_ASSETS) {
    app.get(asset.path, () =>
      new Response(asset.body, {
        headers: {
          "content-type": asset.contentType,
          "content-security-policy": DASHBOARD_CSP,
          "x-content-type-options": "nosniff",
          // The assets change only with the binary; the page itself is tiny, so no caching games.
          "cache-control": "no-cache",
        },
      }));
  }
}
