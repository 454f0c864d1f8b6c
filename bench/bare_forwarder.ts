// A bare TCP forwarder as its own process (bytes in, bytes out, nothing parsed): the floor for one more hop in bench/relay.ts; prints its port on stdout, no protocol logic.
// Usage: bun bench/bare_forwarder.ts <upstream port>
import { connect, createServer } from "node:net";

const upPort = Number(process.argv[2]);
const server = createServer((down) => {
  down.setNoDelay(true);
  const up = connect({ host: "127.0.0.1", port: upPort });
  up.setNoDelay(true);
  down.on("data", (d) => up.write(d));
  up.on("data", (d) => down.write(d));
  const end = () => {
    down.destroy();
    up.destroy();
  };
  for (const s of [down, up]) {
    s.on("close", end);
    s.on("error", end);
  }
});
server.listen(0, "127.0.0.1", () => console.log((server.address() as { port: number }).port));
