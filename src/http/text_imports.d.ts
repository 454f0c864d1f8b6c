// Types for `with { type: "text" }` imports of CSS and SVG files (the dashboard's stylesheets and icon); declarations only.
declare module "*.css" {
  const text: string;
  export default text;
}
declare module "*.svg" {
  const text: string;
  export default text;
}
