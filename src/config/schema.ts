// The one definition of stratum-edge configuration (zod/mini, zod v4): types, defaults, limits and the doc text README is generated from; no file I/O.
import * as z from "zod/mini";
import { en } from "zod/locales";
import { DEFAULT_BAN_POLICY, createAllowlist } from "../policy/ban_policy.ts";
import { listenerDifficultyProblems } from "./listener_difficulty.ts";

// zod/mini loads no locale; classic zod loaded English by itself, and config error lines quote its
// messages (e.g. "Invalid URL"), so English is set here. Setting it again elsewhere is harmless.
z.config(en());

// Nested objects use z.prefault(X, {}) so an absent section is parsed (inner defaults apply);
// z._default(X, {}) would return the literal {} unparsed. Objects are strict: an unknown key is a typo.

/**
 * Attaches the doc text README is generated from (what classic zod's .describe() did): registered
 * in z.globalRegistry on the schema itself, which z.toJSONSchema reads; no clone, no parse-time check.
 */
function doc<T extends z.ZodMiniType>(schema: T, description: string): T {
  z.globalRegistry.add(schema, { description });
  return schema;
}

const port = (what: string) => doc(z.int().check(z.minimum(0), z.maximum(65535)), what);
const hex = (digits: number, what: string) => doc(z.string().check(z.regex(new RegExp(`^[0-9a-fA-F]{${digits}}$`), `expected ${digits} hex digits`)), what);
/** An integer >= min (and <= max when given). */
const intMin = (min: number, max?: number) => (max === undefined ? z.int().check(z.minimum(min)) : z.int().check(z.minimum(min), z.maximum(max)));
const positive = () => z.number().check(z.positive());
/** A list that must hold at least one entry (nodes, pools). */
const nonEmpty = <T extends z.ZodMiniType>(item: T) => z.array(item).check(z.minLength(1));

export const LogSchema = doc(
  z.strictObject({
    format: doc(z._default(z.enum(["human", "json"]), "human"), "Log line format: `human` (timestamp LEVEL message key=value) or `json` (one object per line)."),
    level: doc(z._default(z.enum(["debug", "info", "warn", "error"]), "info"), "Lowest level written."),
  }),
  "Logging.",
);

export const HttpSchema = doc(
  z.strictObject({
    enabled: doc(z._default(z.boolean(), true), "Serve /healthz, /metrics and /api/* over HTTP."),
    host: doc(z._default(z.string(), "0.0.0.0"), "HTTP listen address."),
    port: z._default(port("HTTP listen port (0 = any free port)."), 8080),
    adminToken: doc(z._default(z.string().check(z.regex(/^([A-Za-z0-9._~+/-]+=*)?$/, "expected an RFC 6750 bearer token (letters, digits, . _ ~ + / -, trailing =)")), ""), "Bearer token for the admin API (GET/POST /api/bans, DELETE /api/bans/:address), RFC 6750 token characters; empty = the admin API is absent (404)."),
  }),
  "HTTP API and metrics server.",
);

export const StratumSchema = doc(
  z.strictObject({
    host: doc(z._default(z.string(), "0.0.0.0"), "Stratum listen address."),
    port: z._default(port("Stratum listen port (0 = any free port)."), 3333),
    maxLineBytes: doc(z._default(intMin(256, 1_048_576), 16384), "Longest accepted JSON-RPC line in bytes; a longer line closes the connection (stops memory abuse)."),
    maxConnections: doc(z._default(intMin(1), 20000), "Connections accepted in total; more are closed at accept. With several threads each takes its share (maxConnections / threads, rounded up)."),
    maxConnectionsPerAddress: doc(z._default(intMin(0), 0), "Connections accepted per source address; 0 = unlimited. Counted per thread when threads > 1."),
    threads: doc(z._default(intMin(1, 64), 1), "Session threads sharing the Stratum ports (SO_REUSEPORT; the kernel spreads connections over them): sockets, sessions, share checks and job fan-out run on all of them, while the main thread, itself one of them, keeps the upstream, jobs, block submission, bans, stats and HTTP. Use the number of cores for large farms. Bun only; on Deno/Node 1 is used with a warning."),
    loginTimeoutMs: doc(z._default(intMin(0), 30000), "Close a connection that has not authorized/logged in within this many milliseconds; 0 = never."),
    idleTimeoutMs: doc(z._default(intMin(0), 600000), "Close a connection that sent nothing for this many milliseconds; 0 = never."),
    extranonce1Size: doc(z._default(intMin(2, 8), 4), "Bytes of extranonce1 the relay assigns per connection (2..8)."),
    extranonce2Size: doc(z._default(intMin(2, 16), 4), "Bytes of extranonce2 the miner rolls (2..16; cgminer refuses other sizes)."),
    versionMask: z._default(hex(8, "Version-rolling mask offered in mining.configure, 8 hex digits (BIP320 reserves 1fffe000)."), "1fffe000"),
    maxMessagesPerSecond: doc(z._default(positive(), 50), "Messages per second one connection may send (token bucket); past it the connection is closed and the ban policy counts a flood. Miners send a few per minute."),
    messageBurst: doc(z._default(intMin(1), 200), "Token-bucket burst: messages a connection may send at once (a pipelined opening is 4-6)."),
    proxyProtocol: doc(z._default(z.boolean(), false), "Expect a PROXY protocol v1/v2 header (HAProxy, AWS NLB…) on every connection and use its source address for bans and limits. Without it such a header is malformed input."),
    maxMalformedRequests: doc(z._default(intMin(1), 10), "Malformed requests (bad JSON, wrong params) answered with an error before the connection is closed."),
    maxWriteBufferBytes: doc(z._default(intMin(1024), 1048576), "Bytes queued for one slow miner before it is disconnected."),
  }),
  "Stratum listener and per-connection limits.",
);

