// The dashboard's static files as strings, embedded at build time by text imports (Bun and Deno both honour `with { type: "text" }`); no routing.
import pageHtml from "./dashboard/page.html" with { type: "text" };
// @ts-expect-error TS7016: a JS file read as text has no declaration; Bun and Deno hand it over as a string.
import pageJs from "./dashboard/page.js" with { type: "text" };
import pageCss from "./dashboard/page.css" with { type: "text" };
import iconSvg from "./dashboard/icon.svg" with { type: "text" };
// uPlot (MIT, pinned in package.json): the chart library, served from this binary so the page needs no CDN.
// @ts-expect-error TS7016, as above.
import uplotJs from "../../node_modules/uplot/dist/uPlot.iife.min.js" with { type: "text" };
import uplotCss from "../../node_modules/uplot/dist/uPlot.min.css" with { type: "text" };

export interface DashboardAsset {
  path: string;
  contentType: string;
  body: string;
}

/** Every file the page loads, by URL path. */
export const DASHBOARD_ASSETS: readonly DashboardAsset[] = [
  { path: "/", contentType: "text/html; charset=utf-8", body: pageHtml },
  { path: "/dashboard/page.js", contentType: "text/javascript; charset=utf-8", body: pageJs },
  { path: "/dashboard/page.css", contentType: "text/css; charset=utf-8", body: pageCss },
  { path: "/dashboard/icon.svg", contentType: "image/svg+xml", body: iconSvg },
  { path: "/dashboard/uplot.js", contentType: "text/javascript; charset=utf-8", body: uplotJs },
  { path: "/dashboard/uplot.css", contentType: "text/css; charset=utf-8", body: uplotCss },
];