export const DifficultySchema = doc(
  z
    .strictObject({
      initial: doc(z._default(positive(), 0.01), "Share difficulty given to a new connection."),
      min: doc(z._default(positive(), 0.0001), "Lowest share difficulty vardiff may set."),
      max: doc(z._default(positive(), 1e15), "Highest share difficulty vardiff may set."),
      suggestFloor: doc(z._default(positive(), 0.0001), "Lowest difficulty a miner may request with mining.suggest_difficulty."),
      targetShareSeconds: doc(z._default(positive(), 10), "Vardiff aims for one share per this many seconds per connection."),
      retargetSeconds: doc(z._default(positive(), 60), "Seconds between vardiff adjustments."),
      variancePercent: doc(z._default(z.number().check(z.minimum(0), z.maximum(100)), 30), "Vardiff leaves difficulty alone while the share interval is within this percentage of the target."),
    })
    .check(
      z.superRefine((d, ctx) => {
        if (!(d.min <= d.initial && d.initial <= d.max)) {
          ctx.addIssue({ code: "custom", path: ["initial"], input: d.initial, message: `expected min (${d.min}) <= initial <= max (${d.max})` });
        }
      }),
    ),
  "Share difficulty and vardiff.",
);

export const CoinbaseSchema = doc(
  z.strictObject({
    payoutScript: doc(
      z._default(z.string().check(z.regex(/^(?:[0-9a-fA-F]{2})*$/, "expected hex bytes")), ""),
      "scriptPubKey (hex) the block reward pays to; empty = `51` (OP_TRUE, anyone-can-spend), acceptable only on devnet.",
    ),
    poolTag: doc(
      z._default(z.string(), "/stratum-edge/").check(z.refine((s) => new TextEncoder().encode(s).byteLength <= 40, { message: "expected at most 40 bytes (coinbase scriptSig is limited to 100 bytes in all)" })),
      "Text written into the coinbase scriptSig (at most 40 UTF-8 bytes).",
    ),
  }),
  "Coinbase transaction built for devnet and getblocktemplate work.",
);

export const JobsSchema = doc(
  z.strictObject({
    refreshSeconds: doc(z._default(positive(), 30), "Re-issue the current template with a new ntime after this many seconds."),
    keepJobs: doc(z._default(intMin(1), 8), "Recent jobs kept valid for submits (older ones answer 'job not found')."),
  }),
  "Job issuing.",
);

export const DevnetSchema = doc(
  z.strictObject({
    bits: z._default(hex(8, "Network target in compact form (nBits), 8 hex digits. The default 1e00ffff (difficulty 1/256, ~16.7M hashes a block) gives a CPU miner a block every few seconds."), "1e00ffff"),
    blockIntervalSeconds: doc(z._default(positive(), 60), "A simulated new block (new prevhash) every this many seconds."),
    transactionsPerBlock: doc(z._default(intMin(0), 3), "Synthetic transactions per template (exercises the merkle branch)."),
    startHeight: doc(z._default(intMin(1), 1), "Height of the first block (BIP34 puts it in the coinbase)."),
    coinbaseValueSats: doc(z._default(intMin(0, 21e14), 5000000000), "Block reward in satoshis."),
  }),
  "Embedded simulated chain.",
);

/** `{ type = "devnet", devnet = { … } }`: the upstream kind of the embedded chain, Bitcoin's or Ethereum's. */
const devnetUpstream = <T extends z.ZodMiniType>(devnet: T, what: string) =>
  doc(
    z.strictObject({
      type: doc(z._default(z.literal("devnet"), "devnet"), "Upstream kind: `devnet` (embedded simulated chain)."),
      // Every devnet key has a default, so an absent table is {} (the generic T cannot know that).
      devnet: z.prefault(devnet, {} as z.input<T>),
    }),
    what,
  );

export const DevnetUpstreamSchema = devnetUpstream(DevnetSchema, "Work from the embedded devnet.");

/** TLS settings of one upstream (pool or node); only used when its URL asks for TLS (stratum+ssl://, https://). */
export const UpstreamTlsSchema = doc(
  z.strictObject({
    ca: doc(z._default(z.string(), ""), "PEM file of CA certificates trusted for this upstream in addition to the runtime's default root CAs (a private CA, or the pool's self-signed certificate itself). A file that cannot be read or holds no certificate stops start-up with an error naming this key."),
    pin: doc(
      z._default(z.string(), "").check(z.refine((v) => v === "" || /^sha256\/\/?[A-Za-z0-9+/]{43}=$/.test(v.trim()), "expected sha256/BASE64 (44 base64 characters)")),
      "`sha256/BASE64`: SHA-256 of the server certificate's public key (SubjectPublicKeyInfo, as curl's --pinnedpubkey; survives renewals that keep the key). A different key refuses the connection. With a pin and no `ca` the pin is the whole check (a self-signed pool certificate works, name not checked); with `ca` too, chain, name and pin must all hold.",
    ),
    serverName: doc(z._default(z.string(), ""), "Name sent as SNI and checked against the certificate; empty = the URL's host."),
    insecure: doc(z._default(z.boolean(), false), "Accept any certificate: no chain, name or pin check (explicit opt-out, logged as a warning at start; anyone on the path can then read and rewrite the traffic)."),
  }),
  "TLS checks for this upstream (stratum+ssl:// or https:// URLs); by default the runtime's root CAs and the host name.",
);

export const BitcoindUpstreamSchema = doc(
  z.strictObject({
    type: doc(z.literal("bitcoind"), "Upstream kind: `bitcoind` (getblocktemplate/submitblock of Bitcoin Core and its forks)."),
    bitcoind: doc(
      z.strictObject({
        chain: doc(
          z.enum(["bitcoin", "bitcoin-testnet", "bitcoin-regtest", "bitcoin-signet", "litecoin", "litecoin-testnet", "litecoin-regtest", "dogecoin", "dogecoin-testnet"]),
          "Chain, for the payout address prefixes (checked at start-up).",
        ),
        algorithm: doc(z._default(z.enum(["sha256d", "scrypt"]), "sha256d"), "Proof of work: `sha256d` (Bitcoin) or `scrypt` (Litecoin, Dogecoin; share difficulty 1 = target 0xffff·2^224 as scrypt miners read it)."),
        payoutAddress: doc(z.string().check(z.minLength(1)), "Address the coinbase pays (bech32/bech32m/base58); a wrong address or one of another chain stops start-up with a message naming it."),
        payout: doc(z._default(z.enum(["pool", "miner"]), "pool"), "`pool`: every block pays payoutAddress. `miner` (solo mode, as Bitaxe users run it): a worker named by a valid address of the chain (`ADDRESS` or `ADDRESS.rig`) mines jobs whose coinbase pays that address; other workers mine for payoutAddress."),
        nodes: doc(
          nonEmpty(
            z.strictObject({
              url: doc(z.url(), "JSON-RPC URL, e.g. http://127.0.0.1:8332 (https:// verified per `tls`)."),
              user: doc(z._default(z.string(), ""), "RPC user (rpcuser); empty with cookieFile."),
              password: doc(z._default(z.string(), ""), "RPC password (rpcpassword)."),
              cookieFile: doc(z._default(z.string(), ""), "Path of the node's .cookie file (used when user is empty; re-read when the node restarts)."),
              priority: doc(z._default(z.int(), 0), "Lower is preferred; blocks go to every healthy node."),
              tls: z.prefault(UpstreamTlsSchema, {}),
            }),
          ),
          "Nodes, with failover by priority.",
        ),
        rules: doc(z._default(z.array(z.string()), []), 'getblocktemplate rules; empty = per chain: ["mweb","segwit"] for Litecoin (Litecoin Core refuses templates without "mweb"), ["segwit"] otherwise.'),
        longpoll: doc(z._default(z.boolean(), true), "Use getblocktemplate long polling (a new tip reaches miners at once)."),
        pollIntervalMs: doc(z._default(intMin(50), 1000), "Fallback tip polling interval."),
        mempoolRefreshSeconds: doc(z._default(positive(), 30), "New template (more transactions, fees) at least this often."),
        maxJobAgeSeconds: doc(z._default(positive(), 120), "During a node outage, stop issuing jobs older than this."),
      }),
      "Node settings.",
    ),
  }),
  "Work from a Bitcoin Core-family node.",
);

const poolUrl = doc(
  z.string().check(z.regex(/^(?:(?:stratum1?\+(?:tcp|ssl|tls)|tcp|ssl|tls):\/\/)?(\[[0-9a-fA-F:.]+\]|[^:/\s]+):(\d{1,5})\/?$/, "expected stratum+tcp://host:port or stratum+ssl://host:port")),
  "Pool address: stratum+tcp://host:port, or stratum+ssl://host:port (also stratum+tls://, stratum1+ssl://) for TLS, verified per `tls`.",
);


/** Settings of every connection to an upstream pool (Bitcoin and Ethereum relay modes alike). */
const upstreamLinkFields = {
  submitTimeoutMs: doc(z._default(intMin(100), 5000), "How long a forwarded share waits for the upstream's verdict; after it the miner gets error 20 \"Upstream pool did not answer in time\" and the share counts as unconfirmed (never accepted)."),
  handshakeTimeoutMs: doc(z._default(intMin(100), 10000), "Connect and login (subscribe + authorize, or eth_submitLogin) must complete within this time, or the next pool is tried."),
  stallSeconds: doc(z._default(positive(), 120), "An upstream that sends nothing (no job, no answer) for this long is treated as dead and the next pool is used."),
  maxTimeoutsInRow: doc(z._default(intMin(1), 3), "This many forwarded shares in a row without a verdict mark the upstream as stalled."),
  failbackSeconds: doc(z._default(positive(), 30), "While on a backup pool, how often a preferred pool is tried again."),
  retryMinMs: doc(z._default(intMin(0), 1000), "Backoff before retrying a pool that failed (doubles per failure)."),
  retryMaxMs: doc(z._default(intMin(0), 30000), "Longest backoff between retries of one pool."),
  maxLineBytes: doc(z._default(intMin(1024, 4_194_304), 65536), "Longest line accepted from an upstream pool (a notify with a long merkle branch is ~3 KB)."),
};

export const PoolUpstreamSchema = doc(
  z.strictObject({
    type: doc(z.literal("pool"), "Upstream kind: `pool` (relay mode: work from upstream Stratum v1 pools, miners aggregated onto a few connections)."),
    pool: doc(
      z.strictObject({
        pools: doc(
          nonEmpty(
            z.strictObject({
              url: poolUrl,
              user: doc(z.string().check(z.minLength(1)), "Worker name the relay authorizes with upstream (e.g. account.farm); every forwarded share is submitted under it."),
              password: doc(z._default(z.string(), "x"), "Password sent with mining.authorize."),
              priority: doc(z._default(z.int(), 0), "Lower is preferred; equal priorities keep the listed order. The relay returns to a preferred pool once it answers again."),
              tls: z.prefault(UpstreamTlsSchema, {}),
            }),
          ),
          "Upstream pools, with failover by priority.",
        ),
        algorithm: doc(z._default(z.enum(["sha256d", "scrypt"]), "sha256d"), "Proof of work of the pools' chain: `sha256d` (Bitcoin) or `scrypt` (Litecoin, Dogecoin); every share is checked locally with it."),
        aggregation: doc(z._default(intMin(1, 65536), 1000), "Miners per upstream connection: each connection's extranonce2 space is carved into this many per-miner prefixes (1 byte up to 256, 2 bytes up to 65536); more miners open more connections."),
        maxUpstreamConnections: doc(z._default(intMin(1, 1024), 64), "Upstream connections the relay may open in total (aggregation × this = most miners); past it new miners are refused with an error."),
        ...upstreamLinkFields,
        suggestDifficulty: doc(z._default(z.number().check(z.minimum(0)), 0), "mining.suggest_difficulty sent upstream after authorize; 0 = none (the pool's vardiff decides)."),
      }),
      "Relay mode settings.",
    ),
  }),
  "Work from upstream pools (relay mode).",
);
// A discriminated union on `type`: each upstream kind is one member (devnet, node, pool).
export const UpstreamSchema = doc(z.discriminatedUnion("type", [DevnetUpstreamSchema, BitcoindUpstreamSchema, PoolUpstreamSchema]), "Where work comes from.");

export const EthDevnetSchema = doc(
  z.strictObject({
    blockDifficulty: doc(z._default(intMin(1), 100000), "Block difficulty in hashes (geth's unit; boundary = 2^256 / difficulty). 100000 lets a ~1 kH/s CPU miner find a block now and then."),
    blockIntervalSeconds: doc(z._default(z.number().check(z.minimum(0)), 15), "A simulated new block (new header hash) every this many seconds; 0 = only when a miner finds one."),
    startBlock: doc(z._default(intMin(1), 1), "Block number of the first work package (epoch 0 below 30000)."),
  }),
  "Embedded simulated ethash/etchash chain.",
);

export const EthDevnetUpstreamSchema = devnetUpstream(EthDevnetSchema, "Ethereum-style work from the embedded devnet.");

export const EthNodeUpstreamSchema = doc(
  z.strictObject({
    type: doc(z.literal("ethnode"), "Upstream kind: `ethnode` (eth_getWork polling of geth / core-geth)."),
    ethnode: doc(
      z.strictObject({
        nodes: doc(
          nonEmpty(z.strictObject({ url: doc(z.url(), "JSON-RPC URL, e.g. http://127.0.0.1:8545 (https:// verified per `tls`)."), priority: doc(z._default(z.int(), 0), "Lower is preferred."), tls: z.prefault(UpstreamTlsSchema, {}) })),
          "Nodes, tried by priority; blocks go to every healthy one.",
        ),
        pollIntervalMs: doc(z._default(intMin(10), 250), "eth_getWork polling interval."),
        maxWorkAgeSeconds: doc(z._default(positive(), 60), "During an outage, stop issuing work older than this (geth refuses work 7 blocks old)."),
        hashrateIntervalSeconds: doc(z._default(positive(), 30), "How often the summed miner hashrate is sent with eth_submitHashrate."),
        hashrateId: doc(z._default(z.string(), ""), "Stable id for eth_submitHashrate (0x + 64 hex, or any text hashed to one); empty = random per process."),
        requestTimeoutMs: doc(z._default(intMin(100), 2000), "Timeout of one JSON-RPC call."),
        submitDeadlineMs: doc(z._default(intMin(100), 10000), "How long a found block is retried when no node answers."),
      }),
      "Ethereum node settings.",
    ),
  }),
  "Ethereum-style work from a node.",
);

export const EthPoolUpstreamSchema = doc(
  z.strictObject({
    type: doc(z.literal("pool"), "Upstream kind: `pool` (relay mode: work from upstream eth-proxy pools; every share checked here, those reaching the pool's boundary forwarded with the miner's answer waiting for its verdict)."),
    pool: doc(
      z.strictObject({
        pools: doc(
          nonEmpty(
            z.strictObject({
              url: poolUrl,
              user: doc(z.string().check(z.minLength(1)), "eth_submitLogin params[0]: the wallet (0x…, optionally 0x….rig) or pool account the relay mines for."),
              password: doc(z._default(z.string(), "x"), "eth_submitLogin params[1]."),
              worker: doc(z._default(z.string(), ""), "eth-proxy: the top-level `worker` field of eth_submitLogin / eth_submitWork (ethminer's --worker); EthereumStratum: appended to `user` as user.worker. Empty = none."),
              protocol: doc(z._default(z.enum(["eth-proxy", "ethereum-stratum"]), "eth-proxy"), "How the relay talks to this pool: `eth-proxy` (eth_submitLogin / eth_getWork / eth_submitWork; ethminer's stratum1+tcp) or `ethereum-stratum` (EthereumStratum/1.0.0, NiceHash: the pool's extranonce becomes the prefix of every miner's nonce; EthereumStratum miners get it plus their own byte(s), eth-proxy and getwork miners, who pick whole nonces, have a share forwarded only when its nonce happens to start with it)."),
              priority: doc(z._default(z.int(), 0), "Lower is preferred; equal priorities keep the listed order."),
              tls: z.prefault(UpstreamTlsSchema, {}),
            }),
          ),
          "Upstream eth-proxy pools (ethminer's stratum1+tcp / EthProxy dialect), with failover by priority.",
        ),
        ...upstreamLinkFields,
        pollIntervalMs: doc(z._default(intMin(0), 2000), "eth_getWork is sent when the pool pushed no work for this long (some eth-proxy pools only answer polls); 0 = never."),
      }),
      "Ethereum relay mode settings.",
    ),
  }),
  "Ethereum-style work from upstream pools (relay mode).",
);
export const EthashSchema = doc(
  z
    .strictObject({
      enabled: doc(z._default(z.boolean(), true), "Serve Ethereum-style miners (eth-proxy, EthereumStratum/1.0.0, EIP-1571 EthereumStratum/2.0.0, HTTP getwork) on the Stratum port and HTTP port."),
      algo: doc(z._default(z.enum(["ethash", "etchash"]), "ethash"), "Proof of work: `ethash` (EthereumPoW and other ethash chains) or `etchash` (Ethereum Classic, ECIP-1099)."),
      etchashActivationBlock: doc(z._default(intMin(0), 11_700_000), "Etchash: block from which epochs are 60,000 blocks long (11700000 on ETC mainnet, 2520000 on Mordor)."),
      initialDifficulty: doc(z._default(positive(), 0.0000007), "Share difficulty for a new Ethereum-style connection, in the pool unit (1 = target 0x00000000ffff0000…, ≈ 4.295e9 hashes; NiceHash's unit). 0.0000007 ≈ 3000 hashes: a share every few seconds from a ~1 kH/s CPU miner."),
      minDifficulty: doc(z._default(positive(), 1e-9), "Lowest share difficulty vardiff may set for Ethereum-style miners."),
      maxDifficulty: doc(z._default(positive(), 1e6), "Highest share difficulty vardiff may set for Ethereum-style miners."),
      suggestFloor: doc(z._default(positive(), 1e-9), "Lowest difficulty a `d=NUMBER` password may set."),
      keepHeights: doc(z._default(intMin(1, 64), 8), "Work for this many recent block heights stays valid (geth refuses work more than 7 blocks old)."),
      extranonceBytes: doc(z._default(intMin(1, 3), 2), "EthereumStratum/1.0.0 and EIP-1571 extranonce bytes per connection (the miner rolls the other 8 − n nonce bytes). With a Redis instance prefix (`store.redis.instancePrefix` or leased) the prefix comes first, then these bytes, 3 bytes at most in all."),
      verifierThreads: doc(z._default(intMin(0, 64), 0), "Worker threads verifying ethash shares; 0 = one per CPU."),
      prebuild: doc(z._default(z.boolean(), false), "Build the current epoch's light cache (and start the verifier threads) at start-up. Off: they are built when the first Ethereum-style miner asks for work, which then waits logged in until it is ready (seconds); an edge serving only Bitcoin-family miners never spends the memory."),
      saveCaches: doc(z._default(z.boolean(), true), "Keep built light caches in dataDir/caches so a restart does not rebuild them."),
      disconnectOnError: doc(z._default(z.boolean(), false), "eth-proxy: close the connection after every error answer (open-ethereum-pool's documented behaviour); off because miners take it for a dead pool."),
      upstream: doc(z.prefault(z.discriminatedUnion("type", [EthDevnetUpstreamSchema, EthNodeUpstreamSchema, EthPoolUpstreamSchema]), { type: "devnet" }), "Where Ethereum-style work comes from."),
    })
    .check(z.refine((e) => e.minDifficulty <= e.initialDifficulty && e.initialDifficulty <= e.maxDifficulty, { message: "expected minDifficulty <= initialDifficulty <= maxDifficulty" })),
  "Ethereum-style miners (ethash/etchash).",
);

export const GetworkSchema = doc(
  z.strictObject({
    stratumPort: doc(z._default(z.boolean(), true), "Answer HTTP getwork on `stratum.port` too (ethminer's `-P http://HOST:3333`): a connection whose first bytes are an HTTP request line (GET, POST, HEAD, OPTIONS, PUT, DELETE, PATCH) is served by the HTTP port's getwork handler, every other one by the line dialects. Extra `[[listeners]]` choose with `http-getwork` in their `dialects`. Needs ethash.enabled."),
    maxBodyBytes: doc(z._default(intMin(256, 1_048_576), 16384), "Largest getwork request body, on the HTTP port and on Stratum ports; a larger one is answered 413."),
    maxHeaderBytes: doc(z._default(intMin(256, 65536), 8192), "Stratum ports: largest HTTP request line plus headers; larger is answered 431 and the connection closed."),
    maxRequestsPerConnection: doc(z._default(intMin(1), 1000), "Stratum ports: HTTP requests served on one keep-alive connection; the last answer says `Connection: close`."),
    keepAliveMs: doc(z._default(intMin(100), 30000), "Stratum ports: an HTTP connection is closed when no complete request arrives within this many milliseconds of opening or of the previous answer (also bounds a slowly sent request)."),
    maxSessions: doc(z._default(intMin(1), 10000), "Getwork sessions (one per URL login/worker, both ports) kept; past it the one idle longest is forgotten."),
  }),
  "HTTP getwork (eth-proxy JSON-RPC over HTTP POST) for Ethereum-style miners.",
);

// A port's own difficulty: the keys of [difficulty] and the difficulty keys of [ethash], each
// optional (absent = the global value); min <= initial <= max is checked after merging (ConfigSchema).
const ownDifficulty = (what: string) => doc(z.optional(positive()), what);
export const ListenerDifficultySchema = doc(
  z.strictObject({
    initial: ownDifficulty("Share difficulty given to a new connection on this port. Default: `difficulty.initial`."),
    min: ownDifficulty("Lowest share difficulty vardiff may set on this port. Default: `difficulty.min`."),
    max: ownDifficulty("Highest share difficulty vardiff may set on this port. Default: `difficulty.max`."),
    suggestFloor: ownDifficulty("Lowest difficulty a miner on this port may request (mining.suggest_difficulty, BIP310 minimum-difficulty, d=NUMBER password). Default: `difficulty.suggestFloor`, raised to this port's `min` when that is set."),
    targetShareSeconds: ownDifficulty("Vardiff aims for one share per this many seconds per connection on this port (Ethereum-style miners too). Default: `difficulty.targetShareSeconds`."),
    retargetSeconds: ownDifficulty("Seconds between vardiff adjustments on this port (Ethereum-style miners too). Default: `difficulty.retargetSeconds`."),
    variancePercent: doc(z.optional(z.number().check(z.minimum(0), z.maximum(100))), "Vardiff tolerance on this port (Ethereum-style miners too). Default: `difficulty.variancePercent`."),
  }),
  "This port's share difficulty and vardiff for Bitcoin-family miners (`[listeners.difficulty]`, the keys of `[difficulty]`).",
);

export const ListenerEthashSchema = doc(
  z.strictObject({
    initialDifficulty: ownDifficulty("Share difficulty for a new Ethereum-style connection on this port. Default: `ethash.initialDifficulty`."),
    minDifficulty: ownDifficulty("Lowest share difficulty vardiff may set for Ethereum-style miners on this port. Default: `ethash.minDifficulty`."),
    maxDifficulty: ownDifficulty("Highest share difficulty vardiff may set for Ethereum-style miners on this port. Default: `ethash.maxDifficulty`."),
    suggestFloor: ownDifficulty("Lowest difficulty a `d=NUMBER` password may set on this port. Default: `ethash.suggestFloor`, raised to this port's `minDifficulty` when that is set."),
  }),
  "This port's share difficulty for Ethereum-style miners (`[listeners.ethash]`, the difficulty keys of `[ethash]`; HTTP getwork keeps the global ones).",
);

export const ListenerSchema = doc(
  z
    .strictObject({
      host: doc(z._default(z.string(), "0.0.0.0"), "Listen address."),
      port: port("Listen port (0 = any free port)."),
      dialects: doc(
        z._default(z.array(z.enum(["stratum-v1", "eth-proxy", "eth-stratum", "eth-stratum2", "http-getwork"])).check(z.minLength(1)), ["stratum-v1", "eth-proxy", "eth-stratum", "eth-stratum2", "http-getwork"]),
        "Dialects this port accepts (`eth-stratum2` = EIP-1571 EthereumStratum/2.0.0; the first message must be one of them; others get an error and a close). `http-getwork`: connections opening with an HTTP request line get HTTP getwork (see `getwork`); a list without it treats such bytes as a malformed Stratum line.",
      ),
      proxyProtocol: doc(z._default(z.boolean(), false), "Expect a PROXY protocol v1/v2 header on this port (see stratum.proxyProtocol). Not with `tls`."),
      difficulty: z.optional(ListenerDifficultySchema),
      ethash: z.optional(ListenerEthashSchema),
      tls: doc(
        z.optional(
          z.strictObject({
            cert: doc(z.string().check(z.minLength(1)), "PEM certificate file (the leaf first, then any intermediates)."),
            key: doc(z.string().check(z.minLength(1)), "PEM private key file matching `cert` (unencrypted)."),
          }),
        ),
        "Serve this port over TLS (miners' `stratum+ssl://`; HTTP getwork on it becomes HTTPS). Both files are read and checked at start-up and again on SIGHUP, which swaps the certificate for new connections without dropping open ones (a bad file on reload keeps the old one and logs an error).",
      ),
    })
    .check(
      z.superRefine((l, ctx) => {
        // The PROXY header precedes the TLS handshake on the wire, but Bun.listen starts TLS at accept.
        if (l.tls !== undefined && l.proxyProtocol) ctx.addIssue({ code: "custom", path: ["proxyProtocol"], input: true, message: "proxyProtocol cannot be combined with tls on one listener (terminate TLS at the load balancer, or drop proxyProtocol)" });
      }),
    ),
  "An extra Stratum port, optionally pinned to some dialects, optionally over TLS.",
);

const B = DEFAULT_BAN_POLICY;
export const BansSchema = doc(
  z.strictObject({
    enabled: doc(z._default(z.boolean(), true), "Temporary bans by source address (IPv6 grouped by /64). Banned addresses are closed at accept."),
    windowMs: doc(z._default(z.int().check(z.positive()), B.windowMs), "Sliding window in which offences are counted."),
    minShares: doc(z._default(intMin(1), B.minShares), "Shares in the window before the invalid-share ratio is judged."),
    invalidRatio: doc(z._default(z.number().check(z.gt(0), z.maximum(1)), B.invalidRatio), "Ban when this fraction of a source's shares in the window is invalid (low difficulty, bad solution, duplicate, out-of-range fields; stale shares do not count)."),
    maxMalformed: doc(z._default(intMin(1), B.maxMalformed), "Malformed requests (bad JSON, wrong params) in the window that earn a ban."),
    maxOversize: doc(z._default(intMin(1), B.maxOversize), "Lines over stratum.maxLineBytes in the window that earn a ban."),
    maxFloods: doc(z._default(intMin(1), B.maxFloods), "Message-rate violations (stratum.maxMessagesPerSecond) in the window that earn a ban."),
    maxFailedLogins: doc(z._default(intMin(1), B.maxFailedLogins), "Failed logins/authorizations in the window that earn a ban."),
    banMs: doc(z._default(z.int().check(z.positive()), B.banMs), "First ban length; it doubles for a repeat offender up to maxBanMs."),
    maxBanMs: doc(z._default(z.int().check(z.positive()), B.maxBanMs), "Longest ban."),
    failedLoginBanMs: doc(z._default(z.int().check(z.positive()), B.failedLoginBanMs), "First failed-login ban (its own doubling), usually a config typo: short."),
    maxFailedLoginBanMs: doc(z._default(z.int().check(z.positive()), B.maxFailedLoginBanMs), "Longest failed-login ban."),
    offenceMemoryMs: doc(z._default(z.int().check(z.positive()), B.offenceMemoryMs), "How long after a ban ends a repeat offence still escalates."),
    maxTrackedKeys: doc(z._default(intMin(1), B.maxTrackedKeys), "Addresses with live counters kept at most (bounded memory under scans)."),
    maxBans: doc(z._default(intMin(1), B.maxBans), "Active bans kept at most (the oldest automatic ban is dropped beyond)."),
    allowlist: doc(
      z._default(z.array(z.string()), []).check(
        z.superRefine((list, ctx) => {
          const r = createAllowlist(list);
          if (!r.ok) for (const e of r.errors) ctx.addIssue({ code: "custom", message: e.message, input: e.input });
        }),
      ),
      "CIDRs (or addresses) never banned nor counted, e.g. [\"10.0.0.0/8\", \"2001:db8::/32\"].",
    ),
  }),
  "Temporary bans.",
);

export const ShutdownSchema = doc(
  z.strictObject({
    drainMs: doc(z._default(intMin(0), 1000), "On SIGINT/SIGTERM, milliseconds to let queued writes flush before exiting."),
    reconnectHost: doc(z._default(z.string(), ""), "If set, miners get client.reconnect to this host before shutdown."),
    reconnectPort: z._default(port("Port sent with client.reconnect (0 = the stratum port)."), 0),
  }),
  "Graceful shutdown.",
);

export const RedisSchema = doc(
  z.strictObject({
    url: doc(z._default(z.string().check(z.regex(/^$|^rediss?:\/\//, "expected redis://[user:password@]host[:port][/db] (or rediss:// for TLS)")), ""), "Redis shared by several relays (bans, share and block streams, cluster stats, extranonce1 prefixes); empty = this relay stands alone."),
    keyPrefix: doc(z._default(z.string().check(z.minLength(1)), "stratum-edge"), "Namespace of every key and channel this relay uses in Redis (relays that share it form one cluster)."),
    instancePrefix: doc(z._default(z.string().check(z.regex(/^([0-9a-f]{2})*$/, "expected lowercase hex, whole bytes")), ""), "This instance's extranonce1 prefix (hex, e.g. `0a`); empty = leased from Redis at start (INCR + a renewed lease key), so the relay refuses to start while Redis is unreachable."),
    prefixBytes: doc(z._default(intMin(1, 2), 1), "Bytes of a leased extranonce1 prefix (1 = up to 256 instances); they come out of stratum.extranonce1Size."),
    leaseSeconds: doc(z._default(intMin(5), 60), "Life of the prefix lease key; renewed every third of it while Redis is up."),
    sharesStream: doc(z._default(z.string().check(z.minLength(1)), "shares"), "Stream (key `<keyPrefix>:<sharesStream>`) every share is added to."),
    blocksStream: doc(z._default(z.string().check(z.minLength(1)), "blocks"), "Stream (key `<keyPrefix>:<blocksStream>`) every found block candidate is added to."),
    streamMaxLen: doc(z._default(intMin(1), 1_000_000), "XADD MAXLEN ~ of each stream (Redis trims to about this many entries; consumers must read faster)."),
    bufferMaxEntries: doc(z._default(intMin(1), 200_000), "Stream entries held in memory while Redis is slow or down; past this new entries are dropped and counted (stratum_edge_redis_dropped_total)."),
    batchSize: doc(z._default(intMin(1, 10_000), 2000), "Stream entries written per round trip (one Lua call)."),
    banPollMs: doc(z._default(intMin(100), 2000), "How often the shared ban list is re-read (pub/sub carries bans at once; this repairs missed messages)."),
    statsIntervalMs: doc(z._default(intMin(100), 2000), "How often this instance writes its figures for /api/stats?scope=cluster (kept 3 intervals)."),
    connectTimeoutMs: doc(z._default(intMin(100), 5000), "How long start waits for Redis (a prefix lease needs it)."),
  }),
  "Redis for several instances.",
);

export const StoreSchema = doc(
  z.strictObject({
    shareLog: doc(z._default(z.boolean(), true), "Append every judged share (time, worker, source address, pool, job, difficulties, verdict and reason, upstream verdict, block flag) to the SQLite share log `dataDir/shares.sqlite` (WAL; bun:sqlite on Bun, node:sqlite on Deno). A miner is told a share was accepted only once its batch is committed. Also serves per-worker history (`/api/workers`)."),
    commitIntervalMs: doc(z._default(intMin(0, 1000), 0), "Share log group commit; replies to shares wait for their commit (the latency the log adds). 0 = adaptive: a batch is committed as soon as the writer is free (shares arriving while it commits form the next batch), so a lone share waits ~0.1 ms and a flood is still batched. N > 0: a batch is committed N ms after its first share."),
    retentionDays: doc(z._default(z.number().check(z.minimum(0)), 30), "Shares and worker history older than this are deleted (checked every 10 minutes); 0 = keep forever."),
    fsync: doc(z._default(z.boolean(), false), "fsync every share log commit (SQLite synchronous=FULL): survives power loss, not just a crash of the process, at the cost of a disk flush per batch."),
    redis: z.prefault(RedisSchema, {}),
  }),
  "Where shares, blocks and bans go: the share log in dataDir, and Redis beyond this process.",
);

export const ConfigSchema = doc(
  z
    .strictObject({
      log: z.prefault(LogSchema, {}),
      dataDir: doc(z._default(z.string().check(z.minLength(1)), "./stratum-edge-data"), "Directory for found blocks, journals and bans."),
      http: z.prefault(HttpSchema, {}),
      stratum: z.prefault(StratumSchema, {}),
      difficulty: z.prefault(DifficultySchema, {}),
      coinbase: z.prefault(CoinbaseSchema, {}),
      jobs: z.prefault(JobsSchema, {}),
      upstream: z.prefault(UpstreamSchema, { type: "devnet" }),
      ethash: z.prefault(EthashSchema, {}),
      bans: z.prefault(BansSchema, {}),
      getwork: z.prefault(GetworkSchema, {}),
      listeners: doc(z._default(z.array(ListenerSchema), []), "Extra Stratum ports (TOML `[[listeners]]`), each with its own host, port, `proxyProtocol`, dialect list (`dialects`; default all), optional `tls = { cert, key }` (see README, TLS listeners) and optionally its own share difficulty (`[listeners.difficulty]`, `[listeners.ethash]`: a key left out is the global one); limits are those of `stratum` and `getwork`."),
      shutdown: z.prefault(ShutdownSchema, {}),
      store: z.prefault(StoreSchema, {}),
    })
    .check(
      z.superRefine((c, ctx) => {
        c.listeners.forEach((l, i) => {
          for (const p of listenerDifficultyProblems(c.difficulty, c.ethash, l)) ctx.addIssue({ code: "custom", path: ["listeners", i, ...p.path], input: p.input, message: p.message });
        });
      }),
    ),
  "stratum-edge configuration (TOML).",
);

export type Config = z.infer<typeof ConfigSchema>;

export const DEFAULT_CONFIG: Config = ConfigSchema.parse({});
